"""What each notice says: parties, title, paragraphs and tables, built from the subject and form data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select

from casework.agencies.models import Agency
from casework.extensions import db
from casework.notices.kinds import KINDS
from casework.notices.models import Notice
from casework.notices.render import local_date
from casework.targets.models import TARGET_KIND_ZH
from casework.workflow.lifecycles import lifecycle_for
from workflows import declarations

POLICY = "《教育部等五部门关于加强普通高等学校在线开放课程教学管理的若干意见》（教高〔2022〕1号）"


@dataclass
class Content:
    title: str
    recipient: Agency | None
    paragraphs: list[str]
    copies: list[Agency] = field(default_factory=list)
    targets: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    closing: str = ""
    facts: dict = field(default_factory=dict)


def label(group: str, code: str | None) -> str:
    """The Chinese name of ``code`` in a choice list of choices.toml, or of a clock rule (``clocks``)."""
    if not code:
        return ""
    found = declarations()
    names = {name: rule.label for name, rule in found.clocks.items()} if group == "clocks" \
        else found.choices.get(group) or found.dispositions.get(group, {})
    return names[code].zh if code in names else code


def action_label(code: str) -> str:
    """The Chinese name of a disposal action (dispositions.toml)."""
    for actions in declarations().dispositions.values():
        if code in actions:
            return actions[code].zh
    return code


TARGETS_INTRO = "涉嫌违法对象如下："


def _sentence(text: str) -> str:
    """Free text as a sentence of a paragraph: ends with a full stop unless it ends with punctuation."""
    text = text.strip()
    return text if not text or text[-1] in "。！？；：…”）" else text + "。"


def quoted(text: str) -> str:
    """Chinese quotation: “…”, with quotes inside turned into ‘…’."""
    inner = text.replace("“", "‘").replace("”", "’")
    parts = inner.split('"')
    inner = "".join(part + ("‘" if i % 2 == 0 else "’") for i, part in enumerate(parts[:-1])) + parts[-1]
    return f"“{inner}”"


OPENING, CLOSING = "“‘《（〔「", "”’》）〕」"
NO_LINE_START = CLOSING + "，。、；：？！"


def _cut_cost(text: str, cut: int, depth: int) -> float:
    """How bad a line break before ``text[cut]`` is: never before closing or after opening punctuation,
    nor inside a Latin word or number; hardly ever inside a quoted name; best after a closing quote."""
    before, after = text[cut - 1], text[cut]
    if after in NO_LINE_START or before in OPENING:
        return 1000
    if before.isascii() and after.isascii() and before.isalnum() and after.isalnum():
        return 500
    if depth > 0:
        return 50
    if before in CLOSING:
        return 0
    if after in OPENING:
        return 0.5
    if before == "的" or text[max(0, cut - 2):cut] in ("关于", "移送", "线索"):
        return 1
    return 3


def display_width(text: str) -> float:
    """Width in full-width characters: Latin letters and digits take about half (0.6 to be safe)."""
    return sum(0.6 if ch.isascii() else 1 for ch in text)


def title_lines(text: str, width: int) -> list[str]:
    """Break a title into lines at most ``width`` characters wide (GB/T 9704: words kept whole, lines
    balanced): the fewest lines, breaking between words and never inside a quoted name if avoidable."""
    if display_width(text) <= width:
        return [text]
    depths, depth = [0], 0
    for ch in text:
        depth += (ch in OPENING) - (ch in CLOSING)
        depths.append(max(depth, 0))
    best_lines, best_cost = None, float("inf")
    for count in (-(-len(text) // width), -(-len(text) // width) + 1):
        lines, cost = _best_split(text, width, count, depths)
        if lines is not None and cost + 5 * (count > -(-len(text) // width)) < best_cost:
            best_lines, best_cost = lines, cost + 5 * (count > -(-len(text) // width))
    return best_lines or [text[i:i + width] for i in range(0, len(text), width)]


def _best_split(text: str, width: int, count: int, depths: list[int]) -> tuple[list[str] | None, float]:
    """Dynamic programme over break positions: ``count`` lines of at most ``width`` characters."""
    size = len(text) / count
    best: dict[tuple[int, int], tuple[float, int]] = {(0, 0): (0.0, -1)}
    for lines in range(1, count + 1):
        for end in range(1, len(text) + 1):
            if (end == len(text)) != (lines == count):
                continue
            for start in range(max(0, end - 2 * width), end):
                if (start, lines - 1) not in best or display_width(text[start:end]) > width:
                    continue
                cost = best[(start, lines - 1)][0] + abs(end - start - size) * 0.3
                if end < len(text):
                    cost += _cut_cost(text, end, depths[end])
                if cost < best.get((end, lines), (float("inf"), 0))[0]:
                    best[(end, lines)] = (cost, start)
    if (len(text), count) not in best:
        return None, float("inf")
    cuts, end = [], len(text)
    for lines in range(count, 0, -1):
        start = best[(end, lines)][1]
        cuts.append(text[start:end])
        end = start
    return cuts[::-1], best[(len(text), count)][0]


def chinese_date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    day = local_date(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _targets(referral) -> list[dict]:
    rows = []
    for target in referral.targets:
        rows.append({
            "name": target.name, "kind": TARGET_KIND_ZH.get(target.kind, target.kind),
            "locator": target.url or target.package_name or target.account_id or target.key,
            "operator": target.operator_name or target.developer or "",
            "icp_number": target.icp_number or "",
        })
    return rows


LETTER_KINDS = ("referral_letter", "transfer_letter")  # the letters that hand a referral to an agency


def _letter_number(assignment) -> str:
    number = db.session.scalar(
        select(Notice.document_number).where(Notice.assignment_id == assignment.id,
                                              Notice.kind.in_(LETTER_KINDS))
        .order_by(Notice.id.desc()).limit(1))
    return f"（{number}）" if number else ""


def _refusal_word(assignment) -> str:
    return "立案" if assignment.agency.kind == "police" else "受理"


def document_kind(notice) -> str:
    """The kind of an issued notice as its own heading names it (the police refuse to 立案, not 受理)."""
    if notice.kind == "refusal_notice" and notice.assignment is not None:
        return f"不予{_refusal_word(notice.assignment)}告知书"
    return KINDS[notice.kind].title_zh


def _routing_reason(assignment, data: dict) -> str:
    reasons = data.get("reasons") or {}
    given = reasons.get(str(assignment.agency_id)) or reasons.get(assignment.agency_id)
    return (given or data.get("reason") or assignment.routing_reason or "").strip()


def referral_letter(referral, assignment, issuer, recipient, data) -> Content:
    assessment = referral.assessment
    behaviours = "、".join(label("behaviours", b) for b in (assessment.behaviours if assessment else []))
    conclusion = label("conclusions", assessment.conclusion) if assessment else ""
    first = (f"我单位在工作中发现{quoted(referral.title)}线索（线索编号{referral.number}），"
             f"涉嫌提供有偿{behaviours or '刷课'}服务。")
    if conclusion:
        first += f"经研判，{conclusion}。"
    first += f"根据{POLICY}有关规定，现将该线索移送你单位依法处置。"
    reason = _routing_reason(assignment, data) if assignment is not None else ""
    if reason:
        first += f"移送理由：{_sentence(reason)}"
    paragraphs = [first + TARGETS_INTRO]
    if assignment is not None and assignment.transferred_from is not None:
        paragraphs.insert(0, f"该线索原由{assignment.transferred_from.agency.name}办理，经审查属你单位管辖，"
                             f"依法移送。")
    content = Content(
        title=f"关于移送{quoted(referral.title)}线索的函", recipient=recipient, paragraphs=paragraphs,
        targets=_targets(referral),
        closing="请依法处置，并于收到本函之日起30日内反馈处置结果。",
        attachments=["研判意见书"] if assessment else [],
    )
    content.facts = {"conclusion": assessment.conclusion if assessment else None,
                     "behaviours": list(assessment.behaviours) if assessment else [], "reason": reason}
    return content


CHINESE_ORDINALS = "一二三四五六七八九十"


def _numbered(sections: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Headings numbered in order: 一、… 二、…"""
    return [(f"{CHINESE_ORDINALS[n]}、{heading}", lines) for n, (heading, lines) in enumerate(sections)]


