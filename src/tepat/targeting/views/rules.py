"""Eligibility rule pages: the list, writing and changing a rule (checked live), dry runs, export, delete/archive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission
from tepat.engine.rules import RuleError
from tepat.errors import UserError
from tepat.registry.models import Family
from tepat.registry.services import personal_data_searched
from tepat.targeting import forms, selectors, services
from tepat.targeting.exports import priority_list_xlsx
from tepat.targeting.models import EligibilityRule
from tepat.targeting.table import compile_registry_rule
from tepat.targeting.texts import rule_problem
from tepat.targeting.views.common import XLSX, actor, is_htmx, no_access


def _rule_problem(text: str, exc: RuleError) -> dict[str, Any]:
    """The message and the rule text cut around the offending span, so the page can mark where it is."""
    context: dict[str, Any] = {"message": rule_problem(exc), "code": exc.code}
    if exc.position is not None:
        start = min(exc.position, len(text))
        end = max(start + 1, min(exc.end or start + 1, len(text)))
        context.update(before=text[:start], marked=text[start:end] or " ", after=text[end:], position=start + 1)
    return context


def _rule_context(
    request: HttpRequest, form: forms.RuleForm, rule: EligibilityRule | None, problem: dict[str, Any] | None = None
) -> dict[str, Any]:
    can_edit = selectors.can_edit_rules(request.user)
    return {
        "form": form,
        "rule": rule,
        "problem": problem,
        "fields": selectors.rule_fields(),
        "can_edit": can_edit and (rule is None or rule.archived_at is None),
        "can_delete": can_edit and rule is not None,
        "in_use": rule is not None and services.rule_in_use(rule),
        "versions": selectors.rule_versions(actor=request.user, rule=rule) if rule is not None else [],
        "can_export": has_permission(request.user, Permission.EXPORT_PERSONS),
    }


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_AGGREGATES):
        return no_access(request)
    archived = request.GET.get("arsip") == "1"
    return render(
        request,
        "targeting/rules.html",
        {
            "rules": selectors.rule_list(actor=request.user, archived=archived),
            "archived": archived,
            "archived_count": selectors.rule_list(actor=request.user, archived=True).count(),
            "can_edit": selectors.can_edit_rules(request.user),
        },
    )


def _save_rule(request: HttpRequest, rule: EligibilityRule | None) -> HttpResponse:
    form = forms.RuleForm(request.POST)
    if not form.is_valid():
        return render(request, "targeting/rule.html", _rule_context(request, form, rule), status=400)
    data = form.cleaned_data
    try:
        saved = services.rule_save(
            actor=actor(request),
            rule=rule,
            name=data["name"],
            expression=data["expression"],
            program=data["program"],
            note=data["note"],
        )
    except PermissionDenied:
        return no_access(request)
    except RuleError as exc:
        return render(
            request,
            "targeting/rule.html",
            _rule_context(request, form, rule, _rule_problem(data["expression"], exc)),
            status=400,
        )
    except UserError as exc:
        form.add_error("name", str(exc))
        return render(request, "targeting/rule.html", _rule_context(request, form, rule), status=400)
    messages.success(request, _("Aturan tersimpan (versi %(version)s).") % {"version": saved.version})
    return redirect("targeting:rule", pk=saved.pk)


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_edit_rules(request.user):
        return no_access(request)
    if request.method == "POST":
        return _save_rule(request, None)
    initial = {"expression": request.GET.get("ekspresi", "")}
    return render(request, "targeting/rule.html", _rule_context(request, forms.RuleForm(initial=initial), None))


def _rule(request: HttpRequest, pk: int) -> EligibilityRule:
    try:
        return selectors.rule_get(actor=request.user, pk=pk)
    except EligibilityRule.DoesNotExist:
        raise Http404 from None


@login_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    if request.method == "POST":
        if not selectors.can_edit_rules(request.user):
            return no_access(request)
        return _save_rule(request, rule)
    form = forms.RuleForm(
        initial={"name": rule.name, "program": rule.program, "expression": rule.expression, "note": rule.note}
    )
    return render(request, "targeting/rule.html", _rule_context(request, form, rule))


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete, or archive when a scenario or an export refers to the rule (the service decides, and says which)."""
    rule = _rule(request, pk)
    name = rule.name
    try:
        outcome = services.rule_delete(actor=actor(request), rule=rule)
    except PermissionDenied:
        return no_access(request)
    if outcome == "archived":
        messages.success(
            request,
            _("Aturan “%(name)s” diarsipkan, bukan dihapus: skenario atau ekspor masih merujuknya.") % {"name": name},
        )
        return redirect("targeting:rule", pk=pk)
    messages.success(request, _("Aturan “%(name)s” dihapus.") % {"name": name})
    return redirect("targeting:rules")


@login_required
@require_POST
def rule_restore(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    try:
        services.rule_restore(actor=actor(request), rule=rule)
    except PermissionDenied:
        return no_access(request)
    except RuleError as exc:
        messages.error(request, rule_problem(exc))
    else:
        messages.success(request, _("Aturan dipulihkan."))
    return redirect("targeting:rule", pk=pk)


@login_required
@require_POST
def rule_check(request: HttpRequest) -> HttpResponse:
    """Live check while typing (htmx): the fields the rule reads, or the problem marked at its position."""
    text = request.POST.get("expression", "")
    context: dict[str, Any] = {"text": text}
    if text.strip():
        try:
            rule = compile_registry_rule(text)
        except RuleError as exc:
            context["problem"] = _rule_problem(text, exc)
        else:
            context["fields_used"] = rule.fields
    return render(request, "targeting/_rule_check.html", context)


@login_required
def dry_run(request: HttpRequest) -> HttpResponse:
    """A rule over the families of the user's area, before anyone is put on a list (GET: ekspresi, keluarga)."""
    text = request.GET.get("ekspresi") or request.GET.get("expression", "")  # the editor sends its field
    context: dict[str, Any] = {"text": text}
    try:
        result = selectors.rule_dry_run(actor=request.user, expression=text)
    except RuleError as exc:
        context["problem"] = _rule_problem(text, exc)
        result = None
    else:
        if result is None:
            return no_access(request)
    context["result"] = result
    if result is not None and result.personal and (result.examples_in or result.examples_out):
        personal_data_searched(
            actor=request.user,
            query={"aturan": text, "uji_coba": True},
            results=len(result.examples_in) + len(result.examples_out),
            request=request,
        )
    which = request.GET.get("keluarga", "").strip()
    if which and result is not None and result.personal:
        context["checked"] = which
        family = selectors.family_by_kk(actor=request.user, kk=which) if len(which) > 9 else None
        pk = family.pk if family is not None else (int(which) if which.isdigit() and len(which) <= 9 else None)
        try:
            if pk is None:
                raise Family.DoesNotExist
            context["explained"] = selectors.rule_explain_family(actor=request.user, expression=text, family_pk=pk)
        except Family.DoesNotExist:
            context["not_found"] = True
    template = "targeting/_dry_run.html" if is_htmx(request) else "targeting/dry_run.html"
    return render(request, template, context)


@login_required
def rule_export(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return no_access(request)
    rule = _rule(request, pk)
    rows = selectors.rule_priority_list(actor=request.user, expression=rule.expression)
    services.personal_export_logged(
        actor=actor(request),
        target=rule,
        purpose="daftar prioritas aturan",
        rows=len(rows),
        detail={"expression": rule.expression, "version": rule.version},
        request=request,
    )
    response = HttpResponse(priority_list_xlsx(rule, rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="daftar-prioritas-{rule.pk}.xlsx"'
    return response
