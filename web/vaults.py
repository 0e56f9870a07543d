"""The vault of the current request: opened on first use, closed at teardown.

Per process, the master key is read once and one password hasher is kept; per request, the two
stores are opened with their raw keys (about 0.1 ms each, no key derivation).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g

from brand_gateway.observers import grant_observer
from consent.context import Consent, open_consent
from vault.clock import system_clock
from vault.home import Vault, VaultHome
from vault.keys import MASTER_KEY_ENV, MasterKey
from vault.passwords import HashingCost, PasswordHasher

_EXTENSION = "vrmvault"


class VaultAccess:
    """Per-app state: where the home is and the key material, loaded lazily."""

    def __init__(self, app: Flask) -> None:
        self.home = VaultHome(Path(app.config["VRMVAULT_HOME"]))
        self.clock = app.config.get("VRMVAULT_CLOCK") or system_clock
        self.hashing = HashingCost(
            time_cost=app.config["VRMVAULT_ARGON2_TIME_COST"],
            memory_kib=app.config["VRMVAULT_ARGON2_MEMORY_KIB"],
            parallelism=app.config["VRMVAULT_ARGON2_PARALLELISM"],
        )
        self.cache_kib = app.config["VRMVAULT_CACHE_KIB"]
        self._master_hex = app.config.get("VRMVAULT_MASTER_KEY")
        self._master: MasterKey | None = None
        self._hasher: PasswordHasher | None = None

    def master(self) -> MasterKey:
        if self._master is None:
            environ = {MASTER_KEY_ENV: self._master_hex} if self._master_hex else {}
            self._master = self.home.master_key(environ)
        return self._master

    def open(self) -> Vault:
        if self._hasher is None:
            self._hasher = PasswordHasher(self.hashing)
        vault = self.home.open(self.master(), clock=self.clock, password_hasher=self._hasher,
                               cache_kib=self.cache_kib)
        vault.session_idle = current_app.config["VRMVAULT_SESSION_IDLE"]
        vault.session_absolute = current_app.config["VRMVAULT_SESSION_ABSOLUTE"]
        return vault


def get_vault() -> Vault:
    if "vault" not in g:
        g.vault = current_app.extensions[_EXTENSION].open()
    return g.vault


def get_consent() -> Consent:
    """Consent services over the request's vault (ledger and receipt signer included); a
    withdrawn or expired grant also queues the brand's webhooks, in the same transaction."""
    if "consent" not in g:
        vault = get_vault()
        g.consent = open_consent(vault, current_app.extensions[_EXTENSION].home,
                                 observers=[grant_observer(vault.data, vault.master)])
    return g.consent


def close_vault(exc: BaseException | None = None) -> None:
    consent = g.pop("consent", None)
    if consent is not None:
        consent.close()
    vault = g.pop("vault", None)
    if vault is not None:
        vault.close()


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = VaultAccess(app)
    app.teardown_appcontext(close_vault)
