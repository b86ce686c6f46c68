"""Monitoring pages. Thin: parse the request, call a selector or service, render."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import PermissionDenied
from tepat.areas.models import Area
from tepat.monitoring.forms import TargetForm
from tepat.monitoring.models import Target
from tepat.monitoring.selectors import (
    WINDOWS,
    FitOptions,
    monitoring_area,
    monitoring_area_search,
    monitoring_areas,
    require_target_editor,
)
from tepat.monitoring.services import ATTRIBUTION, MonitoringError, target_delete, target_save

AREA_CODE = re.compile(r"\d{2}(\.\d{2})?")  # a province or a regency/city


def _no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


@login_required
def region(request: HttpRequest) -> HttpResponse:
    """The deployment region's page; ``?wilayah=CODE`` (the area picker) goes to that area's page."""
    picked = request.GET.get("wilayah", "").strip()
    if AREA_CODE.fullmatch(picked):
        return redirect("monitoring:area", code=picked)
    return area(request, settings.TEPAT_REGION)


@login_required
def area(request: HttpRequest, code: str) -> HttpResponse:
    options = FitOptions.from_query(request.GET)
    try:
        view = monitoring_area(actor=request.user, code=code, options=options)
        choices = monitoring_areas(actor=request.user)
    except PermissionDenied:
        return _no_access(request)
    except Area.DoesNotExist:
        raise Http404(_("Wilayah tidak ditemukan")) from None
    query = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "monitoring/area.html",
        {
            "m": view,
            "choices": choices,
            "query": query,
            "found": monitoring_area_search(actor=request.user, query=query) if query else None,
            "windows": WINDOWS,
            "attribution": ATTRIBUTION,
            "is_region": code == settings.TEPAT_REGION,
        },
    )


@login_required
def target_edit(request: HttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    area = get_object_or_404(Area, code=code)
    try:
        require_target_editor(request.user, area)
    except PermissionDenied:
        return _no_access(request)
    target = get_object_or_404(Target, pk=pk, area=area) if pk is not None else None
    initial = {}
    if target is not None:
        initial = {
            "indicator": target.indicator_id, "comparison": target.comparison, "value": target.value.normalize(),
            "year": target.year, "document": target.document, "baseline_year": target.baseline_year,
            "baseline_value": target.baseline_value.normalize() if target.baseline_value is not None else None,
        }  # fmt: skip
    form = TargetForm(request.POST or None, initial=initial)
    if target is not None:
        for name in ("indicator", "year", "document"):  # what the target is; only its value and baseline change
            form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            target_save(actor=request.user, target=form.target_in(area.code))  # type: ignore[arg-type]
        except MonitoringError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Target tersimpan."))
            return redirect("monitoring:area", code=area.code)
    return render(request, "monitoring/target_form.html", {"area": area, "form": form, "target": target})


@login_required
@require_POST
def target_remove(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    area = get_object_or_404(Area, code=code)
    try:
        require_target_editor(request.user, area)
    except PermissionDenied:
        return _no_access(request)
    target_delete(actor=request.user, target=get_object_or_404(Target, pk=pk, area=area))  # type: ignore[arg-type]
    messages.success(request, _("Target dihapus."))
    return redirect("monitoring:area", code=area.code)
