"""Programs pages: catalogue, RAT, analyses, partner adoption. Thin: parse the request, call, render."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tepat.accounts.models import AuditAction, Organisation, OrganisationKind
from tepat.accounts.permissions import Permission, PermissionDenied, has_permission
from tepat.accounts.services import audit
from tepat.areas.models import Area
from tepat.errors import UserError
from tepat.programs import analysis as an
from tepat.programs.access import AUDIT_EVALUATION_EXPORT, can_adopt, can_edit_program, can_plan, is_planner
from tepat.programs.evaluation import Evaluation, evaluation
from tepat.programs.exports import analysis_xlsx, evaluation_xlsx
from tepat.programs.forms import (
    ActivityForm,
    ClaimForm,
    DeliverForm,
    FollowUpForm,
    PlanForm,
    PlanUploadForm,
    ProgramForm,
    SubActivityForm,
)
from tepat.programs.models import (
    ActionPlan,
    Activity,
    AnalysisSnapshot,
    BenefitStatus,
    Funder,
    Need,
    Program,
    SnapshotStatus,
    Stage,
    SubActivity,
)
from tepat.programs.selectors import (
    adoption_counts,
    adoption_lines,
    adoptions_visible,
    plan_activities,
    plan_get,
    plan_summary,
    priority_list,
    program_detail,
    program_list,
    strategies_all,
)
from tepat.programs.services import (
    activity_add,
    adoption_cancel,
    adoption_claim,
    adoption_deliver,
    benefits_set_status,
    partner_locus_set,
    plan_create,
    plan_rows_load,
    program_save,
    subactivity_add,
    subactivity_follow_up,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


def _program(pk: int) -> Program:
    program = Program.objects.select_related("organisation").filter(pk=pk).first()
    if program is None:
        raise Http404(_("Program tidak ditemukan"))
    return program


# -- programs ---------------------------------------------------------------------------------------------------
@login_required
def programs(request: HttpRequest) -> HttpResponse:
    strategy = request.GET.get("strategi", "").strip()[:40]
    funder = request.GET.get("dana", "").strip()[:10]
    try:
        listing = program_list(actor=request.user, strategy=strategy, funder=funder)
    except PermissionDenied:
        return _no_access(request)
    return render(
        request,
        "programs/list.html",
        {"lines": listing.lines, "year": listing.year, "state": listing.state, "strategies": strategies_all(),
         "funders": Funder.choices, "strategy": strategy,
         "funder": funder, "can_create": can_edit_program(request.user)},
    )  # fmt: skip


@login_required
def program(request: HttpRequest, pk: int) -> HttpResponse:
    item = _program(pk)
    try:
        detail = program_detail(actor=request.user, program=item)
    except PermissionDenied:
        return _no_access(request)
    return render(
        request,
        "programs/detail.html",
        {"d": detail, "program": item, "can_edit": can_edit_program(request.user, item),
         "statuses": BenefitStatus.choices, "strategies": strategies_all()},
    )  # fmt: skip


@login_required
def program_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    item = _program(pk) if pk is not None else None
    if not can_edit_program(request.user, item):
        return _no_access(request)
    form = ProgramForm.for_program(item, request.POST if request.method == "POST" else None)
    if not is_planner(request.user):
        form.fields["organisation"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        code = data.pop("code", "")
        strategies = [s.code for s in data.pop("strategies")]
        try:
            saved = program_save(actor=request.user, program=item, code=code, strategies=strategies, **data)  # type: ignore[arg-type]
        except UserError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Program %(code)s tersimpan.") % {"code": saved.code})
            return redirect("programs:detail", pk=saved.pk)
    return render(request, "programs/form.html", {"form": form, "program": item})


@login_required
@require_POST
def batch_status(request: HttpRequest, pk: int) -> HttpResponse:
    item = _program(pk)
    try:
        batch_id = int(request.POST.get("batch", ""))
        changed = benefits_set_status(actor=request.user, program=item, batch_id=batch_id,  # type: ignore[arg-type]
                                      status=request.POST.get("status", ""))  # fmt: skip
    except PermissionDenied:
        return _no_access(request)
    except (ValueError, UserError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)s baris diperbarui.") % {"n": changed})
    return redirect("programs:detail", pk=item.pk)


# -- analyses ---------------------------------------------------------------------------------------------------
def _filters(request: HttpRequest, code: str) -> an.Filters:
    return an.Filters.from_query(request.GET, area=code)


@login_required
def analysis(request: HttpRequest, code: str = "") -> HttpResponse:
    try:
        view = an.analysis_view(actor=request.user, filters=_filters(request, code))
    except PermissionDenied:
        return _no_access(request)
    except Area.DoesNotExist:
        raise Http404(_("Wilayah tidak ditemukan")) from None
    shown = len(view.excluded) + len(view.many_families)
    if shown:
        audit(request.user, AuditAction.PERSONAL_VIEW, target_type="programs.analysis", target_id=view.area.code,
              purpose="analisis cakupan program", request=request,
              detail={"area": view.area.code, "period": view.filters.period, "program": view.list_program,
                      "families": shown})  # fmt: skip
    query = request.GET.copy()
    query.pop("wilayah", None)
    return render(request, "programs/analysis.html", {"v": view, "query": query.urlencode()})


@login_required
def analysis_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The refresh's progress, polled by the page; once done, the page reloads (nothing shown yet) or offers to."""
    if not has_permission(request.user, Permission.VIEW_AGGREGATES):
        return _no_access(request)
    snapshot = AnalysisSnapshot.objects.filter(pk=pk).first()
    if snapshot is None:  # superseded by a snapshot that was already current, or pruned: the page can reload
        snapshot = AnalysisSnapshot(status=SnapshotStatus.DONE)
    reload = request.GET.get("muat") == "1"
    response = render(request, "programs/_snapshot_status.html", {"pending": snapshot, "reload": reload})
    if reload and snapshot.status == SnapshotStatus.DONE:
        response["HX-Refresh"] = "true"
    return response


