"""Why a file cannot be used: stable codes for machines, Indonesian messages for people."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from tepat.errors import UserError


class FileProblem(StrEnum):
    NOT_FOUND = "file.not_found"
    EMPTY = "file.empty"
    NOT_TEXT = "file.not_text"
    NO_HEADER = "file.no_header"
    MISSING_COLUMNS = "file.missing_columns"
    NO_ROWS = "file.no_rows"
    UNKNOWN_REGION = "file.unknown_region"


MESSAGES = {
    FileProblem.NOT_FOUND: _("Berkas tidak ditemukan: {path}"),
    FileProblem.EMPTY: _("Berkas kosong: {path}"),
    FileProblem.NOT_TEXT: _("Berkas bukan CSV/teks yang bisa dibaca: {path}"),
    FileProblem.NO_HEADER: _("Baris judul kolom tidak ditemukan di {path}"),
    FileProblem.MISSING_COLUMNS: _("Kolom wajib tidak ada: {columns}"),
    FileProblem.NO_ROWS: _("Berkas hanya berisi judul kolom, tanpa baris data"),
    FileProblem.UNKNOWN_REGION: _("Tidak ada satu pun kode desa/kelurahan yang dikenal di berkas ini"),
}


class IntakeError(UserError):
    """The file itself is unusable (exit code 2 in the CLI); nothing has been written when this is raised."""

    def __init__(self, code: FileProblem, **params: object) -> None:
        self.code = code.value
        self.params = params
        super().__init__(str(MESSAGES[code]).format(**params))
