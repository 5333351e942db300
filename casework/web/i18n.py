"""Locale (Simplified Chinese by default, English per user), China Standard Time on screen.

Message catalogues (.po) are compiled into the instance folder when they are newer
than the compiled copy, so a fresh checkout needs no separate build step.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from casework.extensions import babel
from casework.text import CST

SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"
LOCALES = ("zh", "en")


def compile_catalogues(target: Path) -> None:
    """Compile every .po under ``translations/`` into ``target`` if it is stale."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(SOURCE_DIR).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalogue = read_po(fh, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalogue)
        tmp.replace(mo_path)


def select_locale() -> str:
    """The user's own choice, else the choice made before logging in, else Chinese (never the
    browser's language: the desk is Chinese unless a user switches)."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale if current_user.locale in LOCALES else "zh"
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return "zh"


def local_time(value: datetime | None) -> datetime | None:
    return value.astimezone(CST) if value else None


def format_date(value: datetime | None) -> str:
    """2026年11月26日 in Chinese, 2026-11-26 in English; China Standard Time."""
    if value is None:
        return ""
    local = local_time(value) if isinstance(value, datetime) else value
    if str(get_locale()).startswith("zh"):
        return f"{local.year}年{local.month}月{local.day}日"
    return local.strftime("%Y-%m-%d")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = local_time(value)
    return f"{format_date(local)} {local:%H:%M}"


def translations():
    """Flask-Babel's translations for the current locale, looked up once per locale and request
    (Flask-Babel looks up its context, domain and locale again for every string)."""
    if not g:
        return get_translations()
    context = getattr(g, "_flask_babel", None)
    cached = getattr(context, "casework_translations", None)
    if cached is not None and cached[0] is getattr(context, "babel_locale", None):
        return cached[1]
    result = get_translations()
    context = getattr(g, "_flask_babel", None)
    if context is not None:
        context.casework_translations = (getattr(context, "babel_locale", None), result)
    return result


def init_i18n(app: Flask) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogues(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale, default_timezone=CST.key)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["date_cn"] = format_date
    app.jinja_env.filters["datetime_cn"] = format_datetime
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
