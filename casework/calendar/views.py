"""/admin/calendar: the security administrator enters each year's holiday arrangement and sees the
due dates counted provisionally for want of one. Also the template helpers that show how a clock
counts and whether a due date is provisional."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from casework.calendar import services, store
from casework.calendar.startup import check_next_year
from casework.calendar.periods import PROVISIONAL_EN, PROVISIONAL_ZH
from casework.errors import DomainError
from casework.read_only import read_only
from casework.unit_of_work import unit_of_work
from casework.workflow import clocks

bp = Blueprint("calendar", __name__)
ADMIN_ROLE = "security_admin"


class ArrangementForm(FlaskForm):
    days = TextAreaField(_l("Days"), validators=[DataRequired(), Length(max=20000)])
    source = StringField(_l("Source of the arrangement"), validators=[Length(max=200)])


def _admin_only() -> None:
    if not current_user.has_role(ADMIN_ROLE):
        abort(404)


def _page(form: ArrangementForm, shown_year: int | None):
    today = services.local_today()
    years = store.stored_years()
    shown = store.stored_arrangement(shown_year) if shown_year else None
    return render_template("calendar/admin.html", form=form, years=years, today=today,
                           missing_next=services.missing_next_year(today), shown=shown, shown_year=shown_year,
                           provisional=services.provisional_clocks(), terms=clocks.rule_terms,
                           day_counts=store.day_counts())


def _year_arg() -> int | None:
    text = (request.args.get("year") or "").strip()
    return int(text) if text.isdigit() and 1950 <= int(text) <= 2199 else None


@bp.get("/admin/calendar")
@read_only
@login_required
def index():
    _admin_only()
    form = ArrangementForm()
    year = _year_arg()
    arrangement = store.stored_arrangement(year) if year else None
    if arrangement is not None:
        form.days.data = services.format_arrangement(arrangement)
    return _page(form, year)


@bp.post("/admin/calendar")
@login_required
def enter():
    _admin_only()
    form = ArrangementForm()
    if not form.validate_on_submit():
        return _page(form, None), 400
    try:
        with unit_of_work():
            entered = [services.enter_arrangement(a, (form.source.data or "").strip() or "manual", current_user)
                       for a in services.parse_arrangement(form.days.data)]
    except DomainError as error:
        form.days.errors = [*form.days.errors, error.message]
        return _page(form, None), 400
    for e in entered:
        flash(_l("%(year)s entered: %(holidays)s holidays, %(workdays)s make-up working days; "
                 "%(recomputed)s provisional due dates recomputed.", year=e.year, holidays=e.holidays,
                 workdays=e.workdays, recomputed=e.recomputed), "success")
    return redirect(url_for("calendar.index", year=entered[0].year))


def provisional_label() -> str:
    return PROVISIONAL_EN if str(get_locale() or "zh").startswith("en") else PROVISIONAL_ZH


def clock_terms(subject) -> list[str]:
    """How each running clock of ``subject`` counts: ["反馈期限：30日（期满遇节假日顺延）", …] (one query)."""
    locale = str(get_locale() or "zh")
    rules = clocks.declarations().clocks
    return [f"{rules[c.rule].label.pick(locale) if c.rule in rules else c.rule}"
            f"{'：' if locale.startswith('zh') else ': '}{clocks.rule_terms(c, locale)}"
            for c in clocks.running_clocks(subject)]


def init_calendar(app: Flask) -> None:
    """The admin page, the template helpers, and the start-up warning for next year's arrangement."""
    app.register_blueprint(bp)
    app.add_template_filter(store.provisional_due, "provisional_due")
    app.add_template_global(clock_terms, "clock_terms")
    app.add_template_global(provisional_label, "provisional_label")
    check_next_year(app)
