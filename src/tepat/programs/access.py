"""Who may change programs, action plans and adoptions: read by services (which enforce) and pages (which hide).

Built from the roles' permissions in accounts.permissions: planners of the TKPK (EDIT_TARGETS) may change any
program or plan; an agency operator only those of its own organisation; a partner (role partner with an
organisation) adopts families for its organisation. Audit actions for these writes are named here until
accounts.AuditAction carries them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from tepat.accounts.models import AuditAction, Role
from tepat.accounts.permissions import Permission, has_permission, scope_code

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import Organisation, User
    from tepat.programs.models import Program

    Actor = User | AnonymousUser

# Stored as plain codes in AuditEvent.action (a CharField); the lead adds them to AuditAction's choices.
AUDIT_PROGRAM = AuditAction.PROGRAM_CHANGE
AUDIT_PLAN = AuditAction.PROGRAM_PLAN
AUDIT_ADOPTION = AuditAction.PROGRAM_ADOPTION
# Not yet a member of AuditAction (the lead adds it): an export of the evaluation meeting's figures.
AUDIT_EVALUATION_EXPORT = AuditAction.PROGRAM_EVALUATION_EXPORT

# The evaluation meeting is the TKPK's: its secretariat (planners), the agencies that report their RAT, and the
# inspectorate. Village operators and enumerators work inside one area; partners see their own adoptions.
EVALUATION_ROLES = frozenset({Role.TKPK_ADMIN, Role.TKPK_ANALYST, Role.AGENCY_OPERATOR, Role.AUDITOR})


def is_planner(user: Actor) -> bool:
    """TKPK secretariat staff: they plan for the whole region and see every partner's adoptions."""
    return has_permission(user, Permission.EDIT_TARGETS)


def _own(user: Actor, organisation_id: int | None) -> bool:
    return (
        user.is_authenticated
        and getattr(user, "role", "") == Role.AGENCY_OPERATOR
        and organisation_id is not None
        and getattr(user, "organisation_id", None) == organisation_id
    )


def can_edit_program(user: Actor, program: Program | None = None) -> bool:
    if is_planner(user):
        return True
    if program is None:  # a new program: agencies create their own
        return _own(user, getattr(user, "organisation_id", None))
    return _own(user, program.organisation_id)


def can_plan(user: Actor, organisation: Organisation | None = None) -> bool:
    if is_planner(user):
        return True
    return _own(user, organisation.pk if organisation is not None else getattr(user, "organisation_id", None))


def can_adopt(user: Actor) -> bool:
    return (
        user.is_authenticated
        and getattr(user, "role", "") == Role.PARTNER
        and getattr(user, "organisation_id", None) is not None
        and has_permission(user, Permission.VIEW_PERSONS)
    )


def can_view_evaluation(user: Actor) -> bool:
    """The evaluation view covers every agency and locus village of the region: for region-wide roles only."""
    return (
        has_permission(user, Permission.VIEW_AGGREGATES)
        and getattr(user, "role", "") in EVALUATION_ROLES
        and scope_code(user) == settings.TEPAT_REGION
    )
