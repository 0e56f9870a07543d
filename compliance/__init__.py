"""Compliance: what officers must show a regulator. Data subject requests and their legal
deadlines, reveals of a member's identity for one case, and the reports (records of
processing, breach exposure) built from the live grants and the ledger.

Plain Python like ``vault/``, ``consent/`` and ``community/``: no Flask. It sits beside
``community`` between the domain and the front doors: ``compliance`` may import ``community``,
``consent`` and ``vault``; ``web`` and ``brand_gateway`` import ``compliance``; nothing below
imports it (``tests/unit/test_layers.py``).
"""
