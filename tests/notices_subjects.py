"""Referral and Assignment rows for notice tests, built with the models directly."""
from __future__ import annotations

import itertools

from sqlalchemy import select

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals.models import Assessment, Referral
from casework.targets.models import ReferralTarget, Target

_serial = itertools.count(1)
RARE_NAME = "𠮷野家䶮记网络科技有限公司"


def find_user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def find_agency(code: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def make_referral(origin: str = "edu-44", *, state: str = "routed", title: str | None = None,
                  targets: int = 2) -> Referral:
    n = next(_serial)
    creator = find_user(f"{origin}.intake_officer")
    referral = Referral(number=f"XSN2026-{n:06d}", title=title or f"某平台代刷网课线索{n}", source="platform_report",
                        summary="某网站以“代刷网课、包过考试”为名收取费用，替学生完成在线课程学习和考试。",
                        origin_agency=creator.agency, created_by=creator, state=state)
    db.session.add(referral)
    for i in range(targets):
        target = Target(kind="website", key=f"notice-test-{n}-{i}.example.cn", name=f"代刷网站{n}-{i}",
                        url=f"https://notice-test-{n}-{i}.example.cn/", operator_name=RARE_NAME if i == 0 else None,
                        icp_number="粤ICP备12345678号" if i == 0 else None)
        db.session.add(target)
        db.session.add(ReferralTarget(referral=referral, target=target))
    db.session.add(Assessment(referral=referral, conclusion="refer", behaviours=["brushing", "proxy_exam"],
                              severity="high", legal_basis="《中华人民共和国网络安全法》第四十七条",
                              opinion="该网站提供有偿刷课、替考服务，情节严重，建议移送网信、公安部门依法处置。",
                              recommendations=[], assessor=find_user(f"{origin}.assessor")))
    db.session.flush()
    return referral


def make_assignment(referral: Referral, agency_code: str, state: str = "sent") -> Assignment:
    assignment = Assignment(referral=referral, agency=find_agency(agency_code), state=state,
                            routing_reason="该网站的经营者在你省备案。", received_at=utcnow())
    db.session.add(assignment)
    db.session.flush()
    return assignment


def add_disposition(assignment: Assignment, proposer: str) -> Disposition:
    disposition = Disposition(assignment=assignment, summary="责令停止接入并注销备案。", legal_basis="《互联网信息服务管理办法》",
                              state="approved", proposed_by=find_user(proposer))
    for link in assignment.referral.target_links:
        disposition.actions.append(DispositionAction(target=link.target, action="stop_access", outcome="done",
                                                     executed_at=utcnow()))
    db.session.add(disposition)
    db.session.flush()
    return disposition
