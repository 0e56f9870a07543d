"""The web side of the vault: the Flask app factory, the member pages, the compliance console,
the ``vrmvault`` command line and the processes ``vrmvault serve`` runs.

Where things are: :mod:`web.app` builds the app (settings from :mod:`web.config`);
:mod:`web.member`, :mod:`web.consents`, :mod:`web.access_views` and :mod:`web.recovery` are the
member's pages, :mod:`web.console` the compliance officers'; :mod:`web.errors` turns exceptions
into pages and problem documents; :mod:`web.cli` and the ``*_cli`` modules are the commands;
:mod:`web.server`, :mod:`web.loops` and :mod:`web.keeper` are serving and its background passes.

Invariants: nothing here holds domain rules or SQL; pages and commands call the services of
``vault``, ``consent`` and ``brand_gateway``. No work happens at import time: stores are opened
per request or per command.
"""
