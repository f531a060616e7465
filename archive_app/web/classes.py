"""Class administration (admins): the catalogue, a new class, one class's page with its
edit form, its fields (add, edit, retire) and retirement. The service decides and audits;
this module reads the form and says refusals in the user's language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from archive_app.domain.fieldtypes import ADMIN_TYPES
from archive_app.errors import ClassDefinitionRefused, ClassRetired, ValidationFailed
from archive_app.permissions import Capability, require
from archive_app.services import classes
from archive_app.services.retention.schedule import current_rule_set
from archive_app.web.context import db_session

blueprint = Blueprint("classes", __name__, url_prefix="/admin/classes")

TYPE_LABELS = {
    "text": _l("Text"),
    "number": _l("Numeric value"),
    "money": _l("Money"),
    "date": _l("Date"),
    "choice": _l("Choice"),
    "tax_id": _l("Tax ID (unified social credit code)"),
    "invoice_code": _l("Invoice code"),
    "invoice_number": _l("Invoice number"),
    "fiscal_period": _l("Fiscal period"),
    "currency": _l("Currency"),
    "flag": _l("Yes/no"),
}
_REFUSALS = {
    "invalid_class_code": _l("must be 2-32 lowercase letters, digits or _, starting with a letter"),
    "invalid_number_code": _l("must be 2-4 capital letters (like HT)"),
    "duplicate_class_code": _l("is already the code of a class"),
    "unknown_rule": _l("is not a retention rule"),
    "unknown_field_type": _l("is not a field type"),
    "invalid_field_name": _l(
        "must be 1-40 lowercase letters, digits or _, starting with a letter (not class or title)"
    ),
    "choices_missing": _l("a choice field needs at least two choices"),
    "is missing": _l("is missing"),
    "is longer than 100 characters": _l("is longer than 100 characters"),
    "unknown_field": _l("is not a field of this class"),
    "field_retired": _l("is a retired field"),
}


def _problems(error: ValidationFailed) -> dict[str, str]:
    """The refusal per form field, in the user's language."""
    if isinstance(error, ClassDefinitionRefused):
        if error.code == "duplicate_number_code":
            text = _("is already used by class %(code)s", code=getattr(error, "used_by", ""))
        elif error.code == "duplicate_field":
            text = _("is already a field of this class")
        elif error.code == "choices_not_allowed":
            text = _("only a choice field has choices")
        elif error.code == "choice_in_use":
            text = ngettext(
                "%(value)s is still the value of %(num)d document not yet declared",
                "%(value)s is still the value of %(num)d documents not yet declared",
                getattr(error, "documents", 0),
                value=error.value,
            )
        elif error.code == "field_governs_others":
            text = _(
                "decides whether these fields apply: %(fields)s",
                fields=", ".join(getattr(error, "governed", ())),
            )
        else:
            text = str(_REFUSALS.get(error.code, error.message))
        return {error.field: text}
    return {name: str(_REFUSALS.get(text, text)) for name, text in error.problems.items()}


def _rules() -> list[str]:
    return sorted(rule.code for rule in current_rule_set(db_session()).rules.values())


def _language() -> str:
    return str(get_locale() or "zh_CN")


@blueprint.route("/", methods=["GET", "POST"])
@login_required
def list_page():
    require(current_user, Capability.MANAGE_CLASSES)
    problems: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        try:
            created = classes.create_class(
                db_session(),
                current_user,
                code=form.get("code", "").strip(),
                name_zh=form.get("name_zh", ""),
                name_en=form.get("name_en", "").strip() or None,
                number_code=form.get("number_code", ""),
                rule=form.get("rule") or None,
            )
        except ValidationFailed as error:
            problems = _problems(error)
        else:
            flash(_("Class %(name)s created.", name=created.name(_language())), "success")
            return redirect(url_for("classes.detail", code=created.code))
    rows = classes.list_classes(db_session(), current_user)
    return render_template(
        "classes/list.html",
        classes=rows,
        rules=_rules(),
        problems=problems,
        form=form,
        language=_language(),
    ), (422 if problems else 200)


