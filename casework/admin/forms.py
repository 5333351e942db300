"""Forms of the administrators' pages (Flask-WTF: CSRF and field errors); the services check the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (IntegerField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from casework.db_types import database_id


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_id(value):
    """A select's value as an id the database can hold, or None (nothing chosen, or not an id)."""
    return value if isinstance(value, int) else database_id(str(value or ""))


class AgencyEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=160)])
    number_prefix = StringField(_l("Document number prefix (机关代字)"), validators=[Optional(), Length(max=20)])
    parent_id = SelectField(_l("Supervising agency"), coerce=_optional_id, validate_choice=True)
    region_code = StringField(_l("Region code"), validators=[Optional(), Length(max=6)])


class AgencyCreateForm(AgencyEditForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$",
                               message=_l("2 to 40 lower-case letters, digits or hyphens, e.g. psb-45."))])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    level = SelectField(_l("Level"), validators=[DataRequired()])


SEAL_READ_LIMIT = 512 * 1024 + 1  # one byte more than a seal may have, so that a larger one is refused


class SealForm(FlaskForm):
    image = FileField(_l("Seal image (PNG)"))


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or user name"), validators=[Optional(), Length(max=64)])
    agency = SelectField(_l("Agency"), coerce=_optional_id, validate_choice=False)
    role = SelectField(_l("Role"), validate_choice=False)
    status = SelectField(_l("Account status"), validate_choice=False)


class RolesForm(FlaskForm):
    roles = CheckboxList(_l("Roles"))


class UserCreateForm(RolesForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    agency_id = SelectField(_l("Agency"), coerce=_optional_id, validators=[InputRequired()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])
    password_again = PasswordField(_l("Initial password again"), validators=[DataRequired(), Length(max=256)])


class DeactivateForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=200)])


class ClockRuleForm(FlaskForm):
    unit = SelectField(_l("Unit"))
    amount = IntegerField(_l("Amount"), validators=[InputRequired(), NumberRange(min=1, max=24 * 366)])
