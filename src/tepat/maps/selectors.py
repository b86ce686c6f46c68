"""Reads for the poverty map: figures per district or village, legend classes and poverty pockets.

Scope: a user sees the areas inside their own area only (``scope_code``), and only with VIEW_AGGREGATES; the legend
classes are computed over those areas alone, so their bounds never show another area's figure. The pockets are the
one thing computed over the whole deployment region and then cut to the user's areas: a hot spot is "poorer, with
its neighbours, than the region", a property of the village that must not change with who looks. What reaches the
user is the class, z and p of their own areas, not the neighbours' figures.

Speed: the figures are the registry's village figures (a few GROUP BYs over families, counted once per data stamp
and kept), the outlines come from `maps.shapes` (built once per process), and the pockets are kept per set of
values, so a request for a regency of a million persons costs the data stamp, the sums and the GeoJSON text.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise

from tepat.accounts.models import Role
from tepat.accounts.permissions import Permission, PermissionDenied, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.engine.classify import Legend, LegendClass, Method, classify
from tepat.engine.hotspots import AreaPocket, Cluster, Pocket, PocketAnalysis, find_pockets
from tepat.maps import shapes
from tepat.maps.indicators import CLUSTER_LABELS, NO_DATA, POCKET_LABELS, Indicator, IndicatorCode, palette
from tepat.registry.selectors import village_figures as registry_village_figures

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

LEVELS = {"district": Level.DISTRICT, "village": Level.VILLAGE}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
# The lead's rule for the map: partners and auditors work with aggregates; the map gives them no way into
# by-name lists even though their role may open (pseudonymised) family pages elsewhere.
AGGREGATE_ONLY_ROLES = frozenset({Role.PARTNER, Role.AUDITOR})


@dataclass
class Figures:
    """Active families of an area. ``flagged`` and ``gap`` are counted only when their indicator is asked for."""

    families: int = 0
    poor: int = 0  # national desil 1–4
    extreme: int = 0  # national desil 1
    flagged: int | None = None
    gap: int | None = None

    def add(self, other: Figures) -> None:
        self.families += other.families
        self.poor += other.poor
        self.extreme += other.extreme
        if other.flagged is not None:
            self.flagged = (self.flagged or 0) + other.flagged
        if other.gap is not None:
            self.gap = (self.gap or 0) + other.gap

    @property
    def rate(self) -> float | None:
        return 100.0 * self.poor / self.families if self.families else None

    def value(self, code: IndicatorCode) -> float | None:
        """What the map colours; an area with no families in the registry has no data, not zero poor families."""
        if not self.families:
            return None
        if code is IndicatorCode.RATE:
            return self.rate
        count = {IndicatorCode.POOR: self.poor, IndicatorCode.EXTREME: self.extreme,
                 IndicatorCode.FLAGGED: self.flagged, IndicatorCode.GAP: self.gap}[code]  # fmt: skip
        return None if count is None else float(count)

    def share(self, code: IndicatorCode) -> float | None:
        """What the pockets are computed on: a share, so that size alone makes no pocket."""
        if code is IndicatorCode.GAP:
            return 100.0 * (self.gap or 0) / self.poor if self.poor and self.gap is not None else None
        value = self.rate if code is IndicatorCode.RATE else self.value(code)
        if code is IndicatorCode.RATE or value is None or not self.families:
            return value
        return 100.0 * value / self.families


def village_figures(villages: list[str], indicator: IndicatorCode) -> dict[str, Figures]:
    """Figures per village for the given villages that have families (no acting user: callers scope).

    Read from the registry's kept village figures (`registry.selectors.village_figures`, counted once per data
    stamp), so the map, the dashboard and the family lists count the same families the same way.
    """
    kept = registry_village_figures()
    figures: dict[str, Figures] = {}
    for code in villages:
        found = kept.get(code)
        if found is None or not sum(found.families):
            continue
        figures[code] = Figures(
            families=sum(found.families),
            poor=found.poor,
            extreme=found.families[1],
            flagged=sum(found.flagged) if indicator is IndicatorCode.FLAGGED else None,
            gap=found.poor - found.poor_served if indicator is IndicatorCode.GAP else None,
        )
    return figures


def _roll_up(villages: dict[str, Figures], codes: Iterable[str], indicator: IndicatorCode) -> dict[str, Figures]:
    """Figures of larger areas (districts) as sums of their villages: no second pass over families."""
    totals: dict[str, Figures] = {}
    for code in codes:
        total = Figures()
        if indicator is IndicatorCode.FLAGGED:
            total.flagged = 0
        if indicator is IndicatorCode.GAP:
            total.gap = 0
        totals[code] = total
    for village, f in villages.items():
        for code in totals.keys() & {village[:n] for n in (2, 5, 8)}:
            totals[code].add(f)
    return totals


# -- pockets, kept per set of values ----------------------------------------------------------------------------------
_pockets: OrderedDict[tuple[Any, ...], PocketAnalysis] = OrderedDict()
_pockets_lock = threading.Lock()
KEEP_POCKETS = 32


def region_pockets(region: str, level: int, shares: dict[str, float | None], *, fdr: bool = False) -> PocketAnalysis:
    """Gi* and local Moran over the areas in ``shares`` that have an outline (seeded: same values, same pockets;
    kept in memory because the permutations take most of a second for a large regency)."""
    neighbours = shapes.neighbours(f"{region}:{level}", sorted(shares))
    values = {code: shares.get(code) for code in neighbours.ids}
    key = (region, level, id(neighbours), fdr, tuple(sorted(values.items())))
    with _pockets_lock:
        if key in _pockets:
            _pockets.move_to_end(key)
            return _pockets[key]
    analysis = find_pockets(values, neighbours, fdr=fdr)
    with _pockets_lock:
        _pockets[key] = analysis
        while len(_pockets) > KEEP_POCKETS:
            _pockets.popitem(last=False)
    return analysis


# -- the layer --------------------------------------------------------------------------------------------------------
@dataclass
class MapFeature:
    area: Area
    figures: Figures
    value: float | None
    klass: int | None
    colour: str
    pocket: AreaPocket | None
    outlined: bool  # has a boundary, so it is on the map (the table lists every area)
    label: str = ""  # "Kelurahan Gunung Telihan": Area.label, translated once per kind rather than per area

    @property
    def pocket_class(self) -> Pocket:
        return self.pocket.pocket if self.pocket else Pocket.NOT_ASSESSED

    @property
    def cluster(self) -> Cluster:
        return self.pocket.cluster if self.pocket else Cluster.NOT_ASSESSED

    @property
    def pocket_label(self) -> str | Promise:
        return POCKET_LABELS[self.pocket_class.value]

    @property
    def cluster_label(self) -> str | Promise:
        return CLUSTER_LABELS[self.cluster.value]


@dataclass
class MapLayer:
    scope: Area
    level: Level
    levels: list[Level]
    indicator: Indicator
    method: Method
    features: list[MapFeature]
    legend: Legend
    colours: tuple[str, ...]
    pockets: PocketAnalysis | None
    can_open_families: bool
    shapes: shapes.Layer
    totals: Figures = field(default_factory=Figures)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def pocket_rows(self) -> list[MapFeature]:
        """Hot spots first (strongest first), then cold spots: the table beside the map."""
        hot = [f for f in self.features if f.pocket_class is Pocket.HOT]
        cold = [f for f in self.features if f.pocket_class is Pocket.COLD]
        return sorted(hot, key=lambda f: -(f.pocket.gi_z or 0) if f.pocket else 0) + sorted(
            cold, key=lambda f: (f.pocket.gi_z or 0) if f.pocket else 0
        )

    @property
    def legend_rows(self) -> list[tuple[LegendClass, str]]:
        return list(zip(self.legend.classes, self.colours, strict=True))

    @property
    def outliers(self) -> list[MapFeature]:
        """High among low (a poor village in a better-off area): hidden by any neighbourhood average."""
        return [f for f in self.features if f.cluster is Cluster.HIGH_LOW]

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        boxes = [self.shapes.shapes[f.area.code].bbox for f in self.features if f.outlined]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))  # fmt: skip


def map_levels(scope: Area) -> list[Level]:
    """Districts and villages below the scope; a village operator's map has only their village."""
    return [level for level in (Level.DISTRICT, Level.VILLAGE) if level > scope.level]


