"""Demo brands as OAuth clients, so the "For brands" walkthrough runs on the demo store.

The first two demo brands get a confidential client each with a loopback redirect URI (for a
brand developer's local callback), every brand-level scope, and the IEEE 7012 terms the demo
members proffer. Their credentials are written to ``demo-brands.json`` beside the store, mode
0600, because a secret is otherwise shown only once; running the demo again rotates the secrets.
This is demo convenience only: real brands get theirs from ``vrmvault brand create``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from brand_gateway.clients import ClientSecretHasher
from brand_gateway.storage import client_registry
from vault.home import Vault

DEMO_CLIENT_BRANDS = ("Spokesmith Cycles", "Greenleaf Grocers")
DEMO_REDIRECT_URI = "http://127.0.0.1:8400/callback"
DEMO_ACCEPTS = ("SD-BASE", "SD-BASE-A", "SD-BASE-AT", "SD-BASE-ATP", "SD-BASE-DP")
CREDENTIALS_FILE = "demo-brands.json"


def register_demo_clients(vault: Vault, root: Path) -> Path:
    """Give the demo brands clients (or new secrets); where their credentials were written."""
    registry = client_registry(database=vault.data, clock=vault.clock,
                               hasher=ClientSecretHasher.from_master(vault.master))
    existing = {c.brand_name: c for c in registry.list() if c.active}
    brands = {b.name: b for b in vault.brands.all()}
    written: list[dict[str, Any]] = []
    for name in DEMO_CLIENT_BRANDS:
        if name not in brands:
            continue
        if name in existing:
            client = existing[name]
            secret = registry.rotate_secret(client.client_id)
        else:
            client, secret = registry.create(name, [DEMO_REDIRECT_URI], accepts=DEMO_ACCEPTS,
                                             brand_id=brands[name].id)
        written.append({"brand": name, "client_id": client.client_id, "client_secret": secret,
                        "redirect_uri": client.redirect_uris[0]})
    target = root / CREDENTIALS_FILE
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(written, handle, indent=2)
    os.chmod(target, 0o600)
    return target
