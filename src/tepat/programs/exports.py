"""The analyses and the evaluation meeting as XLSX: one sheet per table of the page, and the analyses' family lists
for those who may export them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from tepat.programs.analysis import AnalysisView, AreaRow, FamilyLine, MeasureRow
from tepat.programs.evaluation import Evaluation


def _pct(value: float | None) -> Any:
    return None if value is None else round(value / 100, 4)


def _measure_sheet(book: Any, name: str, rows: Sequence[MeasureRow], formats: dict[str, Any]) -> None:
    sheet = book.add_worksheet(name)
    header = [_("Kode"), _("Nama"), _("Keterangan"), _("Keluarga layak"), _("Layak terjangkau"), _("Cakupan"),
              _("Keluarga penerima"), _("Tidak layak"), _("Ada temuan pengecualian"), _("Salah sasaran (keluarga)"),
              _("Salah sasaran"), _("Layak belum terjangkau"), _("… di antaranya miskin ekstrem"), _("Baris daftar"),
              _("Penerima tidak ada di registri"), _("Penerima tercatat meninggal"), _("Nilai (Rp)"),
              _("Nilai ke keluarga desil 1–4 (Rp)"), _("Porsi ke desil 1–4")]  # fmt: skip
    sheet.write_row(0, 0, header, formats["bold"])
    for r, row in enumerate(rows, start=1):
        known = row.has_rule
        values = [row.key, row.label, row.detail, row.eligible if known else None, row.reached if known else None,
                  _pct(row.coverage), row.recipients, row.not_eligible if row.has_rule else None, row.flagged,
                  row.leakage, _pct(row.leakage_pct), row.excluded if row.has_rule else None,
                  row.excluded_extreme if row.has_rule else None, row.rows, row.unmatched, row.deceased, row.amount,
                  row.amount_poor, _pct(row.poor_share)]  # fmt: skip
        for c, value in enumerate(values):
            if value is None:
                sheet.write_blank(r, c, None)
            elif c in (5, 10, 18):
                sheet.write_number(r, c, value, formats["pct"])
            elif c in (16, 17):
                sheet.write_number(r, c, value, formats["money"])
            else:
                sheet.write(r, c, value)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 18, 14)
    sheet.freeze_panes(1, 2)


def _area_sheet(book: Any, name: str, rows: Sequence[AreaRow], formats: dict[str, Any]) -> None:
    sheet = book.add_worksheet(name)
    header = [_("Kode wilayah"), _("Wilayah"), _("Keluarga"), _("Desil 1–4"), _("Desil 1"),
              _("Menerima ≥ 1 program"), _("Cakupan desil 1–4"), _("Desil 1–4 tanpa bantuan"),
              _("Desil 1 tanpa bantuan"), _("Menerima banyak program"), _("… di antaranya bukan desil 1–4"),
              _("Nilai (Rp)"), _("Nilai ke desil 1–4 (Rp)"), _("Per keluarga desil 1–4 (Rp)")]  # fmt: skip
    sheet.write_row(0, 0, header, formats["bold"])
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, [row.code, row.label, row.families, row.poor, row.extreme, row.reached_any])
        if row.poor_coverage is None:
            sheet.write_blank(r, 6, None)
        else:
            sheet.write_number(r, 6, _pct(row.poor_coverage), formats["pct"])
        sheet.write_row(r, 7, [row.poor_no_help, row.extreme_no_help, row.many, row.many_not_poor])
        sheet.write_number(r, 11, row.amount, formats["money"])
        sheet.write_number(r, 12, row.amount_poor, formats["money"])
        if row.per_poor_family is None:
            sheet.write_blank(r, 13, None)
        else:
            sheet.write_number(r, 13, row.per_poor_family, formats["money"])
    sheet.set_column(0, 0, 15)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 13, 14)
    sheet.freeze_panes(1, 2)


def _family_sheet(book: Any, name: str, rows: Sequence[FamilyLine], formats: dict[str, Any]) -> None:
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, [_("No. KK"), _("Kepala keluarga"), _("Desa/kelurahan"), _("Alamat"), _("Desil"),
                           _("Anggota"), _("Program diterima")], formats["bold"])  # fmt: skip
    for r, row in enumerate(rows, start=1):
        sheet.write_string(r, 0, row.kk, formats["text"])
        sheet.write_row(
            r, 1, [row.head_name, row.village, row.address, row.desil, row.members, ", ".join(row.programs)]
        )
    sheet.set_column(0, 0, 19)
    sheet.set_column(1, 3, 28)
    sheet.set_column(4, 6, 12)
    sheet.freeze_panes(1, 0)


def analysis_xlsx(
    view: AnalysisView, *, excluded: Sequence[FamilyLine] | None = None, many: Sequence[FamilyLine] | None = None
) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    formats = {
        "bold": book.add_format({"bold": True, "bg_color": "#E8F0EC", "text_wrap": True, "valign": "top"}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "money": book.add_format({"num_format": "#,##0"}),
        "text": book.add_format({"num_format": "@"}),
    }
    summary = book.add_worksheet(_("Ringkasan"))
    summary.write_row(0, 0, [_("Wilayah"), f"{view.area.label} ({view.area.code})"], formats["bold"])
    summary.write_row(1, 0, [_("Periode"), view.filters.period or _("semua periode")])
    summary.write_row(2, 0, [_("Status dihitung"), ", ".join(view.filters.statuses())])
    total = view.total
    assert total is not None  # exports are offered once a snapshot exists
    lines = [
        (_("Keluarga"), total.families),
        (_("Keluarga desil 1–4"), total.poor),
        (_("Keluarga desil 1"), total.extreme),
        (_("Desil 1–4 tanpa bantuan apa pun"), total.poor_no_help),
        (_("Desil 1 tanpa bantuan apa pun"), total.extreme_no_help),
        (_("Keluarga menerima %(n)s program atau lebih") % {"n": view.many}, total.many),
        (_("Nilai seluruh bantuan (Rp)"), total.amount),
        (_("Nilai ke keluarga desil 1–4 (Rp)"), total.amount_poor),
        (_("Nilai per keluarga desil 1–4 (Rp)"), total.per_poor_family or 0),
    ]
    for r, (label, value) in enumerate(lines, start=4):
        summary.write(r, 0, label)
        summary.write_number(r, 1, value, formats["money"])
    summary.set_column(0, 0, 40)
    summary.set_column(1, 1, 24)
    _measure_sheet(book, _("Program"), view.programs, formats)
    _measure_sheet(book, _("Strategi"), view.strategies, formats)
    if view.children:
        _area_sheet(book, _("Wilayah"), view.children, formats)
    overlap = book.add_worksheet(_("Tumpang tindih"))
    overlap.write(0, 0, _("Keluarga yang menerima kedua program"), formats["bold"])
    overlap.write_row(0, 1, view.overlap_codes, formats["bold"])
    for r, (code, counts) in enumerate(zip(view.overlap_codes, view.overlap, strict=True), start=1):
        overlap.write(r, 0, code, formats["bold"])
        overlap.write_row(r, 1, counts)
    overlap.set_column(0, 0, 30)
    if excluded is not None:
        _family_sheet(book, _("Belum terjangkau"), excluded, formats)
    if many is not None:
        _family_sheet(book, _("Banyak program"), many, formats)
    book.close()
    return out.getvalue()


# -- the evaluation meeting ----------------------------------------------------------------------------------------
def _sheet(book: Any, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]], formats: dict[str, Any],
           kinds: dict[int, str], widths: Sequence[int]) -> None:  # fmt: skip
    """One table: ``kinds`` formats columns as money or percent (a percent value arrives as 0–100)."""
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, header, formats["bold"])
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            kind = kinds.get(c)
            if value is None or value == "":
                sheet.write_blank(r, c, None)
            elif kind == "pct":
                sheet.write_number(r, c, float(value) / 100, formats["pct"])
            elif kind == "money":
                sheet.write_number(r, c, float(value), formats["money"])
            else:
                sheet.write(r, c, value)
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 1)


def evaluation_xlsx(view: Evaluation) -> bytes:
    """The meeting's tables as a workbook: summary, strategies, agencies and partners, programs, locus villages,
    sub-activities with their problems (aggregates and plans only: no person is in it)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    formats = {
        "bold": book.add_format({"bold": True, "bg_color": "#E8F0EC", "text_wrap": True, "valign": "top"}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "money": book.add_format({"num_format": "#,##0"}),
    }
    total = view.total
    summary = [
        (_("Tahun"), view.year), (_("Per tanggal"), view.on.isoformat()),
        (_("Bagian tahun berjalan"), round(100 * view.elapsed, 1)), (_("Sub-kegiatan"), total.subactivities),
        (_("Pagu (Rp)"), float(total.budget)), (_("Realisasi (Rp)"), float(total.absorbed)),
        (_("Serapan"), total.absorption), (_("Capaian keluaran rata-rata"), total.output_achievement),
        (_("Keluarga terjangkau (laporan RAT)"), total.families_reported),
        *((label, total.flags.get(code, 0)) for code, label in view.labels.items()
          if code not in ("leakage", "coverage")),
        (_("Program dengan salah sasaran tinggi atau cakupan rendah"), view.program_flags),
        (_("Desa/kelurahan lokus dengan keluarga desil 1 tanpa bantuan"), len(view.loci)),
    ]  # fmt: skip
    _sheet(book, _("Ringkasan"), [_("Ukuran"), _("Nilai")], summary, formats,
           {}, [48, 20])  # fmt: skip
    money, pct = "money", "pct"
    strategies = [
        [s.code, s.label, s.subactivities, float(s.budget), float(s.absorbed), s.absorption, s.output_achievement,
         s.families_reported, s.ledger.recipients if s.ledger else None,
         s.ledger.coverage if s.ledger else None, s.ledger.leakage_pct if s.ledger else None, s.problems]
        for s in view.strategies
    ]  # fmt: skip
    _sheet(book, _("Strategi"), [_("Kode"), _("Strategi"), _("Sub-kegiatan"), _("Pagu (Rp)"), _("Realisasi (Rp)"),
                                 _("Serapan"), _("Capaian keluaran"), _("Keluarga (laporan RAT)"),
                                 _("Keluarga (buku besar)"), _("Cakupan layak"), _("Salah sasaran"), _("Masalah")],
           strategies, formats, {3: money, 4: money, 5: pct, 6: pct, 9: pct, 10: pct},
           [18, 46, 12, 16, 16, 10, 12, 14, 14, 12, 12, 10])  # fmt: skip
    agencies = [
        [str(a.organisation), a.organisation.get_kind_display() if a.organisation else "",
         a.subactivities if a.plan else None, float(a.budget) if a.plan else None,
         float(a.absorbed) if a.plan else None, a.absorption, a.output_achievement,
         a.families_reported if a.plan else None, a.ledger.recipients if a.ledger else None,
         a.ledger.amount if a.ledger else None, a.adopted or None, a.adoptions_delivered or None,
         a.problems + a.program_flags]
        for a in view.agencies
    ]  # fmt: skip
    _sheet(book, _("Perangkat daerah & mitra"),
           [_("Organisasi"), _("Jenis"), _("Sub-kegiatan"), _("Pagu (Rp)"), _("Realisasi (Rp)"), _("Serapan"),
            _("Capaian keluaran"), _("Keluarga (laporan RAT)"), _("Keluarga (buku besar)"), _("Nilai tersalur (Rp)"),
            _("Adopsi diklaim"), _("Adopsi tersalur"), _("Masalah")],
           agencies, formats, {3: money, 4: money, 5: pct, 6: pct, 9: money},
           [36, 22, 12, 16, 16, 10, 12, 14, 14, 16, 10, 10, 10])  # fmt: skip
    programs = [
        [p.row.key, p.row.label, p.owner, p.row.eligible if p.row.has_rule else None,
         p.row.reached if p.row.has_rule else None, p.row.coverage, p.row.recipients, p.row.leakage_pct,
         p.row.excluded_extreme if p.row.has_rule else None, "; ".join(f.text for f in p.flags)]
        for p in view.programs
    ]  # fmt: skip
    _sheet(book, _("Program"), [_("Kode"), _("Program"), _("Pemilik"), _("Keluarga layak"), _("Layak terjangkau"),
                                _("Cakupan"), _("Keluarga penerima"), _("Salah sasaran"),
                                _("Desil 1 layak belum terjangkau"), _("Masalah")],
           programs, formats, {5: pct, 7: pct}, [14, 40, 28, 12, 12, 10, 12, 12, 14, 60])  # fmt: skip
    loci = [
        [lo.village.code, lo.village.label, lo.families, lo.extreme, lo.extreme_no_help, lo.poor_no_help,
         "; ".join(f"{s.sub.name} ({s.organisation})" for s in lo.subs)]
        for lo in view.loci
    ]  # fmt: skip
    _sheet(book, _("Desa lokus"), [_("Kode wilayah"), _("Desa/kelurahan"), _("Keluarga"), _("Desil 1"),
                                   _("Desil 1 tanpa bantuan"), _("Desil 1–4 tanpa bantuan"),
                                   _("Sub-kegiatan dengan lokus ini")],
           loci, formats, {}, [15, 30, 10, 10, 12, 12, 70])  # fmt: skip
    subs = [
        [s.sub.budget_code, s.sub.name, str(s.organisation), ", ".join(s.strategies), float(s.sub.budget),
         float(s.sub.budget_absorbed) if s.sub.budget_absorbed is not None else None, s.absorption,
         s.sub.output_indicator, float(s.sub.output_target) if s.sub.output_target is not None else None,
         float(s.sub.output_realised) if s.sub.output_realised is not None else None, s.sub.output_unit,
         s.output_pct, s.sub.families_reached, s.families_ledger, s.sub.get_stage_display(),
         s.last_follow_up.date().isoformat() if s.last_follow_up else None,
         ", ".join(v.code for v in s.villages), "; ".join(f.text for f in s.flags)]
        for s in view.subs
    ]  # fmt: skip
    _sheet(book, _("Sub-kegiatan"),
           [_("Kode"), _("Sub-kegiatan"), _("Perangkat daerah"), _("Strategi"), _("Pagu (Rp)"), _("Realisasi (Rp)"),
            _("Serapan"), _("Indikator keluaran"), _("Target"), _("Realisasi keluaran"), _("Satuan"),
            _("Capaian keluaran"), _("Keluarga (laporan)"), _("Keluarga (buku besar)"), _("Tahap"),
            _("Tindak lanjut terakhir"), _("Lokus"), _("Masalah")],
           subs, formats, {4: money, 5: money, 6: pct, 11: pct},
           [20, 44, 24, 24, 16, 16, 10, 20, 10, 10, 10, 10, 12, 12, 12, 14, 30, 60])  # fmt: skip
    book.close()
    return out.getvalue()