def may_open_families(actor: Actor) -> bool:
    return has_permission(actor, Permission.VIEW_PERSONS) and getattr(actor, "role", None) not in AGGREGATE_ONLY_ROLES


def map_layer(
    *,
    actor: Actor,
    level: str = "village",
    indicator: Indicator,
    method: Method = Method.FISHER_JENKS,
    fdr: bool = False,
) -> MapLayer:
    """The areas of the actor's scope at ``level`` with the indicator's value, legend class and pocket class.

    ``fdr``: call a village a pocket only when it survives a false discovery rate correction (Benjamini–Hochberg
    over the region's villages), for when a region with hundreds of villages wants fewer chance pockets.

    Raises PermissionDenied without VIEW_AGGREGATES or an area scope.
    """
    scope_id = scope_code(actor)
    if scope_id is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise PermissionDenied(Permission.VIEW_AGGREGATES)
    scope = Area.objects.get(code=scope_id)
    levels = map_levels(scope) or [Level(scope.level)]
    wanted = LEVELS.get(level, Level.VILLAGE)
    chosen = wanted if wanted in levels else levels[-1]
    region = settings.TEPAT_REGION
    code = indicator.code

    region_areas = list(shapes.areas_below(region, chosen).order_by("code"))
    village_codes = (
        [a.code for a in region_areas]
        if chosen == Level.VILLAGE
        else list(shapes.areas_below(region, Level.VILLAGE).values_list("code", flat=True))
    )
    villages = village_figures(village_codes, code)
    if chosen == Level.VILLAGE:
        figures = {a.code: villages.get(a.code) or _empty(code) for a in region_areas}
    else:
        figures = _roll_up(villages, [a.code for a in region_areas], code)
    analysis = region_pockets(region, chosen, {c: f.share(code) for c, f in figures.items()}, fdr=fdr)
    scoped = [a for a in region_areas if a.code == scope.code or a.code.startswith(scope.code + ".")]
    legend = _legend(tuple(figures[a.code].value(code) for a in scoped), method)
    colours = palette(len(legend.classes))
    classes = dict(zip([a.code for a in scoped], legend.assignments, strict=True))
    outlines = shapes.layer(f"{scope.code}:{chosen}", [a.code for a in scoped])
    features = []
    totals = _empty(code)
    kinds: dict[str, str] = {}
    for area in scoped:
        f = figures.get(area.code) or _empty(code)
        totals.add(f)
        klass = classes.get(area.code)
        features.append(
            MapFeature(
                area=area,
                figures=f,
                value=f.value(code),
                klass=klass,
                colour=NO_DATA if klass is None else colours[klass],
                pocket=analysis.by_id.get(area.code),
                outlined=area.code in outlines.shapes,
                label=_label(area, kinds),
            )
        )
    return MapLayer(scope=scope, level=chosen, levels=levels, indicator=indicator, method=method, features=features,
                    legend=legend, colours=colours, pockets=analysis, can_open_families=may_open_families(actor),
                    shapes=outlines, totals=totals)  # fmt: skip


