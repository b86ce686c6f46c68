"""Stage a file (a copy and a batch row) and map its columns."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.engine.values import ValueError_, parse_period
from tepat.intake.columns import COLUMN_VARIANTS, FIELD_LABELS, map_columns, normalise_header
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.kinds import KINDS
from tepat.intake.models import BatchStatus, ColumnMapping, ImportBatch, Source
from tepat.intake.services.common import RERUNNABLE, PipelineError, _sha256
from tepat.monitoring.services import TARGET_PERMISSION


# -- stage ----------------------------------------------------------------------------------------------------------
def import_stage(
    *,
    actor: User | None,
    path: Path,
    kind: str,
    source_name: str,
    file_name: str | None = None,
    program: str = "",
    sheet: str | None = None,
    period: str = "",
) -> ImportBatch:
    """Keep a copy of the file and open a batch for it. ``sheet`` names the workbook sheet to read (by default the
    one with the best header). The same file from the same source, committed before (with that sheet, when one is
    named), makes the batch UNCHANGED: it offers the file's other sheets, which may still be imported one by one."""
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    if kind not in KINDS:
        raise PipelineError(f"jenis impor belum didukung: {kind} (tersedia: {', '.join(KINDS)})")
    if kind == "targets" and actor is not None:
        require(actor, TARGET_PERMISSION)  # operators import lists; targets are the TKPK's decision
    if not path.exists() or not path.is_file():
        raise IntakeError(FileProblem.NOT_FOUND, path=path)
    try:
        period = parse_period(period)
    except ValueError_ as exc:
        raise PipelineError(
            f"periode '{period}' tidak dapat dibaca: tulis mis. 2026, 2026-Q3, 2026-09 atau Triwulan III 2026"
            + (" (dengan tahunnya)" if exc.code == "period.no_year" else "")
        ) from None
    sha = _sha256(path)
    source, _ = Source.objects.get_or_create(name=source_name, defaults={"kind": kind})
    batch = ImportBatch.objects.create(
        source=source,
        kind=kind,
        file_name=file_name or path.name,
        sha256=sha,
        created_by=actor,
        program_code=program.strip()[:80],
        period_choice=period,
        sheet_choice=(sheet or "")[:100],
    )
    folder = Path(settings.VAR_DIR) / "imports" / str(batch.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / Path(file_name or path.name).name
    shutil.copyfile(path, stored)
    batch.stored_path = str(stored)
    previous = _committed_before(batch, sheet)
    if previous is not None:
        batch.status = BatchStatus.UNCHANGED
        batch.counts = {"same_as_batch": previous.pk}
        # What that import read, so that the page can offer the other sheets of the workbook.
        batch.sheet, batch.sheets, batch.alike_sheets = previous.sheet, previous.sheets, previous.alike_sheets
    batch.save()
    return batch


def _committed_before(batch: ImportBatch, sheet: str | None) -> ImportBatch | None:
    """The first committed batch of the same file from the same source (that read ``sheet``, when it is given)."""
    same = ImportBatch.objects.filter(source=batch.source, sha256=batch.sha256, status=BatchStatus.COMMITTED)
    if sheet is not None:
        same = same.filter(sheet=sheet)
    return same.exclude(pk=batch.pk).order_by("pk").first()


# -- read and parse -----------------------------------------------------------------------------------------------
def _mapping(batch: ImportBatch, header: list[str]) -> dict[str, int]:
    mapping = map_columns(header)
    remembered = {m.header: m.field for m in ColumnMapping.objects.filter(source=batch.source)}
    for index, text in enumerate(header):
        key = normalise_header(text)
        if key in remembered:
            for name, position in list(mapping.items()):
                if position == index:
                    del mapping[name]
            if remembered[key]:
                mapping[remembered[key]] = index
    return mapping


def missing_labels(kind: str, mapping: dict[str, int]) -> list[str]:
    """``missing_fields`` as a person reads them: each field's label and the header the templates use."""

    def label(name: str) -> str:
        text = f"{FIELD_LABELS.get(name, name)} ({COLUMN_VARIANTS.get(name, (name,))[0]})"
        return f"{text} {_('atau nama desa/kelurahan')}" if name == "village" else text

    return [" / ".join(label(name) for name in entry.split(" / ")) for entry in missing_fields(kind, mapping)]


def missing_fields(kind: str, mapping: dict[str, int]) -> list[str]:
    definition = KINDS[kind]
    # A village named (with its district when the name is not unique) stands for its code: see check_village.
    given = {*mapping, *(("village",) if "village_name" in mapping else ())}
    missing = [name for name in definition.required if name not in given]
    if definition.one_of and not any(name in mapping for name in definition.one_of):
        missing.append(" / ".join(definition.one_of))
    return missing


@transaction.atomic
def import_map_columns(
    *, actor: User | None, batch: ImportBatch, choices: dict[int, str], sheet: str | None = None
) -> ImportBatch:
    """The user's column choices (file column index -> field, '' = ignore), remembered for the batch's source;
    or, when ``sheet`` names another sheet of the workbook, that sheet instead of the one found by its header.

    The batch goes back to UPLOADED so validation runs again with the mapping.
    """
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    if batch.status == BatchStatus.UNCHANGED and sheet is not None and sheet in batch.sheets:
        # The file was imported before: another of its sheets may be, once.
        done = _committed_before(batch, sheet)
        if done is not None:
            raise PipelineError(f"lembar “{sheet}” dari berkas ini sudah diimpor (impor #{done.pk})")
        batch.sheet_choice, batch.status, batch.counts = sheet, BatchStatus.UPLOADED, {}
        batch.save(update_fields=["sheet_choice", "status", "counts"])
        audit(actor, AuditAction.IMPORT_MAPPING, target=batch, detail={"sheet": sheet})
        return batch
    if batch.status not in RERUNNABLE and batch.status != BatchStatus.VALIDATED:
        raise PipelineError(f"kolom batch #{batch.pk} tidak dapat diubah lagi ({batch.get_status_display().lower()})")
    if sheet is not None and sheet != batch.sheet:
        if sheet not in batch.sheets:
            raise PipelineError(f"lembar tidak ada di berkas: {sheet}")
        batch.sheet_choice = sheet  # another sheet: its own header, so the column choices below do not apply
        batch.status = BatchStatus.UPLOADED
        batch.save(update_fields=["sheet_choice", "status"])
        audit(actor, AuditAction.IMPORT_MAPPING, target=batch, detail={"sheet": sheet})
        return batch
    fields = set(COLUMN_VARIANTS)
    for index, field_name in choices.items():
        if index >= len(batch.columns) or (field_name and field_name not in fields):
            raise PipelineError(f"pilihan kolom tidak dikenal: {field_name}")
        header = normalise_header(batch.columns[index])
        ColumnMapping.objects.update_or_create(source=batch.source, header=header, defaults={"field": field_name})
    batch.status = BatchStatus.UPLOADED
    batch.save(update_fields=["status"])
    audit(actor, AuditAction.IMPORT_MAPPING, target=batch, detail={"choices": {str(k): v for k, v in choices.items()}})
    return batch
