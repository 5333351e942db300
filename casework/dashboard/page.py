"""What the dashboard shows, loaded before rendering: the user's own work, the overview of the
scope under the filters, the links of every figure to the list it counts, the tables' rows (for
the page and the XLSX export) and the charts' data (JSON read by ``static/js/dashboard.js``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _

from casework.accounts.models import User
from casework.dashboard.figures import MILESTONE_NAMES, GroupFigures, Overview, overview
from casework.dashboard.own_work import OwnWork, own_work
from casework.referrals.labels import agency_kind_label, choice_label, state_label, target_kind_label
from casework.referrals.queries import SearchFilters
from casework.targets.metrics import format_duration
from casework.web.i18n import format_datetime

ECHARTS = "vendor/echarts.min.js"


def milestone_labels() -> dict[str, str]:
    return {"receive": _("To receive"), "accept": _("To accept"), "dispose": _("To dispose"),
            "feedback": _("To feed back")}


@dataclass
class Cell:
    """A figure of a table: its text, the value (for the export) and the list it counts."""
    text: str
    value: object = None
    link: str | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


@dataclass
class DashboardPage:
    user: User
    filters: SearchFilters
    work: OwnWork
    figures: Overview | None

    @property
    def charts_available(self) -> bool:
        return Path(current_app.static_folder, ECHARTS).is_file()

    def search_link(self, **extra) -> str:
        """The search page listing what a figure counts: the dashboard's filters and ``extra``."""
        return url_for("referrals.search", **{**self.filters.as_args(), **{k: v for k, v in extra.items() if v}})

    def _state_name(self, state: str) -> str:
        if self.figures.subject == "assignment":
            return state_label(state, self.user.agency.kind)
        return state_label(state)

    def state_table(self) -> Table:
        rows = [[Cell(self._state_name(s.state), s.state),
                 Cell(_("still open") if s.is_open else _("ended"), s.is_open),
                 Cell(str(s.count), s.count, self.search_link(state=s.state))] for s in self.figures.states]
        return Table("states", _("Open and closed by state"), [_("State"), _("Open or closed"), _("Count")], rows)

    def _group_row(self, group: GroupFigures, name: str, agency_code: str | None) -> list[Cell]:
        link = self.search_link(agency=agency_code) if agency_code else None
        overdue_link = self.search_link(agency=agency_code, overdue="1") if agency_code else None
        row = [Cell(name, name), Cell(str(group.referrals), group.referrals, link),
               Cell(str(group.assignments), group.assignments),
               Cell(str(group.open), group.open), Cell(str(group.overdue), group.overdue, overdue_link),
               Cell(_percent(group.overdue_rate), group.overdue_rate)]
        for milestone in MILESTONE_NAMES:
            timing = group.timings.get(milestone)
            row += [Cell(format_duration(timing.median if timing else None), _seconds(timing and timing.median)),
                    Cell(format_duration(timing.p90 if timing else None), _seconds(timing and timing.p90))]
        return row

    def _group_columns(self, first: str) -> list[str]:
        columns = [first, _("Referrals"), _("Assignments"), _("Still open"), _("Overdue"), _("Overdue rate")]
        for label in milestone_labels().values():
            columns += [_("%(milestone)s: median", milestone=label), _("%(milestone)s: 90th percentile", milestone=label)]
        return columns

    def agency_table(self) -> Table:
        rows = [self._group_row(a, a.name, a.key) for a in self.figures.agencies]
        return Table("agencies", _("Per agency"), self._group_columns(_("Agency")), rows)

    def kind_table(self) -> Table:
        rows = [self._group_row(k, agency_kind_label(k.key), None) for k in self.figures.kinds]
        return Table("kinds", _("Per agency kind"), self._group_columns(_("Agency kind")), rows)

    def outcome_table(self) -> Table:
        rows = [[Cell(target_kind_label(o.target_kind)), Cell(choice_label(o.action)), Cell(choice_label(o.outcome)),
                 Cell(str(o.count), o.count)] for o in self.figures.outcomes]
        return Table("outcomes", _("Outcomes per target kind"),
                     [_("Target kind"), _("Action"), _("Outcome"), _("Count")], rows)

    def back_online_table(self) -> Table:
        rows = [[Cell(t.name, t.name, url_for("targets.show", target_id=t.target_id)), Cell(t.key),
                 Cell(target_kind_label(t.kind)), Cell(format_datetime(t.back_online_at), t.back_online_at)] for t in self.figures.back_online]
        return Table("back_online", _("Targets back online after takedown"),
                     [_("Target"), _("Target key"), _("Target kind"), _("Back online since")], rows)

    def tables(self) -> list[Table]:
        if self.figures is None:
            return []
        return [self.state_table(), self.agency_table(), self.kind_table(), self.outcome_table(),
                self.back_online_table()]

    def chart_data(self) -> dict:
        """What the charts draw (each chart's table shows the same figures)."""
        if self.figures is None:
            return {}
        agencies = self.figures.agencies
        return {
            "states": {"title": _("Open and closed by state"), "type": "bar",
                       "labels": [self._state_name(s.state) for s in self.figures.states],
                       "series": [{"name": _("Count"), "values": [s.count for s in self.figures.states]}]},
            "agencies": {"title": _("Overdue rate per agency"), "type": "bar", "unit": "%",
                         "labels": [a.name for a in agencies],
                         "series": [{"name": _("Overdue rate"),
                                     "values": [round((a.overdue_rate or 0) * 100, 1) for a in agencies]}]},
            "kinds": {"title": _("Median time per agency kind (hours)"), "type": "bar",
                          "labels": [agency_kind_label(k.key) for k in self.figures.kinds],
                          "series": [{"name": label, "values": [
                              _seconds(k.timings[m].median) if m in k.timings else None for k in self.figures.kinds]}
                              for m, label in milestone_labels().items()]},
        }


def dashboard_page(user: User, filters: SearchFilters, now: datetime) -> DashboardPage:
    """Every user's own work; the overview for case users (an agency: its own assignments)."""
    figures = overview(user, filters, now) if not filters.errors else None
    return DashboardPage(user, filters, own_work(user, now), figures)
