"""Demo referrals in various states, each driven through the real workflow engine and services.

Scenarios cover every stage: drafts, assessments, routing to all four agency kinds, a police refusal
with reconsideration, a refusal upheld, a return for material, a transfer, market without penalty,
closed referrals, and an overdue receipt the sweep has chased (催办).
"""
from __future__ import annotations

import random
from datetime import timedelta

from casework.db_types import utcnow
from casework.referrals.services import open_referral
from casework.workflow.clocks import running_clock
from casework.workflow.engine import fire
from casework.workflow.fields import catalogue_for
from casework.workflow.sweep import sweep

TITLES = [
    ("某网课代刷平台", "website", {"url": "https://www.shuake-{n}.com/"}),
    ("“学习通秒刷”应用", "app", {"package_name": "com.miaoshua{n}.app", "store": "应用宝"}),
    ("淘宝店铺代刷网课", "shop", {"platform": "taobao", "account_id": "shop{n}"}),
    ("QQ群代考服务", "group", {"platform": "qq", "account_id": "88{n}"}),
]
KIND_PREFIX = {"cyberspace": "cac", "telecom": "ca", "police": "psb", "market": "amr"}


class Demo:
    """Drives one referral of one province through the engine as the demo users."""

    def __init__(self, agencies, users, province: str, n: int):
        self.agencies, self.users, self.p = agencies, users, province
        title, kind, fields = TITLES[n % len(TITLES)]
        target = {"kind": kind, "name": title, **{k: v.format(n=n) for k, v in fields.items()}}
        self.referral = open_referral({"title": f"{title}（线索{n + 1}）", "source": "platform_report",
                                       "summary": "学生反映该服务代刷网课学时、代考。", "targets": [target]},
                                      self.user("edu", "intake"))

    def user(self, prefix: str, suffix: str):
        return self.users[f"{prefix}-{self.p}-{suffix}"]

    def agency(self, kind: str):
        return self.agencies[f"{KIND_PREFIX[kind]}-{self.p}"]

    def edu(self, trigger: str, suffix: str, obj=None, **data):
        fire(obj or self.referral, trigger, data, self.user("edu", suffix))

    def officer(self, assignment, trigger: str, suffix: str = "officer", **data):
        fire(assignment, trigger, data, self.users[f"{assignment.agency.code}-{suffix}"])

    def assess(self, *kinds: str, conclusion: str = "refer") -> None:
        self.edu("submit", "intake")
        self.edu("start_assessment", "assessor")
        agencies = [self.agency(k).id for k in kinds]
        self.edu("assess", "assessor", conclusion=conclusion, severity="high", opinion="经研判，该服务提供有偿代刷网课。",
                 behaviours=["brushing", "proxy_exam"], legal_basis="《关于加强普通高等学校在线开放课程教学管理的若干意见》",
                 agencies=agencies, **{f"reason_{i}": "属于本部门职责" for i in agencies})

    def route(self, *kinds: str):
        self.assess(*kinds)
        self.edu("approve_assessment", "approver")
        agencies = [self.agency(k).id for k in kinds]
        self.edu("route", "assessor", agencies=agencies, **{f"reason_{i}": "依职责移送" for i in agencies})
        return {a.agency.kind: a for a in self.referral.assignments}

    def investigate(self, assignment):
        self.officer(assignment, "receive")
        if assignment.agency.kind == "police":
            self.officer(assignment, "file_case", reason="涉嫌非法侵入计算机信息系统")
            return
        self.officer(assignment, "accept")
        self.officer(assignment, "open_case" if assignment.agency.kind == "market" else "start_investigation")
        self.officer(assignment, "add_note", body="已固定证据，平台仍在运营。")

    def propose(self, assignment):
        actions = {t.id: next(iter(catalogue_for(assignment, t)), None) for t in self.referral.targets}
        self.officer(assignment, "propose_disposition", summary="拟依法处置。",
                     **{f"action_{target_id}": action for target_id, action in actions.items() if action})

    def execute(self, assignment, outcome: str = "done"):
        self.propose(assignment)
        self.officer(assignment, "approve_disposition", "approver")
        day = (utcnow() - timedelta(days=1)).date().isoformat()
        data = {}
        for item in assignment.disposition.actions:
            data.update({f"outcome_{item.id}": outcome, f"executed_at_{item.id}": day})
        self.officer(assignment, "record_execution", **data)

    def feedback(self, assignment, close: bool = True):
        self.officer(assignment, "send_feedback", summary="已按处置决定执行完毕。")
        if close:
            self.edu("close", "approver", assignment)

    def refuse_filing(self, police):
        self.officer(police, "receive")
        self.officer(police, "decline_filing", reason="现有证据不足以认定涉嫌犯罪。")
        self.officer(police, "approve_decline_filing", "approver")


