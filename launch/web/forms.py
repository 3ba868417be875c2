"""WTForms forms (Flask-WTF adds CSRF to each).

WTForms ships no Vietnamese catalogue, so its own messages ("Number must be between 0 and
1000000.") reached Vietnamese pages in English. Every form here derives from `Form`, whose
messages go through the app's catalogue; WTFORMS_MESSAGES lists the ones our fields can produce
so that extraction keeps them in the catalogue.
"""
from __future__ import annotations

from flask_babel import get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

#: WTForms' built-in messages our fields can show (kept here so `pybabel extract` keeps them).
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Invalid input."),
)


def _wtforms_plurals(n: int) -> None:
    """Never called: marks WTForms' plural messages for extraction."""
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", n)
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", n)


class BabelTranslations:
    """WTForms' messages through the app's catalogue, in the request's language."""

    # WTForms formats the message itself (with max=..., min=...): only the translation is picked here.
    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    """Base of every form: CSRF (Flask-WTF) and messages in the user's language."""

    class Meta:
        def get_translations(self, form):  # noqa: ANN001, ANN201
            return BabelTranslations()


class LoginForm(Form):
    """Sign in."""

    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class UnitForm(Form):
    """A connection point's details."""

    host_name = StringField(_l("Host name"), validators=[Optional(), Length(max=200)])
    host_phone = StringField(_l("Host phone"), validators=[Optional(), Length(max=40)])
    host_email = StringField(_l("Host e-mail"), validators=[Optional(), Length(max=200)])
    vc_endpoint = StringField(_l("Video-conference room or endpoint"), validators=[Optional(), Length(max=300)])
    expected_attendance = IntegerField(
        _l("Expected attendance"), validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


#: What a point's host may change on their own point: how to reach them and where the room is.
HOST_UNIT_FIELDS = ("host_name", "host_phone", "host_email", "vc_endpoint")


class MapImportForm(Form):
    """Load today's map (one province or the whole country) from the bundled package."""

    province = StringField(_l("Province"), validators=[DataRequired(), Length(max=8)])


class ImportForm(Form):
    """Upload a directory CSV."""

    file = FileField(_l("CSV file"), validators=[FileRequired()])
