"""`tepat pmt fit` and `tepat pmt score`: proxy-means tests fitted on a survey CSV, applied to another CSV.

Contract (DESIGN.md): `tepat pmt fit SURVEY.csv --household-id COL (--welfare COL | --label COL) --out model.json`
and `tepat pmt score model.json DATA.csv --out scores.csv` (columns household_id,score,rank,decile; rank 1 and
decile 1 are the poorest). Exit 0 on success, 2 with one line on stderr for bad input. No database is needed.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from tepat.engine.pmt import FitOptions, fit_pmt, model_card, read_model, score_pmt, write_model
from tepat.engine.pmt.card import cv_table
from tepat.errors import UserError
from tepat.progress import cli_progress


class _Parser(CommandParser):
    """Argument mistakes are user errors too: one line and exit 2, not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"pmt: {message} (lihat `tepat pmt --help`)")


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _fractions(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _names(value))
    except ValueError:
        raise UserError(f"--coverage harus pecahan dipisah koma, mis. 0.2,0.4 (bukan {value!r})") from None


class Command(BaseCommand):
    help = (
        "Proxy-means test: `pmt fit SURVEY.csv --household-id COL (--welfare COL | --label COL) --out model.json`, "
        "`pmt score model.json DATA.csv --out scores.csv`, `pmt card model.json`."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = _Parser.error.__get__(parser)  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
        fit = actions.add_parser("fit", help="fit a PMT on a survey CSV (person or household rows)")
        fit.add_argument("survey", help="survey CSV, one row per person or per household")
        fit.add_argument("--household-id", required=True, help="column identifying the household")
        fit.add_argument("--welfare", help="continuous welfare, e.g. per-capita consumption (log-regressed)")
        fit.add_argument("--label", help="ordinal classes, lower = poorer (e.g. desil)")
        fit.add_argument("--out", required=True, help="model JSON to write")
        fit.add_argument("--weight", help="survey weight column (household-constant)")
        fit.add_argument("--coverage", default="0.2,0.4", help="coverages for targeting errors, e.g. 0.2,0.4")
        fit.add_argument("--exclude", help="columns not to use as predictors, comma-separated")
        fit.add_argument("--categorical", help="numeric-coded columns to treat as categories, comma-separated")
        fit.add_argument("--age", help="member age column (detected by name when omitted)")
        fit.add_argument("--head-column", help="relationship-to-head column (detected by name when omitted)")
        fit.add_argument("--head-value", help="the value of --head-column that marks the household head")
        fit.add_argument("--folds", type=int, default=5)
        fit.add_argument("--models", default="ridge,boosting", help="candidates: ridge, boosting")
        fit.add_argument("--seed", type=int, default=0)
        fit.add_argument("--threads", type=int, default=1, help="threads for gradient boosting")
        fit.add_argument("--card", help="also write the model card (Markdown) to this file")
        score = actions.add_parser("score", help="score a CSV with a fitted model")
        score.add_argument("model", help="model JSON written by `pmt fit`")
        score.add_argument("data", help="CSV with the survey's predictor columns")
        score.add_argument("--out", required=True, help="scores CSV to write")
        score.add_argument("--household-id", help="household id column, when named differently than in the survey")
        card = actions.add_parser("card", help="print a model's card")
        card.add_argument("model")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "fit":
            self._fit(options)
        elif action == "score":
            self._score(options)
        else:
            self.stdout.write(model_card(read_model(options["model"])), ending="")

    def _fit(self, options: dict[str, Any]) -> None:
        fit_options = FitOptions(
            household_id=options["household_id"],
            welfare=options["welfare"],
            label=options["label"],
            weight=options["weight"],
            coverage=_fractions(options["coverage"]),
            exclude=_names(options["exclude"]),
            categorical=_names(options["categorical"]),
            age=options["age"],
            head_column=options["head_column"],
            head_value=options["head_value"],
            folds=options["folds"],
            models=_names(options["models"]),
            seed=options["seed"],
            threads=options["threads"],
        )
        out = Path(options["out"])
        _writable(out)
        with cli_progress(enabled=sys.stderr.isatty()) as progress:
            model = fit_pmt(options["survey"], fit_options, progress=progress)
        write_model(model, out)
        card = model["card"]
        data = card["data"]
        self.stdout.write(
            f"survei: {data['rows']:,} baris, {data['households_used']:,} rumah tangga, "
            f"{card['columns']['features']} fitur"
        )
        for warning in card["warnings"]:
            self.stdout.write(f"peringatan: {warning}")
        self.stdout.write(f"validasi silang {model['cv']['folds']} lipatan (* = terpilih):")
        for line in cv_table(model):
            self.stdout.write(f"  {line}")
        if options["card"]:
            card_path = Path(options["card"])
            _writable(card_path)
            card_path.write_text(model_card(model), encoding="utf-8")
        self.stdout.write(f"model ditulis ke {out}")

    def _score(self, options: dict[str, Any]) -> None:
        model = read_model(options["model"])
        out = Path(options["out"])
        _writable(out)
        scores = score_pmt(model, options["data"], household_id=options["household_id"])
        table = scores.table
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["household_id", "score", "rank", "decile"])
            writer.writerows(
                zip(
                    table.column("household_id").to_pylist(),
                    (repr(round(v, 4)) for v in table.column("score").to_pylist()),
                    table.column("rank").to_pylist(),
                    table.column("decile").to_pylist(),
                    strict=True,
                )
            )
        for warning in scores.warnings:
            self.stdout.write(f"peringatan: {warning}")
        self.stdout.write(f"{table.num_rows:,} rumah tangga diberi skor; ditulis ke {out}")


def _writable(path: Path) -> None:
    if path.exists() and path.is_dir():
        raise UserError(f"{path} adalah folder; beri nama berkas untuk --out")
    if not path.parent.exists():
        raise UserError(f"folder {path.parent} tidak ada")
