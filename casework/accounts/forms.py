from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


def clean_text(value: str | None, limit: int = 200) -> str:
    """``value`` without NUL characters and lone surrogates (no database stores them), cut to ``limit``."""
    return "".join(c for c in (value or "") if c != "\x00" and not "\ud800" <= c <= "\udfff")[:limit]


def _clean(value):
    return clean_text(value, 256) if isinstance(value, str) else value


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)], filters=[_clean])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=32)], filters=[_clean])


class EnrolForm(FlaskForm):
    code = StringField(_l("Code shown by the app"), validators=[DataRequired(), Length(max=16)], filters=[_clean])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=256)])
