"""The data store is ready to be distributed by member with Citus (issue 17).

Citus cannot be installed here, so what it would refuse or make slow is checked where it shows
without it: in the live catalog of a data database made as ``vrmvault init`` makes it, against
the distribution DDL the README tells the operator to run (``vault/schema/postgresql/citus.sql``),
and in every SQL statement of the PostgreSQL repositories, parsed by PostgreSQL's own parser
(pglast, libpg_query). What the file does where Citus is missing is run: it stops at once, and
says so.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pglast
import psycopg
import pytest
from pglast import ast as sql

import vault
from tests.conftest import POSTGRESQL_MASTER_KEY
from tests.postgresql_server import Server, binaries
from vault.postgresql.database import Database, placeholders

ROOT = Path(vault.__file__).resolve().parent.parent
CITUS = ROOT / "vault" / "schema" / "postgresql" / "citus.sql"
README = ROOT / "README.md"
_CALL = re.compile(r"^SELECT create_(?P<kind>reference|distributed)_table\('(?P<table>\w+)'"
                   r"(?:, '(?P<column>\w+)'(?:, colocate_with => '(?P<with>\w+)')?)?\);$")
# A table the file leaves local to the coordinator, with its reason (a comment line).
_LOCAL = re.compile(r"^--\s+local: (?P<table>\w+)\s+\S", re.M)
MEMBERS = "members"


@dataclass(frozen=True)
class Placement:
    table: str
    column: str | None              # the distribution column; None for a reference table
    group: str | None               # the co-location group: a table's own name for 'none'


def layout() -> dict[str, Placement]:
    placed: dict[str, Placement] = {}
    for line in CITUS.read_text().splitlines():
        if not line.startswith("SELECT"):
            continue
        call = _CALL.match(line)
        assert call, f"not a call this test reads: {line}"
        table = call["table"]
        assert table not in placed, f"{table} is placed twice"
        if call["kind"] == "reference":
            placed[table] = Placement(table, None, None)
        else:
            group = call["with"] if call["with"] not in (None, "none") else table
            placed[table] = Placement(table, call["column"], group)
    return placed


def left_local() -> set[str]:
    """The tables the file names as left local to the coordinator (``-- local: <table>
    <why>``): the stores' bookkeeping."""
    return {match["table"] for match in _LOCAL.finditer(CITUS.read_text())}


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    tables: set[str]
    unique: dict[str, list[tuple[str, tuple[str, ...]]]]     # table -> (name, columns)
    foreign_keys: list[ForeignKey]


@pytest.fixture(scope="module")
def catalog(postgresql: Server) -> Iterator[Catalog]:
    data_template, _ = postgresql.home_templates(POSTGRESQL_MASTER_KEY)
    with postgresql.database(data_template) as dsn:
        database = Database.connect(dsn)
        try:
            tables = {row[0] for row in database.all(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                " AND relkind IN ('r', 'p') AND NOT relispartition")}
            unique: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
            # Every unique index: primary keys, UNIQUE constraints and CREATE UNIQUE INDEX.
            for table, index, columns in database.all(
                    "SELECT t.relname, i.relname, array_agg(a.attname ORDER BY k.ord)"
                    " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid"
                    " JOIN pg_class i ON i.oid = x.indexrelid"
                    " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)"
                    " LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
                    " WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace"
                    " GROUP BY t.relname, i.relname"):
                unique.setdefault(table, []).append((index, tuple(c or "(expression)"
                                                                  for c in columns)))
            foreign_keys = [ForeignKey(row[0], tuple(row[1]), row[2], tuple(row[3]))
                            for row in database.all(
                "SELECT c.relname, array(SELECT attname FROM unnest(f.conkey) WITH ORDINALITY"
                " AS k(n, o) JOIN pg_attribute ON attrelid = f.conrelid AND attnum = k.n"
                " ORDER BY k.o), r.relname, array(SELECT attname FROM unnest(f.confkey)"
                " WITH ORDINALITY AS k(n, o) JOIN pg_attribute ON attrelid = f.confrelid"
                " AND attnum = k.n ORDER BY k.o)"
                " FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid"
                " JOIN pg_class r ON r.oid = f.confrelid"
                " WHERE f.contype = 'f' AND c.relnamespace = 'public'::regnamespace")]
        finally:
            database.close()
    yield Catalog(tables, unique, foreign_keys)


