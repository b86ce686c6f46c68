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
    TOO_LARGE = "file.too_large"
    TOO_MANY_COLUMNS = "file.too_many_columns"
    ZIP_BOMB = "file.zip_bomb"
    CORRUPT = "file.corrupt"
    ENCRYPTED = "file.encrypted"
    UNKNOWN_SHEET = "file.unknown_sheet"


MESSAGES = {
    FileProblem.NOT_FOUND: _("Berkas tidak ditemukan: {path}"),
    FileProblem.EMPTY: _("Berkas kosong: {path}"),
    FileProblem.NOT_TEXT: _("Berkas bukan CSV/teks yang bisa dibaca: {path}"),
    FileProblem.NO_HEADER: _("Baris judul kolom tidak ditemukan di {path}"),
    FileProblem.MISSING_COLUMNS: _("Kolom wajib tidak ada: {columns}"),
    FileProblem.NO_ROWS: _("Berkas hanya berisi judul kolom, tanpa baris data"),
    FileProblem.UNKNOWN_REGION: _("Tidak ada satu pun kode desa/kelurahan yang dikenal di berkas ini"),
    FileProblem.TOO_LARGE: _(
        "Berkas {path} terlalu besar ({size_mb} MB; batasnya {limit_mb} MB): pecah menjadi beberapa berkas"
    ),
    FileProblem.TOO_MANY_COLUMNS: _(
        "Berkas {path} memiliki {count} kolom; paling banyak {limit} kolom yang bisa dibaca"
    ),
    FileProblem.ZIP_BOMB: _("Berkas {path} ditolak karena isinya mengembang terlalu besar saat dibuka ({detail})"),
    FileProblem.CORRUPT: _(
        "Berkas {path} rusak atau bukan lembar kerja {format} yang utuh: buka di Excel/LibreOffice lalu simpan ulang"
    ),
    FileProblem.ENCRYPTED: _(
        "Berkas {path} dilindungi kata sandi: buka di Excel/LibreOffice, hapus kata sandinya, lalu unggah ulang"
    ),
    FileProblem.UNKNOWN_SHEET: _("Lembar kerja “{sheet}” tidak ada di {path}; lembar yang ada: {sheets}"),
}

# When the reader can say what the file really is ("berkas gambar PNG yang diberi nama .xlsx"), the message says it;
# the code stays the same, so machines see no difference.
MESSAGES_WITH_KIND = {
    FileProblem.NOT_TEXT: _("Berkas {path} bukan CSV/teks atau lembar kerja yang bisa dibaca: ini berkas {kind}"),
}


class IntakeError(UserError):
    """The file itself is unusable (exit code 2 in the CLI); nothing has been written when this is raised."""

    def __init__(self, code: FileProblem, **params: object) -> None:
        self.code = code.value
        self.params = params
        template = MESSAGES_WITH_KIND.get(code) if "kind" in params else None
        super().__init__(str(template or MESSAGES[code]).format(**params))