def approval_opinion(data: dict, recorded: str = "") -> str:
    """The approver's 审批意见 of the step that issued a notice (its ``opinion`` field), else the one
    recorded with the decision."""
    given = data.get("opinion")
    return (given if isinstance(given, str) and given.strip() else recorded or "").strip()


def assessment_opinion(referral, assignment, issuer, recipient, data) -> Content:
    """研判意见书: the assessment as recorded (``data`` may correct its conclusion, behaviours,
    severity and legal basis); the approver's opinion (``data["opinion"]``, the approving step's field,
    else the one recorded) printed last."""
    assessment = referral.assessment
    get = lambda name, default="": (data.get(name) or getattr(assessment, name, None) or default)  # noqa: E731
    behaviours = get("behaviours", [])
    recommendations = (assessment.recommendations if assessment else None) or data.get("agencies") or []
    rec_lines = []
    for item in recommendations:
        agency_id = (item.get("agency_id") or item.get("agency") or item.get("id")) if isinstance(item, dict) else item
        agency_id = getattr(agency_id, "id", agency_id)
        agency = db.session.get(Agency, int(agency_id)) if agency_id else None
        reason = item.get("reason", "") if isinstance(item, dict) else ""
        if agency is not None:
            rec_lines.append(f"{agency.name}{'：' + reason if reason else ''}")
    opinion = (getattr(assessment, "opinion", None) or "").strip()
    approval = approval_opinion(data, assessment.approval_opinion if assessment and assessment.approved_at else "")
    sections = [
        ("线索基本情况", [f"线索编号{referral.number}，{referral.summary or referral.title}"]),
        ("研判结论", [f"{label('conclusions', get('conclusion'))}。发现的行为："
                    f"{'、'.join(label('behaviours', b) for b in behaviours) or '无'}；"
                    f"严重程度：{label('severities', get('severity'))}。"]),
        ("法律依据", [get("legal_basis") or POLICY]),
        ("研判意见", [opinion]),
    ]
    if rec_lines:
        sections.append(("移送建议", rec_lines))
    if approval:
        sections.append(("审批意见", [approval]))
    content = Content(title=f"关于{quoted(referral.title)}线索的研判意见", recipient=None,
                      paragraphs=[], sections=_numbered(sections), targets=_targets(referral))
    content.facts = {"conclusion": get("conclusion"), "behaviours": list(behaviours),
                     "severity": get("severity"), "legal_basis": get("legal_basis"), "opinion": opinion,
                     "approval_opinion": approval, "recommendations": rec_lines}
    return content


