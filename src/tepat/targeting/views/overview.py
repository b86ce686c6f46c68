"""The overview (official desil against the local score), local score runs, the family table file, PMT uploads."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import Permission, PermissionDenied, has_permission
from tepat.errors import UserError
from tepat.targeting import selectors, services
from tepat.targeting.models import ScoringRun
from tepat.targeting.views.common import actor, is_htmx, no_access


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    view = selectors.targeting_overview(actor=request.user, method=request.GET.get("metode", ""))
    if view is None:
        return no_access(request)
    can_export = has_permission(request.user, Permission.EXPORT_PERSONS)
    return render(request, "targeting/overview.html", {"view": view, "can_export": can_export})


@login_required
@require_POST
def scores(request: HttpRequest) -> HttpResponse:
    try:
        services.scores_compute(actor=actor(request), card=request.POST.get("kartu", ""))
    except PermissionDenied:
        return no_access(request)
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
    if not run.busy and is_htmx(request):
        response["HX-Refresh"] = "true"  # finished: reload the page with the new figures
    return response


MAX_SCORES_UPLOAD = 100 * 1024 * 1024


@login_required
def family_table_export(request: HttpRequest) -> HttpResponse:
    """The family table (no names, no NIK/KK) for `tepat pmt score`; a personal-data export all the same."""
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return no_access(request)
    content, rows = selectors.family_table_csv(actor=request.user)
    services.personal_export_logged(
        actor=actor(request),
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
            actor=actor(request),
            model=request.POST.get("model", ""),
            version=request.POST.get("versi", ""),
            rows=rows,
            welfare=request.POST.get("kesejahteraan") == "1",
        )
    except PermissionDenied:
        return no_access(request)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(n)s skor PMT tersimpan sebagai %(method)s; %(unknown)s baris tidak cocok dengan keluarga aktif.")
            % {"n": stored.stored, "method": stored.method, "unknown": stored.unknown_ids},
        )
    return redirect("targeting:overview")
