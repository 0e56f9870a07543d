"""Brand names as members tell brands apart by them: a name that reads as a registered one is
refused (consent screens, receipts and intents name the brand, nothing else)."""

from __future__ import annotations

import pytest

from vault.brands import same_name
from vault.errors import ConflictError, ValidationError
from vault.home import Vault


@pytest.mark.parametrize("look_alike", [
    "Spokesmith Cycles\u200b",           # a zero-width space after it
    "Spoke\u2060smith Cycles",            # a word joiner inside
    "\ufeffSpokesmith Cycles",            # a byte order mark before it
    "Spokesmith\u00a0Cycles",             # a no-break space
    "\u0405pokesmith Cycles",             # a Cyrillic DZE for the S
    "Sp\u043ek\u0435smith \u0421ycles",   # Cyrillic o, ie and es
    "SPOKESMITH C\u03a5CLES",           # a Greek capital upsilon for the Y
    "\uff33pokesmith Cycles",             # a full-width S
    "Spokesm1th Cycles",                  # a digit one for the i (Unicode's confusables)
    "Spokesmith Cyc\u217ces",           # a small Roman numeral fifty for the l
])
def test_a_name_that_reads_as_a_registered_one_is_the_same(look_alike: str) -> None:
    assert same_name("Spokesmith Cycles", look_alike)


@pytest.mark.parametrize("other", ["Spokesmith Cycle", "Spokesmith-Cycles", "SpokesmithCycles",
                                   "Speichenschmied", "Σpokesmith Cycles"])
def test_names_that_read_differently_are_not(other: str) -> None:
    assert not same_name("Spokesmith Cycles", other)


def test_a_name_keeps_its_joiners_and_only_the_comparison_drops_them(vault: Vault) -> None:
    # Persian writes a zero-width non-joiner inside words, emoji sequences a zero-width joiner.
    assert vault.brands.add("Ketab\u200cKhane").name == "Ketab\u200cKhane"
    with pytest.raises(ConflictError):
        vault.brands.add("KetabKhane")


def test_a_look_alike_of_a_registered_name_is_refused(vault: Vault) -> None:
    vault.brands.add("Spokesmith Cycles")
    for name in ("Spokesmith Cycles\u200b", "\u0405pokesmith Cycles"):
        with pytest.raises(ConflictError):
            vault.brands.add(name)
    assert [b.name for b in vault.brands.all()] == ["Spokesmith Cycles"]


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d\ufeff", "\u3164", "\u00ad"])
def test_a_name_that_draws_nothing_is_no_name(vault: Vault, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        vault.brands.add(name)
    assert caught.value.errors == {"name": ["A brand needs a name."]}
