"""Intent casting (issue 16): a member tells the market what they want, on their own terms;
brands of the category answer with offers; nobody is tracked.

Plain Python over storage contracts (``intents/repositories.py``), above ``consent`` and
``vault``, beside ``community``: the brand gateway and the web pages are its front doors.
"""

from .model import (
    BrandOffer,
    Intent,
    IntentDraft,
    IntentPage,
    IntentStatus,
    Limits,
    ListedIntent,
    Offer,
    OfferStatus,
    SpamReport,
)
from .service import IntentObserver, IntentService, ListingLog

__all__ = ["BrandOffer", "Intent", "IntentDraft", "IntentObserver", "IntentPage", "IntentService",
           "IntentStatus", "Limits", "ListedIntent", "ListingLog", "Offer", "OfferStatus",
           "SpamReport"]
