"""Transparent local scores: weighted deprivation indicators defined as data, scored column-wise, with the "why".

The official desil comes from BPS and is never recomputed here (Inpres 4/2025). What a region may do is rank
families for its *own* programs with criteria everyone can read: the Kemensos criteria for the poor
(Kepmensos 262/HUK/2022) or a multidimensional set (education, health, living standards, work, disability). Each
indicator is one condition in the rule language (engine.rules), e.g. ``floor in ["Tanah", "Semen"]``, with a
weight; the definitions live in JSON files under data/targeting/, so a TKPK can change a weight or a category list
without a programmer, and every family's score decomposes into the indicators that produced it.

Scores are deprivation shares in [0, 1] (higher = more deprived = poorer). An indicator the data do not hold for a
family is left out *for that family* and the weights of the others are rescaled, so missing data neither push a
family up nor down; the share of weight that was unknown is reported next to the score. The same numbers give the
Alkire–Foster measures per area: headcount H (share with score >= k), intensity A (mean score of the poor) and
M0 = H × A, with each indicator's contribution to M0.

Everything here works on pyarrow tables and numpy arrays, never row by row: a million families score in about a
second (bench/targeting.py).

The package, by concept: ``fields`` (the family table's columns and vocabularies), ``definition`` (scorecards as
data), ``scoring`` (scores and their decomposition), ``mpi`` (Alkire–Foster per area), ``ranking`` (desil within a
region, official against local), ``extract`` (the family table from a DTSEN extract file).
"""

from tepat.engine.scorecard.arrays import encode
from tepat.engine.scorecard.definition import (
    BUILTIN,
    DEFAULT_SCORECARD,
    SCORECARD_DIR,
    Indicator,
    Scorecard,
    ScorecardError,
    load_scorecard,
    scorecard_from_dict,
)
from tepat.engine.scorecard.extract import family_table
from tepat.engine.scorecard.fields import (
    COOKING_FUEL,
    EDUCATION_LEVELS,
    ELECTRICITY,
    EXCLUSION_FLAGS,
    FAMILY_FIELDS,
    FAMILY_SCHEMA,
    FLOOR,
    NOT_EARNING,
    NOT_WORKING,
    ROOF,
    SANITATION,
    TENURE,
    WALL,
    WATER,
)
from tepat.engine.scorecard.mpi import multidimensional_poverty
from tepat.engine.scorecard.ranking import AREA_LEVELS, area_level, compare_desil, desil_within
from tepat.engine.scorecard.scoring import IndicatorResult, ScoreResult, score_families

__all__ = [
    "AREA_LEVELS",
    "BUILTIN",
    "COOKING_FUEL",
    "DEFAULT_SCORECARD",
    "EDUCATION_LEVELS",
    "ELECTRICITY",
    "EXCLUSION_FLAGS",
    "FAMILY_FIELDS",
    "FAMILY_SCHEMA",
    "FLOOR",
    "NOT_EARNING",
    "NOT_WORKING",
    "ROOF",
    "SANITATION",
    "SCORECARD_DIR",
    "TENURE",
    "WALL",
    "WATER",
    "Indicator",
    "IndicatorResult",
    "ScoreResult",
    "Scorecard",
    "ScorecardError",
    "area_level",
    "compare_desil",
    "desil_within",
    "encode",
    "family_table",
    "load_scorecard",
    "multidimensional_poverty",
    "score_families",
    "scorecard_from_dict",
]
