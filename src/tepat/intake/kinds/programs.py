"""Kinds for programs and villages: recipient lists (the ledger) and village proposals."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from tepat.engine.identity import RegionCodes, check_kk, check_nik
from tepat.engine.values import (
    clean_name,
    normalise_village_code,
)
from tepat.intake.kinds.base import Cells, Handler, Issue, _decimal, _period, nik_in, person_in, rt_rw_of
from tepat.registry.stream import MEMBER_VALUES, NAME, NIK, NIK_RAW, NIK_VALID, VALUES
from tepat.registry.writer import (
    BenefitIn,
    CommitCounts,
    RegistryWriter,
)

AMOUNT_LIMIT = 10**12  # Benefit.amount: 14 digits, 2 of them after the point


class ProgramListHandler(Handler):
    """Recipient lists (PKH, Sembako, PBI-JK, PIP, RTLH, CSR, BAZNAS…): one ledger row per recipient and period.

    A row is kept even when its NIK is damaged or unknown to the registry (warned, not rejected): the payment
    happened, and who received it is exactly what the ledger must show. It needs some identity and a program.
    """

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.benefits: list[BenefitIn] = []

    def check(self, cells: Cells) -> None:
        if not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")
        if not (cells.text("program") or self.program):
            cells.reject("program", "program.missing")

    def add(self, cells: Cells, index: int) -> None:
        village: str | None = normalise_village_code(cells.text("village"))
        if village not in self.villages:  # agency sheets often name the kelurahan instead of coding it (a ledger row
            # is kept whatever its village: only placed or not, so an unknown code needs no warning here)
            name = cells.text("village_name")
            village = (self.names.code(name, cells.text("district_name"))[0] or None) if name else None
        self.benefits.append(
            BenefitIn(
                record=index,
                program=(cells.text("program") or self.program)[:80],
                period=self._period(cells),
                amount=self._amount(cells),
                nik=nik_in(cells, self.regions),
                name=clean_name(cells.text("name")),
                village=village,
                line=cells.line,
            )
        )

    def _amount(self, cells: Cells) -> float | None:
        """The amount a ledger row holds (14 digits, 2 of them after the point: under a trillion rupiah); a larger
        one (a NIK in the amount column) is a ``number.range`` warning and no amount."""
        amount = cells.parsed("amount", _decimal)
        if amount is not None and not abs(amount) < AMOUNT_LIMIT:
            cells.issues.append(Issue(cells.line, "amount", "number.range", cells.text("amount")[:200], error=False))
            return None
        return amount

    def _period(self, cells: Cells) -> str:
        """The row's period in the ledger's form (``engine.values.parse_period``; a quarter or month alone takes
        the year given at upload), else the period given at upload. A period that cannot be read is kept as written,
        with a warning: the payment happened, the year's analyses will miss it until it is corrected."""
        period = cells.parsed("period", partial(_period, year=self.period[:4] if self.period[:4].isdigit() else ""))
        if period is None:
            return cells.text("period")[:20] or self.period
        return str(period) or self.period

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.record_benefits(self.benefits)


PROPOSAL_ACTIONS = {
    **dict.fromkeys(("tambah", "baru", "usulan baru", "usul baru", "masuk", "usul masuk", "add", "penambahan",
                     "pengusulan", "diusulkan masuk"), "add"),
    **dict.fromkeys(("hapus", "keluar", "usul keluar", "usulan keluar", "dikeluarkan", "coret", "dicoret", "remove",
                     "penghapusan", "pengurangan", "diusulkan keluar"), "remove"),
}  # fmt: skip
REMOVAL_REASONS = {
    **dict.fromkeys(("pindah", "pindah domisili", "pindah alamat", "moved"), "moved"),
    **dict.fromkeys(("meninggal", "meninggal dunia", "wafat", "alm", "almarhum", "almarhumah", "died"), "died"),
    **dict.fromkeys(("mampu", "sudah mampu", "tidak miskin", "well off", "well_off"), "well_off"),
    **dict.fromkeys(("menolak", "tidak bersedia", "refused"), "refused"),
    **dict.fromkeys(("ganda", "data ganda", "duplikat", "duplicate"), "duplicate"),
}  # fmt: skip


def _key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


_REASON_WORDS = [(re.compile(rf"\b{re.escape(phrase)}\b"), code)
                 for phrase, code in sorted(REMOVAL_REASONS.items(), key=lambda item: -len(item[0]))]  # fmt: skip


def removal_reason(text: str) -> str:
    """The reason code of a removal as villages write it ("sudah mampu (buka warung)" → well_off); '' if empty."""
    key = _key(text)
    if not key:
        return ""
    if key in REMOVAL_REASONS:
        return REMOVAL_REASONS[key]
    return next((code for pattern, code in _REASON_WORDS if pattern.search(key)), "other")


class ProposalListHandler(Handler):
    """Village proposals (usulan): additions and removals with a reason, kept for verification, never applied.

    A removal must say why (pindah, meninggal, mampu, menolak, ganda or in the village's own words) and name
    someone by a valid NIK or KK; an addition needs a name or NIK. Every proposal needs its village.
    """

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        from tepat.verification.services import ProposalIn

        self._make = ProposalIn
        self.proposals: list[Any] = []

    def check(self, cells: Cells) -> None:
        self.check_village(cells)
        reason = removal_reason(cells.text("reason"))
        action = PROPOSAL_ACTIONS.get(_key(cells.text("action")))
        if action is None and not cells.text("action") and reason:
            action = "remove"  # a removal reason alone says what is proposed
        if action is None:
            cells.reject("action", "proposal.action_unknown", cells.text("action"))
            return
        cells.row["action"], cells.row["reason_code"] = action, reason if action == "remove" else ""
        if action == "remove":
            if not reason:
                cells.reject("reason", "proposal.reason_missing")
            nik = check_nik(cells.raw("nik"), regions=self.regions)
            kk = check_kk(cells.raw("kk"), regions=self.regions)
            if not (nik.valid or kk.valid):
                cells.reject("nik", "proposal.identity_missing", cells.text("nik") or cells.text("kk"))
        elif not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")

    def add(self, cells: Cells, index: int) -> None:
        person = person_in(cells, self.regions, self.relationship)
        kk = check_kk(cells.raw("kk"), regions=self.regions)
        values = {name: value for name, value in zip(MEMBER_VALUES, person[VALUES:], strict=True)
                  if value not in (None, "")}  # fmt: skip
        for name, value in zip(("rt", "rw", "street"), (*rt_rw_of(cells), cells.text("street")), strict=True):
            if value:
                values[name] = value
        self.proposals.append(
            self._make(source_record=index, action=cells.row["action"], village=cells.row["village"],
                       nik=person[NIK] or "", nik_raw=person[NIK_RAW], nik_valid=person[NIK_VALID],
                       kk=kk.kk if kk.valid and kk.kk else "", name=str(person[NAME] or ""),
                       reason=cells.row["reason_code"], reason_text=cells.text("reason")[:300], values=values,
                       line=cells.line)
        )  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        from tepat.verification.services import proposals_record

        for proposal in self.proposals:
            proposal.source_record = writer.record_ids[proposal.source_record]
        recorded = proposals_record(batch_id=writer.batch.pk, proposals=self.proposals)
        writer.counts.proposals_new = recorded.proposals
        writer.counts.persons_not_found = len(recorded.unmatched_lines)
        writer.unmatched.extend(recorded.unmatched_lines)
        return writer.counts


# Indicator names as BPS tables and planning documents write them -> indicator code.
