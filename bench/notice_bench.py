"""Notice rendering speed: a one-page Chinese referral letter against the same template in Latin text.

    python bench/notice_bench.py [--rounds 10] [--dossier 50]

Renders the real letter template twice per round — Chinese text with the CJK font chain, and the
same layout with Latin text in DejaVu — in one process, and prints the median times and their
ratio (target: Chinese at most 2x Latin). Then issues a 50-notice referral in a throw-away SQLite
database and prints pages per second for its dossier export (PDF and ZIP).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LATIN_FONTS = '"DejaVu Serif"'


def letter_context(latin: bool) -> dict:
    from types import SimpleNamespace

    from casework.notices.render import qr_data_uri

    if latin:
        issuer, recipient = "Guangdong Education", "Guangdong Communications Administration"
        title = "Referral of a brushing website"
        paragraphs = ["We found the lead \"Brushing platform 1\" (XS2026-000001): the site sells proxy study "
                      "and exam services. We assessed it and refer it to you under the Opinions of 2022.",
                      "Reason: the operator is filed in your province."]
        targets = [{"name": f"Site {i}", "kind": "web", "locator": f"https://shuake{i}.example.cn/",
                    "operator": "Example Network Co.", "icp_number": ""} for i in (1,)]
        closing, date_text, number = "Please report the outcome within 30 days.", "26 November 2026", "EDU-44 2026/12"
    else:
        issuer, recipient = "广东省教育厅", "广东省通信管理局"
        title = "关于移送“某平台代刷网课”线索的函"
        paragraphs = ["广东省教育厅在工作中发现“某平台代刷网课”线索（线索编号XS2026-000001），涉嫌提供有偿刷课、"
                      "替考服务。经研判，构成刷课，建议移送。根据《教育部等五部门关于加强普通高等学校在线开放课程"
                      "教学管理的若干意见》（教高〔2022〕1号）有关规定，现将该线索移送你单位依法处置。",
                      "移送理由：该网站的经营者在你省备案。"]
        targets = [{"name": f"代刷网站{i}", "kind": "网站", "locator": f"https://shuake{i}.example.cn/",
                    "operator": "某某网络科技有限公司", "icp_number": ""} for i in (1,)]
        closing, date_text, number = "请你单位依法处置，并于收到本函之日起30日内将处置结果反馈我单位。", "2026年11月26日", "粤教高函〔2026〕12号"
    return {"title": title, "title_lines": [title], "issuer": SimpleNamespace(name=issuer), "recipient": SimpleNamespace(name=recipient),
            "document_number": number, "paragraphs": paragraphs, "sections": [], "targets": targets,
            "actions": [], "closing": closing, "attachments": [], "copies": [], "date_text": date_text,
            "issued_iso": "2026-11-26T02:00:00Z", "verification_code": "AB2CD-EF3GH",
            "verify_url": "https://casework.example.cn/verify/AB2CD-EF3GH",
            "qr_uri": qr_data_uri("https://casework.example.cn/verify/AB2CD-EF3GH"),
            "mark_size": 26, "mark_spacing": 0 if latin else 2}


def render_once(latin: bool, common_font: bool = True) -> tuple[float, int]:
    from flask import render_template

    from casework.notices import fonts
    from casework.notices.render import LABELS_LATIN, LABELS_ZH, html_to_pdf, style_context

    style = style_context()
    if not common_font:
        style = {"font_faces": [], "title_fonts": fonts.title_chain().replace(f'"{fonts.COMMON_FAMILY}", ', ""),
                 "body_fonts": fonts.body_chain().replace(f'"{fonts.COMMON_FAMILY}", ', "")}
    if latin:
        style = {"font_faces": [], "title_fonts": LATIN_FONTS, "body_fonts": LATIN_FONTS}
    labels = LABELS_LATIN if latin else LABELS_ZH
    html = render_template("notices/referral_letter.html", **style, labels=labels, **letter_context(latin))
    started = time.perf_counter()
    rendered = html_to_pdf(html, attachment_json=b'{"bench": true}',
                           metadata_date=datetime(2026, 11, 26, tzinfo=timezone.utc))
    return time.perf_counter() - started, rendered.pages


def side_by_side(rounds: int) -> None:
    render_once(False)  # warm-up: builds the cached common-character font, loads fontconfig
    render_once(True)
    render_once(False, common_font=False)
    zh, en, full = [], [], []
    for _ in range(rounds):
        seconds, zh_pages = render_once(False)
        zh.append(seconds)
        seconds, en_pages = render_once(True)
        en.append(seconds)
        full.append(render_once(False, common_font=False)[0])
    zh_median, en_median = statistics.median(zh), statistics.median(en)
    print(f"one-page referral letter, median of {rounds} (pages: zh {zh_pages}, latin {en_pages})")
    print(f"  Chinese (CJK chain):  {zh_median * 1000:7.1f} ms  (min {min(zh) * 1000:.1f})")
    print(f"  Latin (DejaVu):       {en_median * 1000:7.1f} ms  (min {min(en) * 1000:.1f})")
    print(f"  Chinese, full Noto CJK without the pre-subset font: {statistics.median(full) * 1000:.1f} ms "
          f"({statistics.median(full) / en_median:.2f}x Latin)")
    ratio = zh_median / en_median
    print(f"  ratio Chinese/Latin:  {ratio:7.2f}x  (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")


def dossier(count: int) -> None:
    from casework.extensions import db
    from casework.notices.dossier import build_dossier, dossier_pdf, dossier_zip
    from casework.notices.services import issue_notice
    from tests.conftest import seed_agencies_and_users
    from tests.factories import assignment_row, find_user, referral_row

    seed_agencies_and_users()
    referral = referral_row("edu-44", targets=3)
    officer = find_user("ca-44.case_officer")
    started = time.perf_counter()
    for _ in range(count):
        issue_notice("receipt", assignment_row(referral, "ca-44", state="received"), officer)
    issued = time.perf_counter() - started
    db.session.commit()
    print(f"issued {count} notices in {issued:.2f} s ({count / issued:.1f} notices/s, render + number + store)")
    for label, build in (("PDF", dossier_pdf), ("ZIP", lambda d: dossier_zip(d, referral))):
        db.session.expire_all()
        started = time.perf_counter()
        built = build_dossier(referral)
        body = build(built)
        seconds = time.perf_counter() - started
        print(f"dossier {label}: {len(built.notices)} notices, {built.pages} pages, {len(body) / 1e6:.1f} MB "
              f"in {seconds:.2f} s = {built.pages / seconds:.0f} pages/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--dossier", type=int, default=50)
    args = parser.parse_args()
    from casework import create_app
    from casework.migrate import upgrade
    from casework.notices.startup import notice_environment_problems

    with tempfile.TemporaryDirectory(prefix="notice-bench-") as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "SECRET_KEY": "bench",
                          "NOTICE_FONT_DIR": None})
        print("environment:", "; ".join(notice_environment_problems()) or "CJK fonts and HarfBuzz-subset found")
        upgrade(app)
        with app.app_context(), app.test_request_context():
            side_by_side(args.rounds)
            if args.dossier:
                dossier(args.dossier)


if __name__ == "__main__":
    main()
