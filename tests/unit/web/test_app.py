"""The application class: ``ensure_sync`` answered once per function, the same answer as Flask's."""

from __future__ import annotations

from typing import Any

from web.app import VaultFlask


def view() -> str:
    return "ok"


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> str:
        return "ok"


def test_a_plain_function_is_answered_with_itself_and_remembered():
    app = VaultFlask(__name__)
    assert app.ensure_sync(view) is view
    assert app._sync_of == {view: view}
    assert app.ensure_sync(view) is view


def test_the_memo_stops_growing_at_its_size():
    app = VaultFlask(__name__)
    app.SYNC_MEMO_SIZE = 3
    made: list[Any] = [lambda n=n: n for n in range(5)]
    assert [app.ensure_sync(function) for function in made] == made
    assert list(app._sync_of) == made[:3]


def test_an_unhashable_callable_is_answered_but_not_remembered():
    app = VaultFlask(__name__)
    callable_object = Unhashable()
    assert app.ensure_sync(callable_object) is callable_object
    assert app._sync_of == {}


def test_requests_run_their_hooks_and_views_through_the_memo():
    app = VaultFlask(__name__)
    app.add_url_rule("/", "view", view)
    calls: list[str] = []
    app.before_request(lambda: calls.append("before"))
    client = app.test_client()
    for _ in range(2):
        assert client.get("/").get_data(as_text=True) == "ok"
    assert calls == ["before", "before"]
    assert view in app._sync_of
