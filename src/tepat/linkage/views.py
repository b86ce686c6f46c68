"""Linkage and data-quality pages: the review queue with merges and undo, findings by village and program, and the
checklist of a recipient list before it is finalised."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, has_permission
from tepat.accounts.services import audit
from tepat.errors import UserError
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.linkage import tasks
from tepat.linkage.exports import checklist_xlsx, quality_xlsx
from tepat.linkage.models import MatchPair, PersonMerge
from tepat.linkage.selectors import (
    CATEGORIES,
    CLEAN_COLUMNS,
    cleaned_person_rows,
    latest_run,
    merge_list,
    program_checklist,
    quality_by_area,
    quality_by_program,
    review_queue,
)
from tepat.linkage.services import linkage_run_create, merge_undo, pair_decide

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _denied(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


@login_required
def review(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_PERSONS):
        return _denied(request)
    rows, total = review_queue(actor=request.user)
    if rows:
        audit(request.user, AuditAction.PERSONAL_VIEW, target_type="linkage.matchpair", purpose="tinjau calon ganda",
              detail={"pairs": [r.pair.pk for r in rows]}, request=request)  # fmt: skip
    context = {"run": latest_run(), "rows": rows, "total": total, "merges": merge_list(actor=request.user),
               "can_decide": has_permission(request.user, Permission.EDIT_REGISTRY)}  # fmt: skip
    template = "linkage/_run.html" if request.htmx and request.GET.get("bagian") == "proses" else "linkage/review.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    try:
        new = linkage_run_create(actor=request.user)  # type: ignore[arg-type]
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        tasks.run_linkage.enqueue(new.pk)
        messages.success(request, _("Pencocokan dimulai di latar belakang."))
    return redirect("linkage:review")


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    pair = MatchPair.objects.filter(pk=pk).first()
    visible = {r.pair.pk for r in review_queue(actor=request.user, limit=10_000)[0]}
    if pair is None or pair.pk not in visible:
        raise Http404
    try:
        pair_decide(actor=request.user, pair=pair, same_person=request.POST.get("sama") == "1")  # type: ignore[arg-type]
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("linkage:review")


@login_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = PersonMerge.objects.filter(pk=pk).first()
    if merge is None or merge.pk not in {m.pk for m in merge_list(actor=request.user, limit=100_000)}:
        raise Http404
    try:
        merge_undo(actor=request.user, merge=merge)  # type: ignore[arg-type]
        messages.success(request, _("Penggabungan dibatalkan."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("linkage:review")


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    found = quality_by_area(actor=request.user)
    if found is None:
        return _denied(request)
    total, rows = found
    programs = quality_by_program(actor=request.user)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(quality_xlsx(total, rows, programs), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="temuan-kualitas-data.xlsx"'
        return response
    batches = ImportBatch.objects.filter(kind="program", status=BatchStatus.COMMITTED).order_by("-created_at")[:50]
    return render(request, "linkage/quality.html", {
        "total": total, "rows": rows, "programs": programs, "categories": CATEGORIES, "batches": batches,
        "can_list": has_permission(request.user, Permission.VIEW_PERSONS),
    })  # fmt: skip


@login_required
def cleaned(request: HttpRequest) -> HttpResponse:
    """The cleaned registry as CSV in the import template's columns (an audited export of personal data)."""
    import csv

    rows = cleaned_person_rows(actor=request.user)
    if rows is None:
        return _denied(request)
    audit(request.user, AuditAction.PERSONAL_EXPORT, target_type="registry.person", purpose="daftar bersih",
          detail={"rows": len(rows)}, request=request)  # fmt: skip
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="daftar-bersih.csv"'
    writer = csv.writer(response)
    writer.writerow(CLEAN_COLUMNS)
    writer.writerows(rows)
    return response


@login_required
def checklist(request: HttpRequest, batch_pk: int) -> HttpResponse:
    batch = ImportBatch.objects.filter(pk=batch_pk, kind="program").first()
    rows = program_checklist(actor=request.user, batch_id=batch_pk) if batch else None
    if batch is None:
        raise Http404
    if rows is None:
        return _denied(request)
    flagged = [r for r in rows if r.findings]
    if request.GET.get("format") == "xlsx":
        if not has_permission(request.user, Permission.EXPORT_PERSONS):
            return _denied(request)
        audit(request.user, AuditAction.PERSONAL_EXPORT, target=batch, purpose="periksa daftar penerima",
              detail={"rows": len(rows)}, request=request)  # fmt: skip
        response = HttpResponse(checklist_xlsx(rows), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="periksa-{batch.pk}.xlsx"'
        return response
    audit(request.user, AuditAction.PERSONAL_VIEW, target=batch, purpose="periksa daftar penerima",
          detail={"rows": len(rows)}, request=request)  # fmt: skip
    show_all = request.GET.get("semua") == "1"
    return render(request, "linkage/checklist.html", {
        "batch": batch, "rows": (rows if show_all else flagged)[:500], "total": len(rows), "flagged": len(flagged),
        "show_all": show_all,
    })  # fmt: skip
