"""Test data, in one place.

- ``make_referral``, ``new_referral``, ``approved_referral``, ``routed_referral``, ``act``: built
  through the services and the workflow engine, as the application builds them;
- ``referral_row``, ``assignment_row``, ``disposition_row``, ``notice_row``: rows inserted
  directly in any state, for tests of reading, rendering and access that need no history;
- ``find_user``, ``find_agency``: seeded users (``<agency>.<role>``) and agencies by code.
"""
from __future__ import annotations

import hashlib
import itertools

import pytest
from sqlalchemy import select

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.audit.models import AuditEvent
from casework.db_types import utcnow
from casework.errors import DomainError
from casework.extensions import db
from casework.notices.models import Notice
from casework.referrals.models import Assessment, Referral
from casework.referrals.services import add_target, open_referral
from casework.targets.models import ReferralTarget, Target
from casework.unit_of_work import unit_of_work
from casework.workflow.engine import fire
from casework.workflow.fields import catalogue_for

_counter = itertools.count(1)
RARE_NAME = "𠮷野家䶮记网络科技有限公司"


@pytest.fixture(autouse=True)
def notices_switch(app, monkeypatch):
    """Import into a test module to have its journeys issue their notices, as in production."""
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)


def find_user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def find_agency(code: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


# --- through the services and the engine ---------------------------------------------------------

def make_referral(actor, **overrides):
    """A draft opened by ``actor`` through ``open_referral`` (one website target unless overridden)."""
    n = next(_counter)
    data = {
        "title": f"测试线索 {n}",
        "source": "platform_report",
        "summary": "某网站提供代刷网课服务。",
        "targets": [{"kind": "website", "name": f"代刷网站{n}", "url": f"https://shuake{n}.example.cn/"}],
    }
    data.update(overrides)
    return open_referral(data, actor)


def act(obj, trigger: str, username: str | None, **data):
    """Fire one trigger as ``username`` in its own unit of work, as a request would."""
    actor = find_user(username) if username else None
    with unit_of_work():
        fire(obj, trigger, data, actor)
    return obj


def refuse(obj, trigger: str, username: str | None, **data) -> DomainError:
    """Fire and expect a refusal; return the error."""
    with pytest.raises(DomainError) as caught:
        act(obj, trigger, username, **data)
    return caught.value


def last_event(obj) -> AuditEvent:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.id.desc())
    ).first()