@lru_cache(maxsize=64)
def _legend(values: tuple[float | None, ...], method: Method) -> Legend:
    return classify(values, method=method)


def _label(area: Area, kinds: dict[str, str]) -> str:
    if area.level in (Level.PROVINCE, Level.REGENCY):
        return area.name
    if area.kind not in kinds:
        kinds[area.kind] = str(area.get_kind_display())
    return f"{kinds[area.kind]} {area.name}"


def _empty(code: IndicatorCode) -> Figures:
    return Figures(flagged=0 if code is IndicatorCode.FLAGGED else None, gap=0 if code is IndicatorCode.GAP else None)


# -- GeoJSON ----------------------------------------------------------------------------------------------------------
def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def feature_properties(layer: MapLayer, feature: MapFeature, *, urls: tuple[str, str] | None = None) -> dict[str, Any]:
    """Properties of one area; ``urls`` are the overview and family-list prefixes (reversed once per layer)."""
    f, pocket, code = feature.figures, feature.pocket, feature.area.code
    overview, families = urls or _url_prefixes()
    properties: dict[str, Any] = {
        "code": code,
        "name": feature.label,
        "value": _rounded(feature.value),
        "class": feature.klass,
        "fill": feature.colour,
        "pocket": feature.pocket_class.value,
        "cluster": feature.cluster.value,
        "gi_z": _rounded(pocket.gi_z if pocket else None, 3),
        "gi_p": _rounded(pocket.gi_p if pocket else None, 4),
        "lisa_p": _rounded(pocket.lisa_p if pocket else None, 4),
        "families": f.families,
        "poor": f.poor,
        "extreme": f.extreme,
        "rate": _rounded(f.rate),
    }
    if f.flagged is not None:
        properties["flagged"] = f.flagged
    if f.gap is not None:
        properties["gap"] = f.gap
    properties["overview_url"] = f"{overview}{code}/"
    if layer.can_open_families:
        properties["families_url"] = f"{families}?wilayah={code}"
    return properties


