"""Reading responses the way the functional tests need: field errors, forms, store rows.

Helpers only; the fixtures that use them live in ``conftest.py`` next to this module.
"""

from __future__ import annotations

import hashlib
import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import TestResponse

from vault.home import Vault

# Tables of the data store and the key store that hold anything a member did.
DATA_TABLES = ("members", "brands", "profile_values", "feedback", "web_sessions",
               "login_throttle", "erasures")
KEY_TABLES = ("member_keys", "erased_members")

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def text_of(fragment: str) -> str:
    """The visible text of an HTML fragment, tags dropped and whitespace collapsed."""
    return _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", fragment))).strip()


def field_errors(page: str, field: str) -> list[str]:
    """The messages shown next to ``field`` (the ``<ul id="FIELD-error">`` of _forms.html)."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field)}-error">(.*?)</ul>', page,
                      re.S)
    if match is None:
        return []
    return [text_of(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def fields_with_errors(page: str) -> set[str]:
    return set(re.findall(r'<ul class="errors" id="([^"]+)-error">', page))


def error_summary(page: str) -> str:
    match = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', page, re.S)
    return text_of(match.group(1)) if match else ""


def error_message(page: str) -> str:
    """The message of the error page (error.html)."""
    match = re.search(r'<p class="error-message">(.*?)</p>', page, re.S)
    return text_of(match.group(1)) if match else ""


def flashes(page: str) -> list[str]:
    return [text_of(m) for m in re.findall(r'<p class="flash [^"]*"[^>]*>(.*?)</p>', page, re.S)]


def location_path(response: TestResponse) -> str:
    """The path a redirect points to (absolute or relative Location)."""
    return urlsplit(response.headers.get("Location", "")).path


def assert_sane(response: TestResponse) -> None:
    """No server error and nothing that looks like a stack trace, whatever the input was."""
    body = response.get_data().decode("utf-8", "replace")   # downloads are binary
    assert response.status_code < 500, f"{response.status_code}: {error_message(body)}"
    assert "Traceback" not in body
    assert 'File "' not in body


def token_hash(token: str) -> bytes:
    """How the store keys a session row (vault.sessions keeps only the SHA-256)."""
    return hashlib.sha256(token.encode()).digest()


def session_row_exists(vault: Vault, token: str) -> bool:
    return vault.data.one("SELECT 1 FROM web_sessions WHERE id_hash = ?",
                          (token_hash(token),)) is not None


def count(vault: Vault, table: str, member_id: str | None = None) -> int:
    if member_id is None:
        return vault.data.one(f"SELECT count(*) FROM {table}")[0]
    if table == "feedback":  # rows point at their member by its integer key (migration 3)
        return vault.data.one("SELECT count(*) FROM feedback WHERE member_num ="
                              " (SELECT num FROM members WHERE id = ?)", (member_id,))[0]
    column = "id" if table == "members" else "member_id"
    return vault.data.one(f"SELECT count(*) FROM {table} WHERE {column} = ?", (member_id,))[0]


def snapshot(vault: Vault, *, sessions: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every member-related table in both stores, for "nothing changed" checks."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in DATA_TABLES:
        if table == "web_sessions" and not sessions:
            continue
        rows[table] = [tuple(r) for r in vault.data.all(f"SELECT * FROM {table} ORDER BY 1")]
    for table in KEY_TABLES:
        rows["keys." + table] = [tuple(r) for r in vault.keys_database.all(
            f"SELECT * FROM {table} ORDER BY 1")]
    return rows


class _FormReader(HTMLParser):
    """Collects what a browser would submit for the form whose action is ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in {"submit", "button", "file"}:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or \
                [v for v, _ in self._options[:1]]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def form_fields(page: str, action: str) -> list[tuple[str, str]]:
    """The (name, value) pairs the form posting to ``action`` submits as rendered."""
    reader = _FormReader(action)
    reader.feed(page)
    assert reader.fields, f"no form posting to {action} on the page"
    return reader.fields