def _draft(d):
    """Left as a draft."""


def _submitted(d):
    d.edu("submit", "intake")


def _under_assessment(d):
    _submitted(d)
    d.edu("start_assessment", "assessor")


def _assessed(d):
    d.assess("cyberspace", "telecom")


def _approved(d):
    _assessed(d)
    d.edu("approve_assessment", "approver")


def _not_referred(d):
    d.assess(conclusion="insufficient")
    d.edu("not_refer", "approver")


def _withdrawn(d):
    _submitted(d)
    d.edu("withdraw", "intake", reason="线索重复，撤回。")


def _routed(d):
    d.route("cyberspace", "telecom")


def _investigating(d):
    a = d.route("cyberspace", "telecom")
    d.investigate(a["cyberspace"])
    d.officer(a["telecom"], "receive")


def _proposed(d):
    a = d.route("cyberspace")
    d.investigate(a["cyberspace"])
    d.propose(a["cyberspace"])


def _executed(d):
    a = d.route("telecom")
    d.investigate(a["telecom"])
    d.execute(a["telecom"], "partial")


def _feedback_sent(d):
    a = d.route("cyberspace")
    d.investigate(a["cyberspace"])
    d.execute(a["cyberspace"])
    d.feedback(a["cyberspace"], close=False)


def _closed_all_four(d):
    a = d.route("cyberspace", "telecom", "police", "market")
    d.refuse_filing(a["police"])
    d.edu("request_reconsideration", "approver", a["police"], reason="涉案人数众多，请求复议。")
    d.officer(a["police"], "reverse_refusal", "approver", reason="复议决定立案侦查。")
    for assignment in a.values():
        if assignment.agency.kind != "police":
            d.investigate(assignment)
        d.execute(assignment)
        d.feedback(assignment)


def _reconsideration_pending(d):
    a = d.route("police")
    d.refuse_filing(a["police"])
    d.edu("request_reconsideration", "approver", a["police"], reason="请求复议。")


def _refusal_upheld(d):
    a = d.route("police")
    d.refuse_filing(a["police"])
    d.edu("request_reconsideration", "approver", a["police"], reason="请求复议。")
    d.officer(a["police"], "uphold_refusal", "approver", reason="维持不予立案决定。")


def _returned(d):
    a = d.route("market")
    d.officer(a["market"], "receive")
    d.officer(a["market"], "return_for_material", reason="请补充店铺交易截图。")


def _transferred(d):
    a = d.route("telecom")
    d.officer(a["telecom"], "receive")
    other = next(code for code in ("ca-11", "ca-44") if code != a["telecom"].agency.code)
    d.officer(a["telecom"], "transfer", agency=d.agencies[other].id, reason="网站备案地不在本省。")


def _overdue(d):
    a = d.route("cyberspace")
    clock = running_clock(a["cyberspace"], "receipt")
    clock.started_at -= timedelta(days=10)
    clock.due_at = utcnow() - timedelta(days=2)
    a["cyberspace"].routed_at = clock.started_at  # routed ten days ago, so the due date follows it


def _closed_cyberspace(d):
    a = d.route("cyberspace")
    d.investigate(a["cyberspace"])
    d.execute(a["cyberspace"])
    d.feedback(a["cyberspace"])


def _market_no_penalty(d):
    a = d.route("market")
    d.investigate(a["market"])
    d.officer(a["market"], "decide_no_penalty", reason="违法情节轻微并及时改正。")
    d.officer(a["market"], "approve_no_penalty", "approver")
    d.feedback(a["market"])


SCENARIOS = [
    _draft, _submitted, _under_assessment, _assessed, _approved, _not_referred, _withdrawn, _routed,
    _investigating, _proposed, _executed, _feedback_sent, _closed_all_four, _reconsideration_pending,
    _refusal_upheld, _returned, _transferred, _overdue, _closed_cyberspace, _market_no_penalty,
]


def seed_referrals(agencies, users, rng: random.Random, count: int) -> None:
    """Open ``count`` referrals and drive each to the stage of its scenario, then run the sweep once."""
    for n in range(count):
        province = rng.choice(("11", "44"))
        SCENARIOS[n % len(SCENARIOS)](Demo(agencies, users, province, n))
    sweep()
