"""Death and exclusion lists, tested on the synthetic Bontang lists with their ground truth."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import User
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.models import BatchStatus, RowIssue
from tepat.intake.services import ImportOutcome, import_file, import_rollback
from tepat.registry.models import Exclusion, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def bontang(admin: User, tmp_path: Path) -> Path:
    out = tmp_path / "synth"
    generate(SynthConfig(region="64.74", persons=1500, seed=21), reference_dir=Path(settings.DATA_DIR) / "reference",
             out_dir=out)  # fmt: skip
    outcome = import_file(actor=admin, path=out / "dtsen_extract.csv", kind="dtsen", source_name="DTSEN")
    assert outcome.batch.status == BatchStatus.COMMITTED
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_death_list_marks_the_registered_dead(admin: User, bontang: Path) -> None:
    deaths = _rows(bontang / "death_list.csv")
    registered = {d["nik"] for d in deaths} & set(Person.objects.values_list("nik", flat=True))
    assert registered, "the synthetic extract lists some of the dead (the BPK finding)"
    outcome = import_file(actor=admin, path=bontang / "death_list.csv", kind="death", source_name="Dukcapil")
    assert outcome.batch.status == BatchStatus.COMMITTED
    dead = Person.objects.filter(vital_status="deceased")
    assert set(dead.values_list("nik", flat=True)) == registered
    sample = next(d for d in deaths if d["nik"] in registered)
    assert str(Person.objects.get(nik=sample["nik"]).death_date) == sample["tanggal_meninggal"]
    assert outcome.counts["persons_not_found"] == len(deaths) - len(registered)
    import_rollback(actor=admin, batch=outcome.batch)
    assert not Person.objects.filter(vital_status="deceased").exists()


def test_an_exclusion_list_is_kept_by_nik_and_linked(admin: User, bontang: Path) -> None:
    findings = _rows(bontang / "exclusion_list.csv")
    outcome = import_file(actor=admin, path=bontang / "exclusion_list.csv", kind="exclusion", source_name="BKN")
    assert outcome.batch.status == BatchStatus.COMMITTED
    assert Exclusion.objects.count() == len(findings)
    linked = Exclusion.objects.filter(person__isnull=False)
    assert linked.exists() and all(e.person.nik == e.nik for e in linked[:50])
    assert set(Exclusion.objects.values_list("kind", flat=True)) <= {
        k for k, _ in Exclusion._meta.get_field("kind").choices
    }


def test_unknown_exclusion_kinds_and_bad_niks_are_rejected_by_row(admin: User, tmp_path: Path) -> None:
    path = tmp_path / "pengecualian.csv"
    path.write_text("NIK;JENIS PENGECUALIAN;SUMBER\n6474031207850001;PNS;BKN\n6474031207850002;Hobi memancing;X\n"
                    "6.47403E+15;Mobil;Samsat\n", encoding="utf-8")  # fmt: skip
    outcome = import_file(actor=admin, path=path, kind="exclusion", source_name="Campuran")
    codes = {(i.row_number, i.code) for i in RowIssue.objects.filter(batch=outcome.batch, severity="error")}
    assert codes == {(3, "exclusion.unknown"), (4, "nik.excel_scientific")}
    assert list(Exclusion.objects.values_list("kind", "issuer")) == [("asn", "BKN")]


@pytest.mark.parametrize(
    "written, kind",
    [("Pegawai Negeri Sipil", "asn"), ("TNI-POLRI", "tni_polri"), ("Anggota Polri", "tni_polri"),
     ("Guru PNS bersertifikasi", "guru_sertifikasi"), ("Listrik 1300 VA", "pln_900va_nonsubsidi"),
     ("Daya 2.200 VA", "pln_900va_nonsubsidi"), ("PLN 900 VA non subsidi", "pln_900va_nonsubsidi"),
     ("PLN 900 VA subsidi", None), ("PLN 450 VA", None), ("Pemilik kendaraan roda 4", "pemilik_mobil"),
     ("Gaji di atas UMR", "upah_di_atas_umk"), ("Kepala Desa", "perangkat_desa"), ("Sekdes", "perangkat_desa"),
     ("Pemilik usaha terdaftar (NIB)", "pengusaha"), ("Pensiunan", None), ("Hobi memancing", None)],
)  # fmt: skip
def test_exclusions_are_read_in_the_custodians_words(written: str, kind: str | None) -> None:
    """Custodians word the same finding many ways; electricity excludes from 900 VA up, except subsidised 900 VA
    (the poor's own tariff) and anything below."""
    from tepat.intake.kinds.registry import exclusion_kind

    assert exclusion_kind(written) == kind


def test_program_lists_become_ledger_rows_as_agencies_write_them(admin: User, bontang: Path) -> None:
    from tepat.programs.models import Benefit, Program

    for name in ("program_pkh.csv", "program_rtlh.csv", "program_sembako.csv"):
        rows = sum(1 for _ in (bontang / name).open(encoding="utf-8")) - 1
        outcome = import_file(actor=admin, path=bontang / name, kind="program", source_name=name)
        assert outcome.batch.status == BatchStatus.COMMITTED, (name, outcome.batch.error)
        assert outcome.counts["benefits_new"] + outcome.counts["rejected_rows"] == rows
    rtlh = Benefit.objects.filter(program__code__icontains="RTLH")
    assert rtlh.exists() and {b.amount for b in rtlh} == {20_000_000}  # "20.000.000" in a ';' Perkim sheet
    # The Perkim sheet names the kelurahan ("BONTANG KUALA") instead of coding it: resolved within the region.
    assert not rtlh.filter(village__isnull=True).exists()
    assert {b.village_id[:5] for b in rtlh} == {"64.74"}
    pkh = Benefit.objects.filter(program__code="PKH")
    assert pkh.filter(person__isnull=False).count() > 0.8 * pkh.count()  # recipients found in the registry
    # Excel-damaged NIKs (6.47403E+15) are kept in the ledger with the raw value, unlinked, for review.
    sembako = Benefit.objects.filter(program__in=Program.objects.filter(code__icontains="sembako"))
    damaged = sembako.filter(nik_raw__icontains="E+15")
    assert damaged.exists() and not damaged.filter(nik__gt="").exists() and not damaged.filter(person__isnull=False)


def test_a_program_list_without_a_program_column_needs_the_program_named(admin: User, tmp_path: Path) -> None:
    from tepat.programs.models import Benefit

    path = tmp_path / "blt.csv"
    path.write_text("NIK;NAMA;NOMINAL\n6474031207850001;Ahmad Fauzi;Rp 300.000\n", encoding="utf-8")
    refused = import_file(actor=admin, path=path, kind="program", source_name="PMD")
    assert refused.counts["rejected_rows"] == 1
    named = import_file(actor=admin, path=path, kind="program", source_name="PMD 2", program="BLT-DD")
    assert named.batch.status == BatchStatus.COMMITTED
    assert Benefit.objects.get(program__code="BLT-DD").amount == 300_000


def test_periods_are_kept_in_the_ledgers_form_so_a_years_analysis_finds_them(admin: User, tmp_path: Path) -> None:
    """Agencies write the period their own way ('Triwulan III 2026', 'TW 3/2026', 'September 2026', 'Tahap 2'):
    the ledger keeps it year first (2026-Q3, 2026-09, 2026-Tahap2), which the analyses filter a year by. A row
    without a period takes the one given at upload, and a quarter or phase alone takes its year; one that cannot be
    read is kept as written with a warning."""
    from tepat.intake.services import PipelineError
    from tepat.programs.models import Benefit

    path = tmp_path / "pkh.csv"
    path.write_text("NIK;NAMA;PERIODE;NOMINAL\n"
                    "6474031207850001;Ahmad Fauzi;Triwulan III 2026;Rp. 750.000\n"
                    "6474035508880002;Nur Aisyah;TW 3/2026;750.000\n"
                    "6474031207850003;Budi Santoso;September 2026;Rp 250.000,-\n"
                    "6474031207850004;Made Wirawan;Tahap 2;750000\n"
                    "6474031207850005;Yohanes Tan;;750000\n"
                    "6474031207850006;Rudi Hartono;minggu lalu;750000\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(PipelineError, match="periode"):
        import_file(actor=admin, path=path, kind="program", source_name="Dinsos", program="PKH", period="Q3")
    outcome = import_file(actor=admin, path=path, kind="program", source_name="Dinsos", program="PKH",
                          period="Triwulan III 2026")  # fmt: skip
    assert outcome.batch.status == BatchStatus.COMMITTED and outcome.batch.period_choice == "2026-Q3"
    got = dict(Benefit.objects.values_list("name", "period"))
    assert got == {"Ahmad Fauzi": "2026-Q3", "Nur Aisyah": "2026-Q3", "Budi Santoso": "2026-09",
                   "Made Wirawan": "2026-Tahap2", "Yohanes Tan": "2026-Q3", "Rudi Hartono": "minggu lalu"}  # fmt: skip
    assert Benefit.objects.get(name="Budi Santoso").amount == 250_000
    warned = {(i.row_number, i.column, i.code) for i in RowIssue.objects.filter(batch=outcome.batch)}
    assert warned == {(7, "period", "period.invalid")}


def test_cells_no_column_can_hold_are_warnings_not_a_refused_commit(admin: User, tmp_path: Path) -> None:
    """PostgreSQL refuses a number past its column and a text longer than it (SQLite takes both): a NIK shifted into
    the amount column, a long note as the name, a long reason stopped the whole commit there."""
    from tepat.programs.models import Benefit
    from tepat.verification.models import Proposal

    long = "Penerima pindah ke luar kota, keterangan dari ketua RT setempat, belum ada surat pindah " * 4
    ledger = tmp_path / "pkh.csv"
    ledger.write_text(f'NIK;NAMA;PERIODE;NOMINAL\n6474031207850001;"{long}";2026-Q3;3374010101800001\n'
                      f"{long};Nur Aisyah;2026-Q3;750000\n", encoding="utf-8")  # fmt: skip
    outcome = import_file(actor=admin, path=ledger, kind="program", source_name="Dinsos", program="PKH")
    assert outcome.batch.status == BatchStatus.COMMITTED and Benefit.objects.count() == 2
    first = Benefit.objects.get(nik="6474031207850001")
    assert first.amount is None and first.name == long.strip()[:200]
    assert Benefit.objects.get(name="Nur Aisyah").nik_raw == long[:64]
    assert RowIssue.objects.filter(batch=outcome.batch, row_number=2, column="amount", code="number.range").exists()
    proposals = tmp_path / "usulan.csv"
    proposals.write_text(f'USULAN;NIK;NAMA;ALASAN;KODE DESA\nkeluar;6474031207850001;Ahmad;"{long}";64.74.03.1002\n',
                         encoding="utf-8")  # fmt: skip
    outcome = import_file(actor=admin, path=proposals, kind="proposal", source_name="Kelurahan")
    assert outcome.batch.status == BatchStatus.COMMITTED
    assert Proposal.objects.get().reason_text == long[:300]


def test_a_move_out_of_the_region_marks_the_person_and_a_move_within_changes_nothing(
    imported: ImportOutcome, admin: User, tmp_path: Path
) -> None:
    from tepat.registry.models import Change, Person

    moves = tmp_path / "pindah.csv"
    moves.write_text(
        "nik,nama,tanggal_pindah,kode_desa_asal,tujuan\n"
        "6474031207850001,Ahmad Fauzi,2026-08-01,64.74.03.1002,73.26.19.2004\n"
        "6474035508880002,Nur Aisyah,2026-08-02,64.74.03.1002,64.74.01.1001\n"
        "6474014501900009,Orang Lain,2026-08-03,64.74.01.1001,Kota Samarinda\n",
        encoding="utf-8",
    )
    outcome = import_file(actor=admin, path=moves, kind="moved", source_name="Disdukcapil")
    assert (outcome.counts["persons_changed"], outcome.counts["moved_within_region"]) == (1, 1)
    assert outcome.counts["persons_not_found"] == 1
    ahmad = Person.objects.get(nik="6474031207850001")
    assert (ahmad.vital_status, str(ahmad.moved_date)) == ("moved_out", "2026-08-01")
    assert Person.objects.get(nik="6474035508880002").vital_status == "alive"
    assert Change.objects.filter(entity="person", entity_id=ahmad.pk, field="vital_status", new="moved_out").exists()
