from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=32)])


class EnrolForm(FlaskForm):
    code = StringField(_l("Code shown by the app"), validators=[DataRequired(), Length(max=16)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=256)])