def receipt(referral, assignment, issuer, recipient, data) -> Content:
    when = chinese_date(assignment.received_at or assignment.routed_at)
    content = Content(
        title=f"关于{quoted(referral.title)}线索的受理回执", recipient=recipient,
        paragraphs=[f"你单位移送的{quoted(referral.title)}线索（线索编号{referral.number}）"
                    f"{_letter_number(assignment)}及所附材料已于{when}收悉，我单位已签收。"
                    f"我单位将在规定期限内依法作出是否{_refusal_word(assignment)}的决定并告知你单位。"],
    )
    content.facts = {"referral_number": referral.number, "letter_number": _letter_number(assignment).strip("（）"),
                     "received_on": when, "targets": len(referral.target_links)}
    return content


def return_notice(referral, assignment, issuer, recipient, data) -> Content:
    reason = (data.get("reason") or "").strip()
    content = Content(
        title=f"关于{quoted(referral.title)}线索退回补充材料的通知", recipient=recipient,
        paragraphs=[f"你单位移送的{quoted(referral.title)}线索（线索编号{referral.number}）"
                    f"{_letter_number(assignment)}已收悉。经审查，现有材料尚不足以作出决定，现予退回。",
                    f"请补充以下材料：{reason}"],
        closing="请补充完整后重新移送。",
    )
    content.facts = {"reason": reason}
    return content


