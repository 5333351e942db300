"""The notice kinds: title, numbering series and subject, and the states that produce each.

Everything here is read from the declarations (``workflows/kinds.toml`` names the kinds; the
transitions that declare ``notice = "<kind>"`` and the states they lead to say when each is
issued), so the two cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows import declarations


@dataclass(frozen=True)
class NoticeKind:
    name: str
    series: str
    subject: str  # "referral" | "assignment" | "any"
    title_zh: str
    title_en: str


KINDS = {name: NoticeKind(name, spec.series, spec.subject, spec.label.zh, spec.label.en)
         for name, spec in declarations().notice_kinds.items()}


def producing_states(subject: str, kind: str) -> frozenset[str]:
    """The states of ``subject`` in which a notice of ``kind`` has been issued."""
    return declarations().producing_states(subject, kind)


def final_states(subject: str) -> frozenset[str]:
    return declarations().terminal_states(subject)