def test_every_table_of_the_data_store_is_placed_once_or_said_to_stay_local(
        catalog: Catalog) -> None:
    """Placed by a call, or named (with its reason) as left on the coordinator; never both,
    and nothing named that the store does not hold."""
    placed, local = layout(), left_local()
    assert local == {"store_migrations", "store_key_check"}
    assert local <= catalog.tables and not local & set(placed)
    assert set(placed) == catalog.tables - local, (
        f"not placed: {sorted(catalog.tables - local - set(placed))};"
        f" placed but not in the store: {sorted(set(placed) - catalog.tables)}")


def _psql() -> str | None:
    """psql from the PATH, else the one beside the run's own server's programs."""
    found = shutil.which("psql")
    if found:
        return found
    try:
        return str(binaries() / "psql")
    except RuntimeError:
        return None


def test_the_file_stops_before_its_first_call_where_citus_is_not_installed(
        postgresql: Server) -> None:
    """Run as the README and the file's header say, on plain PostgreSQL (the run's server):
    psql stops at the check, which names what is missing, instead of at the first call, with
    an unknown function."""
    message = ("Citus is not installed in this database: CREATE EXTENSION citus first"
               " (it needs shared_preload_libraries = citus)")
    psql = _psql()
    data_template, _ = postgresql.home_templates(POSTGRESQL_MASTER_KEY)
    with postgresql.database(data_template) as dsn:
        if psql is None:
            # A server of another host (VRMVAULT_TEST_DATABASE_URL) and no psql here: the file
            # as one script of statements, as psql sends it, through the driver.
            with psycopg.connect(dsn, autocommit=True) as connection, \
                    pytest.raises(psycopg.errors.RaiseException) as caught:
                connection.execute(CITUS.read_text().encode())
            assert str(caught.value).startswith(message)
            return
        ran = subprocess.run(
            [psql, dsn, "-v", "ON_ERROR_STOP=1", "-f", str(CITUS)], capture_output=True,
            text=True, timeout=60, check=False,
            env=dict(os.environ, PSQLRC=os.devnull))     # not the reader's own settings
    assert ran.returncode == 3, ran.stderr                # psql: the script stopped on an error
    assert f"ERROR:  {message}" in ran.stderr
    assert "create_reference_table" not in ran.stderr and ran.stdout == ""


def test_the_readme_gives_the_command_the_files_header_gives() -> None:
    command = re.search(r"^--\s+(psql .*citus\.sql)$", CITUS.read_text(), re.M)
    assert command, "the header of citus.sql gives no psql line"
    readme = README.read_text()
    section = readme[readme.index("**Distributing by member with Citus.**"):]
    section = section[:section.index("\n**", 1)]
    assert command[1] in section


def test_every_member_owned_table_is_distributed_with_the_members(catalog: Catalog) -> None:
    """A table whose rows are a member's (a foreign key to ``members``) lives on the member's
    shard: distributed by ``member_id`` in the members' co-location group."""
    placed = layout()
    assert placed[MEMBERS] == Placement(MEMBERS, "id", MEMBERS)
    owned = {key.table for key in catalog.foreign_keys if key.target == MEMBERS}
    assert len(owned) > 20
    for table in owned:
        assert placed[table] == Placement(table, "member_id", MEMBERS), table


def test_every_unique_key_of_a_distributed_table_holds_its_distribution_column(
        catalog: Catalog) -> None:
    placed = layout()
    checked = 0
    local = left_local()
    for table, indexes in catalog.unique.items():
        if table in local:
            continue
        column = placed[table].column
        if column is None:
            continue
        for index, columns in indexes:
            assert column in columns, f"{table}: unique index {index} {columns} lacks {column}"
            checked += 1
    assert checked > 40


def test_foreign_keys_stay_on_one_shard_or_point_at_a_reference_table(catalog: Catalog) -> None:
    placed = layout()
    assert catalog.foreign_keys
    for key in catalog.foreign_keys:
        source, target = placed[key.table], placed[key.target]
        if target.column is None:
            continue                            # to a reference table: a copy on every node
        assert source.column is not None, f"reference table {key.table} -> distributed {key}"
        assert source.group == target.group, f"{key} joins two co-location groups"
        pairs = set(zip(key.columns, key.target_columns, strict=True))
        assert (source.column, target.column) in pairs, (
            f"{key} does not join {key.table}.{source.column} to {key.target}.{target.column}")


# -- the statements -------------------------------------------------------------------------
def statement_sources() -> list[Path]:
    """Every module that holds the PostgreSQL repositories' SQL: ``<area>/postgresql/`` and
    the shared ``<area>/sql/`` (and their single-module forms)."""
    found: set[Path] = set()
    for area in ("vault", "consent", "brand_gateway", "community", "compliance", "intents"):
        base = ROOT / area
        for pattern in ("**/postgresql/*.py", "**/postgresql.py", "**/sql/*.py", "**/sql.py"):
            found.update(base.glob(pattern))
    return sorted(found)


