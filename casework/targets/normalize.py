"""Canonical registry keys for targets, and format checks for their attributes.

Each ``normalize_*`` function returns a dict of cleaned fields including ``key`` (the
registry key, unique per kind) or raises ``ValueError`` with a message for the user.
The public suffix list is the snapshot bundled with tldextract; nothing is fetched.

A website's key names the site: ``www.``, ``m.``, ``wap.`` and ``mobile.`` in front of a host fold
into it, while a tenant of a shared platform (the private section of the public suffix list, e.g.
``a.github.io``, or a marketplace or hosting service listed in ``shared_platforms.txt``) keeps its own.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import idna

from casework.targets.text import _

DEFAULT_PORTS = {"http": 80, "https": 443}
_DOTS = str.maketrans({"。": ".", "．": ".", "｡": "."})


@lru_cache(maxsize=1)
def public_suffixes():
    """The public suffix list (tldextract's bundled snapshot), read at the first URL checked."""
    import tldextract  # tldextract, its PSL and requests (0.15 s) load at the first URL, not at start-up

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _clean(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def normalize_host(host: str) -> dict:
    """IDNA (UTS 46) ASCII host, its Unicode form and registrable domain; IP hosts kept as is."""
    host = _clean(host).translate(_DOTS).rstrip(".")
    if not host:
        raise ValueError(_("The address has no host name."))
    ip = _ip_or_none(host.strip("[]"))
    if ip is not None:
        return {"domain": ip, "registrable_domain": None, "unicode_domain": ip}
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise ValueError(_("Invalid host name %(host)s.", host=host)) from None
    if len(ascii_host) > 253 or any(not label for label in ascii_host.split(".")):
        raise ValueError(_("Invalid host name %(host)s.", host=host))
    parts = public_suffixes()(ascii_host)
    if not parts.domain or not parts.suffix:
        raise ValueError(_("%(host)s is not a domain under a public suffix (like example.cn).", host=host))
    return {
        "domain": ascii_host,
        "registrable_domain": f"{parts.domain}.{parts.suffix}",
        "unicode_domain": idna.decode(ascii_host),
        "subdomain": parts.subdomain,
    }


def _ip_or_none(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def _canonical_path(path: str) -> str:
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(quote(unquote(segment), safe="!$&'()*+,;=:@~-._"))
    return "/" + "/".join(segments) if segments else ""


FOLDED_LABELS = frozenset({"www", "m", "wap", "mobile"})
SHARED_PLATFORMS_FILE = Path(__file__).with_name("shared_platforms.txt")


@lru_cache(maxsize=1)
def shared_platforms() -> frozenset[str]:
    """The declared marketplaces and hosting services (registrable domains)."""
    lines = SHARED_PLATFORMS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split("#")[0].strip().lower() for line in lines if line.split("#")[0].strip())


def site_host(host: dict) -> str:
    """The host that names the site: leading www/m/wap/mobile labels folded away, but never the label
    that names a tenant of a shared platform (under a declared platform, the first label below it)."""
    if host.get("registrable_domain") is None:
        return host["domain"]
    labels = [label for label in (host.get("subdomain") or "").split(".") if label]
    base = host["registrable_domain"]
    if base in shared_platforms() and labels:
        tenant = labels.pop()
        if tenant not in FOLDED_LABELS:
            base = f"{tenant}.{base}"
    while labels and labels[0] in FOLDED_LABELS:
        labels.pop(0)
    return ".".join([*labels, base])


def normalize_url(raw: str | None) -> dict:
    """Website URL → key ``host[:port][/path][?query]``: no scheme, IDNA, lower-case host; ``www.``,
    ``m.``, ``wap.``, ``mobile.`` (see ``site_host``), default port, fragment, user info, tracking parameters and trailing slash dropped; the
    remaining query parameters sorted; path case kept."""
    text = _clean(raw)
    if not text:
        raise ValueError(_("A web address is required."))
    if re.search(r"\s", text):
        raise ValueError(_("A web address cannot contain spaces."))
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        if text.startswith("//"):
            text = "http:" + text
        elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", text):
            raise ValueError(_("Only http and https addresses are websites."))
        else:
            text = "http://" + text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
    except ValueError:
        raise ValueError(_("Invalid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(_("Only http and https addresses are websites."))
    netloc = netloc.rsplit("@", 1)[-1]
    host_text, port = _split_port(netloc)
    host = normalize_host(host_text)
    domain = site_host(host)
    port_part = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return {
        "key": _bracket(domain) + port_part + path + query,
        "url": f"{scheme}://{_bracket(host['domain'])}{port_part}{path or '/'}{query}",
        "domain": host["domain"],
        "registrable_domain": host["registrable_domain"],
    }


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


TRACKING_PARAMS = re.compile(r"^(utm_.*|spm|from|source|ref|share.*|fbclid|gclid|_t|t|timestamp)$", re.I)


def _canonical_query(query: str) -> str:
    pairs = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    return "?" + urlencode(pairs) if pairs else ""


def _split_port(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        host, _bracket_end, rest = netloc[1:].partition("]")
        port_text = rest.removeprefix(":") if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError(_("Invalid web address."))
    elif netloc.count(":") == 1:
        host, port_text = netloc.split(":")
    else:
        host, port_text = netloc, ""
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(_("Invalid port %(port)s.", port=port_text))
    return host, int(port_text)


ANDROID_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
BUNDLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)+$")
APP_STORES = ("app_store", "google_play", "huawei", "xiaomi", "oppo", "vivo", "honor", "tencent_myapp",
              "baidu", "360", "wandoujia", "apk_download", "other")


STORE_ALIASES = {
    "应用宝": "tencent_myapp", "腾讯应用宝": "tencent_myapp", "华为应用市场": "huawei", "小米应用商店": "xiaomi",
    "oppo软件商店": "oppo", "vivo应用商店": "vivo", "荣耀应用市场": "honor", "百度手机助手": "baidu",
    "360手机助手": "360", "豌豆荚": "wandoujia", "苹果应用商店": "app_store", "app store": "app_store",
    "google play": "google_play",
}


def normalize_store(store: str | None) -> str | None:
    """Store code (see ``APP_STORES``); common Chinese and English store names are accepted."""
    store = _clean(store).lower() or None
    store = STORE_ALIASES.get(store, store)
    if store is not None and store not in APP_STORES:
        raise ValueError(_("Choose the app store from the list."))
    return store


GROUP_PLATFORMS = {"qq": "qq_group", "wechat": "wechat_group"}


def normalize_platform(platform: str | None, kind: str | None = None) -> str:
    """Platform code; a QQ or WeChat *group* is its own platform (``qq_group``, ``wechat_group``)."""
    platform = _clean(platform).lower()
    if kind == "group":
        platform = GROUP_PLATFORMS.get(platform, platform)
    if platform not in PLATFORMS:
        raise ValueError(_("Choose the platform from the list."))
    return platform


def normalize_app(package_name: str | None, store: str | None = None) -> dict:
    """Android package name or iOS bundle id; key is the lower-cased identifier (one app, all stores)."""
    name = _clean(package_name)
    if not name:
        raise ValueError(_("A package name or bundle id is required."))
    if len(name) > 255 or not (ANDROID_PACKAGE.match(name) or BUNDLE_ID.match(name)):
        raise ValueError(_("%(name)s is not a package name or bundle id like com.example.app.", name=name))
    return {"key": name.lower(), "package_name": name, "store": normalize_store(store)}


# platform → (target kind, account id pattern, case-insensitive)
PLATFORMS = {
    "wechat_official": ("account", r"(gh_[0-9a-f]{12}|[a-z][a-z0-9_-]{5,19})", True),
    "wechat": ("account", r"[a-z][a-z0-9_-]{5,19}", True),
    "wechat_group": ("group", r"[^\s]{1,100}", False),
    "qq": ("account", r"[1-9][0-9]{2,11}", False),
    "qq_group": ("group", r"[1-9][0-9]{2,11}", False),
    "douyin": ("account", r"[a-z0-9_.]{1,30}", True),
    "kuaishou": ("account", r"[a-z0-9_.-]{1,30}", True),
    "bilibili": ("account", r"[1-9][0-9]{0,15}", False),
    "weibo": ("account", r"[^\s]{1,60}", True),
    "xiaohongshu": ("account", r"[a-z0-9_]{1,30}", True),
    "taobao": ("shop", r"[^\s]{1,100}", False),
    "xianyu": ("shop", r"[^\s]{1,100}", False),
    "pinduoduo": ("shop", r"[^\s]{1,100}", False),
    "jd": ("shop", r"[^\s]{1,100}", False),
    "telegram": ("group", r"[a-z][a-z0-9_]{4,31}", True),
    "other": ("account", r"[^\s].{0,199}", False),
}


def normalize_account(platform: str | None, account_id: str | None) -> dict:
    """Platform + account id → key ``platform:id``; the kind (account, shop, group) follows the platform."""
    platform = normalize_platform(platform)
    kind, pattern, fold = PLATFORMS[platform]
    ident = _clean(account_id).removeprefix("@")
    if fold:
        ident = ident.lower()
    if not ident or not re.fullmatch(pattern, ident, re.IGNORECASE if fold else 0):
        raise ValueError(_("%(ident)s is not a valid account id on %(platform)s.",
                           ident=ident or "''", platform=platform))
    return {"key": f"{platform}:{ident}", "kind": kind, "platform": platform, "account_id": ident}


def normalize_other(name: str | None) -> dict:
    text = re.sub(r"\s+", " ", _clean(name))
    if not text:
        raise ValueError(_("A name is required."))
    if len(text) > 200:
        raise ValueError(_("At most %(n)d characters.", n=200))
    return {"key": text.casefold(), "name": text}


PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川蜀贵黔云滇藏陕秦甘陇青宁新"
ICP_PATTERNS = (
    re.compile(rf"^[{PROVINCES}]ICP备\d{{6,10}}号(-\d{{1,4}})?$"),
    re.compile(rf"^[{PROVINCES}]ICP证\d{{6}}号$"),
    re.compile(rf"^[{PROVINCES}]?B[12]-\d{{8}}$"),
)


def normalize_icp(raw: str | None) -> str | None:
    """ICP filing (京ICP备12345678号-1) or licence (京ICP证030173号, 粤B2-20090059); None if empty."""
    text = re.sub(r"\s+", "", _clean(raw)).replace("icp", "ICP").replace("—", "-").replace("－", "-")
    if not text:
        return None
    text = re.sub(r"ICP证(B[12]-)", r"\1", text)
    if not any(p.match(text) for p in ICP_PATTERNS):
        raise ValueError(_("%(text)s is not an ICP filing number like 京ICP备12345678号-1.", text=text))
    return text


def normalize_ips(raw) -> list[str]:
    """A list (or comma/space separated text) of IPv4/IPv6 addresses, compressed, deduplicated."""
    items = raw if isinstance(raw, (list, tuple)) else re.split(r"[\s,;，；]+", _clean(raw))
    result: list[str] = []
    for item in (_clean(str(i)) for i in items):
        if not item:
            continue
        ip = _ip_or_none(item)
        if ip is None:
            raise ValueError(_("%(item)s is not an IP address.", item=item))
        if ip not in result:
            result.append(ip)
    return result


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_SHAPE = re.compile(r"^[1-9A-HJ-NPQRTUWXY][1-9A-HJ-NPQRTUWXY]\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015: the 18th character of a unified social credit code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def normalize_uscc(raw: str | None) -> str | None:
    """统一社会信用代码: 18 characters, checked by its check character; None if empty."""
    text = re.sub(r"\s+", "", _clean(raw)).upper()
    if not text:
        return None
    if not USCC_SHAPE.match(text):
        raise ValueError(_("%(text)s is not an 18-character unified social credit code.", text=text))
    if uscc_check_char(text[:17]) != text[17]:
        raise ValueError(_("%(text)s: the check character does not match (GB 32100-2015).", text=text))
    return text
