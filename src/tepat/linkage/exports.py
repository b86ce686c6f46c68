"""XLSX of the data-quality findings (aggregates) and of a recipient list's pre-finalisation checklist."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from tepat.linkage.selectors import CATEGORIES, CheckRow, ProgramQuality, QualityRow


def _book() -> tuple[io.BytesIO, xlsxwriter.Workbook]:
    out = io.BytesIO()
    return out, xlsxwriter.Workbook(out, {"in_memory": True})


def quality_xlsx(total: QualityRow, rows: list[QualityRow], programs: list[ProgramQuality]) -> bytes:
    out, book = _book()
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(_("Per desa"))
    sheet.write_row(0, 0, [_("Kode"), _("Desa/kelurahan"), _("Keluarga"), *[str(v) for v in CATEGORIES.values()]], bold)
    for r, row in enumerate([*rows, total], start=1):
        sheet.write_row(r, 0, [row.area.code, row.area.name, row.families, *[row.counts[k] for k in CATEGORIES]])
    sheet.freeze_panes(1, 2)
    sheet = book.add_worksheet(_("Per program"))
    keys = ["not_in_registry", *CATEGORIES]
    sheet.write_row(0, 0, [_("Program"), _("Penerima"), _("Tidak ada di registri"),
                           *[str(v) for v in CATEGORIES.values()]], bold)  # fmt: skip
    for r, p in enumerate(programs, start=1):
        sheet.write_row(r, 0, [p.program, p.recipients, *[p.counts[k] for k in keys]])
    book.close()
    return out.getvalue()


def checklist_xlsx(rows: list[CheckRow]) -> bytes:
    out, book = _book()
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet(_("Periksa sebelum final"))
    sheet.write_row(0, 0, [_("Baris"), _("NIK"), _("Nama"), _("Program"), _("Periode"), _("Nominal"),
                           _("Temuan")], bold)  # fmt: skip
    for r, row in enumerate(rows, start=1):
        b = row.benefit
        line = b.source_record.row_number if b.source_record_id and b.source_record else ""
        sheet.write(r, 0, line)
        sheet.write_string(r, 1, row.nik, text)
        sheet.write_row(r, 2, [b.name, b.program.code, b.period, float(b.amount) if b.amount is not None else "",
                               "; ".join(row.findings)])  # fmt: skip
    sheet.set_column(1, 2, 22)
    sheet.set_column(6, 6, 60)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