@login_required
def analysis_export(request: HttpRequest) -> HttpResponse:
    filters = _filters(request, "")
    try:
        view = an.analysis_view(actor=request.user, filters=filters)
    except PermissionDenied:
        return _no_access(request)
    except Area.DoesNotExist:
        raise Http404(_("Wilayah tidak ditemukan")) from None
    if view.snapshot is None:
        messages.warning(request, _("Analisis sedang disiapkan; unduh lagi setelah selesai."))
        return redirect(
            reverse("programs:analysis_area", kwargs={"code": view.area.code}) + "?" + request.GET.urlencode()
        )
    excluded: list[an.FamilyLine] | None = None
    many: list[an.FamilyLine] | None = None
    if has_permission(request.user, Permission.EXPORT_PERSONS):
        codes = view.overlap_codes
        index = codes.index(view.list_program) if view.list_program else None
        excluded, many = [], []
        for target, listed in ((excluded, an.excluded_listed(view.snapshot, view.area, index)),
                               (many, an.many_listed(view.snapshot, view.area))):  # fmt: skip
            for chunk in an.listed_chunks(listed):
                target.extend(an.family_lines(actor=request.user, snapshot=view.snapshot, listed=chunk))
        audit(request.user, AuditAction.PERSONAL_EXPORT, target_type="programs.analysis", target_id=view.area.code,
              purpose="ekspor analisis cakupan program", request=request,
              detail={"area": view.area.code, "period": view.filters.period, "program": view.list_program,
                      "families": len(excluded) + len(many)})  # fmt: skip
    response = HttpResponse(analysis_xlsx(view, excluded=excluded, many=many), content_type=XLSX)
    name = f"analisis-program-{view.area.code}-{view.filters.period or 'semua'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- action plans -----------------------------------------------------------------------------------------------
def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    try:
        summary = plan_summary(actor=request.user, year=_int(request.GET.get("tahun")),
                               organisation=_int(request.GET.get("opd")))  # fmt: skip
    except PermissionDenied:
        return _no_access(request)
    form = PlanForm(request.POST or None, initial={"year": summary.year})
    agencies = Organisation.objects.filter(kind__in=[OrganisationKind.AGENCY, OrganisationKind.TKPK,
                                                     OrganisationKind.VILLAGE])  # fmt: skip
    if not is_planner(request.user):
        agencies = agencies.filter(pk=getattr(request.user, "organisation_id", 0) or 0)
    form.fields["organisation"].queryset = agencies  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(actor=request.user, organisation=form.cleaned_data["organisation"],  # type: ignore[arg-type]
                               year=form.cleaned_data["year"], title=form.cleaned_data["title"])  # fmt: skip
        except PermissionDenied:
            return _no_access(request)
        except UserError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("programs:plan", pk=plan.pk)
    return render(request, "programs/plans.html", {"s": summary, "form": form, "can_plan": can_plan(request.user),
                                                   "stages": Stage.choices})  # fmt: skip


