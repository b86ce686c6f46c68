"""What the targeting reads share: who may do what, and the names of methods and welfare sources."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from tepat.accounts.permissions import Permission, has_permission
from tepat.engine.scorecard import BUILTIN, load_scorecard
from tepat.targeting.models import PMT_PREFIX, SCORECARD_PREFIX, WelfareAssessment
from tepat.targeting.texts import label

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def inside(code: str, scope: str) -> bool:
    return code == scope or code.startswith(scope + ".")


def can_edit_rules(actor: Actor) -> bool:
    return has_permission(actor, Permission.EDIT_TARGETS)


def can_compute_scores(actor: Actor) -> bool:
    return has_permission(actor, Permission.EDIT_REGISTRY)


@lru_cache(maxsize=16)
def _scorecard_name(card_id: str) -> str:
    try:
        return load_scorecard(card_id).name
    except Exception:  # a card removed since the run: the id is still a fine label
        return card_id


def method_label(method: str) -> str:
    if method.startswith(SCORECARD_PREFIX):
        return label(_scorecard_name(method.removeprefix(SCORECARD_PREFIX)))
    if method.startswith(PMT_PREFIX):
        return _("PMT %(model)s") % {"model": method.removeprefix(PMT_PREFIX)}
    return method


def scorecard_choices() -> list[tuple[str, str]]:
    return [(card, label(_scorecard_name(card))) for card in BUILTIN]


def welfare_sources() -> list[tuple[str, str]]:
    """Where a scenario may take welfare from: the desil midpoint, or a PMT stored as welfare in rupiah."""
    methods = (
        WelfareAssessment.objects.filter(method__startswith=PMT_PREFIX, explanation__welfare=True)
        .values_list("method", flat=True)
        .distinct()
        .order_by("method")
    )
    return [("desil", _("titik tengah desil resmi")), *((m, method_label(m)) for m in methods)]