def _url_prefixes() -> tuple[str, str]:
    return reverse("web:overview"), reverse("web:families")


def map_geojson(layer: MapLayer) -> str:
    """A FeatureCollection of the layer's outlined areas, assembled as text around the cached geometry text.

    Foreign members (allowed by RFC 7946 §6.1) carry the indicator, the legend and the pockets' method, so the
    file is self-describing when downloaded.
    """
    parts = []
    urls = _url_prefixes()
    for feature in layer.features:
        if not feature.outlined:
            continue
        geometry = layer.shapes.shapes[feature.area.code].geometry
        properties = json.dumps(
            feature_properties(layer, feature, urls=urls), ensure_ascii=False, separators=(",", ":")
        )
        parts.append(f'{{"type":"Feature","id":"{feature.area.code}","geometry":{geometry},"properties":{properties}}}')
    pockets = layer.pockets
    head = {
        "type": "FeatureCollection",
        "bbox": layer.bbox,
        "scope": layer.scope.code,
        "level": layer.level_name,
        "indicator": {"code": layer.indicator.code.value, "label": str(layer.indicator.label),
                      "unit": str(layer.indicator.unit), "pockets_on": str(layer.indicator.share_label)},
        "legend": {"method": layer.method.value, "no_data": NO_DATA, "classes": [
            {"lower": c.lower, "upper": c.upper, "lower_inclusive": c.lower_inclusive, "count": c.count,
             "fill": layer.colours[i]} for i, c in enumerate(layer.legend.classes)]},
        "pockets": None if pockets is None else {
            "statistic": "Getis-Ord Gi* (esda.G_Local, star) and local Moran's I (esda.Moran_Local)",
            "weights": "Queen contiguity; islands joined to the nearest area",
            "alpha": pockets.alpha, "fdr": pockets.fdr, "permutations": pockets.permutations, "seed": pockets.seed,
            "assessed": pockets.assessed, "skipped": pockets.skipped.value if pockets.skipped else None,
            "moran_i": _rounded(pockets.moran_i, 4), "moran_p": _rounded(pockets.moran_p, 4)},
    }  # fmt: skip
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + ',"features":[' + ",".join(parts) + "]}"