@login_required
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = plan_get(actor=request.user, pk=pk)
    except PermissionDenied:
        return _no_access(request)
    except ActionPlan.DoesNotExist:
        raise Http404(_("RAT tidak ditemukan")) from None
    editable = can_plan(request.user, item.organisation)
    activity_form = ActivityForm(prefix="a")
    sub_form = SubActivityForm(prefix="s")
    upload_form = PlanUploadForm(prefix="u")
    if request.method == "POST":
        if not editable:
            return _no_access(request)
        try:
            if "a-name" in request.POST:
                activity_form = ActivityForm(request.POST, prefix="a")
                if activity_form.is_valid():
                    data = activity_form.cleaned_data
                    activity_add(actor=request.user, plan=item, name=data["name"], budget_code=data["budget_code"],  # type: ignore[arg-type]
                                 strategies=[s.code for s in data["strategies"]])  # fmt: skip
                    return redirect("programs:plan", pk=item.pk)
            elif "s-name" in request.POST:
                sub_form = SubActivityForm(request.POST, prefix="s")
                if sub_form.is_valid():
                    data = sub_form.cleaned_data
                    activity = Activity.objects.filter(plan=item, pk=data["activity"]).first()
                    if activity is None:
                        raise Http404
                    subactivity_add(
                        actor=request.user, activity=activity, name=data["name"], budget=data["budget"],  # type: ignore[arg-type]
                        budget_code=data["budget_code"], output_indicator=data["output_indicator"],
                        output_target=data["output_target"], output_unit=data["output_unit"],
                        villages=[v for v in data["villages"].replace(",", ";").split(";") if v.strip()],
                        strategies=[s.code for s in data["strategies"]], program=data["program"],
                    )  # fmt: skip
                    return redirect("programs:plan", pk=item.pk)
            elif request.FILES:
                upload_form = PlanUploadForm(request.POST, request.FILES, prefix="u")
                if upload_form.is_valid():
                    rows = _plan_rows(upload_form.cleaned_data["file"])
                    loaded = plan_rows_load(actor=request.user, plan=item, rows=rows)  # type: ignore[arg-type]
                    messages.success(request, _("%(a)s kegiatan dan %(s)s sub-kegiatan dimuat.")
                                     % {"a": loaded.activities, "s": loaded.subactivities})  # fmt: skip
                    for problem in loaded.problems[:20]:
                        messages.warning(request, problem)
                    return redirect("programs:plan", pk=item.pk)
        except UserError as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "programs/plan.html",
        {"plan": item, "activities": plan_activities(plan=item), "editable": editable,
         "activity_form": activity_form, "sub_form": sub_form, "upload_form": upload_form,
         "follow_form": FollowUpForm(), "strategies": {s.code: short for s, short, _long in strategies_all()}},
    )  # fmt: skip


def _plan_rows(upload: Any) -> list[dict[str, str]]:
    """Rows of an uploaded RAT sheet, header names lower-cased (CSV or XLSX)."""
    name = (upload.name or "").lower()
    if name.endswith((".xlsx", ".xls", ".ods")):
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_filelike(upload)
        table = book.get_sheet_by_index(0).to_python()
        if not table:
            return []
        header = [str(h).strip().lower() for h in table[0]]
        return [{h: _cell(v) for h, v in zip(header, row, strict=False)} for row in table[1:]]
    text = upload.read().decode("utf-8-sig", errors="replace")
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    return [{(k or "").strip().lower(): (v or "") for k, v in row.items()} for row in reader]


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@login_required
@require_POST
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    sub = SubActivity.objects.select_related("activity__plan").filter(pk=pk).first()
    if sub is None:
        raise Http404
    form = FollowUpForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            subactivity_follow_up(actor=request.user, sub=sub, advance=data["advance"],  # type: ignore[arg-type]
                                  budget_absorbed=data["budget_absorbed"], output_realised=data["output_realised"],
                                  families_reached=data["families_reached"], note=data["note"])  # fmt: skip
        except PermissionDenied:
            return _no_access(request)
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Tindak lanjut tersimpan."))
    else:
        messages.error(request, _("Periksa isian tindak lanjut."))
    return redirect(reverse("programs:plan", kwargs={"pk": sub.activity.plan_id}) + f"#sub-{sub.pk}")


# -- evaluation meeting -----------------------------------------------------------------------------------------
def _evaluation(request: HttpRequest) -> Evaluation:
    return evaluation(
        actor=request.user, year=_int(request.GET.get("tahun")), organisation=_int(request.GET.get("opd")),
        strategy=request.GET.get("strategi", "").strip()[:40], problem=request.GET.get("masalah", "").strip()[:20],
    )  # fmt: skip


@login_required
def evaluation_page(request: HttpRequest) -> HttpResponse:
    try:
        view = _evaluation(request)
    except PermissionDenied:
        return _no_access(request)
    return render(request, "programs/evaluation.html", {"e": view, "query": request.GET.urlencode()})


