"""What a file really is, judged by its bytes: regencies rename files freely (a photo of a list saved as .xlsx, an
HTML export called .xls), so the extension is only used to word the message."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.readers.base import Limits

HEAD_BYTES = 8 * 1024
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Below this, a high compression ratio is harmless (a sheet of identical cells packs 500:1 and is still small).
RATIO_GRACE_BYTES = 50 * 1024 * 1024
# An Excel file protected with "Encrypt with password" is an OLE2 container holding this stream (MS-OFFCRYPTO).
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}

# Renamed files worth naming in the message ("berkas gambar PNG yang diberi nama .xlsx").
NAMED_SUFFIXES = SPREADSHEET_SUFFIXES | {".csv", ".txt", ".tsv"}

# magic -> what the file is, as an operator would say it
_MAGICS = (
    (b"\x89PNG\r\n\x1a\n", _("gambar PNG")),
    (b"\xff\xd8\xff", _("gambar JPEG")),
    (b"GIF87a", _("gambar GIF")),
    (b"GIF89a", _("gambar GIF")),
    (b"%PDF-", _("dokumen PDF")),
    (b"Rar!\x1a\x07", _("arsip RAR")),
    (b"7z\xbc\xaf\x27\x1c", _("arsip 7-Zip")),
    (b"\x1f\x8b", _("arsip GZIP")),
    (b"II*\x00", _("gambar TIFF")),
    (b"MM\x00*", _("gambar TIFF")),
    (b"{\\rtf", _("dokumen RTF")),
)


@dataclass(frozen=True)
class Sniffed:
    format: str  # "csv", "xlsx", "xlsb", "xls", "ods"
    text_encoding: str = ""  # CSV: "utf-16", "utf-16-le", "utf-16-be" for UTF-16 text, "" for byte-oriented text


def sniff_format(path: Path, limits: Limits) -> Sniffed:
    try:
        if not path.is_file():
            raise IntakeError(FileProblem.NOT_FOUND, path=path)
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        raise IntakeError(FileProblem.NOT_FOUND, path=path) from None
    if size == 0:
        raise IntakeError(FileProblem.EMPTY, path=path.name)
    if size > limits.max_bytes:
        raise IntakeError(FileProblem.TOO_LARGE, path=path.name, size_mb=_mb(size), limit_mb=_mb(limits.max_bytes))
    if head.startswith(ZIP_MAGICS):
        return Sniffed(_zip_format(path, limits))
    if head.startswith(OLE2_MAGIC):
        return Sniffed("xls")
    for magic, kind in _MAGICS:
        if head.startswith(magic):
            raise _not_text(path, kind)
    utf16 = _utf16(head)
    if utf16:
        return Sniffed("csv", utf16)
    text_head = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if text_head.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            raise _not_text(path, _("XML Spreadsheet 2003"), resave=True)
        if b"<html" in text_head or b"<table" in text_head or b"<!doctype html" in text_head:
            raise _not_text(path, _("halaman web (HTML)"), resave=True)
    if b"\x00" in head:
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            raise IntakeError(FileProblem.CORRUPT, path=path.name, format=path.suffix.lower().lstrip("."))
        raise _not_text(path, _("data biner"))
    return Sniffed("csv")


def looks_encrypted(path: Path) -> bool:
    """Whether an OLE2 file calamine could not open holds an encrypted Office package (scanned in chunks)."""
    overlap = len(ENCRYPTED_PACKAGE)
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1024 * 1024):
            if ENCRYPTED_PACKAGE in tail + chunk:
                return True
            tail = chunk[-overlap:]
    return False


def _zip_format(path: Path, limits: Limits) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "xl/workbook.xml" in names:
                fmt = "xlsx"
            elif "xl/workbook.bin" in names:
                fmt = "xlsb"
            elif "content.xml" in names and "mimetype" in names and _read_small(archive, "mimetype") == ODS_MIMETYPE:
                fmt = "ods"
            elif "word/document.xml" in names:
                raise _not_text(path, _("dokumen Word"))
            elif "ppt/presentation.xml" in names:
                raise _not_text(path, _("presentasi PowerPoint"))
            elif "mimetype" in names and _read_small(archive, "mimetype").startswith(b"application/vnd.oasis"):
                raise _not_text(path, _("dokumen OpenDocument yang bukan lembar kerja"))
            else:
                raise _not_text(path, _("arsip ZIP, bukan lembar kerja"))
            if any(m.flag_bits & 0x1 for m in members) or (
                fmt == "ods" and b"encryption-data" in _read_small(archive, "META-INF/manifest.xml", 1024 * 1024)
            ):
                raise IntakeError(FileProblem.ENCRYPTED, path=path.name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError):
        raise IntakeError(
            FileProblem.CORRUPT, path=path.name, format=path.suffix.lower().lstrip(".") or "zip"
        ) from None
    _check_bomb(path, members, limits)
    return fmt


def _check_bomb(path: Path, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse archives that unpack to far more than they weigh.

    The declared sizes are enough: calamine's zip reader stops with an error when a member inflates past what it
    declared (checked with a doctored archive), so a lying member ends as file.corrupt, never as memory.
    """
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > limits.max_uncompressed_bytes:
        detail = str(
            _("{size} MB setelah dibuka; batasnya {limit} MB: simpan sebagai CSV atau pecah berkasnya")
        ).format(size=_mb(unpacked), limit=_mb(limits.max_uncompressed_bytes))
        raise IntakeError(FileProblem.ZIP_BOMB, path=path.name, detail=detail)
    if unpacked > RATIO_GRACE_BYTES and unpacked / packed > limits.max_compression_ratio:
        detail = str(_("mengembang {ratio} kali; batasnya {limit} kali")).format(
            ratio=unpacked // packed, limit=limits.max_compression_ratio
        )
        raise IntakeError(FileProblem.ZIP_BOMB, path=path.name, detail=detail)


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = 256) -> bytes:
    if name not in archive.namelist():
        return b""
    with archive.open(name) as member:
        return member.read(limit).strip()


def _utf16(head: bytes) -> str:
    """Excel's "Unicode Text" export is UTF-16 with a BOM; some systems write it without one."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    sample = head[: len(head) & ~1]
    half = len(sample) // 2
    if half < 2:
        return ""
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls > 0.3 * half and even_nuls < 0.02 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.02 * half:
        return "utf-16-be"
    return ""


def _not_text(path: Path, kind: object, *, resave: bool = False) -> IntakeError:
    text = str(kind)
    if path.suffix.lower() in NAMED_SUFFIXES:
        text = str(_("{kind} yang diberi nama {suffix}")).format(kind=text, suffix=path.suffix.lower())
    if resave:
        text = str(_("{kind}; buka di Excel lalu simpan sebagai .xlsx")).format(kind=text)
    return IntakeError(FileProblem.NOT_TEXT, path=path.name, kind=text)


def _mb(size: int) -> str:
    """Megabytes the Indonesian way: 0,5 and 250."""
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0").replace(".", ",")