def _detail(code: str, problems: dict[str, str], form: Any, status: int = 200, editing: str = ""):
    """``editing``: the field whose edit form was refused (it opens with the problems)."""
    found = classes.get_class(db_session(), code)
    return render_template(
        "classes/detail.html",
        document_class=found,
        rules=_rules(),
        types=ADMIN_TYPES,
        type_labels=TYPE_LABELS,
        problems=problems,
        form=form,
        editing=editing,
        language=_language(),
    ), status


@blueprint.route("/<code>", methods=["GET", "POST"])
@login_required
def detail(code: str):
    require(current_user, Capability.MANAGE_CLASSES)
    if request.method == "GET":
        return _detail(code, {}, {})
    form = request.form
    try:
        classes.edit_class(
            db_session(),
            current_user,
            code,
            name_zh=form.get("name_zh", ""),
            name_en=form.get("name_en", ""),
            number_code=form.get("number_code", ""),
            rule=form.get("rule") or None,
        )
    except ValidationFailed as error:
        return _detail(code, _problems(error), form, 422)
    except ClassRetired:
        abort(409)
    flash(_("Class saved."), "success")
    return redirect(url_for("classes.detail", code=code))


@blueprint.route("/<code>/fields", methods=["POST"])
@login_required
def add_field(code: str):
    require(current_user, Capability.MANAGE_CLASSES)
    form = request.form
    try:
        classes.add_field(
            db_session(),
            current_user,
            code,
            name=form.get("field_name", "").strip(),
            field_type=form.get("field_type", ""),
            required=form.get("required") == "y",
            choices=form.get("choices", "").replace("，", ",").split(","),
            label_zh=form.get("label_zh", "").strip() or None,
            label_en=form.get("label_en", "").strip() or None,
        )
    except ValidationFailed as error:
        problems = {f"field_{name}": text for name, text in _problems(error).items()}
        return _detail(code, problems, form, 422)
    except ClassRetired:
        abort(409)
    flash(_("Field added."), "success")
    return redirect(url_for("classes.detail", code=code))


@blueprint.route("/<code>/fields/<name>", methods=["POST"])
@login_required
def edit_field(code: str, name: str):
    require(current_user, Capability.MANAGE_CLASSES)
    form = request.form
    try:
        classes.edit_field(
            db_session(),
            current_user,
            code,
            name,
            label_zh=form.get("label_zh", ""),
            label_en=form.get("label_en", ""),
            required=form.get("required") == "y",
            choices=form.get("choices", "").replace("，", ",").split(",")
            if "choices" in form
            else None,
        )
    except ValidationFailed as error:
        problems = {f"edit_{part}": text for part, text in _problems(error).items()}
        return _detail(code, problems, form, error.http_status, editing=name)
    except ClassRetired:
        abort(409)
    flash(_("Field saved."), "success")
    return redirect(url_for("classes.detail", code=code))


@blueprint.route("/<code>/fields/<name>/retire", methods=["POST"])
@login_required
def retire_field(code: str, name: str):
    require(current_user, Capability.MANAGE_CLASSES)
    try:
        classes.retire_field(db_session(), current_user, code, name)
    except ValidationFailed as error:
        flash("; ".join(_problems(error).values()), "danger")
        return redirect(url_for("classes.detail", code=code))
    except ClassRetired:
        abort(409)
    flash(
        _("Field retired: documents filed or edited from now on no longer ask for it."), "warning"
    )
    return redirect(url_for("classes.detail", code=code))


@blueprint.route("/<code>/retire", methods=["POST"])
@login_required
def retire(code: str):
    require(current_user, Capability.MANAGE_CLASSES)
    try:
        retired = classes.retire_class(
            db_session(), current_user, code, request.form.get("reason", "")
        )
    except ValidationFailed as error:
        flash("; ".join(_problems(error).values()), "danger")
        return redirect(url_for("classes.detail", code=code))
    except ClassRetired:
        abort(409)
    flash(_("Class %(name)s retired.", name=retired.name(_language())), "warning")
    return redirect(url_for("classes.list_page"))
