"""WTForms forms (Flask-WTF adds CSRF to each)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    """Sign in."""

    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class UnitForm(FlaskForm):
    """A connection point's details."""

    host_name = StringField(_l("Host name"), validators=[Optional(), Length(max=200)])
    host_phone = StringField(_l("Host phone"), validators=[Optional(), Length(max=40)])
    host_email = StringField(_l("Host e-mail"), validators=[Optional(), Length(max=200)])
    vc_endpoint = StringField(_l("Video-conference room or endpoint"), validators=[Optional(), Length(max=300)])
    expected_attendance = IntegerField(
        _l("Expected attendance"), validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class MapImportForm(FlaskForm):
    """Load today's map (one province or the whole country) from the bundled package."""

    province = StringField(_l("Province"), validators=[DataRequired(), Length(max=8)])


class ImportForm(FlaskForm):
    """Upload a directory CSV."""

    file = FileField(_l("CSV file"), validators=[FileRequired()])
