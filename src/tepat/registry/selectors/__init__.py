"""Reads of the registry. Every function takes the acting user and returns only what role and area allow.

NIK and KK numbers leave this package already masked for users without VIEW_FULL_NIK, and sensitive fields
(mother's maiden name, disability, exact birth date) already removed for users without VIEW_SENSITIVE, so no
template or export can show them by mistake.

Parts by concept: ``lists`` (family lists, counts and rows), ``profile`` (the family page), ``figures`` (per-village
figures kept under a stamp of the data, and the region dashboard summed from them).
"""

from tepat.registry.selectors.figures import (
    DESIL_SLOTS,
    KEEP_TREES,
    NONE,
    POOR_DESIL,
    AreaCounts,
    VillageFigures,
    data_stamp,
    flagged_served_figures,
    forget_figures,
    region_overview,
    village_figures,
    village_figures_stamped,
)
from tepat.registry.selectors.lists import (
    KnownCountPaginator,
    area_choices,
    codes_within,
    family_count,
    family_get,
    family_list,
    family_rows,
    flagged_families_q,
    flagged_family_q,
    served_families_q,
    served_family_q,
)
from tepat.registry.selectors.profile import (
    FAMILY_LABELS,
    HOUSING_LABELS,
    PERSON_LABELS,
    SENSITIVE,
    FamilyProfile,
    FieldValue,
    MemberView,
    Provenance,
    family_profile,
)

__all__ = [
    "DESIL_SLOTS", "FAMILY_LABELS", "HOUSING_LABELS", "KEEP_TREES", "NONE", "PERSON_LABELS", "POOR_DESIL", "SENSITIVE",
    "AreaCounts", "FamilyProfile", "FieldValue", "KnownCountPaginator", "MemberView", "Provenance", "VillageFigures",
    "area_choices", "codes_within", "data_stamp", "family_count", "family_get", "family_list", "family_profile",
    "family_rows", "flagged_families_q", "flagged_family_q", "flagged_served_figures", "forget_figures",
    "region_overview", "served_families_q", "served_family_q", "village_figures", "village_figures_stamped",
]  # fmt: skip
