"""Spreadsheets of the targeting app: a scenario (figures, villages, the families covered) and a rule's priority
list. Rows come from selectors, already limited to the actor's area and masked for the actor's role; the caller
writes the personal-data export audit row (services.personal_export_logged)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from tepat.targeting.models import EligibilityRule, ScenarioKind
from tepat.targeting.selectors import FamilyLine, PriorityRow, ScenarioView


def _formats(book: Any) -> dict[str, Any]:
    return {
        "bold": book.add_format({"bold": True, "bg_color": "#E8F0EC", "text_wrap": True, "valign": "top"}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "money": book.add_format({"num_format": "#,##0"}),
        "number": book.add_format({"num_format": "#,##0.####"}),
        "text": book.add_format({"num_format": "@"}),
    }


def _write(sheet: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _family_sheet(
    book: Any,
    name: str,
    lines: Sequence[FamilyLine],
    formats: dict[str, Any],
    extra: Sequence[tuple[str, Sequence[Any]]] = (),
) -> None:
    sheet = book.add_worksheet(name[:31])
    header = [
        _("Urutan"),
        _("No. KK"),
        _("Kepala keluarga"),
        _("NIK kepala keluarga"),
        _("Desa/kelurahan"),
        _("Kode desa"),
        _("Desil nasional"),
        *(title for title, _values in extra),
    ]
    sheet.write_row(0, 0, header, formats["bold"])
    for r, line in enumerate(lines, start=1):
        sheet.write_number(r, 0, r)
        sheet.write_string(r, 1, line.kk, formats["text"])
        sheet.write_string(r, 2, line.head)
        sheet.write_string(r, 3, line.head_nik, formats["text"])
        sheet.write_string(r, 4, line.village)
        sheet.write_string(r, 5, line.village_code, formats["text"])
        _write(sheet, r, 6, line.desil)
        for c, (_title, values) in enumerate(extra, start=7):
            _write(sheet, r, c, values[r - 1])
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 19)
    sheet.set_column(2, 2, 26)
    sheet.set_column(3, 3, 19)
    sheet.set_column(4, 4, 26)
    sheet.set_column(5, 6 + len(extra), 14)
    sheet.freeze_panes(1, 0)


_FIGURES = (
    ("families", _l("Keluarga tercakup"), "number"),
    ("cost", _l("Biaya (Rp)"), "money"),
    ("eligible", _l("Keluarga memenuhi syarat"), "number"),
    ("waiting", _l("Memenuhi syarat tetapi tidak terjangkau anggaran"), "number"),
    ("budget_left", _l("Sisa anggaran (Rp)"), "money"),
    ("extreme_poor_reached", _l("Miskin ekstrem (desil 1) terjangkau"), "number"),
    ("extreme_poor_share", _l("Bagian miskin ekstrem terjangkau"), "pct"),
    ("desil1_reached", _l("Keluarga desil 1 terjangkau"), "number"),
    ("desil1_share", _l("Bagian keluarga desil 1 terjangkau"), "pct"),
    ("needy_total", _l("Keluarga membutuhkan"), "number"),
    ("reached_by_nothing", _l("Keluarga membutuhkan yang tidak terjangkau program apa pun"), "number"),
    ("gap_before", _l("Kesenjangan kemiskinan sebelum (Rp/bulan)"), "money"),
    ("gap_after", _l("Kesenjangan kemiskinan sesudah (Rp/bulan)"), "money"),
    ("gap_closed", _l("Penurunan kesenjangan (Rp/bulan)"), "money"),
    ("p0_before", _l("P0 sebelum"), "pct"),
    ("p0_after", _l("P0 sesudah"), "pct"),
    ("p1_before", _l("P1 sebelum"), "pct"),
    ("p1_after", _l("P1 sesudah"), "pct"),
)


def scenario_xlsx(
    view: ScenarioView, *, lists: dict[str, Sequence[FamilyLine]], assigned: Sequence[tuple[FamilyLine, list[str]]] = ()
) -> bytes:
    """``lists``: sheet title → families in the order the scenario covers them (a, b); ``assigned`` for an
    allocation: each family with the programs it receives."""
    scenario = view.scenario
    results = view.results
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    formats = _formats(book)
    summary = book.add_worksheet(_("Ringkasan"))
    summary.set_column(0, 0, 52)
    summary.set_column(1, 3, 22)
    head = [
        (_("Skenario"), scenario.name),
        (_("Jenis"), scenario.get_kind_display()),
        (_("Wilayah"), scenario.scope),
        (_("Dihitung"), scenario.run_at.strftime("%Y-%m-%d %H:%M") if scenario.run_at else ""),
        (_("Garis kemiskinan (Rp/kapita/bulan)"), float(scenario.poverty_line)),
        (_("Sumber kesejahteraan"), results.get("welfare_source", "")),
        (_("Keluarga dengan kesejahteraan diperkirakan dari desil"), results.get("welfare_estimated_from_desil")),
        (_("Keluarga dalam wilayah"), results.get("families")),
    ]
    for r, (label, value) in enumerate(head):
        summary.write_string(r, 0, str(label), formats["bold"])
        _write(summary, r, 1, value)
    r = len(head) + 1
    if scenario.kind == ScenarioKind.COMPARE:
        rules = results.get("rules", {})
        summary.write_row(r, 0, ["", _("Aturan A"), _("Aturan B")], formats["bold"])
        summary.write_row(
            r + 1, 0, [_("Nama aturan"), rules.get("a", {}).get("name", ""), rules.get("b", {}).get("name", "")]
        )
        summary.write_row(
            r + 2, 0, [_("Aturan"), rules.get("a", {}).get("text", ""), rules.get("b", {}).get("text", "")]
        )
        r += 3
        for key, title, kind in _FIGURES:
            summary.write_string(r, 0, str(title))
            for c, side in enumerate(("a", "b"), start=1):
                figures = results.get(side) or {}
                _write(summary, r, c, figures.get(key), formats[kind] if kind != "number" else None)
            r += 1
        for label, key in (
            (_("Tercakup kedua aturan"), "both"),
            (_("Hanya aturan A"), "only_a"),
            (_("Hanya aturan B"), "only_b"),
        ):
            if key in results:
                summary.write_string(r, 0, label)
                _write(summary, r, 1, results[key])
                r += 1
    else:
        outcome = results.get("outcome", {})
        summary.write_row(r, 0, [_("Metode optimasi"), f"{results.get('method', '')} ({results.get('status', '')})"])
        r += 1
        for key, title, kind in _FIGURES:
            if key in outcome:
                summary.write_string(r, 0, str(title))
                _write(summary, r, 1, outcome[key], formats[kind] if kind != "number" else None)
                r += 1
        programs = book.add_worksheet(_("Program"))
        programs.write_row(
            0,
            0,
            [
                _("Program"),
                _("Aturan"),
                _("Anggaran (Rp)"),
                _("Biaya per keluarga (Rp)"),
                _("Nilai per bulan (Rp)"),
                _("Memenuhi syarat"),
                _("Dialokasikan"),
                _("Terpakai (Rp)"),
            ],
            formats["bold"],
        )
        for row, p in enumerate(results.get("programs", []), start=1):
            programs.write_row(row, 0, [p["code"], p["text"]])
            for c, key in enumerate(("budget", "cost", "value", "eligible", "assigned", "spent"), start=2):
                _write(programs, row, c, p.get(key), formats["money"])
        programs.set_column(0, 1, 30)
        programs.set_column(2, 7, 16)
    areas = book.add_worksheet(_("Per desa"))
    keys = [key for key, _heading in view.columns]
    areas.write_row(0, 0, [_("Kode desa"), _("Desa/kelurahan"), *(h for _k, h in view.columns)], formats["bold"])
    for row, line in enumerate(view.by_area, start=1):
        areas.write_string(row, 0, line["area"] or "", formats["text"])
        areas.write_string(row, 1, line["label"])
        for c, key in enumerate(keys, start=2):
            _write(areas, row, c, line.get(key))
    areas.set_column(0, 1, 24)
    for sheet_name, lines in lists.items():
        _family_sheet(book, sheet_name, lines, formats)
    if assigned:
        _family_sheet(
            book,
            _("Alokasi"),
            [line for line, _codes in assigned],
            formats,
            [(_("Program"), [", ".join(codes) for _line, codes in assigned])],
        )
    book.close()
    return out.getvalue()


def priority_list_xlsx(rule: EligibilityRule, rows: Sequence[PriorityRow]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    formats = _formats(book)
    about = book.add_worksheet(_("Aturan"))
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 90)
    for r, (label, value) in enumerate(
        [
            (_("Aturan"), rule.name),
            (_("Syarat"), rule.expression),
            (_("Keluarga memenuhi syarat"), len(rows)),
            (_("Urutan"), _("desil nasional terendah dulu, lalu skor lokal tertinggi (paling terdeprivasi)")),
        ]
    ):
        about.write_string(r, 0, str(label), formats["bold"])
        _write(about, r, 1, value)
    _family_sheet(
        book,
        _("Daftar prioritas"),
        [row.line for row in rows],
        formats,
        [
            (_("Jumlah anggota"), [row.members for row in rows]),
            (_("Desil lokal"), [row.local_desil for row in rows]),
            (_("Skor lokal"), [None if row.local_score is None else round(row.local_score, 4) for row in rows]),
            (_("Alasan masuk"), [row.decided_by for row in rows]),
        ],
    )
    book.close()
    return out.getvalue()
