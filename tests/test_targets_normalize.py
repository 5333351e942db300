"""Normalisation tables: many spellings of one target map to one key; different targets never merge."""
from __future__ import annotations

import pytest

from casework.targets.normalize import (
    normalize_account, normalize_app, normalize_platform, normalize_icp, normalize_ips, normalize_url, normalize_uscc,
    uscc_check_char,
)

SAME_SITE = {
    "shuake.cn": [
        "shuake.cn", "http://shuake.cn", "https://shuake.cn/", "HTTPS://WWW.SHUAKE.CN",
        "http://www.shuake.cn:80/", "https://shuake.cn:443", "//shuake.cn/", "shuake.cn.",
        "http://user:secret@shuake.cn/#top", "https://shuake.cn/?utm_source=wx&from=timeline",
        "ｗｗｗ．ｓｈｕａｋｅ。ｃｎ", " https://Shuake.cn/./ ", "http://shuake.cn/a/..",
    ],
    "xn--fsqu00a.xn--fiqs8s/%E8%AF%BE%E7%A8%8B": [
        "http://例子.中国/课程", "https://www.例子.中国/课程/", "xn--fsqu00a.xn--fiqs8s/%e8%af%be%e7%a8%8b",
        "http://例子。中国/%E8%AF%BE%E7%A8%8B/",
    ],
    "shuake.cn:8080/course": ["shuake.cn:8080/course", "http://www.shuake.cn:8080/course/",
                              "https://m.shuake.cn:8080/course"],
    # the mobile and WAP hosts of a site are the site
    "shuake.com.cn/course": ["m.shuake.com.cn/course", "wap.shuake.com.cn/course/", "mobile.shuake.com.cn/course",
                             "https://WWW.M.shuake.com.cn/course", "http://shuake.com.cn/course"],
    "kc.shuake.cn": ["kc.shuake.cn", "m.kc.shuake.cn", "https://wap.kc.shuake.cn/", "www.kc.shuake.cn"],
    # a tenant of a shared platform is its own site; its mobile host folds into it, not into the platform
    "shuake123.github.io": ["https://shuake123.github.io/", "m.shuake123.github.io", "www.shuake123.github.io"],
    "shuakeshop.taobao.com": ["https://shuakeshop.taobao.com", "m.shuakeshop.taobao.com",
                              "https://wap.shuakeshop.taobao.com/"],
    "taobao.com": ["taobao.com", "www.taobao.com", "m.taobao.com"],
    "shuake.gitee.io/course": ["https://shuake.gitee.io/course/", "http://m.shuake.gitee.io/course"],
    "item.taobao.com/item.htm?id=42": ["https://item.taobao.com/item.htm?id=42&spm=a1z10",
                                       "item.taobao.com/item.htm?id=42"],
    "203.0.113.7": ["203.0.113.7", "http://203.0.113.7:80/"],
    "[2001:db8::1]:8443": ["https://[2001:DB8:0::1]:8443/"],
}


@pytest.mark.parametrize("key,spelling", [(k, s) for k, spellings in SAME_SITE.items() for s in spellings])
def test_spellings_of_one_site_share_a_key(key, spelling):
    assert normalize_url(spelling)["key"] == key


DIFFERENT = [
    "shuake.cn", "shuake.com.cn", "shuake.com", "shuake.cn:8080", "shuake.cn/course", "shuake.cn/Course",
    "kc.shuake.cn", "a.github.io", "b.github.io", "m.github.io",
    "shop1.taobao.com", "shop2.taobao.com", "taobao.com", "a.myshopify.com", "b.myshopify.com",
    "a.weidian.com", "b.weidian.com", "a.m.shuake.cn", "item.taobao.com/item.htm?id=42",
    "item.taobao.com/item.htm?id=43", "例子.中国", "例子.cn", "203.0.113.7", "203.0.113.8",
]


def test_different_sites_never_merge():
    keys = [normalize_url(u)["key"] for u in DIFFERENT]
    assert len(set(keys)) == len(keys)


def test_shared_platforms_come_from_the_public_suffix_lists_private_section_and_the_data_file():
    from casework.targets.normalize import shared_platforms

    assert {"taobao.com", "jd.com", "weidian.com", "gitee.io"} <= shared_platforms()
    # github.io and myshopify.com are in the private section of the bundled public suffix list (offline)
    assert normalize_url("m.github.io")["key"] == "m.github.io"
    assert normalize_url("https://m.x.myshopify.com")["key"] == "x.myshopify.com"


def test_registrable_domain_uses_the_public_suffix_list():
    assert normalize_url("https://www.a.shuake.com.cn/x")["registrable_domain"] == "shuake.com.cn"
    assert normalize_url("https://a.github.io")["registrable_domain"] == "a.github.io"
    assert normalize_url("https://203.0.113.7")["registrable_domain"] is None


