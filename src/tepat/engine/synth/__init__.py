"""Synthetic regional registry for demos and benchmarks: a real regency, invented people, realistic defects.

Why it exists: the product's hard problems (dirty NIKs, duplicates, dead and moved recipients, exclusion flags,
the same families on every list) only show on data that has them. Real DTSEN data are personal data and cannot be
shipped, so the generator builds a population on the region's real Kemendagri codes, derives the files a TKPK really
receives from it, damages them the way BPK found them damaged, and writes down every damage as ground truth.
Pure Python, no Django: it runs from the CLI, in tests and in benchmarks. Same config, byte-identical files.

Files written to `out_dir` (CSV, UTF-8, header on line 1; "row" means spreadsheet line, first data row = 2):

- dtsen_extract.csv: one row per person the registry lists (see _registry.EXTRACT_HEADER for the columns):
  id_keluarga, id_rumah_tangga, no_kk, nik, nama, jenis_kelamin, tempat_lahir, tanggal_lahir, hubungan_keluarga,
  nama_ibu_kandung, status_perkawinan, pendidikan, pekerjaan, disabilitas, alamat, rt, rw, kode_desa,
  desil_nasional, desil_provinsi, desil_kabupaten, tanggal_data, and the DTSEN housing/asset variables.
  Persons who moved out stay listed (DTSEN learns of moves late; truth_persons.status says "pindah"); about half
  of those who died are still listed, the others were removed.
- program_{pkh,sembako,pbi_jk,pip,rtlh,csr,baznas}.csv: recipient lists in the person-list template (record_id ..
  kode_desa, program, periode, nominal) plus one column of their own (PKH komponen, PIP jenjang, CSR perusahaan,
  BAZNAS asnaf); partners leave columns empty and type RT "3" for "003". program_rtlh.csv is a Dinas Perkim
  sheet instead (Indonesian headers, ';', dd/mm/yyyy, upper case, village by name, nominal "20.000.000").
  program_sembako.csv went through Excel in some district offices (NIK as 6.47403E+15, "...0001.0" or cut to 15
  digits). Agency lists end lines with CRLF.
- death_list.csv, moved_list.csv (pindah keluar and datang; the origin village tells the direction; `tujuan` is
  the destination village code), exclusion_list.csv (the custodians' matches; `jenis_pengecualian` in asn,
  tni_polri, guru_sertifikasi, pln_900va_nonsubsidi, pemilik_mobil, upah_di_atas_umk, perangkat_desa).
- truth_persons.csv: the whole true population; flags are 1/0, pemilik_mobil and pln_900va_nonsubsidi hold for
  everyone in the household; asn covers civil servants and TNI/Polri.
- truth_defects.csv: file,row,record_id,person_id,defect,detail, one row per injected defect (record_id is empty
  for the extract, which has none). A row can carry several defects.
- manifest.json: config, counts, desil distribution, defect counts, generator version.

Defect vocabulary (truth_defects.defect):

- nik_invalid_length: NIK cell with a digit dropped or added.
- nik_serial_zero: NIK whose serial (last four digits) is 0000.
- nik_placeholder: NIK cell is a placeholder (000..., 1234567890123456, "-", "BELUM ADA").
- nik_excel_scientific: NIK shown as 6.47403E+15 by Excel; the digits are lost.
- nik_excel_float: NIK written as a float, "6474031207850001.0".
- nik_excel_truncated: Excel's 15 significant digits: the 16th digit zeroed, or dropped.
- nik_in_two_kk: a married child still listed on the parents' old KK besides their own (the stale row is marked).
- name_empty: empty name in the extract.
- name_typo: letters swapped, dropped, doubled or a vowel changed.
- name_variant: the same name written another way: Muhammad/Muhamad/Mohammad/Moh./Muh./M., Siti/Sitti,
  Nurhaliza/Nur Haliza, hajj title H./Hj. added or dropped, last word missing, old spelling "oe", upper case.
- birth_date_wrong: day/month swapped, year off by one, a legacy default date (1 Jan, 1 Jul, 31 Dec), day off.
- birth_date_missing: empty birth date.
- duplicate_in_list: the same person a second time in one list (detail names the first row), sometimes with a
  name variant; the copy keeps the first row's other defects.
- dead_still_listed: a person who died (truth) is still a row of the DTSEN extract.
- dead_recipient: a recipient who died before the period starts, death registered in death_list.csv.
- moved_recipient: a recipient who moved out before the period starts, move in moved_list.csv.
- excluded_recipient: the recipient's family has an exclusion flag (detail = the kind, as in exclusion_list.csv;
  person kinds come from any living member of the family, pemilik_mobil and pln_900va_nonsubsidi from the
  household).
- inclusion_error_desil: the recipient's family is above the program's desil ceiling (PKH/PIP/BAZNAS 4,
  Sembako/PBI-JK/RTLH/CSR 5).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from tepat.engine.batch import gc_paused
from tepat.engine.synth._defects import EXTRACT_RATES, LIST_RATES, Defect, DefectRow, scaled
from tepat.engine.synth._errors import SynthError
from tepat.engine.synth._model import Population
from tepat.engine.synth._population import PopulationBuilder
from tepat.engine.synth._programs import PROGRAMS, ProgramBuilder, write_program
from tepat.engine.synth._reference import Region, load_atlas, region_of
from tepat.engine.synth._registry import (
    DEATHS,
    EXCLUSIONS,
    EXTRACT,
    MOVES,
    TRUTH_DEFECTS,
    TRUTH_PERSONS,
    life_records,
    write_deaths,
    write_defects,
    write_exclusions,
    write_extract,
    write_moves,
    write_truth_persons,
)
from tepat.engine.synth._welfare import WelfareAssigner, assign_events

__all__ = ["DEFAULT_WEALTH", "GENERATOR_VERSION", "Defect", "SynthConfig", "SynthError", "generate"]

GENERATOR_VERSION = "1.0.0"
# Mean latent welfare on the national scale (0 = the national average). 1.25 gives Bontang's 8-9% of persons in
# desil 1-4; a poor rural regency would be around -0.5.
DEFAULT_WEALTH = 1.25
MATCHED_DESIL = 6  # the region sends families up to this desil to the data custodians for matching


@dataclass(frozen=True)
class SynthConfig:
    region: str  # Kemendagri regency/city code, "64.74" or "6474"
    persons: int
    seed: int
    snapshot: date = date(2026, 9, 30)
    defect_rate: float = 1.0  # multiplies every defect rate
    wealth: float = DEFAULT_WEALTH


def _validate(config: SynthConfig) -> None:
    if isinstance(config.persons, bool) or not isinstance(config.persons, int) or config.persons < 1:
        raise SynthError(f"persons must be a whole number of at least 1, got {config.persons!r}")
    if not isinstance(config.seed, int):
        raise SynthError(f"seed must be an integer, got {config.seed!r}")
    if not isinstance(config.snapshot, date) or not date(2010, 1, 1) <= config.snapshot <= date(2099, 12, 31):
        raise SynthError(f"snapshot must be a date between 2010 and 2099, got {config.snapshot!r}")
    if not math.isfinite(config.defect_rate) or config.defect_rate < 0:
        raise SynthError(f"defect_rate must be a finite number >= 0, got {config.defect_rate!r}")
    if not math.isfinite(config.wealth):
        raise SynthError(f"wealth must be a finite number, got {config.wealth!r}")
    if not isinstance(config.region, str) or not config.region.strip():
        raise SynthError("region must be a Kemendagri regency/city code such as 64.74")


def generate(
    config: SynthConfig,
    *,
    reference_dir: Path,
    out_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    """Generate the registry, the lists and the truth into out_dir; return the manifest (also manifest.json).

    progress(done, total) counts persons generated and reaches total only once every file is written.
    """
    _validate(config)
    with gc_paused():
        return _generate(config, reference_dir=Path(reference_dir), out=Path(out_dir), progress=progress)


def _generate(
    config: SynthConfig, *, reference_dir: Path, out: Path, progress: Callable[[int, int], None] | None
) -> dict[str, object]:
    atlas = load_atlas(reference_dir)
    region = region_of(atlas, config.region)
    out.mkdir(parents=True, exist_ok=True)

    def stream(name: str) -> random.Random:
        # Independent streams: a change in one part (say the lists) leaves the population as it was.
        return random.Random(f"tepat-synth:{config.seed}:{name}")

    today = config.snapshot.toordinal()
    builder = PopulationBuilder(
        rng=stream("population"),
        region=region,
        atlas=atlas,
        snapshot=config.snapshot,
        persons=config.persons,
        progress=progress,
    )
    builder.build()
    population = builder.finish()
    WelfareAssigner(rng=stream("welfare"), today=today, wealth=config.wealth).assign(population)
    assign_events(population, rng=stream("events"), today=today)
    records = life_records(
        population,
        rng=stream("records"),
        region=region,
        atlas=atlas,
        today=today,
        origin_district=builder.places.origin_district,
    )

    log: list[DefectRow] = []
    counts: dict[str, int] = {}
    counts[EXTRACT] = write_extract(
        population, rng=stream("extract"), rates=scaled(EXTRACT_RATES, config.defect_rate), out_dir=out, log=log
    )
    programs = ProgramBuilder(
        population=population,
        region=region,
        records=records,
        rng=stream("programs"),
        rates=scaled(LIST_RATES, config.defect_rate),
        defect_rate=config.defect_rate,
        snapshot=config.snapshot,
    )
    lists = [programs.build(program) for program in PROGRAMS]
    matched = {family.fid for family in population.families if family.desil <= MATCHED_DESIL}
    program_info: dict[str, object] = {}
    for plist in lists:
        matched.update(row.family.fid for row in plist.rows)
        counts[plist.program.file] = write_program(plist, out, log)
        program_info[plist.program.file] = {
            "program": plist.program.label,
            "funder": plist.program.funder,
            "unit": plist.program.unit,
            "max_desil": plist.program.max_desil,
            "periode": plist.periode,
            "period_start": plist.start.isoformat(),
            "format": plist.program.style,
            "families": len({row.family.fid for row in plist.rows}),
            **({"excel_nik_by_district": plist.excel_styles} if plist.excel_styles else {}),
        }
    counts[DEATHS] = write_deaths(population, records, out)
    counts[MOVES] = write_moves(population, records, out)
    counts[EXCLUSIONS] = write_exclusions(
        population, rng=stream("exclusions"), region=region, matched=matched, out_dir=out
    )
    counts[TRUTH_PERSONS] = write_truth_persons(population, out)
    counts[TRUTH_DEFECTS] = write_defects(log, out)

    manifest = _manifest(config, region=region, population=population, counts=counts, log=log)
    manifest["programs"] = program_info
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if progress is not None:
        progress(config.persons, config.persons)
    return manifest


def _manifest(
    config: SynthConfig, *, region: Region, population: Population, counts: dict[str, int], log: list[DefectRow]
) -> dict[str, object]:
    persons = population.persons
    families = population.families
    desil_persons = Counter(f.desil for f in families for _ in f.members)
    desil_families = Counter(f.desil for f in families)
    low = sum(desil_persons[d] for d in range(1, 5))
    statuses = Counter(p.status for p in persons)
    defect_codes = Counter(r.defect for r in log)
    config_dict = asdict(config)
    config_dict["snapshot"] = config.snapshot.isoformat()
    own = region.code + "."
    return {
        "generator": "tepat.engine.synth",
        "version": GENERATOR_VERSION,
        "config": config_dict,
        "region": {"code": region.code, "name": region.name, "villages": len(region.villages)},
        "population": {
            "persons": len(persons),
            "families": len(families),
            "households": len(population.households),
            "two_family_households": sum(1 for h in population.households if len(h.families) > 1),
            "mean_family_size": round(len(persons) / len(families), 3),
            "female_headed_families": sum(1 for f in families if not f.head.male),
            "single_person_families": sum(1 for f in families if len(f.members) == 1),
            "first_registered_in_region": sum(1 for p in persons if p.nik_district.startswith(own)),
            "status": {key: statuses.get(key, 0) for key in ("hidup", "meninggal", "pindah")},
            "asn_tni_polri": sum(1 for p in persons if "asn" in p.kinds or "tni_polri" in p.kinds),
            "households_with_car": sum(1 for h in population.households if h.car),
            "households_pln_900va_nonsubsidi": sum(1 for h in population.households if h.pln_nonsub),
        },
        "desil_nasional": {
            "persons": {str(d): desil_persons.get(d, 0) for d in range(1, 11)},
            "families": {str(d): desil_families.get(d, 0) for d in range(1, 11)},
            "persons_desil_1_4": low,
            "persons_desil_1_4_share": round(low / len(persons), 4),
        },
        "files": counts,
        "defects": {
            "total": len(log),
            "by_code": {code.value: defect_codes[code] for code in Defect if defect_codes[code]},
            "by_file": dict(Counter(r.file for r in log)),
        },
    }
