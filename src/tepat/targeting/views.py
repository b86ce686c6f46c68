"""Targeting pages: overview (official vs local), rules with dry runs, budget scenarios, exports. Thin."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission
from tepat.engine.rules import RuleError
from tepat.errors import UserError
from tepat.registry.models import Family
from tepat.registry.services import personal_data_searched
from tepat.targeting import forms, selectors, services
from tepat.targeting.exports import priority_list_xlsx, scenario_xlsx
from tepat.targeting.models import EligibilityRule, RunStatus, Scenario, ScenarioKind, ScoringRun
from tepat.targeting.table import compile_registry_rule

if TYPE_CHECKING:
    from tepat.accounts.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast("User", request.user)


def _no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# -- overview -------------------------------------------------------------------------------------------------------
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    view = selectors.targeting_overview(actor=request.user, method=request.GET.get("metode", ""))
    if view is None:
        return _no_access(request)
    can_export = has_permission(request.user, Permission.EXPORT_PERSONS)
    return render(request, "targeting/overview.html", {"view": view, "can_export": can_export})


@login_required
@require_POST
def scores(request: HttpRequest) -> HttpResponse:
    try:
        services.scores_compute(actor=_actor(request), card=request.POST.get("kartu", ""))
    except PermissionDenied:
        return _no_access(request)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Perhitungan skor lokal masuk antrean."))
    return redirect("targeting:overview")


@login_required
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = selectors.scoring_run_get(actor=request.user, pk=pk)
    except ScoringRun.DoesNotExist:
        raise Http404 from None
    response = render(request, "targeting/_run_progress.html", {"run": run})
    if not run.busy and _htmx(request):
        response["HX-Refresh"] = "true"  # finished: reload the page with the new figures
    return response


# -- rules ------------------------------------------------------------------------------------------------------------
def _rule_problem(text: str, exc: RuleError) -> dict[str, Any]:
    """The message and the rule text cut around the offending span, so the page can mark where it is."""
    context: dict[str, Any] = {"message": exc.message(get_language() or "id"), "code": exc.code}
    if exc.position is not None:
        start = min(exc.position, len(text))
        end = max(start + 1, min(exc.end or start + 1, len(text)))
        context.update(before=text[:start], marked=text[start:end] or " ", after=text[end:], position=start + 1)
    return context


def _rule_context(
    request: HttpRequest, form: forms.RuleForm, rule: EligibilityRule | None, problem: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "form": form,
        "rule": rule,
        "problem": problem,
        "fields": selectors.rule_fields(),
        "can_edit": selectors.can_edit_rules(request.user),
        "can_export": has_permission(request.user, Permission.EXPORT_PERSONS),
    }


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_AGGREGATES):
        return _no_access(request)
    return render(
        request,
        "targeting/rules.html",
        {"rules": selectors.rule_list(actor=request.user), "can_edit": selectors.can_edit_rules(request.user)},
    )


def _save_rule(request: HttpRequest, rule: EligibilityRule | None) -> HttpResponse:
    form = forms.RuleForm(request.POST)
    if not form.is_valid():
        return render(request, "targeting/rule.html", _rule_context(request, form, rule), status=400)
    data = form.cleaned_data
    try:
        saved = services.rule_save(
            actor=_actor(request),
            rule=rule,
            name=data["name"],
            expression=data["expression"],
            program=data["program"],
            note=data["note"],
        )
    except PermissionDenied:
        return _no_access(request)
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
    messages.success(request, _("Aturan tersimpan."))
    return redirect("targeting:rule", pk=saved.pk)


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_edit_rules(request.user):
        return _no_access(request)
    if request.method == "POST":
        return _save_rule(request, None)
    initial = {"expression": request.GET.get("ekspresi", "")}
    return render(request, "targeting/rule.html", _rule_context(request, forms.RuleForm(initial=initial), None))


@login_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rule = selectors.rule_get(actor=request.user, pk=pk)
    except EligibilityRule.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        if not selectors.can_edit_rules(request.user):
            return _no_access(request)
        return _save_rule(request, rule)
    form = forms.RuleForm(
        initial={"name": rule.name, "program": rule.program, "expression": rule.expression, "note": rule.note}
    )
    return render(request, "targeting/rule.html", _rule_context(request, form, rule))


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
            return _no_access(request)
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
    template = "targeting/_dry_run.html" if _htmx(request) else "targeting/dry_run.html"
    return render(request, template, context)


@login_required
def rule_export(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return _no_access(request)
    try:
        rule = selectors.rule_get(actor=request.user, pk=pk)
    except EligibilityRule.DoesNotExist:
        raise Http404 from None
    rows = selectors.rule_priority_list(actor=request.user, expression=rule.expression)
    services.personal_export_logged(
        actor=_actor(request),
        target=rule,
        purpose="daftar prioritas aturan",
        rows=len(rows),
        detail={"expression": rule.expression},
        request=request,
    )
    response = HttpResponse(priority_list_xlsx(rule, rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="daftar-prioritas-{rule.pk}.xlsx"'
    return response


# -- scenarios --------------------------------------------------------------------------------------------------------
def _scenario_forms(request: HttpRequest, data: Any = None, kind: str = "") -> dict[str, Any]:
    sources = selectors.welfare_sources()
    last = selectors.scenario_list(actor=request.user).first()
    initial = {"poverty_line": f"{last.poverty_line:.0f}"} if last is not None else {}  # the line rarely changes
    compare = forms.CompareForm(
        data if kind == ScenarioKind.COMPARE else None, sources=sources, prefix="b", initial=initial
    )
    allocate = forms.AllocateForm(
        data if kind == ScenarioKind.ALLOCATE else None, sources=sources, prefix="o", initial=initial
    )
    lines = forms.LineFormSet(data if kind == ScenarioKind.ALLOCATE else None, prefix="p")
    return {"compare_form": compare, "allocate_form": allocate, "lines": lines, "kind": kind or ScenarioKind.COMPARE}


@login_required
def scenarios(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_AGGREGATES):
        return _no_access(request)
    context: dict[str, Any] = {
        "scenarios": selectors.scenario_list(actor=request.user)[:100],
        "can_edit": selectors.can_edit_rules(request.user),
    }
    if context["can_edit"]:
        context.update(_scenario_forms(request))
    return render(request, "targeting/scenarios.html", context)


@login_required
@require_POST
def scenario_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_edit_rules(request.user):
        return _no_access(request)
    kind = request.POST.get("jenis", ScenarioKind.COMPARE)
    context = _scenario_forms(request, request.POST, kind)
    context.update({"scenarios": selectors.scenario_list(actor=request.user)[:100], "can_edit": True})
    common: dict[str, Any]
    try:
        if kind == ScenarioKind.ALLOCATE:
            form, lines = context["allocate_form"], context["lines"]
            if not (form.is_valid() and lines.is_valid()):
                return render(request, "targeting/scenarios.html", context, status=400)
            common = _common(form.cleaned_data)
            scenario = services.scenario_create(
                actor=_actor(request),
                kind=kind,
                max_programs_per_family=form.cleaned_data["max_programs_per_family"],
                lines=[
                    services.LineInput(
                        code=d["code"],
                        rule=d["rule"],
                        budget=d["budget"],
                        cost_per_family=d["cost_per_family"],
                        monthly_value=d["monthly_value"],
                        program=d["program"],
                    )
                    for d in lines.cleaned_data
                    if d.get("used")
                ],
                **common,
            )
        else:
            form = context["compare_form"]
            if not form.is_valid():
                return render(request, "targeting/scenarios.html", context, status=400)
            d = form.cleaned_data
            scenario = services.scenario_create(
                actor=_actor(request),
                kind=ScenarioKind.COMPARE,
                program=d["program"],
                budget=d["budget"],
                cost_per_family=d["cost_per_family"],
                monthly_value=d["monthly_value"],
                rule_a=d["rule_a"],
                rule_b=d["rule_b"],
                priority=d["priority"],
                **_common(d),
            )
    except PermissionDenied:
        return _no_access(request)
    except UserError as exc:
        context["error"] = str(exc)
        return render(request, "targeting/scenarios.html", context, status=400)
    return redirect("targeting:scenario", pk=scenario.pk)


def _common(data: dict[str, Any]) -> dict[str, Any]:
    line: Decimal = data["poverty_line"]
    return {
        "name": data["name"],
        "poverty_line": line,
        "welfare_source": data["welfare_source"],
        "desil_cuts": data["desil_cuts"],
    }


def _scenario(request: HttpRequest, pk: int) -> Scenario:
    try:
        return selectors.scenario_get(actor=request.user, pk=pk)
    except Scenario.DoesNotExist:
        raise Http404 from None


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    if _htmx(request) and request.GET.get("progres"):
        response = render(request, "targeting/_scenario_progress.html", {"scenario": scenario})
        if not scenario.busy:
            response["HX-Refresh"] = "true"
        return response
    view = selectors.scenario_view(actor=request.user, scenario=scenario)
    if view.list_a or view.list_b or view.assigned:
        personal_data_searched(
            actor=request.user,
            query={"skenario": scenario.pk},
            results=len(view.list_a) + len(view.list_b) + len(view.assigned),
            request=request,
        )
    return render(
        request,
        "targeting/scenario.html",
        {
            "view": view,
            "scenario": scenario,
            "done": RunStatus.DONE,
            "can_export": has_permission(request.user, Permission.EXPORT_PERSONS),
        },
    )


@login_required
def scenario_export(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return _no_access(request)
    scenario = _scenario(request, pk)
    if scenario.status != RunStatus.DONE:
        raise Http404
    view = selectors.scenario_view(actor=request.user, scenario=scenario, shown=0)
    results = view.results
    lists: dict[str, Any] = {}
    for side, title in (("a", _("Daftar aturan A")), ("b", _("Daftar aturan B"))):
        if results.get(side):
            lists[title] = selectors.family_lines(actor=request.user, family_ids=results[side]["order"])
    assigned: list[Any] = []
    if results.get("assigned"):
        lines = {
            line.pk: line
            for line in selectors.family_lines(
                actor=request.user, family_ids=[pk for pk, _codes in results["assigned"]]
            )
        }
        assigned = [(lines[pk], codes) for pk, codes in results["assigned"] if pk in lines]
    rows = sum(len(v) for v in lists.values()) + len(assigned)
    services.personal_export_logged(
        actor=_actor(request),
        target=scenario,
        purpose="ekspor skenario anggaran",
        rows=rows,
        request=request,
    )
    response = HttpResponse(scenario_xlsx(view, lists=lists, assigned=assigned), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="skenario-{scenario.pk}.xlsx"'
    return response


# -- PMT --------------------------------------------------------------------------------------------------------------
MAX_SCORES_UPLOAD = 100 * 1024 * 1024


@login_required
def family_table_export(request: HttpRequest) -> HttpResponse:
    """The family table (no names, no NIK/KK) for `tepat pmt score`; a personal-data export all the same."""
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return _no_access(request)
    content, rows = selectors.family_table_csv(actor=request.user)
    services.personal_export_logged(
        actor=_actor(request),
        target_type="registry.family",
        purpose="tabel keluarga untuk PMT",
        rows=rows,
        request=request,
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tabel-keluarga.csv"'
    return response


@login_required
@require_POST
def pmt_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("berkas")
    if upload is None or (upload.size or 0) > MAX_SCORES_UPLOAD:
        messages.error(request, _("Pilih berkas skor (CSV keluaran `tepat pmt score`, paling besar 100 MB)."))
        return redirect("targeting:overview")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        messages.error(request, _("Berkas skor harus CSV dengan pengodean UTF-8."))
        return redirect("targeting:overview")
    rows = list(csv.DictReader(io.StringIO(text)))
    try:
        stored = services.pmt_scores_store(
            actor=_actor(request),
            model=request.POST.get("model", ""),
            version=request.POST.get("versi", ""),
            rows=rows,
            welfare=request.POST.get("kesejahteraan") == "1",
        )
    except PermissionDenied:
        return _no_access(request)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(n)s skor PMT tersimpan sebagai %(method)s; %(unknown)s baris tidak cocok dengan keluarga aktif.")
            % {"n": stored.stored, "method": stored.method, "unknown": stored.unknown_ids},
        )
    return redirect("targeting:overview")
