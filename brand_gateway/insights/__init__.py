"""Privacy-safe insights for brands: aggregates over members, never about one member.

``contributions.py`` bounds what each member may add to a release (the member is the privacy
unit), ``releases.py`` releases counts, histograms, means and NPS with OpenDP's discrete
Laplace noise and suppresses small groups, ``budget.py`` makes each brand pay every release
from its privacy budget of the period. Plain Python: no HTTP here; the storage of the budgets
is behind ``repositories.py`` (SQLCipher's in ``sqlcipher.py``).
"""
