"""Village proposal pages: the list by status with decisions, and the export for SIKS-NG."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, has_permission
from tepat.accounts.services import audit
from tepat.errors import UserError
from tepat.registry.models import Family
from tepat.registry.selectors import family_get
from tepat.verification.exports import proposals_xlsx
from tepat.verification.models import NEXT_STATUS, ProposalAction, ProposalStatus
from tepat.verification.selectors import proposal_list, proposal_rows, proposals_visible
from tepat.verification.services import field_visit_record, proposal_decide

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in ("status", "action", "village")}


@login_required
def proposals(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_PERSONS):
        return render(request, "web/no_access.html", status=403)
    filters = _filters(request)
    qs, counts = proposal_list(actor=request.user, **filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = proposal_rows(request.user, list(page.object_list))
    if rows:
        audit(
            request.user,
            AuditAction.PERSONAL_VIEW,
            target_type="verification.proposal",
            purpose="daftar usulan desa",
            detail={"filters": filters, "rows": len(rows)},
            request=request,
        )
    statuses = [(s.value, s.label, counts.get(s.value, 0)) for s in ProposalStatus]
    return render(
        request,
        "verification/proposals.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "statuses": statuses,
            "actions": ProposalAction.choices,
            "total": sum(counts.values()),
            "can_decide": has_permission(request.user, Permission.EDIT_REGISTRY),
            "open_statuses": [s.value for s in NEXT_STATUS],
            "next_label": {k.value: v.label for k, v in NEXT_STATUS.items()},
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = proposals_visible(request.user).filter(pk=pk).first()
    if proposal is None:
        raise Http404
    if not has_permission(request.user, Permission.EDIT_REGISTRY):
        return render(request, "web/no_access.html", status=403)
    approve = request.POST.get("keputusan") == "setuju"
    try:
        proposal = proposal_decide(actor=request.user, proposal=proposal, approve=approve,  # type: ignore[arg-type]
                                   note=request.POST.get("catatan", ""))  # fmt: skip
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Usulan #%(pk)s: %(status)s.") % {"pk": proposal.pk, "status": proposal.get_status_display()}
        )
    return redirect(request.POST.get("next") or "verification:proposals")


@login_required
def export(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.EXPORT_PERSONS):
        return render(request, "web/no_access.html", status=403)
    filters = _filters(request)
    qs, _counts = proposal_list(actor=request.user, **filters)
    rows = proposal_rows(request.user, list(qs))
    audit(
        request.user,
        AuditAction.PERSONAL_EXPORT,
        target_type="verification.proposal",
        purpose="ekspor usulan desa",
        detail={"filters": filters, "rows": len(rows)},
        request=request,
    )
    response = HttpResponse(proposals_xlsx(rows), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="usulan-desa.xlsx"'
    return response


@login_required
@require_POST
def visit(request: HttpRequest, family_pk: int) -> HttpResponse:
    """Record a field visit from the family page and go back to it."""
    try:
        family = family_get(actor=request.user, pk=family_pk)
    except Family.DoesNotExist:
        raise Http404 from None
    if not has_permission(request.user, Permission.RECORD_VISITS):
        return render(request, "web/no_access.html", status=403)
    post = request.POST
    try:
        visited_on = dt.date.fromisoformat(post.get("tanggal", "").strip()) if post.get("tanggal") else None
    except ValueError:
        messages.error(request, _("Tanggal kunjungan tidak terbaca: %(raw)s") % {"raw": post.get("tanggal")})
        return redirect(reverse("web:family", args=[family.pk]) + "#kunjungan")
    try:
        field_visit_record(
            actor=request.user,  # type: ignore[arg-type]
            family=family,
            visited_on=visited_on,
            purpose=post.get("keperluan", ""),
            outcome=post.get("hasil", ""),
            officer=post.get("petugas", ""),
            notes=post.get("catatan", ""),
            latitude=post.get("lintang", ""),
            longitude=post.get("bujur", ""),
        )
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Kunjungan lapangan dicatat."))
    return redirect(reverse("web:family", args=[family.pk]) + "#kunjungan")
