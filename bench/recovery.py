"""Sign-up and password reset against sign-in: each costs one argon2id hash, as a login does.

The figure: sign-up and password reset stay within the login's argon2 cost (one hash each).
Timed at the product's default argon2id cost, through the services the pages call
(``vault/signups.py``, ``vault/password_resets.py``, ``MemberService.authenticate``), without
the mail (its cost is the SMTP server's, not ours):

- sign-up of a new address (hash, seal, store the pending request) and of an address with a
  vault (hash, nothing stored): the two must cost the same, or timing tells who has a vault;
- setting a new password from a reset link (one hash, spend the link, end the sessions);
- the baseline, a right sign-in (one argon2id verify).

Each variant also counts the hashes it made and fails the benchmark unless it is exactly one.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from vault.clock import FrozenClock
from vault.home import VaultHome
from vault.passwords import PasswordHasher

from . import report

NAME = "recovery"
WITHIN_SIGN_IN = report.Target("<=", 1.25, "x", on_ratio=True, label="vs sign-in")
FIGURES = (
    report.Figure("signup_new_address", "ms", WITHIN_SIGN_IN),
    report.Figure("signup_known_address", "ms", WITHIN_SIGN_IN),
    report.Figure("password_reset", "ms", WITHIN_SIGN_IN),
)
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "violet harbour cranes hum old shanties"
FULL_ROUNDS = 15
QUICK_ROUNDS = 4
HOUR = 60 * 60


class CountingHasher(PasswordHasher):
    """The product's hasher, counting the hashes and verifications it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    def hash(self, password: str) -> str:
        self.made += 1
        return super().hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.made += 1
        return super().verify(password_hash, password)


def run(*, quick: bool) -> list[report.Result]:
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    report.log(f"{NAME}: {rounds} interleaved rounds at the default argon2id cost")
    with report.fresh_directory() as root:
        home = VaultHome(root / "var")
        home.initialise({})
        clock = FrozenClock()
        hasher = CountingHasher()
        with home.open(clock=clock, password_hasher=hasher) as vault:
            vault.members.register("known@example.org", PASSWORD)
            numbers = count()

            def once(action: Callable[[], object], *, advance: bool = True) -> float:
                if advance:
                    clock.advance(HOUR)          # past the mail limits of the last round
                made = hasher.made
                seconds, _ = report.timed(action)
                if hasher.made - made != 1:
                    raise report.BenchmarkError(f"{hasher.made - made} argon2 operations, not one")
                return seconds * 1000

            def new_address() -> float:
                email = f"new{next(numbers)}@example.org"
                return once(lambda: vault.signups.request(email, PASSWORD, client="bench"))

            def known_address() -> float:
                return once(lambda: vault.signups.request("known@example.org", PASSWORD,
                                                          client="bench"))

            current = [PASSWORD]

            def reset() -> float:
                clock.advance(HOUR)
                token = vault.password_resets.request("known@example.org", client="bench").token
                if token is None:
                    raise report.BenchmarkError("no reset link for the known member")
                current[0] = f"{NEW_PASSWORD} {next(numbers)}"
                return once(lambda: vault.password_resets.reset(token, current[0]),
                            advance=False)

            def sign_in() -> float:
                return once(lambda: vault.members.authenticate("known@example.org", current[0],
                                                               client="bench"))

            sign_in()                                      # warm-up
            runs = report.interleaved({"sign_in": sign_in, "new": new_address,
                                "known": known_address, "reset": reset}, rounds)
    baseline = report.median(runs["sign_in"])
    report.log("  sign-in {:.1f} ms, sign-up new {:.1f} ms, known {:.1f} ms, reset {:.1f} ms"
        " (medians)".format(baseline, report.median(runs["new"]), report.median(runs["known"]),
                            report.median(runs["reset"])))
    return [FIGURES[0].result(report.median(runs["new"]), baseline),
            FIGURES[1].result(report.median(runs["known"]), baseline),
            FIGURES[2].result(report.median(runs["reset"]), baseline)]

