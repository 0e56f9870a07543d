"""The insight community: brands' communities, surveys and feedback requests, co-creation, and
closing the loop ("you said, we did", care on the member's terms).

Plain Python like ``vault/`` and ``consent/``: no Flask. It sits between them and the front
doors: ``community`` may import ``consent`` and ``vault``; ``web`` and ``brand_gateway`` import
``community``; nothing below imports it (``tests/unit/test_layers.py``).
"""