def test_the_check_url_keeps_the_real_host_and_scheme():
    assert normalize_url("HTTPS://WWW.Shuake.cn:443/a/")["url"] == "https://www.shuake.cn/a"


@pytest.mark.parametrize("bad", [
    "", "   ", "ftp://shuake.cn", "javascript:alert(1)", "mailto:a@shuake.cn", "localhost", "http://intranet/",
    "http://shuake..cn", "http://-shuake.cn", "http://shuake.cn:99999", "http://shuake.cn:abc",
    "http://shu ke.cn", "http://shu_ke.cn", "http://" + "a" * 64 + ".cn", "http://[::1",
])
def test_malformed_urls_are_refused(bad):
    with pytest.raises(ValueError):
        normalize_url(bad)


def test_store_names_and_group_platforms():
    assert normalize_app("com.shuake.app", "应用宝")["store"] == "tencent_myapp"
    assert normalize_app("com.shuake.app", "App Store")["store"] == "app_store"
    assert normalize_platform("QQ", "group") == "qq_group"
    assert normalize_platform("qq", "account") == "qq"


def test_apps():
    assert normalize_app("com.Shuake.App", "huawei") == {"key": "com.shuake.app", "package_name": "com.Shuake.App",
                                                         "store": "huawei"}
    assert normalize_app(" cn.shuake.ios-app ")["key"] == "cn.shuake.ios-app"
    for bad in ("", "shuake", "com..shuake", "_com.shuake", "com.shuake app", "com.shuake/"):
        with pytest.raises(ValueError):
            normalize_app(bad)
    with pytest.raises(ValueError):
        normalize_app("com.shuake.app", "some_unknown_store")


def test_accounts():
    assert normalize_account("douyin", "@ShuaKe_01")["key"] == "douyin:shuake_01"
    assert normalize_account("DOUYIN", "shuake_01")["key"] == "douyin:shuake_01"
    group = normalize_account("qq_group", " 123456789 ")
    assert (group["kind"], group["key"]) == ("group", "qq_group:123456789")
    assert normalize_account("wechat_official", "gh_0123456789ab")["kind"] == "account"
    assert normalize_account("taobao", "刷课小店")["kind"] == "shop"
    assert normalize_account("qq", "10001")["key"] != normalize_account("qq_group", "10001")["key"]
    for platform, bad in (("qq_group", "12ab"), ("qq", "0123"), ("qq", "12"), ("wechat_official", "1abc"),
                          ("nosuch", "x"),
                          ("douyin", "")):
        with pytest.raises(ValueError):
            normalize_account(platform, bad)


@pytest.mark.parametrize("raw,expected", [
    ("京ICP备12345678号-1", "京ICP备12345678号-1"),
    ("京ICP备12345678号", "京ICP备12345678号"),
    (" 沪icp备 2020012345号－２", "沪ICP备2020012345号-2"),
    ("京ICP证030173号", "京ICP证030173号"),
    ("粤ICP证B2-20090059", "粤B2-20090059"),
    ("粤B2-20090059", "粤B2-20090059"),
    ("", None),
])
def test_icp_numbers(raw, expected):
    assert normalize_icp(raw) == expected


@pytest.mark.parametrize("bad", ["ICP备12345678号", "港ICP备12345678号", "京ICP备123号", "京ICP备12345678",
                                 "京ICP12345678号", "京ICP备12345678号-", "京公网安备11010802020000号"])
def test_malformed_icp_numbers(bad):
    with pytest.raises(ValueError):
        normalize_icp(bad)


def test_ip_addresses():
    assert normalize_ips("203.0.113.7, 2001:DB8:0::1；203.0.113.7") == ["203.0.113.7", "2001:db8::1"]
    assert normalize_ips(["198.51.100.1"]) == ["198.51.100.1"]
    assert normalize_ips("") == []
    for bad in ("256.1.1.1", "203.0.113", "example.cn", "1.2.3.4/24"):
        with pytest.raises(ValueError):
            normalize_ips(bad)


VALID_USCC = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T", "914403001922038216",
              "12100000400000624D"]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_credit_codes(code):
    assert normalize_uscc(code.lower()) == code
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", VALID_USCC)
def test_any_single_changed_character_fails_the_check(code):
    for position in range(17):
        for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1:]
            try:
                normalize_uscc(changed)
            except ValueError:
                continue
            raise AssertionError(f"{changed} passed the check")


@pytest.mark.parametrize("bad", ["91350100M000100Y4", "91350100M000100Y434", "91350100M000100Y44",
                                 "9135010OM000100Y43", "0135010M0000100Y43", "91350100M000100I43"])
def test_malformed_credit_codes(bad):
    with pytest.raises(ValueError):
        normalize_uscc(bad)
