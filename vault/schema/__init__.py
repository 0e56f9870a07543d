"""Every store of a vault home with its one ordered history of migrations, stated once.

    store    file        key (master.derive)   holds
    data     data.db     "data-store"          members and what they keep, consent, the brand
                                               gateway's clients, tokens and webhooks, the
                                               brands' privacy budgets, the insights read
                                               model
    keys     keys.db     "key-store"           wrapped member keys, the erasure list
    ledger   ledger.db   "ledger-store"        the Merkle ledger, its search index (a member's
                                               brand reads are found in it) and spool marks
                                               (consent/ledger.py)
    rates    rates.db    "api-rates"           the brand API's request counters
                                               (brand_gateway/rate_limits.py)

A store holds the tables of every layer that keeps data in it (the data store: the vault's,
consent's and the brand gateway's), in one history: its tables reference each other, so one
order of creation is theirs. The SQL is in ``sqlite/<store>/<number>_<name>.sql``, one file per
migration, engine-specific; this module is the list. :mod:`vault.migrations` applies it;
``vrmvault init`` applies every store's (:meth:`vault.home.VaultHome.initialise`).

A store's PostgreSQL history has the same numbers and names, with SQL of its own in
``postgresql/<store>/`` (:func:`on_postgresql`), applied by :mod:`vault.postgresql.migrations`.
Every store has one (:data:`POSTGRESQL_STORES`).

Migration 1 of each store is its baseline: the schema the pre-release history had reached at
vrmvault b89e8db, written afresh. A store that version made is taken over by the upgrade step in
:mod:`vault.migrations`, which recognises it by the bookkeeping tables listed here, each at
that version's last migration. New migrations are appended to a list below (number 2 onwards),
never edited once released.
"""

from __future__ import annotations

from dataclasses import replace

from ..migrations import Migration, Squashed, Store, migration

PRE_RELEASE = "b89e8db"


def _baseline(store: str) -> tuple[Migration, ...]:
    return (migration(store, 1, "baseline"),)


DATA = Store("data", "data.db", "data-store", _baseline("data") + (
    migration("data", 2, "agreement_withdrawals", rebuilds_tables=True),
    migration("data", 3, "privacy_budget_spends"),
    migration("data", 4, "communities"),
    migration("data", 5, "surveys_feedback_requests_attribute_requests"),
    migration("data", 6, "insights_read_model"),
    migration("data", 7, "loop_posts_care_cases"),
    migration("data", 8, "data_subject_requests", rebuilds_tables=True),
    migration("data", 9, "roles_and_reveals"),
    migration("data", 10, "intents", rebuilds_tables=True),
    migration("data", 11, "webhook_endpoint_public_ids", rebuilds_tables=True),
    migration("data", 12, "agreements_from_joins"),
    migration("data", 13, "frozen_survey_audiences"),
    migration("data", 14, "intent_numbers_never_reused", rebuilds_tables=True),
    migration("data", 15, "kept_community_sizes"),
    migration("data", 16, "sealed_request_reasons"),
    migration("data", 17, "members_counted_once"),
    migration("data", 18, "care_grants_never_counted"),
), Squashed(PRE_RELEASE, {
    "schema_migrations": (
        (1, "members_profile_feedback"), (2, "sessions_throttle_erasures"),
        (3, "integer_member_keys_for_feedback"), (4, "member_roles"), (5, "erasure_intents"),
        (6, "account_recovery")),
    "consent_migrations": (
        (1, "terms_agreements_grants_receipts"), (2, "grant_endings"),
        (3, "brand_terms_and_their_receipts")),
    "gateway_migrations": (
        (1, "oauth_clients_pairwise_subjects"), (2, "client_scopes_and_accepted_agreements"),
        (3, "retire_scopes_without_endpoints")),
    "gateway_token_migrations": (
        (1, "oauth_access_tokens"), (2, "authorization_code_refresh_families"),
        (3, "live_families_by_end")),
    "gateway_access_migrations": (
        (1, "api_access_log_rate_limits"), (2, "drop_access_log_rate_limits")),
    "gateway_webhook_migrations": (
        (1, "webhook_endpoints_outbox_attempts"), (2, "outbox_authorization_ended")),
}))

KEYS = Store("keys", "keys.db", "key-store", _baseline("keys"), Squashed(PRE_RELEASE, {
    "schema_migrations": ((1, "member_keys"),),
}))

LEDGER = Store("ledger", "ledger.db", "ledger-store", _baseline("ledger") + (
    migration("ledger", 2, "search_index"),
    migration("ledger", 3, "reads_in_the_search_index"),
    migration("ledger", 4, "recent_search_rows"),
), Squashed(PRE_RELEASE, {
    "schema_migrations": (
        (1, "ledger_entries_tree_checkpoints"), (2, "access_index_rate_limits"),
        (3, "spool_marks"), (4, "access_index_by_time"), (5, "rate_limits_moved_out")),
}))

RATES = Store("rates", "rates.db", "api-rates", _baseline("rates"), Squashed(PRE_RELEASE, {
    "schema_migrations": ((1, "api_rate_limits"),),
}))

#: In the order ``vrmvault init`` brings them up to date.
STORES: tuple[Store, ...] = (DATA, KEYS, LEDGER, RATES)


def on_postgresql(store: Store) -> Store:
    """``store`` with its PostgreSQL history: the same numbers and names, the SQL of
    ``postgresql/<store>/`` (no pre-release history to take over, no table rebuilds)."""
    return replace(store, squashed=None, migrations=tuple(
        migration(store.name, step.number, step.name, engine="postgresql")
        for step in store.migrations))


#: Every store's PostgreSQL history.
POSTGRESQL_STORES: tuple[Store, ...] = tuple(on_postgresql(store) for store in STORES)
