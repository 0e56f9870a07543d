"""Every implementation offers each contract's every method, with the contract's parameters
(mypy checks the types where the implementations are wired; this checks names and kinds)."""

from __future__ import annotations

import inspect
from dataclasses import fields

from brand_gateway.repositories import RateCountRepository

from .conftest import Repositories


def _methods(contract: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(contract).items()
            if callable(member) and not name.startswith("_")}


def test_each_repository_has_its_contracts_methods(repositories: Repositories) -> None:
    hints = {f.name: f.type for f in fields(Repositories) if f.name != "gateway"}
    import brand_gateway.insights.repositories
    import brand_gateway.repositories
    import brand_gateway.webhooks.repositories
    import community.repositories
    import compliance.repositories
    import consent.repositories
    import intents.repositories
    import vault.repositories

    modules = (vault.repositories, consent.repositories, brand_gateway.repositories,
               brand_gateway.webhooks.repositories, brand_gateway.insights.repositories,
               community.repositories, compliance.repositories, intents.repositories)
    for name, hint in hints.items():
        [contract] = [getattr(module, str(hint)) for module in modules
                      if hasattr(module, str(hint))]
        conforms(getattr(repositories, name), contract)


def test_each_rate_count_repository_has_the_contracts_methods(
        rate_counts: RateCountRepository) -> None:
    conforms(rate_counts, RateCountRepository)


def conforms(implementation: object, contract: type) -> int:
    """``implementation`` offers every method of ``contract`` (and of ``Transactional`` if the
    contract is one), with the contract's parameter names and kinds; how many it checked."""
    import vault.repositories

    wanted = _methods(contract)
    if vault.repositories.Transactional in contract.__mro__:
        wanted.update(_methods(vault.repositories.Transactional))
    assert wanted, contract
    for method, signature in wanted.items():
        offered = getattr(implementation, method, None)
        assert callable(offered), f"{type(implementation).__name__} lacks {method}"
        got = inspect.signature(offered)
        assert [(p.name, p.kind) for p in got.parameters.values()] == [
            (p.name, p.kind) for p in signature.parameters.values()
            if p.name != "self"], f"{type(implementation).__name__}.{method}"
    return len(wanted)
