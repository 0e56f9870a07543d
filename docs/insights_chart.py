"""Render the README's insights chart: ``.venv/bin/python docs/insights_chart.py``.

A fresh temporary home; a brand's community of 400 members who joined through the membership
service and wrote journal entries; one NPS-per-touchpoint query through the insights service
(a real OpenDP release, paid from the brand's budget and recorded in the ledger); its answer
as the API gives it, as the Vega-Lite v5 specification ``format=vega-lite`` gives, rendered to
``docs/insights-nps.svg`` with vl-convert (Vega's own renderer, no browser). The noise is drawn
afresh on each run, so each rendering differs a little, as each release does.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import vl_convert

from brand_gateway.api.insights import answer_body
from brand_gateway.insights.charts import specification
from brand_gateway.storage import insight_queries
from community.storage import community_service, membership_service
from consent.context import open_consent
from vault.home import VaultHome
from vault.keys import Pseudonymiser

OUT = Path(__file__).with_name("insights-nps.svg")
PURPOSE = "dpv:ServiceOptimisation"
TOUCHPOINTS = ("purchase", "delivery", "support", "returns")
# (rating weights 1-5, NPS weights 0-10) per touchpoint: delivery loved, support less so.
MOODS = {"purchase": ((1, 2, 8, 40, 49), (1, 1, 1, 1, 2, 3, 6, 12, 20, 26, 27)),
         "delivery": ((1, 1, 4, 30, 64), (1, 1, 1, 1, 1, 2, 4, 8, 18, 28, 35)),
         "support": ((12, 16, 22, 30, 20), (8, 6, 7, 8, 9, 10, 12, 12, 10, 9, 9)),
         "returns": ((6, 10, 20, 34, 30), (4, 3, 4, 5, 6, 8, 10, 14, 16, 15, 15))}


def main() -> None:
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as root:
        home = VaultHome(Path(root) / "var")
        home.initialise({})
        vault = home.open(home.master_key({}))
        consent = open_consent(vault, home)
        try:
            brand_id = vault.brands.add("Spokesmith Cycles", ("bikes",)).id
            club = community_service(consent).open(
                brand_id, name="Riders", description="Shape our service.", purposes=[PURPOSE])
            membership = membership_service(consent)
            index = Pseudonymiser(vault.master.derive("blind-index"))
            shared = vault.password_hasher.hash("a chart's members share one passphrase")
            for n in range(400):
                email = f"rider{n}@example.org"
                member_id = vault.members.insert(email=email, index=index.digest(email),
                                                 password_hash=shared)
                consent.terms.update(member_id, agreement="SD-BASE", purposes=[],
                                     max_days=365, aggregate_allowed=True)
                membership.join(member_id, club.id)
                for touchpoint in rng.sample(TOUCHPOINTS, 3):
                    ratings, scores = MOODS[touchpoint]
                    vault.feedback.add(member_id, {
                        "brand_id": brand_id, "touchpoint": touchpoint,
                        "rating": rng.choices(range(1, 6), ratings)[0],
                        "nps": rng.choices(range(11), scores)[0], "comment": "",
                        "occurred_on": vault.feedback.today().isoformat()})
            queries = insight_queries(database=vault.data, clock=vault.clock,
                                      profiles=vault.profile, ledger=consent.ledger)
            release = queries.touchpoints(brand_id, purpose=PURPOSE, measure="nps",
                                          touchpoints=TOUCHPOINTS, epsilon=1.0)
            body = answer_body(release, {"kind": "touchpoints", "purpose": PURPOSE,
                                         "measure": "nps", "touchpoints": list(TOUCHPOINTS),
                                         "by": None})
        finally:
            consent.close()
            vault.close()
    OUT.write_text(vl_convert.vegalite_to_svg(specification(body)), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
