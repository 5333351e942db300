"""Factories for test data, built through the same services the application uses."""
from __future__ import annotations

import itertools

from casework.referrals.services import open_referral

_counter = itertools.count(1)


def make_referral(actor, **overrides):
    n = next(_counter)
    data = {
        "title": f"测试线索 {n}",
        "source": "platform_report",
        "summary": "某网站提供代刷网课服务。",
        "targets": [{"kind": "website", "name": f"代刷网站{n}", "url": f"https://shuake{n}.example.cn/"}],
    }
    data.update(overrides)
    return open_referral(data, actor)
