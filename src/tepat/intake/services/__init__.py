"""The import pipeline (one module per step): stage → validate (report + preview) → commit → (rollback).

- stage: keep a copy of the file and a batch row; the same file already committed for the same source is marked
  UNCHANGED and nothing else happens (re-importing changes nothing).
- validate: read every row, keep it raw (SourceRecord), parse it, write the report (RowIssue: row, column, code)
  and a preview made by running the real commit inside a transaction that is rolled back — so the preview's
  new/changed/unchanged counts are exactly what a commit would do.
- commit: one transaction; rows with errors are committed only never — the user either commits the valid rows
  (``valid_only``) or fixes the file and uploads again.
- rollback: undo a committed batch (created rows deleted, changed values restored with their old lineage),
  refused when a later batch built on it.
"""

from tepat.intake.services.commit import ImportOutcome, import_commit, import_file
from tepat.intake.services.common import BACKGROUND_KINDS, CRASHED, CRASHED_MESSAGE, EXAMPLES, PipelineError, Progress
from tepat.intake.services.rollback import import_rollback
from tepat.intake.services.stage import import_map_columns, import_stage, missing_fields, missing_labels
from tepat.intake.services.validate import import_validate

__all__ = [
    "BACKGROUND_KINDS",
    "CRASHED",
    "CRASHED_MESSAGE",
    "EXAMPLES",
    "ImportOutcome",
    "PipelineError",
    "Progress",
    "import_commit",
    "import_file",
    "import_map_columns",
    "import_rollback",
    "import_stage",
    "import_validate",
    "missing_fields",
    "missing_labels",
]
