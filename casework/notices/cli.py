"""``casework notices dossier <referral number> --out FILE.pdf|FILE.zip``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from casework.cli_support import check_database, fail
from casework.extensions import db
from casework.notices.dossier import build_dossier, dossier_pdf, dossier_zip
from casework.referrals.models import Referral


@click.group("notices", help="Official notices (PDF).")
def notices_group() -> None:
    pass


@notices_group.command("dossier")
@click.argument("referral_number")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the dossier: a .pdf (one document) or a .zip (one file per notice).")
@with_appcontext
def dossier_command(referral_number: str, out: Path) -> None:
    """Export a referral's notices in order, with a summary page."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".zip"):
        fail(f"--out must end in .pdf or .zip, not {out.name!r}")
    if not out.parent.exists():
        fail(f"the folder {out.parent} does not exist")
    check_database(current_app._get_current_object())
    referral = db.session.scalar(select(Referral).where(Referral.number == referral_number.strip()))
    if referral is None:
        fail(f"no referral numbered {referral_number!r}")
    built = build_dossier(referral)
    body = dossier_pdf(built) if suffix == ".pdf" else dossier_zip(built, referral)
    out.write_bytes(body)
    click.echo(f"wrote {out} ({len(built.notices)} notices, {built.pages} pages, {len(body)} bytes)")
