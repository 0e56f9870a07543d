"""Every exception class of vrmvault sits in its area's errors tree and carries what HTTP needs.

Walks every module of the packages (by their source, so a class defined anywhere is found) and
checks each exception class: its name ends in ``Error``; it is defined in an ``errors.py`` (the
brand API's ``api_errors.py`` included) whose docstring draws it; it roots at the neutral
:class:`~vrmvault.errors.VrmvaultError`; and its HTTP attributes make sense, so that the one
boundary (``web/errors.py``) can answer it from them alone.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from vrmvault.errors import PROBLEM_TYPE_BASE, VrmvaultError

ROOT = Path(__file__).parents[2]
PACKAGES = ("vrmvault", "vault", "consent", "community", "intents", "compliance",
            "brand_gateway", "web")
STANDARD_MEMBERS = {"type", "title", "status", "detail", "instance"}     # RFC 9457 sec. 3.1
#: Values for the constructor parameters the classes take, by name.
SAMPLE_ARGUMENTS: dict[str, Any] = {
    "errors": {"field": ["This is not right."]}, "retry_after": 7, "limit": 60,
    "member_id": "a-member", "seq": 3, "problem": "entry 3 is missing", "max_depth": 32,
    "response": None, "requested": 0.5, "remaining": 0.25, "renews_at": 1_800_000_000,
    "variable": "VRMVAULT_SESSION_IDLE", "expected": "a whole number of seconds",
    "message": "At most 3 offers per intent.", "name": "url", "constant": "NaN",
}


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name, path in modules():
        module = importlib.import_module(name)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            cls = getattr(module, node.name, None)
            if inspect.isclass(cls) and cls.__module__ == name:
                if issubclass(cls, BaseException):
                    found[f"{name}.{node.name}"] = cls
            else:
                # A class statement inside a function, or shadowed: it must not be an exception.
                bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
                assert not any(re.search(r"(Error|Exception|Warning|Exit)$", base)
                               for base in bases), f"{name}: class {node.name} is not reachable"
    return list(found.values())


CLASSES = exception_classes()


def name_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def instance(cls: type[VrmvaultError]) -> VrmvaultError:
    parameters = inspect.signature(cls).parameters.values()
    arguments = {p.name: SAMPLE_ARGUMENTS[p.name] for p in parameters
                 if p.default is inspect.Parameter.empty
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return cls(**arguments)


def test_the_walk_finds_the_trees() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"VrmvaultError", "VaultError", "ConsentError", "GatewayError", "ResourceError",
            "WebError", "CsrfError", "InvalidAuthorizationDetailsError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=name_of)
def test_every_exception_is_an_error_of_an_errors_module(cls: type[BaseException]) -> None:
    assert cls.__name__.endswith("Error")
    assert cls.__module__.rsplit(".", 1)[-1].endswith("errors"), (
        f"{name_of(cls)} belongs in its area's errors.py")
    assert issubclass(cls, VrmvaultError), f"{name_of(cls)} does not root at VrmvaultError"


@pytest.mark.parametrize("cls", CLASSES, ids=name_of)
def test_every_exception_is_drawn_in_its_module_docstring(cls: type[BaseException]) -> None:
    docstring = inspect.getmodule(cls).__doc__ or ""
    assert re.search(rf"[─ ]{cls.__name__}\b", docstring), (
        f"draw {cls.__name__} in the tree of {cls.__module__}'s docstring")


@pytest.mark.parametrize("cls", [c for c in CLASSES if issubclass(c, VrmvaultError)],
                         ids=name_of)
def test_every_exception_carries_its_http_answer(cls: type[VrmvaultError]) -> None:
    assert cls.status in {status.value for status in HTTPStatus} and cls.status >= 400
    assert isinstance(cls.title, str) and cls.title.strip()
    if cls.type is None:
        # about:blank: the title is the status's reason phrase (RFC 9457 sec. 4.2.1).
        assert cls.problem_type() == "about:blank"
        assert cls.title == HTTPStatus(cls.status).phrase
    else:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.type)
        assert cls.problem_type() == PROBLEM_TYPE_BASE + cls.type
    error = instance(cls)
    assert isinstance(error.message, str) and error.message
    headers, extensions = error.headers(), error.extensions()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    assert not set(extensions) & STANDARD_MEMBERS


@pytest.mark.parametrize("cls", [c for c in CLASSES
                                 if issubclass(c, VrmvaultError) and c.status < 500], ids=name_of)
def test_an_error_a_client_sees_has_a_type_of_its_own_status(cls: type[VrmvaultError]) -> None:
    # The class that named the type was meant for an answer of this kind, not an internal one
    # (a 4xx must never be answered with the problem type of a 500).
    owner = next(c for c in cls.__mro__ if "type" in vars(c))
    assert owner.status < 500, f"{name_of(cls)} takes its type from {name_of(owner)}"


@pytest.mark.parametrize("cls", [c for c in CLASSES
                                 if issubclass(c, VrmvaultError) and c.operational], ids=name_of)
def test_an_operational_error_is_a_5xx_with_a_type_of_its_own(cls: type[VrmvaultError]) -> None:
    # Answered to the client as it is (web/errors.py): never with the type of an internal one.
    assert cls.status >= 500
    owner = next(c for c in cls.__mro__ if "type" in vars(c))
    assert owner.operational and owner.status == cls.status, name_of(cls)


def test_each_area_has_one_root_under_the_neutral_one() -> None:
    areas = sorted(cls.__module__.split(".")[0] for cls in CLASSES
                   if cls.__bases__ == (VrmvaultError,))
    assert areas == ["brand_gateway", "community", "compliance", "consent", "intents", "vault",
                     "web"]
