"""WTForms forms (CSRF-protected by Flask-WTF). Labels are translated lazily."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from archive_app.models.user import Level, Role


def level_choices() -> list[tuple[str, str]]:
    return [
        (Level.PUBLIC.value, _l("Public")),
        (Level.INTERNAL.value, _l("Internal")),
        (Level.CONFIDENTIAL.value, _l("Confidential")),
        (Level.SECRET.value, _l("Secret")),
    ]


def role_choices() -> list[tuple[str, str]]:
    return [
        (Role.ARCHIVIST.value, _l("Archivist")),
        (Role.STAFF.value, _l("Staff")),
        (Role.COMPLIANCE.value, _l("Compliance")),
        (Role.AUDITOR.value, _l("Auditor")),
        (Role.ADMIN.value, _l("Administrator")),
    ]


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ArchiveForm(FlaskForm):
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=300)])
    customer_type = SelectField(
        _l("Customer type"), choices=[("company", _l("Company")), ("person", _l("Person"))]
    )
    level = SelectField(_l("Confidentiality level"), default=Level.INTERNAL.value)
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=300)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    business_unit = StringField(_l("Business unit"), validators=[Optional(), Length(max=200)])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=100)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    tax_id = StringField(
        _l("Unified social credit code (tax ID)"), validators=[Optional(), Length(max=64)]
    )
    tags = StringField(
        _l("Tags"),
        validators=[Optional(), Length(max=1500)],
        description=_l("Separate tags with ; or ,"),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10_000)])
    relationship_end = DateField(
        _l("Relationship ended on"),
        validators=[Optional()],
        description=_l("Starts the retention clock of records kept from the relationship's end"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = level_choices()


class ConsentForm(FlaskForm):
    purpose = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=300)])
    scope = StringField(_l("Scope"), validators=[Optional(), Length(max=500)])
    given_on = DateField(_l("Given on"), validators=[DataRequired()])
    channel = StringField(_l("Channel"), validators=[DataRequired(), Length(max=100)])


class ConsentWithdrawalForm(FlaskForm):
    withdrawn_on = DateField(_l("Withdrawn on"), validators=[DataRequired()])
    channel = StringField(_l("Channel"), validators=[DataRequired(), Length(max=100)])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"))
    clearance = SelectField(_l("Clearance"))
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=200)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.clearance.choices = [("", _l("Default for the role")), *level_choices()]


class UserUpdateForm(FlaskForm):
    role = SelectField(_l("Role"))
    clearance = SelectField(_l("Clearance"))
    active = BooleanField(_l("Active"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.clearance.choices = level_choices()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two new passwords are not the same.")),
        ],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two new passwords are not the same.")),
        ],
    )


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])
    expires = IntegerField(
        _l("Expires after (days, empty for never)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )
