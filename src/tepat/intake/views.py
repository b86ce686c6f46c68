"""Import pages: list and upload, the batch page (progress, report, preview, commit, rollback), downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.permissions import Permission, has_permission
from tepat.errors import UserError
from tepat.intake import tasks
from tepat.intake.columns import FIELD_LABELS
from tepat.intake.exports import TEMPLATES, rejected_rows_xlsx, template_xlsx
from tepat.intake.kinds import KINDS
from tepat.intake.messages import issue_message
from tepat.intake.models import BatchStatus, ImportBatch, Source, SourceKind
from tepat.intake.selectors import batch_issues, batch_list
from tepat.intake.services import import_map_columns, import_rollback, import_stage, missing_labels

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 250 * 1024 * 1024


def _can_import(request: HttpRequest) -> bool:
    return has_permission(request.user, Permission.IMPORT_DATA)


@login_required
def batches(request: HttpRequest) -> HttpResponse:
    if not (_can_import(request) or has_permission(request.user, Permission.VIEW_AUDIT)):
        return render(request, "web/no_access.html", status=403)
    if request.method == "POST":
        return _upload(request)
    page = Paginator(batch_list(actor=request.user), 25).get_page(request.GET.get("page"))
    kinds = [(code, SourceKind(code).label) for code in KINDS]
    sources = Source.objects.order_by("name").values_list("name", flat=True)
    return render(request, "intake/batches.html", {"page": page, "kinds": kinds, "sources": sources,
                                                   "can_import": _can_import(request)})  # fmt: skip


def _upload(request: HttpRequest) -> HttpResponse:
    if not _can_import(request):
        return render(request, "web/no_access.html", status=403)
    upload = request.FILES.get("berkas")
    kind = request.POST.get("jenis", "")
    source_name = request.POST.get("sumber", "").strip()
    if upload is None or kind not in KINDS or not source_name:
        messages.error(request, _("Pilih berkas, jenis daftar dan sumber data."))
        return redirect("intake:batches")
    if upload.size and upload.size > MAX_UPLOAD:
        messages.error(request, _("Berkas lebih besar dari 250 MB. Pecah berkasnya atau simpan sebagai CSV."))
        return redirect("intake:batches")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        try:
            batch = import_stage(actor=request.user, path=path, kind=kind, source_name=source_name,  # type: ignore[arg-type]
                                 file_name=Path(upload.name or "berkas").name,
                                 program=request.POST.get("program", ""),
                                 period=request.POST.get("period", ""))  # fmt: skip
        except UserError as exc:
            messages.error(request, str(exc))
            return redirect("intake:batches")
    if batch.status == BatchStatus.UPLOADED:
        tasks.validate_batch.enqueue(batch.pk)
    return redirect("intake:batch", pk=batch.pk)


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    batch = batch_list(actor=request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404(_("Batch impor tidak ditemukan"))
    return batch


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    severity = request.GET.get("jenis", "error")
    issues = Paginator(batch_issues(actor=request.user, batch=batch, severity=severity), 50).get_page(
        request.GET.get("page")
    )
    rows = [{"issue": i, "message": issue_message(i.code)} for i in issues]
    by_index = {index: name for name, index in batch.mapping.items()}
    columns = [{"index": i, "header": h, "field": by_index.get(i, "")} for i, h in enumerate(batch.columns)]
    context = {"columns": columns, "fields": sorted(FIELD_LABELS.items(), key=lambda item: str(item[1])),
               "missing": missing_labels(batch.kind, batch.mapping) if batch.columns else [],
               "can_map": bool(batch.columns) and _can_import(request)
               and batch.status in (BatchStatus.FAILED, BatchStatus.VALIDATED),
               "batch": batch, "issues": issues, "rows": rows, "severity": severity, "can_import": _can_import(request),
               "busy": batch.status in (BatchStatus.UPLOADED, BatchStatus.VALIDATING, BatchStatus.COMMITTING)
               or (batch.status == BatchStatus.VALIDATED and batch.progress_stage == "queued")}  # fmt: skip
    if context["busy"]:
        batch.read_live_progress()
    if request.htmx and request.GET.get("progres"):  # type: ignore[attr-defined]
        response = render(request, "intake/_progress.html", context)
        if not context["busy"]:
            response["HX-Refresh"] = "true"  # finished: reload the whole page with the report
        return response
    return render(request, "intake/batch.html", context)


@login_required
@require_POST
def batch_commit(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if not _can_import(request) or batch.status != BatchStatus.VALIDATED:
        messages.error(request, _("Batch ini tidak dapat disimpan."))
        return redirect("intake:batch", pk=pk)
    valid_only = request.POST.get("pilihan") == "valid"
    if batch.counts.get("rejected_rows") and not valid_only:
        messages.error(request, _("Ada baris yang ditolak: pilih simpan baris yang valid, atau perbaiki berkas."))
        return redirect("intake:batch", pk=pk)
    ImportBatch.objects.filter(pk=pk).update(progress_stage="queued", progress_done=0, progress_total=0)
    batch.clear_live_progress()  # the validation's: the page shows the queue until the worker starts
    tasks.commit_batch.enqueue(pk, request.user.pk, valid_only)
    return redirect("intake:batch", pk=pk)


@login_required
@require_POST
def batch_columns(request: HttpRequest, pk: int) -> HttpResponse:
    """The user maps the file's columns; the choices are remembered for the source and validation runs again."""
    batch = _batch(request, pk)
    choices = {}
    for index in range(len(batch.columns)):
        value = request.POST.get(f"kolom_{index}")
        if value is not None:
            choices[index] = value
    sheet = request.POST.get("lembar") or None
    try:
        import_map_columns(actor=request.user, batch=batch, choices=choices, sheet=sheet)  # type: ignore[arg-type]
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("intake:batch", pk=pk)
    batch.clear_live_progress()
    tasks.validate_batch.enqueue(batch.pk)
    return redirect("intake:batch", pk=pk)


@login_required
@require_POST
def batch_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        import_rollback(actor=request.user, batch=batch)  # type: ignore[arg-type]
        messages.success(request, _("Impor dibatalkan: data registri dikembalikan seperti sebelum impor ini."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("intake:batch", pk=pk)


@login_required
def batch_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    response = HttpResponse(rejected_rows_xlsx(batch), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="ditolak-{batch.pk}-{Path(batch.file_name).stem}.xlsx"'
    return response


@login_required
def template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in TEMPLATES:
        raise Http404
    response = HttpResponse(template_xlsx(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="templat-{kind}.xlsx"'
    return response
