"""Start-up check: from 1 November, warn when next year's holiday arrangement is not entered."""
from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from casework.calendar import services
from casework.extensions import db


def check_next_year(app: Flask) -> int | None:
    """Log one warning when next year's arrangement is missing (from 1 November); returns that year.
    A database not migrated yet is not this check's business: it says nothing then."""
    with app.app_context():
        try:
            year = services.missing_next_year(services.local_today())
        except SQLAlchemyError:
            db.session.rollback()
            return None
        finally:
            db.session.remove()
    if year is not None:
        message = (f"calendar: the holiday arrangement for {year} is not entered; due dates in {year} are "
                   f"counted Monday to Friday (暂按工作日计算) until it is: /admin/calendar or 'casework calendar import'")
        app.logger.warning(message)
    app.extensions["casework_calendar_missing_year"] = year
    return year
