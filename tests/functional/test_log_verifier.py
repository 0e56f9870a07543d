"""A consent receipt proved to be in the public log, and the log proved never to have forked,
from the receipt and the files under ``/log/`` alone, by a verifier written from the specs
(tests/functional/log_verifier.py, which imports nothing of the product).

The brand gets its receipt with its entry from the brand API, the member from the receipts
page; the auditor fetches ``/log/checkpoint`` and tiles over HTTP from the served app (the Flask
test client), keeps the first checkpoint, and later checks the next one extends it. Tampering
with a published tile, or a second checkpoint signed over another history, is caught."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from consent.context import open_ledger
from consent.events import Event, EventTag
from consent.tiles import TileDirectory
from tests.brand_api_support import BrandApi, bearer
from vault.home import VaultHome
from vault.keys import MasterKey
from web.cli import main

from . import log_verifier
from .conftest import SignedIn
from .log_verifier import Auditor, Rejected, check_receipt_entry

RECEIPTS = "/api/v1/member/receipts"


def publish(home: VaultHome) -> None:
    """Sign a checkpoint and publish it, as the operator (or the serve keeper) does."""
    result = CliRunner().invoke(main, ["--home", str(home.root), "ledger", "checkpoint"],
                                env={"VRMVAULT_MASTER_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def grow(api: BrandApi, member: str, count: int, prefix: str) -> None:
    """More consent events through the product: ``count`` grants, each to a fresh brand."""
    for number in range(count):
        api.member_token(member, api.brand(f"{prefix} {number}"),
                         {"dpv:Personalisation": ["given_name"]})


def verifier_key(name: str, key: Ed25519PrivateKey) -> str:
    public = key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    return f"{name}+{key_id.hex()}+{encoded}"


def signed_note(text: str, name: str, key: Ed25519PrivateKey) -> bytes:
    key_id = bytes.fromhex(verifier_key(name, key).split("+")[1])
    signature = base64.b64encode(key_id + key.sign(text.encode())).decode()
    return (text + "\n\u2014 " + name + " " + signature + "\n").encode()


def http_get(client: FlaskClient):
    def get(url: str) -> bytes:
        response = client.get(url)
        if response.status_code != 200:
            raise Rejected(f"{url}: {response.status_code}")
        return response.data
    return get


@pytest.fixture
def auditor(app) -> Auditor:
    anonymous = app.test_client()
    # The auditor gets the key out of band (vrmvault ledger key); here, the served copy.
    key = anonymous.get("/log/key").data.decode()
    return Auditor(http_get(anonymous), "/log/", key)


def test_the_verifier_imports_nothing_of_the_product() -> None:
    tree = ast.parse(Path(log_verifier.__file__).read_text())
    imported = {alias.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for alias in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"cryptography"}


def test_a_receipt_is_proved_in_the_log_and_the_log_never_forked(
        app, vault_home: VaultHome, api: BrandApi, alice: SignedIn, brand_client: FlaskClient,
        auditor: Auditor) -> None:
    velo = api.brand("Velo Bikes")
    issued = api.member_token(alice.id, velo, {"dpv:Personalisation": ["given_name", "city"]})
    grow(api, alice.id, 40, "Early")
    publish(vault_home)
    old_note, old = auditor.checkpoint()                     # the auditor keeps this one

    # The brand's copy: the receipt, its entry, and where the log is.
    listing = brand_client.get(RECEIPTS, headers=bearer(issued.token)).get_json()
    assert listing["log_uri"] == "http://localhost/log/"
    [item] = listing["receipts"]
    jwks = brand_client.get("/.well-known/jwks.json").get_json()
    body = item["ledger"]["entry"].encode()
    index = check_receipt_entry(item["receipt"], body, jwks)
    assert item["ledger"]["index"] == index < old.size
    assert json.loads(body)["actor"] == listing["subject"]  # the brand's pairwise id, no other
    assert base64.b64decode(item["ledger"]["leaf_hash"]) == log_verifier.leaf(body)
    auditor.check_inclusion(body, index, old)

    # The member's copy, from the receipts page: the same receipt and entry.
    receipt_id = json.loads(base64.urlsafe_b64decode(
        item["receipt"].split(".")[1] + "==="))["consentReceiptID"]
    page = alice.client.get("/member/consents")
    assert f"/member/receipts/{receipt_id}/entry" in page.get_data(as_text=True)
    download = alice.client.get(f"/member/receipts/{receipt_id}/entry")
    assert download.status_code == 200 and "attachment" in download.headers[
        "Content-Disposition"]
    mine = download.get_json()
    assert mine["receipt"] == item["receipt"] and mine["ledger"] == item["ledger"]
    assert mine["log"] == "http://localhost/log/"

    # The log grows; the auditor's next look: the new checkpoint extends the old one, and the
    # receipt is still in it.
    grow(api, alice.id, 50, "Later")
    publish(vault_home)
    _, new = auditor.checkpoint()
    assert new.size > old.size and new.size > 256            # level-1 tiles are read too
    auditor.check_consistency(old, new)
    auditor.check_inclusion(body, index, new)
    auditor.check_consistency(new, new)

    # Every other index of the old tree proves too, and a wrong body or index does not.
    tree = auditor.tree(old)
    with pytest.raises(Rejected):
        auditor.check_inclusion(body + b" ", index, old)
    with pytest.raises(Rejected):
        auditor.check_inclusion(body, index + 1, old)
    assert tree.root() == old.root
    assert old_note.endswith(b"\n")


def test_a_tampered_tile_is_rejected(app, vault_home: VaultHome, api: BrandApi,
                                     alice: SignedIn, brand_client: FlaskClient,
                                     auditor: Auditor) -> None:
    issued = api.member_token(alice.id, api.brand("Velo Bikes"))
    grow(api, alice.id, 5, "Other")
    publish(vault_home)
    _, checkpoint = auditor.checkpoint()
    [item] = brand_client.get(RECEIPTS, headers=bearer(issued.token)).get_json()["receipts"]
    body, index = item["ledger"]["entry"].encode(), item["ledger"]["index"]
    auditor.check_inclusion(body, index, checkpoint)

    [tile] = (vault_home.root / "log" / "tile" / "0").glob("000*/*")   # one partial tile
    data = bytearray(tile.read_bytes())
    data[32 * (0 if index else 1)] ^= 1                     # another entry's leaf hash
    tile.write_bytes(bytes(data))
    with pytest.raises(Rejected, match="do not hash to the checkpoint's root"):
        auditor.check_inclusion(body, index, checkpoint)


def test_a_forked_checkpoint_is_rejected(app, vault_home: VaultHome, api: BrandApi,
                                         alice: SignedIn, brand_client: FlaskClient,
                                         auditor: Auditor) -> None:
    api.member_token(alice.id, api.brand("Velo Bikes"))
    publish(vault_home)
    genuine_note, genuine = auditor.checkpoint()

    # The log's own key signs a checkpoint of the same size over another history (a split
    # view shown to this auditor): the signature holds, the consistency does not.
    seed = vault_home.master_key({}).derive("ledger-checkpoint")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    name = genuine.origin
    assert verifier_key(name, key) == auditor.verifier_key.strip()
    other_root = base64.b64encode(hashlib.sha256(b"another history").digest()).decode()
    forged = signed_note(f"{name}\n{genuine.size - 1}\n{other_root}\n", name, key)
    fork = log_verifier.verify_checkpoint(forged, auditor.verifier_key)
    grow(api, alice.id, 3, "Later")
    publish(vault_home)
    _, new = auditor.checkpoint()
    auditor.check_consistency(genuine, new)
    with pytest.raises(Rejected, match="does not extend"):
        auditor.check_consistency(fork, new)

    # A note changed after signing, or signed by another key, is refused outright.
    lines = genuine_note.split(b"\n")
    lines[1] = str(genuine.size + 1).encode()
    with pytest.raises(Rejected, match="does not verify"):
        log_verifier.verify_checkpoint(b"\n".join(lines), auditor.verifier_key)
    stranger = verifier_key(name, Ed25519PrivateKey.generate())
    with pytest.raises(Rejected, match="not signed by the log's key"):
        log_verifier.verify_checkpoint(genuine_note, stranger)


def file_fetch(root: Path):
    def fetch(path: str) -> bytes:
        try:
            return (root / "log" / path).read_bytes()
        except FileNotFoundError as exc:
            raise Rejected(f"no {path}") from exc
    return fetch


@pytest.mark.parametrize("size", [70_000])
def test_the_tiles_of_three_levels_hash_to_the_signed_root(tmp_path: Path, size: int) -> None:
    """Past 65,536 entries a tree has tiles at levels 0, 1 and 2, each with a partial one (the
    spec's example of 70,000): the verifier's root from them is the ledger's, and every
    consistency proof it builds from them verifies against the ledger's earlier roots."""
    home = VaultHome(tmp_path / "home")
    with open_ledger(home, MasterKey(bytes(32)), checkpoint_every=0) as ledger:
        ledger.record_events(Event(EventTag.ACCESS_PROFILE_READ, "brand:b", {"n": n})
                             for n in range(size))
        checkpoint = ledger.checkpoint()
        assert TileDirectory.of_home(home.root).publish(ledger.tree, checkpoint) == 277
        tree = log_verifier.TiledTree(file_fetch(home.root), size)
        assert tree.root() == checkpoint.root_hash
        for old in (1, 2, 3, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, size - 1, size):
            proof = tree.consistency_proof(old) if old < size else []
            assert log_verifier.verify_consistency(old, size, proof, ledger.root(old),
                                                   checkpoint.root_hash), old
            assert not log_verifier.verify_consistency(old, size, proof, ledger.root(old - 1),
                                                       checkpoint.root_hash), old
        for index in (0, 255, 256, 65_535, 65_536, size - 1):
            body = ledger.entry(index).body
            assert log_verifier.verify_inclusion(log_verifier.leaf(body), index, size,
                                                 tree.inclusion_path(index),
                                                 checkpoint.root_hash), index
