"""``casework calendar seed | import FILE | show YEAR``: the holiday calendar from the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from casework.calendar import services, store
from casework.errors import DomainError
from casework.unit_of_work import unit_of_work


def _fail(message: str) -> None:
    click.echo(f"casework: {message}", err=True)
    sys.exit(1)


@click.group("calendar", help="Public holidays and make-up working days (the calendar of legal periods).")
def calendar_group() -> None:
    pass


@calendar_group.command("seed")
@click.option("--replace", is_flag=True, help="Also overwrite years already stored.")
@with_appcontext
def seed_command(replace: bool) -> None:
    """Enter the years the installed chinese_calendar library knows."""
    with unit_of_work():
        years = services.seed_from_library(replace=replace)
    click.echo(f"entered {len(years)} years from {store.LIBRARY_SOURCE}"
               + (f": {years[0]}–{years[-1]}" if years else " (all were stored already)"))


@calendar_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", default="", help="Where the arrangement comes from (e.g. 国办发明电〔2026〕…号).")
@with_appcontext
def import_command(file: Path, source: str) -> None:
    """Enter the years listed in FILE: lines ``YYYY-MM-DD,holiday|workday[,name]``."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc.__class__.__name__}")
    try:
        with unit_of_work():
            entered = [services.enter_arrangement(a, source or file.name, None)
                       for a in services.parse_arrangement(text)]
    except DomainError as error:
        _fail(f"{file.name}: {error.message}")
    for e in entered:
        click.echo(f"{e.year}: {e.holidays} holidays, {e.workdays} make-up working days; "
                   f"{e.recomputed} provisional due dates recomputed")


@calendar_group.command("show")
@click.argument("year", type=int)
@with_appcontext
def show_command(year: int) -> None:
    """Print YEAR's stored arrangement in the import format."""
    arrangement = store.stored_arrangement(year)
    if arrangement is None:
        _fail(f"no holiday arrangement stored for {year}: due dates in it are counted Monday to Friday")
    click.echo(services.format_arrangement(arrangement), nl=False)
