"""Undo a committed batch."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.intake.services.common import PipelineError
from tepat.monitoring.services import MonitoringError, monitoring_batch_rollback
from tepat.programs.models import Benefit
from tepat.registry.models import (
    WHOLE_ROW,
    Address,
    Change,
    Exclusion,
    Family,
    Household,
    Membership,
    Person,
    RegistryFlag,
)
from tepat.verification.models import Proposal, ProposalStatus


# -- rollback -------------------------------------------------------------------------------------------------------
@transaction.atomic
def import_rollback(*, actor: User | None, batch: ImportBatch) -> ImportBatch:
    """Undo a committed batch. Refused when a later batch changed or linked rows that this batch created."""
    if actor is not None:
        require(actor, Permission.IMPORT_DATA)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.COMMITTED:
        raise PipelineError(
            f"hanya batch yang tersimpan yang dapat dibatalkan (#{batch.pk}: {batch.get_status_display()})"
        )
    created = {
        "person": Person.objects.filter(created_batch=batch).values("pk"),
        "family": Family.objects.filter(created_batch=batch).values("pk"),
        "household": Household.objects.filter(created_batch=batch).values("pk"),
    }
    later_changes = Change.objects.exclude(batch=batch).filter(_about(created))
    later_links = (
        Membership.objects.exclude(created_batch=batch).filter(person__created_batch=batch).exists()
        or Membership.objects.exclude(created_batch=batch).filter(family__created_batch=batch).exists()
    )
    if later_links or later_changes.exists():
        raise PipelineError(f"batch #{batch.pk} sudah dipakai oleh impor berikutnya; batalkan impor berikutnya dulu")
    try:
        monitoring_batch_rollback(batch_id=batch.pk)
    except MonitoringError as exc:
        raise PipelineError(str(exc)) from exc
    from tepat.programs.models import Adoption

    if Adoption.objects.filter(family__created_batch=batch).exists():
        raise PipelineError(
            f"keluarga dari batch #{batch.pk} sudah diadopsi mitra; impor ini tidak dapat dibatalkan lagi"
        )
    proposals = Proposal.objects.filter(batch=batch)
    if proposals.exclude(status=ProposalStatus.PROPOSED).exists():
        raise PipelineError(f"usulan dari batch #{batch.pk} sudah diproses; impor ini tidak dapat dibatalkan lagi")
    proposals.delete()
    _revert_changes(batch, actor)
    RegistryFlag.objects.filter(batch=batch).delete()
    Exclusion.objects.filter(batch=batch).delete()
    Benefit.objects.filter(batch=batch).delete()
    Membership.objects.filter(created_batch=batch).delete()
    Person.objects.filter(created_batch=batch).delete()
    households = list(Household.objects.filter(created_batch=batch).values_list("pk", "address_id"))
    Family.objects.filter(created_batch=batch).delete()
    Household.objects.filter(pk__in=[h for h, _ in households]).delete()
    Address.objects.filter(pk__in=[a for _, a in households if a]).exclude(
        pk__in=Family.objects.values("address_id")
    ).delete()
    batch.status = BatchStatus.ROLLED_BACK
    batch.rolled_back_at = timezone.now()
    batch.rolled_back_by = actor
    batch.save(update_fields=["status", "rolled_back_at", "rolled_back_by"])
    audit(actor, AuditAction.IMPORT_ROLLBACK, target=batch, detail={"file": batch.file_name})
    return batch


def _about(created: dict[str, Any]) -> Q:
    """Changes about any of the given rows (entity name -> ids)."""
    q = Q(pk__in=[])
    for entity, ids in created.items():
        q |= Q(entity=entity, entity_id__in=ids)
    return q


_MODELS: dict[str, Any] = {"person": Person, "family": Family, "household": Household, "membership": Membership}


def _revert_changes(batch: ImportBatch, actor: User | None) -> None:
    """Restore every value the batch changed, newest first, and record each restoration as a change itself."""
    reverts: list[Change] = []
    for change in Change.objects.filter(batch=batch).order_by("-id"):
        model = _MODELS[change.entity]
        obj = model.objects.filter(pk=change.entity_id).first()
        if obj is None:
            continue
        current = getattr(obj, change.field)
        setattr(obj, change.field, model._meta.get_field(change.field).to_python(change.old))
        # The lineage as it was: the old record under the field, or nothing when it is the row's own (WHOLE_ROW).
        if change.old_source_record_id and change.old_source_record_id != obj.lineage.get(WHOLE_ROW):
            obj.lineage[change.field] = change.old_source_record_id
        else:
            obj.lineage.pop(change.field, None)
        obj.save(update_fields=[change.field, "lineage", "updated_at"])
        reverts.append(
            Change(entity=change.entity, entity_id=change.entity_id, field=change.field,
                   old=current.isoformat() if isinstance(current, date) else current, new=change.old,
                   source_record_id=change.old_source_record_id, actor=actor,
                   reason=f"pembatalan impor #{batch.pk}")
        )  # fmt: skip
    Change.objects.bulk_create(reverts)