@login_required
def evaluation_export(request: HttpRequest) -> HttpResponse:
    try:
        view = _evaluation(request)
    except PermissionDenied:
        return _no_access(request)
    if view.year is None:
        raise Http404(_("Belum ada RAT"))
    audit(request.user, AUDIT_EVALUATION_EXPORT, target_type="programs.evaluation", target_id=view.year,
          purpose="bahan rapat evaluasi TKPK", request=request,
          detail={"year": view.year, "strategy": view.strategy, "organisation": view.organisation,
                  "problem": view.problem, "subactivities": len(view.subs)})  # fmt: skip
    response = HttpResponse(evaluation_xlsx(view), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="evaluasi-rat-{view.year}.xlsx"'
    return response


# -- partner adoption -------------------------------------------------------------------------------------------
@login_required
def adoption(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_PERSONS):
        return _no_access(request)
    village = request.GET.get("wilayah", "").strip()[:13]
    need = request.GET.get("kebutuhan", "").strip()[:12]
    page = max(1, _int(request.GET.get("hal")) or 1)
    partner = can_adopt(request.user)
    planner = is_planner(request.user)
    listing = None
    if partner or planner:
        listing = priority_list(actor=request.user, village=village, need=need, offset=(page - 1) * 50)
        if listing.lines:
            audit(request.user, AuditAction.PERSONAL_VIEW, target_type="programs.priority_list",
                  purpose="daftar prioritas adopsi", request=request,
                  detail={"village": village, "need": need, "page": page, "families": len(listing.lines)})  # fmt: skip
    adoptions = adoption_lines(actor=request.user, adoptions=list(adoptions_visible(actor=request.user)[:300]))
    partners = Organisation.objects.filter(kind__in=[OrganisationKind.COMPANY, OrganisationKind.BAZNAS,
                                                     OrganisationKind.NGO]) if planner else []  # fmt: skip
    return render(
        request,
        "programs/adoption.html",
        {"listing": listing, "adoptions": adoptions, "needs": Need.choices, "need": need, "village": village,
         "page": page, "partner": partner, "planner": planner, "counts": adoption_counts(actor=request.user),
         "partners": partners, "claim_form": ClaimForm(), "deliver_form": DeliverForm(),
         "has_next": listing is not None and page * 50 < listing.total},
    )  # fmt: skip


@login_required
@require_POST
def claim(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pilih keluarga dan kebutuhan."))
    else:
        try:
            adopted = adoption_claim(actor=request.user, family_id=form.cleaned_data["family"],  # type: ignore[arg-type]
                                     need=form.cleaned_data["need"], note=form.cleaned_data["note"])  # fmt: skip
        except PermissionDenied:
            return _no_access(request)
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Keluarga diadopsi untuk kebutuhan %(need)s.")
                             % {"need": adopted.get_need_display().lower()})  # fmt: skip
    return redirect(request.POST.get("next") or "programs:adoption")


@login_required
@require_POST
def adoption_update(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    item = adoptions_visible(actor=request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    note = request.POST.get("note", "")
    try:
        if action == "salur":
            text = request.POST.get("amount", "").strip().replace(".", "").replace(",", ".")
            amount = Decimal(text) if text else None
            adoption_deliver(actor=request.user, adoption=item, note=note, amount=amount)  # type: ignore[arg-type]
            messages.success(request, _("Penyaluran tercatat."))
        elif action == "batal":
            adoption_cancel(actor=request.user, adoption=item, note=note)  # type: ignore[arg-type]
            messages.success(request, _("Adopsi dibatalkan."))
        else:
            raise Http404
    except PermissionDenied:
        return _no_access(request)
    except (UserError, ArithmeticError) as exc:
        messages.error(request, str(exc) if isinstance(exc, UserError) else _("Nilai tidak terbaca."))
    return redirect("programs:adoption")


@login_required
@require_POST
def locus(request: HttpRequest) -> HttpResponse:
    organisation = Organisation.objects.filter(pk=_int(request.POST.get("organisation")) or 0).first()
    if organisation is None:
        raise Http404
    areas = [a.strip() for a in request.POST.get("areas", "").replace(",", ";").split(";") if a.strip()]
    try:
        saved = partner_locus_set(actor=request.user, organisation=organisation, areas=areas)  # type: ignore[arg-type]
    except PermissionDenied:
        return _no_access(request)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Lokus %(org)s: %(n)s wilayah.") % {"org": organisation, "n": len(saved)})
    return redirect("programs:adoption")
