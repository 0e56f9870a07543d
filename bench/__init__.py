"""The vrmvault benchmark suite: ``python -m bench`` (or ``make bench``).

Each module measures one figure of the performance issue against its target and returns
:class:`bench.report.Result` lines; ``python -m bench`` runs them all, prints a table and writes
``bench/results.json``. Options: ``--quick`` (reduced sizes, a smoke run whose figures are not
comparable with the targets) and ``--only NAME`` (repeatable).

Invariants: benchmarks use the product's own services on fresh temporary stores, never a real
home; compared variants run interleaved in the same run and are reported as medians; a benchmark
that cannot verify what it timed fails instead of reporting. Benchmarks are not tests and are
never collected by pytest.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    brand_api,
    compliance_reports,
    decision,
    demo_100k,
    dsr_queue,
    encryption_overhead,
    erasure_10k,
    export_10k,
    insights,
    intents,
    intents_http,
    ledger,
    ledger_search,
    postgresql,
    postgresql_one_host,
    raw_key_open,
    recovery,
    reveals,
    sealed_writes,
    serve_memory,
    servers,
    survey_answer,
    tiles,
)

# In the order they run: quick and small first, the long subprocess load last.
BENCHMARKS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (raw_key_open, recovery, erasure_10k, export_10k, sealed_writes,
                   encryption_overhead, decision, ledger, ledger_search, tiles,
                   survey_answer, insights, compliance_reports, reveals, dsr_queue,
                   intents, demo_100k, serve_memory, brand_api, servers, intents_http, postgresql,
                   postgresql_one_host)
}
