"""Pages. Thin: parse the request, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tepat.accounts.models import AuditEvent
from tepat.accounts.permissions import Permission, has_permission
from tepat.areas.models import ancestor_codes
from tepat.areas.selectors import area_path
from tepat.registry.models import Family
from tepat.registry.selectors import (
    KnownCountPaginator,
    area_choices,
    family_count,
    family_get,
    family_list,
    family_profile,
    family_rows,
    region_overview,
)
from tepat.registry.services import personal_data_searched, personal_data_viewed


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:overview")


@login_required
def overview(request: HttpRequest, code: str = "") -> HttpResponse:
    root = region_overview(actor=request.user)
    if root is None:
        return render(request, "web/no_access.html", status=403)
    node = root
    if code and not (code == root.area.code or code.startswith(root.area.code + ".")):
        raise Http404  # outside the user's area: not found, as if it did not exist
    if code and code != root.area.code:
        path = [c for c in ancestor_codes(code) if len(c) > len(root.area.code)]
        for step in path:
            node = next((c for c in node.children if c.area.code == step), None)  # type: ignore[assignment]
            if node is None:
                raise Http404
    return render(
        request,
        "web/overview.html",
        {
            "root": root,
            "node": node,
            "crumbs": [a for a in area_path(node.area) if len(a.code) >= len(root.area.code)],
            "can_list": has_permission(request.user, Permission.VIEW_PERSONS),
            "desil_range": range(1, 11),
            "stamp": root.stamp,
        },
    )


@login_required
def families(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_PERSONS):
        return render(request, "web/no_access.html", status=403)
    village = request.GET.get("wilayah", "").strip()
    query = request.GET.get("q", "").strip()
    desil_text = request.GET.get("desil", "").strip()
    desil = int(desil_text) if desil_text.isdigit() and 1 <= int(desil_text) <= 10 else None
    flagged = request.GET.get("temuan") == "1"
    poor_unserved = request.GET.get("belum_terlayani") == "1"
    filters: dict[str, Any] = {"village": village, "query": query, "desil": desil, "flagged": flagged,
                               "poor_unserved": poor_unserved}  # fmt: skip
    qs = family_list(actor=request.user, **filters)
    known = family_count(actor=request.user, **filters)  # from the village figures: no COUNT(*) of the list
    paginator = Paginator(qs, 50) if known is None else KnownCountPaginator(qs, 50, count=known)
    page = paginator.get_page(request.GET.get("page"))
    rows = family_rows(actor=request.user, families=list(page.object_list))
    personal_data_searched(
        actor=request.user,
        query={
            "q": query,
            "wilayah": village,
            "desil": desil,
            "temuan": flagged,
            "belum_terlayani": poor_unserved,
            "page": page.number,
        },
        results=len(rows),
        request=request,
    )
    context: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "query": query,
        "village": village,
        "desil": desil,
        "flagged": flagged,
        "poor_unserved": poor_unserved,
        "villages": area_choices(actor=request.user),
        "desil_range": range(1, 11),
    }
    template = "web/_family_rows.html" if request.htmx else "web/family_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def family_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        family = family_get(actor=request.user, pk=pk)
    except Family.DoesNotExist:
        raise Http404(_("Keluarga tidak ditemukan")) from None  # 404, not 403: don't confirm it exists
    personal_data_viewed(
        actor=request.user, target=family, purpose=request.GET.get("tujuan", "lihat profil"), request=request
    )
    profile = family_profile(actor=request.user, family=family)
    from tepat.targeting.selectors import family_assessments  # targeting reads the registry: import late

    assessments = family_assessments(actor=request.user, family=family)
    return render(request, "web/family_detail.html", {"profile": profile, "family": family,
                                                      "assessments": assessments})  # fmt: skip


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Permission.VIEW_AUDIT):
        return render(request, "web/no_access.html", status=403)
    events = AuditEvent.objects.select_related("actor")
    action = request.GET.get("aksi", "")
    if action:
        events = events.filter(action=action)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "web/audit_log.html",
        {"page": page, "action": action, "actions": AuditEvent._meta.get_field("action").choices},
    )