def refusal_notice(referral, assignment, issuer, recipient, data) -> Content:
    """不予受理/不予立案告知书: the reasons, and the approver's opinion when a second person approved
    the refusal (police: ``approve_decline_filing``)."""
    word = _refusal_word(assignment)
    reason = (data.get("reason") or assignment.decision_reason or "").strip()
    opinion = approval_opinion(data, assignment.approval_opinion)
    paragraphs = [f"你单位移送的{quoted(referral.title)}线索（线索编号{referral.number}）"
                  f"{_letter_number(assignment)}，经审查，我单位决定不予{word}。",
                  f"理由如下：{reason}"]
    if opinion:
        paragraphs.append(f"审批意见：{_sentence(opinion)}")
    content = Content(
        title=f"不予{word}告知书", recipient=recipient, paragraphs=paragraphs,
        closing=f"如对本决定有异议，可在收到本告知书之日起3日内向我单位申请复议。",
    )
    content.facts = {"decision": f"not_{'filed' if word == '立案' else 'accepted'}", "reason": reason,
                     "approval_opinion": opinion}
    return content


def _actions(assignment) -> list[dict]:
    disposition = assignment.disposition
    rows = []
    for action in (disposition.actions if disposition else []):
        rows.append({"target": action.target.name, "action": action_label(action.action),
                     "action_code": action.action, "outcome": label("outcomes", action.outcome)
                     if action.outcome != "pending" else "待执行", "outcome_code": action.outcome,
                     "executed_on": chinese_date(action.executed_at)})
    return rows


def disposition_decision(referral, assignment, issuer, recipient, data) -> Content:
    disposition = assignment.disposition
    summary = (data.get("summary") or (disposition.summary if disposition else "") or "").strip()
    basis = (data.get("legal_basis") or (disposition.legal_basis if disposition else "") or "").strip()
    paragraphs = [f"关于{referral.origin_agency.name}移送的{quoted(referral.title)}线索（线索编号{referral.number}），"
                  f"经调查，决定如下：{summary}"]
    if basis:
        paragraphs.append(f"依据：{basis}")
    opinion = approval_opinion(data, disposition.decision_note if disposition and disposition.state == "approved" else "")
    if opinion:
        paragraphs.append(f"审批意见：{_sentence(opinion)}")
    paragraphs.append("对各涉嫌违法对象的处置措施如下：")
    content = Content(title=f"关于{quoted(referral.title)}线索的处置决定", recipient=None, paragraphs=paragraphs,
                      actions=_actions(assignment), copies=[referral.origin_agency])
    content.facts = {"summary": summary, "legal_basis": basis, "approval_opinion": opinion}
    return content


def feedback_letter(referral, assignment, issuer, recipient, data) -> Content:
    summary = (data.get("summary") or "").strip()
    content = Content(
        title=f"关于{quoted(referral.title)}线索处置结果的反馈函", recipient=recipient,
        paragraphs=[f"你单位移送的{quoted(referral.title)}线索（线索编号{referral.number}）"
                    f"{_letter_number(assignment)}收悉。我单位依法进行了处置，现将结果反馈如下：{summary}"],
        actions=_actions(assignment),
        closing="特此函告。",
    )
    content.facts = {"summary": summary}
    return content


def reminder_letter(referral, assignment, issuer, recipient, data) -> Content:
    subject = assignment or referral
    due = _due_date(data.get("due_at")) or chinese_date(getattr(subject, "due_at", None))
    step = (data.get("step") or label("clocks", data.get("clock")) or "").strip()
    content = Content(
        title=f"关于督促办理{quoted(referral.title)}线索的催办函", recipient=recipient,
        paragraphs=[f"{quoted(referral.title)}线索（线索编号{referral.number}）"
                    f"{'的' + step if step else '的办理期限'}{'已于' + due + '届满' if due else '已届满'}，"
                    f"至今未见办理结果。"],
        closing="请你单位抓紧办理，并于收到本函后3个工作日内反馈办理情况。",
    )
    content.facts = {"clock": data.get("clock"), "due": due}
    return content


def _due_date(value) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return chinese_date(moment)


def reconsideration_request(referral, assignment, issuer, recipient, data) -> Content:
    reason = (data.get("reason") or "").strip()
    word = _refusal_word(assignment)
    content = Content(
        title=f"关于{quoted(referral.title)}线索不予{word}决定的复议申请", recipient=recipient,
        paragraphs=[f"我单位移送的{quoted(referral.title)}线索（线索编号{referral.number}），"
                    f"你单位决定不予{word}。我单位认为该决定理由不足，现依法申请复议。",
                    f"复议理由：{reason}"],
        closing="请依法在规定期限内作出复议决定，并书面告知我单位。",
    )
    content.facts = {"reason": reason}
    return content


