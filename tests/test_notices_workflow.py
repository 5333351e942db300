"""Notices issued by the real workflow engine: each transition's notice, parties and numbers."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from casework.extensions import db
from casework.notices.models import Notice
from tests.factories import act, assignment_of, find_agency, routed_referral

YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year


def notices_of(referral) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.referral_id == referral.id).order_by(Notice.id)))


def test_transitions_issue_their_notices_to_the_right_parties(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)
    referral = routed_referral("44", "psb-44", "ca-44")
    police, telecom = assignment_of(referral, "psb-44"), assignment_of(referral, "ca-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="未达到立案标准")
    act(police, "approve_decline_filing", "psb-44.approver")
    act(police, "request_reconsideration", "edu-44.approver", reason="涉案金额较大，请求复议")
    act(telecom, "receive", "ca-44.case_officer")
    act(telecom, "transfer", "ca-44.case_officer", agency=find_agency("ca-11").id, reason="网站备案地在北京")

    issued = [(n.kind, n.issuer.code, n.recipient.code if n.recipient else None) for n in notices_of(referral)]
    assert issued == [
        ("assessment_opinion", "edu-44", None),
        ("referral_letter", "edu-44", "psb-44"),
        ("referral_letter", "edu-44", "ca-44"),
        ("receipt", "psb-44", "edu-44"),
        ("refusal_notice", "psb-44", "edu-44"),
        ("reconsideration_request", "edu-44", "psb-44"),
        ("receipt", "ca-44", "edu-44"),
        ("transfer_letter", "ca-44", "ca-11"),
    ]
    by_kind = {n.kind: n for n in notices_of(referral)}
    assert by_kind["refusal_notice"].title == "不予立案告知书"
    assert "未达到立案标准" in by_kind["refusal_notice"].data["facts"]["reason"]
    letters = [n for n in notices_of(referral) if n.kind == "referral_letter"]
    assert [n.document_number for n in letters[:2]] == [f"粤教高函〔{YEAR}〕1号", f"粤教高函〔{YEAR}〕2号"]
    transfer = by_kind["transfer_letter"]
    assert transfer.title == "关于移送管辖“" + referral.title + "”线索的函"
    assert [c["code"] for c in transfer.data["copies"]] == ["edu-44"]
    assert transfer.assignment.agency.code == "ca-11" and transfer.assignment.transferred_from_id == telecom.id
    assert "网站备案地在北京" in transfer.data["facts"]["reason"]
    from casework.notices.dossier import build_dossier, dossier_rows

    assert "移送管辖函" in [row["kind"] for row in dossier_rows(build_dossier(referral).notices)]


def test_the_referral_letter_encloses_the_assessment_opinion(app, db_session, monkeypatch):
    import io

    from pypdf import PdfReader

    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)
    referral = routed_referral("44", "cac-44")
    opinion, letter = notices_of(referral)
    assert (opinion.kind, letter.kind) == ("assessment_opinion", "referral_letter")
    name = f"assessment_opinion-edu-44-{opinion.year}-{opinion.serial}.pdf"
    attachments = PdfReader(io.BytesIO(letter.pdf)).attachments
    assert sorted(attachments) == sorted(["notice.json", name])
    assert attachments[name][0] == opinion.pdf
    assert letter.data["enclosures"] == [{"file": name, "document_number": opinion.document_number,
                                          "sha256": opinion.sha256}]
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(letter.pdf)).pages)
    assert f"附件：1.研判意见书（{opinion.document_number}）" in text


def test_the_decisions_each_issue_their_own_document_numbered_in_their_series(app, db_session, monkeypatch):
    from casework.notices.dossier import build_dossier, dossier_rows

    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)
    referral = routed_referral("44", "psb-44", "amr-44", "cac-44")
    police, market, cyber = (assignment_of(referral, c) for c in ("psb-44", "amr-44", "cac-44"))
    act(police, "receive", "psb-44.case_officer")
    act(police, "file_case", "psb-44.case_officer", reason="涉嫌非法侵入计算机信息系统")
    act(market, "receive", "amr-44.case_officer")
    act(market, "accept", "amr-44.case_officer")
    act(cyber, "receive", "cac-44.case_officer")
    act(cyber, "decline", "cac-44.case_officer", reason="不属于本部门职责")
    act(cyber, "request_reconsideration", "edu-44.approver", reason="应用仍在上架")
    act(cyber, "uphold_refusal", "cac-44.approver", reason="应用已由其他部门处置")

    by_kind = {n.kind: n for n in notices_of(referral)}
    filing, accepted, decision = by_kind["filing_decision"], by_kind["acceptance_notice"], by_kind["reconsideration_decision"]
    assert (filing.issuer.code, filing.recipient.code) == ("psb-44", "edu-44")
    assert filing.document_number.endswith(f"〔{YEAR}〕1号") and "决" in filing.document_number
    assert filing.title.endswith("线索的立案决定书") and filing.data["facts"]["decision"] == "filed"
    assert (accepted.issuer.code, accepted.recipient.code, accepted.series) == ("amr-44", "edu-44", "letter")
    assert decision.data["facts"]["decision"] == "upheld" and decision.series == "decision"
    text = decision.data["title"]
    assert "复议决定书" in text

    rows = dossier_rows(build_dossier(referral).notices)
    kinds = [row["kind"] for row in rows]
    for title in ("立案决定书", "受理通知书", "复议决定书"):
        assert title in kinds


def test_a_reversed_refusal_is_a_reconsideration_decision_that_says_so(app, db_session, monkeypatch):
    import io

    from pypdf import PdfReader

    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="未达到立案标准")
    act(police, "approve_decline_filing", "psb-44.approver")
    act(police, "request_reconsideration", "edu-44.approver", reason="涉案金额较大")
    act(police, "reverse_refusal", "psb-44.approver", reason="复议后认为达到立案标准")
    decision = [n for n in notices_of(referral) if n.kind == "reconsideration_decision"][-1]
    assert decision.data["facts"]["decision"] == "reversed"
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(decision.pdf)).pages)
    assert "撤销原不予立案决定" in text and "复议后认为达到立案标准" in text
