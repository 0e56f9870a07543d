"""The storage seam (DESIGN.md sec. 2): services hold no SQL and do not know the engine.

Services reach storage only through the contracts of ``vault/repositories.py``,
``consent/repositories.py``, ``brand_gateway/repositories.py``,
``brand_gateway/webhooks/repositories.py`` and ``brand_gateway/insights/repositories.py`` (and a
whole store through ``Store``); every statement lives in an implementation
(``vault/sqlcipher/``, ``consent/sqlcipher/``, ``brand_gateway/sqlcipher/``,
``brand_gateway/webhooks/sqlcipher.py``, ``brand_gateway/insights/sqlcipher.py``). The
assemblies below are where the engine is chosen (they wire the SQLCipher repositories) and
hold no SQL either. Only ``vault/sqlcipher/database.py`` (the SQLCipher connection) imports the
driver; the migration runner (``vault/migrations.py``) and each store's SQL
(``vault/schema/sqlite/``) are the engine's too. PostgreSQL's are beside them: only
``vault/postgresql/database.py`` imports psycopg, its runner is ``vault/postgresql/migrations.py``,
its SQL ``vault/schema/postgresql/``, its repositories in ``*/postgresql/`` (issue 17).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SERVICES = tuple(f"vault/{name}" for name in (
    "brands", "erasure", "export", "feedback", "keys", "members", "password_resets",
    "profile", "recovery_codes", "sessions", "signups", "throttle")) + tuple(
    f"consent/{name}" for name in (
        "access_index", "checkpoints", "decision", "export", "grants", "ledger", "ledger_proofs",
        "ledger_verification", "spool", "terms")) + tuple(
    f"brand_gateway/{name}" for name in (
        "access_log", "approval", "authorizations", "clients", "export", "first_contact",
        "member_data", "pseudonyms", "rate_limits", "reads", "tokens")) + tuple(
    f"brand_gateway/webhooks/{name}" for name in ("delivery", "endpoints", "outbox")) + tuple(
    f"brand_gateway/insights/{name}" for name in ("budget", "contributions", "releases")) + tuple(
    f"compliance/{name}" for name in ("deadlines", "reports")) + tuple(
    f"web/{name}" for name in ("endings",)) + tuple(
    f"demo/{name}" for name in ("consents", "members"))
# Where an engine is chosen: they build services over one engine's repositories (the
# observers build the gateway's hooks into consent over the data store).
ASSEMBLIES = ("vault/home", "vault/backup", "consent/context", "brand_gateway/storage",
              "brand_gateway/observers", "compliance/storage")
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE INTO|PRAGMA|BEGIN|COMMIT|ROLLBACK"
                 r"|CREATE|DROP|ALTER|VACUUM|WITHOUT ROWID)\b")
# Calls that run SQL on a connection, and what services used to call their connection. A
# service may take a transaction, a snapshot or the memo of a whole store: those are the Store
# contract's (vault/repositories.py), which each engine's connection offers by its own means.
RUNS_SQL = {"execute", "executemany", "executescript", "one", "all", "checkpoint",
            "vacuum_into"}
CONNECTIONS = {"_db", "db", "database", "data", "keys_database", "_connection", "connection"}


def _tree(module: str) -> ast.Module:
    path = ROOT / f"{module}.py"
    return ast.parse(path.read_text(), str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def sql_strings(tree: ast.Module) -> list[str]:
    """String constants (docstrings aside) that look like SQL."""
    docstrings = _docstrings(tree)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and SQL.search(node.value)]


@pytest.mark.parametrize("module", SERVICES + ASSEMBLIES)
def test_no_sql_outside_the_storage_modules(module: str) -> None:
    assert sql_strings(_tree(module)) == []


@pytest.mark.parametrize("module", SERVICES)
def test_services_neither_run_statements_nor_know_the_engine(module: str) -> None:
    tree = _tree(module)
    runs = sorted({node.func.attr for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr in RUNS_SQL and _name(node.func.value) in CONNECTIONS})
    assert runs == []
    assert not {_name(node) for node in ast.walk(tree)} & {"_db", "Database"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            where = ("." * node.level) + (node.module or "")
            assert "sqlcipher" not in where, f"{module} imports {where}"
        elif isinstance(node, ast.Import):
            assert all("sqlcipher" not in alias.name for alias in node.names)


@pytest.mark.parametrize(("drivers", "modules"), [
    ({"sqlcipher3"}, ["vault/sqlcipher/database.py"]),
    # Connecting to PostgreSQL, and telling why a connection failed (libpq's trace, SQLSTATEs).
    ({"psycopg", "psycopg_pool"}, ["vault/postgresql/connection_failures.py",
                                   "vault/postgresql/database.py"]),
], ids=["sqlcipher", "postgresql"])
def test_only_the_engines_connection_modules_import_its_driver(drivers: set[str],
                                                                 modules: list[str]) -> None:
    importers = []
    for package in ("vault", "consent", "community", "intents", "compliance",
                    "brand_gateway", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name.split(".")[0] in drivers for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert sorted(set(importers)) == modules


def test_the_scan_finds_sql() -> None:
    """The scan itself: it would catch a statement, and skips docstrings."""
    tree = ast.parse('"""Runs SELECT 1."""\nx = db.execute("SELECT * FROM members")\n')
    assert sql_strings(tree) == ["SELECT * FROM members"]
