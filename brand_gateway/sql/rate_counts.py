"""The shared request counters, what both engines share:
:class:`brand_gateway.repositories.RateCountRepository`.

One row per client (``api_rate_limits``: the window's start and the requests granted in it). A
lease reads the client's count and writes it back raised in one transaction, the row held
against every other lease of the client until it ends (each engine says how), so concurrent
workers, or hosts, never lose a count: a new window starts from nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from vault.sql import SqlRepository


class SqlRateCounts(SqlRepository, ABC):
    def take_lease(self, client_id: str, window_start: int,
                   size: Callable[[int], int]) -> tuple[int, int]:
        with self._db.transaction():
            row = self._held(client_id, window_start)
            before = row[1] if row is not None and row[0] == window_start else 0
            taken = size(before)
            self._count(client_id, window_start, before + taken)
        return before, taken

    @abstractmethod
    def _held(self, client_id: str, window_start: int) -> Any:
        """Inside the lease's transaction, the client's ``(window_start, used)`` row (None:
        none yet), held until the transaction ends."""

    @abstractmethod
    def _count(self, client_id: str, window_start: int, used: int) -> None:
        """Write the client's count: ``used`` requests in the window from ``window_start``."""
