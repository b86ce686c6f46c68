"""Proposals as XLSX, in the columns SIKS-NG uploads and village meetings use."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext as _

from tepat.verification.selectors import ProposalRow

COLUMNS = ("NIK", "No. KK", "Nama", "Kode desa/kelurahan", "Desa/kelurahan", "Jenis usulan", "Alasan",
           "Alasan (ditulis pengusul)", "Status", "Terdaftar di registri", "Catatan terakhir")  # fmt: skip


def proposals_xlsx(rows: list[ProposalRow]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(_("Usulan"))
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})  # NIKs stay text: Excel would round 16 digits
    sheet.write_row(0, 0, [_(c) for c in COLUMNS], bold)
    for r, row in enumerate(rows, start=1):
        p = row.proposal
        note = p.history[-1].get("note", "") if p.history else ""
        sheet.write_string(r, 0, row.nik, text)
        sheet.write_string(r, 1, p.kk, text)
        sheet.write_row(r, 2, [p.name, p.village_id, p.village.name, str(p.get_action_display()),
                               str(p.get_reason_display()) if p.reason else "", p.reason_text,
                               str(p.get_status_display()), _("ya") if p.person_id else _("tidak"), note])  # fmt: skip
    sheet.set_column(0, 1, 19)
    sheet.set_column(2, 2, 28)
    sheet.set_column(3, 10, 16)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
