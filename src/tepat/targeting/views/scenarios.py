"""Budget scenario pages: the list and the two forms, a run's figures, changing, deleting/archiving, the export."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission
from tepat.errors import UserError
from tepat.registry.services import personal_data_searched
from tepat.targeting import forms, selectors, services
from tepat.targeting.exports import scenario_xlsx
from tepat.targeting.models import RunStatus, Scenario, ScenarioKind
from tepat.targeting.views.common import XLSX, actor, is_htmx, no_access


def _scenario_forms(
    request: HttpRequest, data: Any = None, kind: str = "", scenario: Scenario | None = None
) -> dict[str, Any]:
    """The compare and allocate forms, bound to ``data`` for the chosen ``kind``; started from ``scenario``'s
    inputs when it is being changed, else from the last poverty line used (the line rarely changes)."""
    sources = selectors.welfare_sources()
    lines_initial: list[dict[str, Any]] = []
    if scenario is not None:
        initial, lines_initial = forms.scenario_initial(scenario)
    else:
        last = selectors.scenario_list(actor=request.user).first()
        initial = {"poverty_line": f"{last.poverty_line:.0f}"} if last is not None else {}
    compare = forms.CompareForm(
        data if kind == ScenarioKind.COMPARE else None, sources=sources, prefix="b", initial=initial
    )
    allocate = forms.AllocateForm(
        data if kind == ScenarioKind.ALLOCATE else None, sources=sources, prefix="o", initial=initial
    )
    lines = forms.LineFormSet(data if kind == ScenarioKind.ALLOCATE else None, prefix="p", initial=lines_initial)
    return {"compare_form": compare, "allocate_form": allocate, "lines": lines, "kind": kind or ScenarioKind.COMPARE}


def _inputs(kind: str, context: dict[str, Any]) -> dict[str, Any] | None:
    """The service's keyword arguments from the bound forms, or None when a form has errors."""
    if kind == ScenarioKind.ALLOCATE:
        form, lines = context["allocate_form"], context["lines"]
        if not (form.is_valid() and lines.is_valid()):
            return None
        return {
            **_common(form.cleaned_data),
            "max_programs_per_family": form.cleaned_data["max_programs_per_family"],
            "lines": [
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
        }
    form = context["compare_form"]
    if not form.is_valid():
        return None
    d = form.cleaned_data
    return {
        **_common(d),
        "program": d["program"],
        "budget": d["budget"],
        "cost_per_family": d["cost_per_family"],
        "monthly_value": d["monthly_value"],
        "rule_a": d["rule_a"],
        "rule_b": d["rule_b"],
        "priority": d["priority"],
    }


def _common(data: dict[str, Any]) -> dict[str, Any]:
    line: Decimal = data["poverty_line"]
    return {
        "name": data["name"],
        "poverty_line": line,
        "welfare_source": data["welfare_source"],
        "desil_cuts": data["desil_cuts"],
    }


@login_required
def scenarios(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_AGGREGATES):
        return no_access(request)
    archived = request.GET.get("arsip") == "1"
    context: dict[str, Any] = {
        "scenarios": selectors.scenario_list(actor=request.user, archived=archived)[:100],
        "archived": archived,
        "archived_count": selectors.scenario_list(actor=request.user, archived=True).count(),
        "can_edit": selectors.can_edit_rules(request.user),
    }
    if context["can_edit"] and not archived:
        context.update(_scenario_forms(request))
    return render(request, "targeting/scenarios.html", context)


@login_required
@require_POST
def scenario_new(request: HttpRequest) -> HttpResponse:
    if not selectors.can_edit_rules(request.user):
        return no_access(request)
    kind = request.POST.get("jenis", ScenarioKind.COMPARE)
    if kind not in ScenarioKind.values:
        kind = ScenarioKind.COMPARE
    context = _scenario_forms(request, request.POST, kind)
    context.update({"scenarios": selectors.scenario_list(actor=request.user)[:100], "can_edit": True})
    inputs = _inputs(kind, context)
    if inputs is None:
        return render(request, "targeting/scenarios.html", context, status=400)
    try:
        scenario = services.scenario_create(actor=actor(request), kind=kind, **inputs)
    except PermissionDenied:
        return no_access(request)
    except UserError as exc:
        context["error"] = str(exc)
        return render(request, "targeting/scenarios.html", context, status=400)
    return redirect("targeting:scenario", pk=scenario.pk)


def _scenario(request: HttpRequest, pk: int) -> Scenario:
    try:
        return selectors.scenario_get(actor=request.user, pk=pk)
    except Scenario.DoesNotExist:
        raise Http404 from None


@login_required
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a scenario's inputs and run it again. A scenario whose families were exported is not changed: the
    same form then saves the changed inputs as a new scenario, and the exported one stays as it was."""
    if not selectors.can_edit_rules(request.user):
        return no_access(request)
    scenario = _scenario(request, pk)
    refused = services.scenario_editable(scenario)
    if refused in ("archived", "running"):
        messages.error(request, _("Skenario ini tidak dapat diubah sekarang (diarsipkan atau sedang dihitung)."))
        return redirect("targeting:scenario", pk=pk)
    context = _scenario_forms(request, request.POST if request.method == "POST" else None, scenario.kind, scenario)
    context.update({"scenario": scenario, "as_copy": refused == "exported"})
    if request.method != "POST":
        return render(request, "targeting/scenario_edit.html", context)
    inputs = _inputs(scenario.kind, context)
    if inputs is None:
        return render(request, "targeting/scenario_edit.html", context, status=400)
    try:
        if refused == "exported":
            saved = services.scenario_create(actor=actor(request), kind=scenario.kind, **inputs)
            messages.success(request, _("Tersimpan sebagai skenario baru; skenario yang sudah diekspor tidak diubah."))
        else:
            saved = services.scenario_update(actor=actor(request), scenario=scenario, **inputs)
            messages.success(request, _("Skenario diubah dan dihitung ulang."))
    except PermissionDenied:
        return no_access(request)
    except UserError as exc:
        context["error"] = str(exc)
        return render(request, "targeting/scenario_edit.html", context, status=400)
    return redirect("targeting:scenario", pk=saved.pk)


@login_required
@require_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    name = scenario.name
    try:
        outcome = services.scenario_delete(actor=actor(request), scenario=scenario)
    except PermissionDenied:
        return no_access(request)
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("targeting:scenario", pk=pk)
    if outcome == "archived":
        messages.success(
            request,
            _("Skenario “%(name)s” diarsipkan, bukan dihapus: daftarnya sudah pernah diekspor.") % {"name": name},
        )
        return redirect("targeting:scenario", pk=pk)
    messages.success(request, _("Skenario “%(name)s” dihapus.") % {"name": name})
    return redirect("targeting:scenarios")


@login_required
@require_POST
def scenario_restore(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    try:
        services.scenario_restore(actor=actor(request), scenario=scenario)
    except PermissionDenied:
        return no_access(request)
    messages.success(request, _("Skenario dipulihkan."))
    return redirect("targeting:scenario", pk=pk)


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    if is_htmx(request) and request.GET.get("progres"):
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
    can_edit = selectors.can_edit_rules(request.user)
    return render(
        request,
        "targeting/scenario.html",
        {
            "view": view,
            "scenario": scenario,
            "done": RunStatus.DONE,
            "can_export": has_permission(request.user, Permission.EXPORT_PERSONS),
            "can_edit": can_edit,
            "editable": services.scenario_editable(scenario) if can_edit else "",
        },
    )


@login_required
def scenario_export(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return no_access(request)
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
        actor=actor(request),
        target=scenario,
        purpose="ekspor skenario anggaran",
        rows=rows,
        detail={"inputs": services.scenario_inputs(scenario)},
        request=request,
    )
    response = HttpResponse(scenario_xlsx(view, lists=lists, assigned=assigned), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="skenario-{scenario.pk}.xlsx"'
    return response
