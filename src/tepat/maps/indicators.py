"""What a poverty map can show, and the colours it shows it in.

Each indicator has a value the map colours (a count of families or a rate) and a *share* the pockets are computed
on: a count grows with a village's size, so a populous kelurahan would be a "pocket" only for being big; the share
of its families tells whether its neighbourhood is poorer than the region.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class IndicatorCode(StrEnum):
    POOR = "poor"
    EXTREME = "extreme"
    RATE = "rate"
    FLAGGED = "flagged"
    GAP = "gap"


@dataclass(frozen=True)
class Indicator:
    code: IndicatorCode
    label: str | Promise
    unit: str | Promise
    share_label: str | Promise  # what the pockets are computed on
    whole: bool  # counts (no decimals) or a percentage
    explain: str | Promise


INDICATORS: dict[IndicatorCode, Indicator] = {
    i.code: i
    for i in (
        Indicator(IndicatorCode.RATE, _("Persentase keluarga miskin (desil 1–4)"), "%",
                  _("keluarga desil 1–4 per seluruh keluarga"), False,
                  _("Keluarga aktif dengan desil nasional 1–4 dibagi seluruh keluarga aktif di wilayah itu.")),
        Indicator(IndicatorCode.POOR, _("Keluarga miskin (desil 1–4)"), _("keluarga"),
                  _("keluarga desil 1–4 per seluruh keluarga"), True,
                  _("Jumlah keluarga aktif dengan desil nasional 1–4.")),
        Indicator(IndicatorCode.EXTREME, _("Keluarga miskin ekstrem (desil 1)"), _("keluarga"),
                  _("keluarga desil 1 per seluruh keluarga"), True,
                  _("Jumlah keluarga aktif dengan desil nasional 1.")),
        Indicator(IndicatorCode.FLAGGED, _("Keluarga dengan temuan data"), _("keluarga"),
                  _("keluarga dengan temuan per seluruh keluarga"), True,
                  _("Keluarga aktif dengan temuan data yang belum selesai (NIK/KK tidak valid, NIK di dua KK, …), "
                    "dengan anggota yang tercatat meninggal, atau dengan anggota yang masuk daftar pengecualian "
                    "(ASN, TNI/Polri, pemilik mobil, …): sama dengan angka temuan di ringkasan wilayah.")),
        Indicator(IndicatorCode.GAP, _("Keluarga miskin belum menerima bantuan"), _("keluarga"),
                  _("keluarga desil 1–4 tanpa bantuan per keluarga desil 1–4"), True,
                  _("Keluarga aktif desil 1–4 yang tidak satu pun anggotanya tercatat menerima manfaat program "
                    "mana pun di buku manfaat.")),
    )
}  # fmt: skip
DEFAULT_INDICATOR = IndicatorCode.RATE


def indicator_of(code: str) -> Indicator:
    """The indicator named in a request; an unknown code gets the default rather than an error page."""
    try:
        return INDICATORS[IndicatorCode(code)]
    except ValueError:
        return INDICATORS[DEFAULT_INDICATOR]


# ColorBrewer YlOrRd (Cynthia Brewer, Apache 2.0): sequential, readable in grey and by most colour-blind readers.
# Every indicator here is "more is worse", so one scheme serves all; the darkest class is the poorest.
PALETTES: dict[int, tuple[str, ...]] = {
    1: ("#fd8d3c",),
    2: ("#fecc5c", "#e31a1c"),
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
}
NO_DATA = "#d9d9d9"
HOT_OUTLINE = "#2d004b"  # solid and dark: a hot spot (poverty pocket)
COLD_OUTLINE = "#2166ac"  # dashed and blue: a cold spot


def palette(k: int) -> tuple[str, ...]:
    return PALETTES[max(1, min(k, max(PALETTES)))] if k else ()


POCKET_LABELS: dict[str, str | Promise] = {
    "hot": _("kantong kemiskinan"),
    "cold": _("wilayah dingin"),
    "ns": _("tidak signifikan"),
    "na": _("tidak dinilai"),
}
CLUSTER_LABELS: dict[str, str | Promise] = {
    "HH": _("tinggi di antara tinggi"),
    "LL": _("rendah di antara rendah"),
    "HL": _("tinggi di antara rendah (pencilan)"),
    "LH": _("rendah di antara tinggi (pencilan)"),
    "ns": _("tidak signifikan"),
    "na": _("tidak dinilai"),
}
