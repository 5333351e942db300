"""The demo's agencies: the ministry, two provinces, and the four disposing kinds at both levels."""

PROVINCES = {"11": ("北京市", "Beijing"), "44": ("广东省", "Guangdong")}

NATIONAL = [
    # code, kind, name, English name, number prefix
    ("moe", "education", "教育部", "Ministry of Education", "教高厅函"),
    ("cac", "cyberspace", "国家互联网信息办公室", "Cyberspace Administration of China", "网信办函"),
    ("miit", "telecom", "工业和信息化部", "Ministry of Industry and Information Technology", "工信部网安函"),
    ("mps", "police", "公安部", "Ministry of Public Security", "公网安函"),
    ("samr", "market", "国家市场监督管理总局", "State Administration for Market Regulation", "市监网监函"),
]

PROVINCIAL = {
    # kind: (code prefix, national parent, Chinese name pattern, English pattern, number prefix pattern)
    "education": ("edu", "moe", "{p}教育厅", "{e} Department of Education", "{s}教高函"),
    "cyberspace": ("cac", "cac", "{p}互联网信息办公室", "{e} Cyberspace Administration", "{s}网信函"),
    "telecom": ("ca", "miit", "{p}通信管理局", "{e} Communications Administration", "{s}通信函"),
    "police": ("psb", "mps", "{p}公安厅", "{e} Public Security Department", "{s}公网安函"),
    "market": ("amr", "samr", "{p}市场监督管理局", "{e} Administration for Market Regulation", "{s}市监函"),
}

SHORT = {"11": "京", "44": "粤"}
SPECIAL_NAMES = {("education", "11"): "北京市教育委员会", ("police", "11"): "北京市公安局"}


def demo_agencies() -> list[dict]:
    """Agency rows in creation order (parents first)."""
    rows = [dict(code=c, kind=k, level="national", region_code=None, name=n, name_en=e,
                 number_prefix=p, parent=None) for c, k, n, e, p in NATIONAL]
    for province, (p_name, e_name) in PROVINCES.items():
        for kind, (prefix, parent, name, name_en, number) in PROVINCIAL.items():
            rows.append(dict(
                code=f"{prefix}-{province}", kind=kind, level="provincial",
                region_code=f"{province}0000",
                name=SPECIAL_NAMES.get((kind, province), name.format(p=p_name)),
                name_en=name_en.format(e=e_name),
                number_prefix=number.format(s=SHORT[province]), parent=parent,
            ))
    return rows
