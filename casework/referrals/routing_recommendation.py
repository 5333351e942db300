"""Which agencies the routing form proposes for a referral, and why.

The rule, stated as data: each target kind names the agency kinds competent for it
(``COMPETENT_KINDS``), and words in the referral's title or summary that suggest hacking or
intrusion bring in the police (``HACKING_WORDS``). Of each proposed kind, the agency at the
referring department's level (and, below the national level, in its region) is proposed, with the
targets that made it competent as the reason. Officers change the proposal freely; it is a default.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from casework.agencies.models import Agency
from casework.extensions import db
from casework.referrals.labels import join_words
from casework.referrals.models import Referral

# target kind -> the agency kinds competent for it
COMPETENT_KINDS: dict[str, tuple[str, ...]] = {
    "app": ("cyberspace", "telecom"),   # app stores and the network access behind them
    "website": ("telecom",),            # ICP filing and network access
    "account": ("cyberspace",),         # accounts on online platforms
    "shop": ("market",),                # online shops: market regulation
    "group": ("cyberspace",),           # chat groups on online platforms
}
# Words in the title or summary that bring in the police, with this reason.
HACKING_WORDS = ("破解", "黑客", "外挂", "脚本", "木马", "入侵", "hack", "crack")
POLICE_KIND = "police"


def competent_kinds(referral: Referral) -> dict[str, list[str]]:
    """{agency kind: reasons} for the referral: the names of the targets each kind is competent for,
    and "signs of hacking" for the police when the title or summary shows them."""
    reasons: dict[str, list[str]] = {}
    for link in referral.target_links:
        for kind in COMPETENT_KINDS.get(link.target.kind, ()):
            names = reasons.setdefault(kind, [])
            if link.target.name not in names:
                names.append(link.target.name)
    if any(word in f"{referral.title} {referral.summary}" for word in HACKING_WORDS):
        reasons.setdefault(POLICE_KIND, []).append(str(_l("signs of hacking")))
    return reasons


def recommended_agencies(referral: Referral) -> dict[str, str]:
    """{agency id: reason}: one agency of each competent kind at the referring department's level
    and region (one query; none when no kind is competent)."""
    reasons = competent_kinds(referral)
    if not reasons:
        return {}
    origin = referral.origin_agency
    query = select(Agency).where(Agency.kind.in_(list(reasons)), Agency.level == origin.level)
    if origin.level != "national":
        query = query.where(Agency.region_code == origin.region_code)
    chosen: dict[str, str] = {}
    for agency in db.session.scalars(query.order_by(Agency.id)):
        if agency.kind in reasons:
            chosen[str(agency.id)] = str(_l("Competent for: %(targets)s", targets=join_words(reasons.pop(agency.kind))))
    return chosen
