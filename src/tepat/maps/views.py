"""Map pages and downloads. Thin: parse the request, call the selector, render."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from tepat.accounts.permissions import PermissionDenied
from tepat.areas.models import Level
from tepat.engine.classify import Method
from tepat.maps.indicators import (
    CLUSTER_LABELS,
    COLD_OUTLINE,
    HOT_OUTLINE,
    INDICATORS,
    NO_DATA,
    POCKET_LABELS,
    indicator_of,
)
from tepat.maps.selectors import LEVEL_NAMES, MapLayer, map_geojson, map_layer
from tepat.maps.svg import picture

METHODS = {
    Method.FISHER_JENKS: _("pemisah alami (Fisher–Jenks)"),
    Method.QUANTILES: _("kuantil (jumlah wilayah sama)"),
    Method.EQUAL_INTERVAL: _("interval sama"),
}


LEVEL_LABELS = {Level.DISTRICT: _("Kecamatan"), Level.VILLAGE: _("Desa/kelurahan")}
POPUP_LABELS = {
    "families": _("Keluarga"),
    "poor": _("Keluarga desil 1–4"),
    "extreme": _("Keluarga desil 1 (miskin ekstrem)"),
    "rate": _("Persentase desil 1–4"),
    "flagged": _("Keluarga dengan temuan"),
    "gap": _("Keluarga miskin belum menerima bantuan"),
    "pocket": "Gi*",
    "cluster": _("Moran lokal"),
    "families_url": _("Daftar keluarga"),
    "overview_url": _("Ringkasan wilayah"),
    "pockets_layer": _("Kantong kemiskinan (Gi*)"),
    "areas_layer": _("Wilayah"),
    "loading": _("Memuat peta…"),
    "loaded": _("Peta dimuat: {n} wilayah."),
    "failed": _("Peta gagal dimuat; angka yang sama ada di tabel."),
    "show": _("Tampilkan di peta"),
    **{f"pocket_{k}": v for k, v in POCKET_LABELS.items()},
    **{f"cluster_{k}": v for k, v in CLUSTER_LABELS.items()},
}


def _layer(request: HttpRequest) -> MapLayer:
    try:
        method = Method(request.GET.get("method", ""))
    except ValueError:
        method = Method.FISHER_JENKS
    return map_layer(
        actor=request.user,
        level=request.GET.get("level", "village"),
        indicator=indicator_of(request.GET.get("indicator", "")),
        method=method,
        fdr=request.GET.get("fdr") == "1",
    )


def _query(layer: MapLayer) -> str:
    query = {"level": layer.level_name, "indicator": layer.indicator.code.value, "method": layer.method.value}
    if layer.pockets and layer.pockets.fdr:
        query["fdr"] = "1"
    return urlencode(query)


def _file_name(layer: MapLayer, extension: str) -> str:
    return f"peta-{layer.indicator.code.value}-{layer.level_name}-{layer.scope.code}-{date.today():%Y%m%d}.{extension}"


def _no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


def _point_labels(request: HttpRequest) -> dict[str, str]:
    """Tell the page where household points come from, for the roles that may see them."""
    from tepat.maps.points import may_see_points

    if not may_see_points(request.user):
        return {}
    return {"points_url": reverse("maps:points"), "points": str(_("Titik rumah tangga")),
            "points_none": str(_("Belum ada titik rumah tangga di desa/kelurahan ini.")),
            "family": str(_("Buka keluarga")), "source_alamat": str(_("dari alamat")),
            "source_kunjungan": str(_("dari kunjungan lapangan"))}  # fmt: skip


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    try:
        layer = _layer(request)
    except PermissionDenied:
        return _no_access(request)
    context: dict[str, Any] = {
        "layer": layer,
        "indicators": INDICATORS.values(),
        "methods": [(m.value, str(label)) for m, label in METHODS.items()],
        "level_options": [(LEVEL_NAMES[level], LEVEL_LABELS[level], level == layer.level) for level in layer.levels],
        "popup_labels": {**POPUP_LABELS, **_point_labels(request)},
        "overview_prefix": reverse("web:overview"),
        "families_prefix": reverse("web:families"),
        "query": _query(layer),
        "tiles": getattr(settings, "TEPAT_MAP_TILES", ""),
        "tiles_attribution": getattr(settings, "TEPAT_MAP_TILES_ATTRIBUTION", ""),
        "no_data": NO_DATA,
        "hot_outline": HOT_OUTLINE,
        "cold_outline": COLD_OUTLINE,
    }
    return render(request, "maps/map.html", context)


@login_required
def data(request: HttpRequest) -> HttpResponse:
    """The layer as GeoJSON for the page's map (``?download=1`` for a download)."""
    try:
        layer = _layer(request)
    except PermissionDenied:
        return HttpResponse(status=403)
    response = HttpResponse(map_geojson(layer), content_type="application/geo+json; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{_file_name(layer, "geojson")}"'
    return response


@login_required
def picture_svg(request: HttpRequest) -> HttpResponse:
    """The choropleth with its legend and pockets as one SVG picture; the page turns it into a PNG."""
    try:
        layer = _layer(request)
    except PermissionDenied:
        return HttpResponse(status=403)
    drawing = picture(layer)
    legend_top = 86.0
    context = {
        "layer": layer,
        "picture": drawing,
        "width": drawing.width + 340,
        "height": max(drawing.height + 110, legend_top + 34 * (len(layer.legend.classes) + 4) + 70),
        "legend_x": drawing.width + 50,
        "legend_top": legend_top,
        "classes": [(c, layer.colours[i], legend_top + 34 * i) for i, c in enumerate(layer.legend.classes)],
        "extra_top": legend_top + 34 * len(layer.legend.classes),
        "no_data": NO_DATA,
        "hot_outline": HOT_OUTLINE,
        "cold_outline": COLD_OUTLINE,
        "today": date.today(),
    }
    response = HttpResponse(render_to_string("maps/export.svg", context, request), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{_file_name(layer, "svg")}"'
    return response


@login_required
def points(request: HttpRequest) -> HttpResponse:
    """Household points of one village (``?area=<village code>``), for roles that see sensitive data; logged."""
    from tepat.accounts.models import AuditAction
    from tepat.accounts.services import audit
    from tepat.maps.points import household_points, may_see_points

    if not may_see_points(request.user):
        return HttpResponse(status=403)
    village = request.GET.get("area", "").strip()
    collection = household_points(actor=request.user, village=village)
    audit(
        request.user,
        AuditAction.PERSONAL_VIEW,
        target_type="maps.points",
        target_id=village,
        purpose="titik rumah tangga di peta",
        detail={"points": len(collection["features"])},
        request=request,
    )
    return HttpResponse(json.dumps(collection), content_type="application/geo+json; charset=utf-8")
