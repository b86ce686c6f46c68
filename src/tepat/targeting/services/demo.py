"""For `tepat demo`: example eligibility rules and the local scores, computed at once (no worker needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tepat.accounts.models import AuditAction
from tepat.accounts.services import audit
from tepat.engine.scorecard import load_scorecard
from tepat.targeting.models import SCORECARD_PREFIX, EligibilityRule, ScoringRun
from tepat.targeting.services.rules import rule_save
from tepat.targeting.services.scores import scores_run_execute

if TYPE_CHECKING:
    from tepat.accounts.models import User

DEMO_RULES = (
    (
        "PKH (desil 1–4 dengan komponen)",
        "desil <= 4 and (anak_usia_sekolah > 0 or balita > 0 or lansia > 0 or anggota_disabilitas > 0)"
        " and not flag.ada",
        "PKH",
    ),
    (
        "Sembako (desil 1–5, tanpa temuan BPK)",
        "desil <= 5 and not (flag.asn or flag.tni_polri or flag.pln_900va_nonsubsidi or flag.pemilik_mobil)",
        "Sembako (BPNT)",
    ),
    (
        "RTLH daerah (skor lokal)",
        'desil_lokal <= 3 and jenis_lantai in ["Tanah", "Bambu", "Kayu/papan"] and status_kepemilikan_rumah == '
        '"Milik sendiri"',
        "",
    ),
)


def targeting_demo(*, actor: User) -> ScoringRun:
    """For `tepat demo`: the example rules, and local scores computed at once (no worker needed)."""
    from tepat.programs.models import Program as ProgramModel

    for name, expression, program_code in DEMO_RULES:
        if not EligibilityRule.objects.filter(name=name).exists():
            program = ProgramModel.objects.filter(code__iexact=program_code).first() if program_code else None
            rule_save(actor=actor, name=name, expression=expression, program=program)
    card = load_scorecard(settings_local_card())
    run = ScoringRun.objects.create(
        method=f"{SCORECARD_PREFIX}{card.id}", scorecard=card.id, version=card.version, created_by=actor
    )
    audit(actor, AuditAction.TARGETING_SCORES, target=run, detail={"scorecard": card.id, "version": card.version})
    return scores_run_execute(run=run)


def settings_local_card() -> str:
    """The scorecard behind ``local_score`` in rules (tepat.targeting.table.local_method)."""
    from tepat.targeting.table import local_method

    return local_method().removeprefix(SCORECARD_PREFIX)
