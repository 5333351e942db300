"""Bulk intake from CSV and XLSX: GBK and UTF-8 with BOM, row-by-row errors, all or nothing."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from casework.errors import NotAllowed
from casework.extensions import db
from casework.targets.bulk import ImportRejected, import_targets, validate_file
from casework.targets.models import ReferralTarget, Target
from tests.factories import make_referral

HEADER = "kind,name,url,package_name,platform,account_id,icp_number,operator_uscc"
GOOD_ROWS = [
    "website,代刷网课平台,https://www.bulk-shuake.cn/,,,,京ICP备12345678号-1,91350100M000100Y43",
    "app,刷课助手,,com.bulk.shuake,,,,",
    "account,刷课群,,,qq_group,87654321,,",
]
BAD_ROW = "website,坏网址,ftp://bulk-bad.cn,,,,,"


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def referral(db_session, user):
    return make_referral(user("edu-44.intake_officer"), targets=[])


def linked_keys(referral) -> set[str]:
    return set(db.session.scalars(select(Target.key).join(ReferralTarget).where(
        ReferralTarget.referral_id == referral.id)))


@pytest.mark.parametrize("name,data", [
    ("leads.csv", csv_bytes([HEADER, *GOOD_ROWS])),
    ("leads.csv", b"\xef\xbb\xbf" + csv_bytes([HEADER, *GOOD_ROWS])),
    ("leads.csv", csv_bytes([HEADER, *GOOD_ROWS], "gbk")),
    ("leads.xlsx", xlsx_bytes([HEADER.split(","), *[r.split(",") for r in GOOD_ROWS]])),
])
def test_good_files_import_every_row(referral, user, name, data):
    report = import_targets(referral, file(name, data), user("edu-44.intake_officer"))
    assert report.linked == 3
    assert linked_keys(referral) == {"bulk-shuake.cn", "com.bulk.shuake", "qq_group:87654321"}
    website = db.session.scalar(select(Target).where(Target.key == "bulk-shuake.cn"))
    assert website.icp_number == "京ICP备12345678号-1" and website.name == "代刷网课平台"


def test_chinese_header_aliases(referral, user):
    data = csv_bytes(["类型,名称,网址", "website,别名网站,https://alias-bulk.cn"], "gbk")
    import_targets(referral, file("a.csv", data), user("edu-44.intake_officer"))
    assert linked_keys(referral) == {"alias-bulk.cn"}


def test_chinese_kind_names(referral, user):
    data = csv_bytes(["类型,名称,网址,包名", "网站,中文类型网站,https://kind-alias-bulk.cn,", "应用,中文类型应用,,com.kind.alias"])
    import_targets(referral, file("a.csv", data), user("edu-44.intake_officer"))
    assert linked_keys(referral) == {"kind-alias-bulk.cn", "com.kind.alias"}


def test_one_bad_row_imports_nothing_and_names_the_row(referral, user):
    before = db.session.scalar(select(func.count()).select_from(Target))
    data = csv_bytes([HEADER, GOOD_ROWS[0], BAD_ROW, GOOD_ROWS[1],
                      "website,坏代码,https://bulk-two.cn,,,,,91350100M000100Y44"])
    with pytest.raises(ImportRejected) as caught:
        import_targets(referral, file("leads.csv", data), user("edu-44.intake_officer"))
    errors = [(e.row, e.field) for e in caught.value.report.errors]
    assert errors == [(3, "url"), (5, "operator_uscc")]
    assert linked_keys(referral) == set()
    assert db.session.scalar(select(func.count()).select_from(Target)) == before


@pytest.mark.parametrize("name,data,problem", [
    ("leads.csv", csv_bytes(["type,address", "website,https://x-bulk.cn"]), "header"),
    ("leads.csv", csv_bytes(["name,url", "x,https://x-bulk.cn"]), "header"),
    ("leads.csv", csv_bytes(["kind,url,url", "website,https://x-bulk.cn,"]), "repeated: url"),
    ("leads.csv", csv_bytes(["kind,kind", "website,website"]), "repeated: kind"),
    ("leads.csv", csv_bytes(["kind,url"]), "no rows"),
    ("leads.csv", csv_bytes(["kind,url", "网页,https://x-bulk.cn"]), "网站、应用程序、账号"),
    ("leads.csv", b"kind,url\r\nwebsite,https://x\xff\xfe\x80-bulk.cn\r\n", "neither UTF-8 nor GBK"),
    ("leads.csv", b"", "empty"),
    ("leads.xlsx", b"PK\x03\x04 this is no workbook", "not a valid XLSX"),
    ("leads.txt", csv_bytes([HEADER, *GOOD_ROWS]), ".csv or .xlsx"),
    ("leads.csv", csv_bytes(["kind,url", "website,https://x-bulk.cn,extra"]), "More cells"),
])
def test_unreadable_files_are_reported(name, data, problem):
    report = validate_file(name, data)
    assert report.errors and problem in str(report.errors[0])


def test_only_the_referring_department_imports(referral, user):
    with pytest.raises(NotAllowed):
        import_targets(referral, file("a.csv", csv_bytes([HEADER, *GOOD_ROWS])), user("psb-44.case_officer"))


def test_import_page(referral, login_as):
    client = login_as("edu-44.intake_officer")
    assert client.get(f"/referrals/{referral.id}/targets/import").status_code == 200
    bad = client.post(f"/referrals/{referral.id}/targets/import", content_type="multipart/form-data",
                      data={"file": (io.BytesIO(csv_bytes([HEADER, GOOD_ROWS[0], BAD_ROW])), "leads.csv")})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "<td>3</td><td>url</td>" in page
    assert linked_keys(referral) == set()
    good = client.post(f"/referrals/{referral.id}/targets/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(csv_bytes([HEADER, *GOOD_ROWS])), "leads.csv")})
    assert good.status_code == 302
    assert len(linked_keys(referral)) == 3
    assert login_as("edu-11.intake_officer").get(f"/referrals/{referral.id}/targets/import").status_code == 404


def test_known_targets_are_linked_not_duplicated_and_everything_is_audited(referral, user):
    from casework.audit.models import AuditEvent

    actor = user("edu-44.intake_officer")
    make_referral(actor, targets=[{"kind": "website", "name": "old", "url": "https://bulk-known.cn"}])
    import_targets(referral, file("first.csv", csv_bytes(["kind,url", "website,https://bulk-linked.cn"])), actor)
    data = csv_bytes(["kind,name,url,icp_number", "website,,http://www.bulk-known.cn/,京ICP备11112222号",
                      "website,,https://bulk-linked.cn", "website,,https://bulk-fresh.cn",
                      "website,,HTTPS://BULK-FRESH.CN/"])
    report = import_targets(referral, file("second.csv", data), actor)
    assert (report.linked, report.new_targets) == (2, 1)
    assert linked_keys(referral) == {"bulk-known.cn", "bulk-linked.cn", "bulk-fresh.cn"}
    known = db.session.scalar(select(Target).where(Target.key == "bulk-known.cn"))
    assert known.name == "old" and known.icp_number == "京ICP备11112222号"
    events = db.session.scalars(select(AuditEvent.event).where(AuditEvent.actor_id == actor.id)
                                .order_by(AuditEvent.id.desc()).limit(5)).all()  # not yet sealed: no seq
    assert events == ["referral.import_targets", "referral.add_target", "referral.add_target",
                      "target.create", "target.update"]


def test_the_template_imports_as_is(referral, user, login_as):
    template = login_as("edu-44.intake_officer").get("/targets/import-template.csv")
    assert template.headers["Content-Disposition"].startswith("attachment")
    report = import_targets(referral, file("targets-template.csv", template.data), user("edu-44.intake_officer"))
    assert report.linked == 1 and linked_keys(referral) == {"example.cn"}