def last_step_event(obj) -> AuditEvent:
    """The object's last workflow step (fired or refused), not what followed it (e.g. an owner's claim)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id,
                                 AuditEvent.trigger.is_not(None))
        .order_by(AuditEvent.id.desc())
    ).first()


def agencies_form(*codes: str) -> dict:
    ids = [find_agency(code).id for code in codes]
    return {"agencies": ids, **{f"reason_{i}": "主管部门" for i in ids}}


def new_referral(province: str = "44", targets: int = 1):
    """A committed draft of ``edu-<province>`` with ``targets`` targets."""
    intake = find_user(f"edu-{province}.intake_officer")
    referral = make_referral(intake)
    for n in range(targets - 1):
        add_target(referral, {"kind": "app", "name": f"秒刷{n}", "package_name": f"com.example.shua{n}.p{province}"},
                   intake)
    db.session.commit()
    return referral


def approved_referral(province: str = "44", *codes: str, targets: int = 1):
    """A submitted, assessed and approved referral recommending ``codes``."""
    referral = new_referral(province, targets)
    edu = f"edu-{province}"
    act(referral, "submit", f"{edu}.intake_officer")
    act(referral, "start_assessment", f"{edu}.assessor")
    act(referral, "assess", f"{edu}.assessor", conclusion="refer", severity="high", opinion="构成代刷网课",
        behaviours=["brushing", "proxy_exam"], **agencies_form(*(codes or (f"cac-{province}",))))
    act(referral, "approve_assessment", f"{edu}.approver")
    return referral


def routed_referral(province: str = "44", *codes: str, targets: int = 1):
    referral = approved_referral(province, *codes, targets=targets)
    act(referral, "route", f"edu-{province}.assessor", **agencies_form(*codes))
    return referral


def assignment_of(referral, code: str):
    return [a for a in referral.assignments if a.agency.code == code][-1]


def dispose(assignment, username_prefix: str, outcome: str = "done"):
    """From accepted/investigating through an approved disposition, execution and feedback."""
    officer, approver = f"{username_prefix}.case_officer", f"{username_prefix}.approver"
    actions = {t.id: next(iter(catalogue_for(assignment, t))) for t in assignment.referral.targets}
    act(assignment, "propose_disposition", officer, summary="依法处置",
        **{f"action_{target_id}": action for target_id, action in actions.items()})
    act(assignment, "approve_disposition", approver)
    outcomes = {}
    for item in assignment.disposition.actions:
        outcomes[f"outcome_{item.id}"] = outcome
        outcomes[f"executed_at_{item.id}"] = "2026-11-20"
    act(assignment, "record_execution", officer, **outcomes)
    act(assignment, "send_feedback", officer, summary="已处置完毕")


# --- rows inserted directly ----------------------------------------------------------------------

def referral_row(origin: str = "edu-44", *, state: str = "routed", title: str | None = None,
                 targets: int = 2) -> Referral:
    """A referral of ``origin`` in ``state`` with ``targets`` website targets and an assessment."""
    n = next(_counter)
    creator = find_user(f"{origin}.intake_officer")
    referral = Referral(number=f"XSN2026-{n:06d}", title=title or f"某平台代刷网课线索{n}", source="platform_report",
                        summary="某网站以“代刷网课、包过考试”为名收取费用，替学生完成在线课程学习和考试。",
                        origin_agency=creator.agency, created_by=creator, state=state)
    db.session.add(referral)
    for i in range(targets):
        target = Target(kind="website", key=f"nt{n:06d}-{i}.example.cn", name=f"代刷网站{i + 1}号",
                        url=f"https://nt{n:06d}-{i}.example.cn/", operator_name=RARE_NAME if i == 0 else None,
                        icp_number="粤ICP备12345678号" if i == 0 else None)
        db.session.add(target)
        db.session.add(ReferralTarget(referral=referral, target=target))
    db.session.add(Assessment(referral=referral, conclusion="refer", behaviours=["brushing", "proxy_exam"],
                              severity="high", legal_basis="《中华人民共和国网络安全法》第四十七条",
                              opinion="该网站提供有偿刷课、替考服务，情节严重，建议移送网信、公安部门依法处置。",
                              recommendations=[], assessor=find_user(f"{origin}.assessor")))
    db.session.flush()
    return referral


def assignment_row(referral: Referral, agency_code: str, state: str = "sent") -> Assignment:
    assignment = Assignment(referral=referral, agency=find_agency(agency_code), state=state,
                            routing_reason="该网站的经营者在你省备案。", received_at=utcnow())
    db.session.add(assignment)
    db.session.flush()
    return assignment


def disposition_row(assignment: Assignment, proposer: str) -> Disposition:
    disposition = Disposition(assignment=assignment, summary="责令停止接入并注销备案。", legal_basis="《互联网信息服务管理办法》",
                              state="approved", proposed_by=find_user(proposer))
    for link in assignment.referral.target_links:
        disposition.actions.append(DispositionAction(target=link.target, action="stop_access", outcome="done",
                                                     executed_at=utcnow()))
    db.session.add(disposition)
    db.session.flush()
    return disposition


def notice_row(referral: Referral, issuer: str, *, recipient: str | None = None,
               assignment: Assignment | None = None, kind: str = "referral_letter") -> Notice:
    """A notice row without rendering its PDF (a few placeholder bytes stand in for it)."""
    n = next(_counter)
    pdf = f"%PDF-1.7 test notice {n}".encode()
    issuer_agency = find_agency(issuer)
    notice = Notice(kind=kind, series="test", issuer_agency_id=issuer_agency.id,
                    recipient_agency_id=find_agency(recipient).id if recipient else None, year=2026, serial=n,
                    document_number=f"测试〔2026〕{n}号", referral_id=referral.id,
                    assignment_id=assignment.id if assignment else None, title=f"测试文书{n}",
                    sha256=hashlib.sha256(pdf).hexdigest(), verification_code=f"T{n:015d}", page_count=1,
                    size=len(pdf), pdf=pdf, data={})
    db.session.add(notice)
    db.session.flush()
    return notice