def _postgresql_attributes() -> dict[str, str]:
    """The string class attributes of the PostgreSQL repositories (``self._MEMBER``, the
    column a shared statement keys a member by on this engine), where one name has one
    value."""
    values: dict[str, set[str]] = {}
    for path in statement_sources():
        if "postgresql" not in path.parts and path.stem != "postgresql":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.Assign) and len(item.targets) == 1 and \
                            isinstance(item.targets[0], ast.Name) and \
                            isinstance(item.value, ast.Constant) and \
                            isinstance(item.value.value, str):
                        values.setdefault(item.targets[0].id, set()).add(item.value.value)
    return {"self." + name: next(iter(found)) for name, found in values.items()
            if len(found) == 1}


def _text(node: ast.AST, constants: dict[str, str], unknown: str = "") -> str | None:
    """The SQL text a Python expression spells, as far as it can be read without running it:
    string literals, their concatenations, f-strings with the module's own string constants
    put in; anything else in an f-string (a lock clause, an optional condition, a column
    chosen at run time) becomes ``unknown``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
            node.value.id in ("self", "cls"):
        return constants.get("self." + node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, constants, unknown), _text(node.right, constants, unknown)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            text = _text(inner, constants, unknown)
            # A call adds a clause (a lock, an index hint); a name may stand for a column.
            parts.append(text if text is not None else
                         "" if isinstance(inner, ast.Call) else unknown)
        return "".join(parts)
    return None


def statements() -> Iterator[tuple[str, sql.Node]]:
    """Every statement those modules spell (:func:`_text`) that PostgreSQL parses:
    (where, tree). Fragments (a column list, a clause joined in at run time) do not parse on
    their own and are left out."""
    attributes = _postgresql_attributes()
    for path in statement_sources():
        tree = ast.parse(path.read_text())
        constants: dict[str, str] = dict(attributes)
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name):
                text = _text(node.value, constants)
                if text is not None:
                    constants[node.targets[0].id] = text
        seen: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp | ast.Name):
                continue
            text = _text(node, constants)
            if text is None or text in seen or \
                    not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", text, re.I):
                continue
            seen.add(text)
            # What is chosen at run time left out; failing that, named as a column.
            parsed = _parsed(text) or _parsed(_text(node, constants, "chosen_at_run_time"))
            if not parsed:
                continue
            for raw in parsed:
                yield f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}", raw.stmt


def _parsed(text: str | None) -> tuple[sql.RawStmt, ...]:
    if text is None:
        return ()
    numbered = itertools.count(1)
    text = re.sub(r"%s", lambda _: f"${next(numbered)}", placeholders(text)).replace("%%", "%")
    try:
        return tuple(pglast.parse_sql(text))
    except pglast.parser.ParseError:
        return ()


def _walk(node: object) -> Iterator[sql.Node]:
    if isinstance(node, sql.Node):
        yield node
        for slot in node.__slots__:
            yield from _walk(getattr(node, slot, None))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


def _relations(from_items: object) -> list[sql.RangeVar]:
    """The tables named in a FROM (or USING) list and its joins, not in its subqueries."""
    found: list[sql.RangeVar] = []
    for item in from_items or ():
        if isinstance(item, sql.RangeVar):
            found.append(item)
        elif isinstance(item, sql.JoinExpr):
            found += _relations((item.larg, item.rarg))
    return found


def _conjuncts(expression: object) -> Iterator[sql.Node]:
    if isinstance(expression, sql.BoolExpr) and expression.boolop == 0:     # AND
        for argument in expression.args:
            yield from _conjuncts(argument)
    elif isinstance(expression, sql.Node):
        yield expression


def _join_conditions(from_items: object) -> Iterator[tuple[sql.JoinExpr, sql.Node | None]]:
    for item in from_items or ():
        if isinstance(item, sql.JoinExpr):
            yield item, item.quals
            yield from _join_conditions((item.larg, item.rarg))


def _end(side: object, names: dict[str, str], placed: dict[str, Placement]) -> str | None:
    """What one side of an equality pins a member table to: the table's alias when it is that
    table's distribution column; a parameter or another table's column as text (two member
    tables equal to one value are on one member); ``None`` for a member table's other
    columns."""
    if isinstance(side, sql.ParamRef):
        return f"${side.number}"
    if isinstance(side, sql.TypeCast):
        return _end(side.arg, names, placed)
    if not isinstance(side, sql.ColumnRef) or len(side.fields) != 2:
        return None
    relation, column = side.fields[0].sval, side.fields[1].sval
    if relation in names:
        return relation if column == placed[names[relation]].column else None
    return f"{relation}.{column}"


def member_joins_off_the_member(statement: sql.Node, placed: dict[str, Placement]
                                ) -> tuple[int, list[str]]:
    """How many joins of two co-located member tables ``statement`` makes, and those that are
    not on the member (each query level on its own: its FROM list, joins and WHERE)."""
    joins, wrong = 0, []
    for node in _walk(statement):
        if isinstance(node, sql.SelectStmt):
            from_items, where = node.fromClause, node.whereClause
            extra: list[sql.RangeVar] = []
        elif isinstance(node, sql.UpdateStmt):
            from_items, where, extra = node.fromClause, node.whereClause, [node.relation]
        elif isinstance(node, sql.DeleteStmt):
            from_items, where, extra = node.usingClause, node.whereClause, [node.relation]
        else:
            continue
        relations = [r for r in extra + _relations(from_items)
                     if placed.get(r.relname, Placement("", None, None)).group == MEMBERS]
        if len(relations) < 2:
            continue
        names = {(r.alias.aliasname if r.alias else r.relname): r.relname for r in relations}
        group = {name: name for name in names}

        def find(name: str, group: dict[str, str] = group) -> str:
            while group[name] != name:
                name = group[name]
            return name

        conditions = [where] + [quals for _, quals in _join_conditions(from_items)]
        for condition in conditions:
            for conjunct in _conjuncts(condition):
                if not (isinstance(conjunct, sql.A_Expr) and conjunct.kind == 0
                        and [n.sval for n in conjunct.name] == ["="]):
                    continue
                ends = [_end(side, names, placed) for side in (conjunct.lexpr, conjunct.rexpr)]
                if None in ends or not any(end in names for end in ends):
                    continue
                for end in ends:
                    group.setdefault(str(end), str(end))
                group[find(str(ends[0]))] = find(str(ends[1]))
        for join, _ in _join_conditions(from_items):
            using = [n.sval for n in join.usingClause or ()]
            if "member_id" in using:
                sides = [r for r in _relations((join.larg, join.rarg))
                         if (r.alias.aliasname if r.alias else r.relname) in names]
                for left, right in itertools.pairwise(sides):
                    left_name = left.alias.aliasname if left.alias else left.relname
                    right_name = right.alias.aliasname if right.alias else right.relname
                    group[find(left_name)] = find(right_name)
        joins += len(names) - 1
        if len({find(name) for name in names}) > 1:
            wrong.append(", ".join(sorted(names.values())))
    return joins, wrong


def test_no_statement_joins_two_member_tables_on_anything_but_the_member() -> None:
    placed = layout()
    parsed = joined = 0
    wrong: list[str] = []
    for where, statement in statements():
        parsed += 1
        count, off = member_joins_off_the_member(statement, placed)
        joined += count
        wrong += [f"{where}: {tables}" for tables in off]
    assert parsed > 300, parsed          # the modules' statements were read
    assert joined > 10, joined           # and joins between member tables were among them
    assert wrong == []


@pytest.mark.parametrize(("statement", "off"), [
    ("SELECT 1 FROM grants g JOIN feedback f ON f.member_id = g.member_id", False),
    ("SELECT 1 FROM grants g JOIN feedback f ON f.id = g.id", True),
    ("SELECT 1 FROM grants g, receipts r WHERE r.member_id = g.member_id AND r.id = $1", False),
    ("SELECT 1 FROM grants g, receipts r WHERE r.grant_id = g.id", True),
    ("SELECT 1 FROM members m JOIN grants g ON g.member_id = m.id", False),
    ("SELECT 1 FROM members m JOIN grants g ON g.member_id = m.num::text", True),
    ("SELECT 1 FROM grants JOIN receipts USING (member_id, id)", False),
    ("SELECT 1 FROM grants g JOIN brands b ON b.id = g.brand_id", False),
    ("DELETE FROM grants g USING receipts r WHERE r.id = g.id", True),
])
def test_the_join_check_tells_a_join_on_the_member_from_any_other(statement: str,
                                                                   off: bool) -> None:
    """The check itself, on statements it must accept and refuse."""
    tree = pglast.parse_sql(statement)[0].stmt
    count, wrong = member_joins_off_the_member(tree, layout())
    assert count == (0 if " brands " in statement else 1)    # a reference table joins freely
    assert bool(wrong) is off
