"""The member vault: encrypted storage, keys, members, profile, feedback, export and erasure.

Plain Python, no Flask: services take and return plain objects and raise the exceptions of
:mod:`vault.errors`. HTTP lives in ``web/`` and ``brand_gateway/``.
"""
