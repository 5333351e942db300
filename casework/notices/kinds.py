"""The notice kinds: series, template, and the subject states that produce each.

The states come from the lifecycle declarations in ``workflows/*.toml`` (the transitions that
declare ``notice = "<kind>"`` and the states they lead to), so the two cannot drift apart.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"


@dataclass(frozen=True)
class NoticeKind:
    name: str
    series: str
    subject: str  # "referral" | "assignment" | "any"
    title_zh: str
    title_en: str


KINDS = {k.name: k for k in (
    NoticeKind("referral_letter", "letter", "any", "移送函", "Referral letter"),
    NoticeKind("assessment_opinion", "opinion", "referral", "研判意见书", "Assessment opinion"),
    NoticeKind("receipt", "receipt", "assignment", "受理回执", "Receipt"),
    NoticeKind("return_notice", "letter", "assignment", "退回补充材料通知", "Return for more material"),
    NoticeKind("refusal_notice", "letter", "assignment", "不予受理告知书", "Refusal notice"),
    NoticeKind("disposition_decision", "decision", "assignment", "处置决定", "Disposition decision"),
    NoticeKind("feedback_letter", "letter", "assignment", "处置结果反馈函", "Feedback letter"),
    NoticeKind("reminder_letter", "letter", "any", "催办函", "Reminder"),
    NoticeKind("reconsideration_request", "letter", "assignment", "复议申请", "Reconsideration request"),
    NoticeKind("filing_decision", "decision", "assignment", "立案决定书", "Decision to file a case"),
    NoticeKind("acceptance_notice", "letter", "assignment", "受理通知书", "Acceptance notice"),
    NoticeKind("reconsideration_decision", "decision", "assignment", "复议决定书", "Reconsideration decision"),
    NoticeKind("transfer_letter", "letter", "assignment", "移送管辖函", "Transfer of jurisdiction"),
)}


@dataclass(frozen=True)
class Declared:
    producing: dict  # (subject, kind) -> frozenset of states
    final: dict  # subject -> frozenset of final states


@lru_cache(maxsize=1)
def declared() -> Declared:
    producing: dict[tuple[str, str], set[str]] = {}
    final: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS_DIR.glob("*.toml")):
        subject = path.name.split(".")[0]
        if subject not in ("referral", "assignment"):
            continue
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        for state, spec in (doc.get("states") or {}).items():
            if isinstance(spec, dict) and spec.get("final"):
                final.setdefault(subject, set()).add(state)
        for transition in doc.get("transitions") or []:
            kind = transition.get("notice")
            if kind:
                states = [transition["to"]] if transition.get("to") else transition.get("from", [])
                producing.setdefault((subject, kind), set()).update(states)
    return Declared({k: frozenset(v) for k, v in producing.items()},
                    {k: frozenset(v) for k, v in final.items()})


def producing_states(subject: str, kind: str) -> frozenset[str]:
    return declared().producing.get((subject, kind), frozenset())


def final_states(subject: str) -> frozenset[str]:
    return declared().final.get(subject, frozenset())