def _referral_words(referral, assignment) -> str:
    return (f"你单位移送的{quoted(referral.title)}线索（线索编号{referral.number}）"
            f"{_letter_number(assignment)}")


def filing_decision(referral, assignment, issuer, recipient, data) -> Content:
    """立案决定书: the police tell the referring department in writing that they file a case."""
    note = (data.get("reason") or "").strip()
    paragraphs = [f"{_referral_words(referral, assignment)}收悉。经审查，我单位认为有犯罪事实需要追究刑事责任，"
                  f"根据《中华人民共和国刑事诉讼法》第一百一十二条之规定，决定立案侦查。"]
    if note:
        paragraphs.append(f"说明：{note}")
    content = Content(title=f"关于{quoted(referral.title)}线索的立案决定书", recipient=recipient,
                      paragraphs=paragraphs, closing="特此告知。")
    content.facts = {"decision": "filed", "note": note}
    return content


def acceptance_notice(referral, assignment, issuer, recipient, data) -> Content:
    """受理通知书: the market regulator tells the referring department that it takes the case on."""
    note = (data.get("reason") or "").strip()
    paragraphs = [f"{_referral_words(referral, assignment)}及所附材料收悉。经审查，"
                  f"该线索属于我单位职责范围，我单位决定予以受理，将依法调查处理。"]
    if note:
        paragraphs.append(f"说明：{note}")
    content = Content(title=f"关于{quoted(referral.title)}线索的受理通知书", recipient=recipient,
                      paragraphs=paragraphs, closing="处理结果将及时反馈你单位。特此通知。")
    content.facts = {"decision": "accepted", "note": note}
    return content


def reconsideration_decision(referral, assignment, issuer, recipient, data) -> Content:
    """复议决定书: the original refusal upheld (维持) or reversed (撤销), with reasons: the deciding
    approver's opinion (the step's required ``reason``)."""
    word = _refusal_word(assignment)
    upheld = assignment.state in lifecycle_for(assignment).final_states()  # reversing reopens it
    reason = (data.get("reason") or "").strip()
    outcome = (f"维持原不予{word}决定。" if upheld else
               f"撤销原不予{word}决定，对该线索予以{word}{'侦查' if word == '立案' else ''}。")
    content = Content(
        title=f"关于{quoted(referral.title)}线索的复议决定书", recipient=recipient,
        paragraphs=[f"你单位就{quoted(referral.title)}线索（线索编号{referral.number}）不予{word}决定提出的复议申请收悉。"
                    f"经复议，我单位决定：{outcome}",
                    f"理由如下：{reason}"],
        closing="本决定为复议决定。" if upheld else "处理结果将及时反馈你单位。",
    )
    content.facts = {"decision": "upheld" if upheld else "reversed", "reason": reason}
    return content


def transfer_letter(referral, assignment, issuer, recipient, data) -> Content:
    """移送管辖函: one agency hands a referral it is not competent for to the competent agency."""
    origin = referral.origin_agency
    reason = (data.get("reason") or (assignment.routing_reason if assignment is not None else "") or "").strip()
    first = (f"我单位收到{origin.name}移送的{quoted(referral.title)}线索（线索编号{referral.number}）。"
             f"经审查，该线索不属于我单位管辖，依法应由你单位管辖。现将该线索及有关材料移送你单位。")
    if reason:
        first += f"移送理由：{_sentence(reason)}"
    paragraphs = [first + TARGETS_INTRO]
    content = Content(title=f"关于移送管辖{quoted(referral.title)}线索的函", recipient=recipient,
                      paragraphs=paragraphs, targets=_targets(referral), copies=[origin],
                      closing=f"请你单位依法处理，并将处理结果反馈{origin.name}。")
    content.facts = {"reason": reason, "from_agency": issuer.code}
    return content


BUILDERS = {fn.__name__: fn for fn in (
    referral_letter, assessment_opinion, receipt, return_notice, refusal_notice,
    disposition_decision, feedback_letter, reminder_letter, reconsideration_request,
    filing_decision, acceptance_notice, reconsideration_decision, transfer_letter,
)}
