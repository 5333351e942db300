from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

MODE_LABELS = {
    "immediate": _l("Immediately"),
    "digest": _l("A daily digest"),
    "off": _l("No e-mail (in the browser only)"),
}


class MailSettingsForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=254), Email()])
    mode = SelectField(_l("E-mail"), choices=list(MODE_LABELS.items()), validators=[InputRequired()])
    digest_hour = IntegerField(_l("Digest hour (China Standard Time)"), default=8,
                               validators=[InputRequired(), NumberRange(min=0, max=23)])
