"""Demo referrals."""
from __future__ import annotations

import random

from casework.referrals.services import open_referral

TITLES = [
    ("某网课代刷平台", "website", {"url": "https://www.shuake-{n}.com/"}),
    ("“学习通秒刷”应用", "app", {"package_name": "com.miaoshua{n}.app", "store": "应用宝"}),
    ("淘宝店铺代刷网课", "shop", {"platform": "taobao", "account_id": "shop{n}"}),
    ("QQ群代考服务", "group", {"platform": "qq", "account_id": "88{n}"}),
]


def seed_referrals(agencies, users, rng: random.Random, count: int) -> None:
    intake = [u for u in users.values() if "intake_officer" in u.roles]
    for n in range(count):
        actor = rng.choice(intake)
        title, kind, fields = TITLES[n % len(TITLES)]
        target = {"kind": kind, "name": title, **{k: v.format(n=n) for k, v in fields.items()}}
        open_referral({"title": f"{title}（线索{n + 1}）", "source": "platform_report",
                       "summary": "学生反映该服务代刷网课学时。", "targets": [target]}, actor)
