"""Linkage over the registry: a run merges what the rules are sure of, reviewers decide the rest, merges undo,
and the data-quality pages count what the audit categories count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from tepat.accounts.models import Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome, import_file
from tepat.linkage.models import MatchPair, PairStatus, PersonMerge
from tepat.linkage.selectors import program_checklist, quality_by_area
from tepat.linkage.services import (
    LinkageError,
    linkage_run_create,
    linkage_run_execute,
    merge_undo,
    pair_decide,
    registry_person_table,
)
from tepat.programs.models import AnalysisSnapshot, Benefit
from tepat.registry.models import Membership, Person
from tests.conftest import PASSWORD

# A village's own list: Nur Aisyah again without her NIK (a new KK), and a stranger.
VILLAGE_LIST = """\
nik,no_kk,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,hubungan_keluarga,nama_ibu_kandung,alamat,rt,rw,kode_desa
,6474031203159999,NUR AISYAH,P,Bontang,1988-08-15,Kepala Keluarga,Hasnah,Jl. Cipto Mangunkusumo 12,003,002,64.74.03.1002
,6474031203158888,Bambang Sutrisno,L,Kediri,1977-03-02,Kepala Keluarga,Sumirah,Jl. Sutomo 1,001,001,64.74.03.1002
"""


@pytest.fixture
def village_list(imported: ImportOutcome, admin: User, tmp_path: Path) -> ImportOutcome:
    path = tmp_path / "desa.csv"
    path.write_text(VILLAGE_LIST, encoding="utf-8")
    return import_file(actor=admin, path=path, kind="person", source_name="Kelurahan Api-Api")


def test_the_registry_table_has_every_person_once_with_their_family(village_list: ImportOutcome) -> None:
    table = registry_person_table()
    assert table.num_rows == Person.objects.count()
    rows = {r["record_id"]: r for r in table.to_pylist()}
    ahmad = Person.objects.get(nik="6474031207850001")
    assert rows[str(ahmad.pk)]["no_kk"] == "6474031203150001"  # the active family's KK, not the conflicting one
    assert rows[str(ahmad.pk)]["kode_desa"] == "64.74.03.1002"


def test_a_run_merges_a_sure_duplicate_and_the_merge_undoes(village_list: ImportOutcome, admin: User) -> None:
    run = linkage_run_execute(run=linkage_run_create(actor=admin))
    assert run.status == "done" and run.persons == Person.objects.count()
    nur = Person.objects.get(nik="6474035508880002")
    copy = Person.objects.get(name__iexact="Nur Aisyah", nik__isnull=True)
    copy.refresh_from_db()
    assert copy.merged_into_id == nur.pk
    assert not Membership.objects.filter(person=copy, active=True).exists()
    assert Person.objects.get(name="Bambang Sutrisno").merged_into_id is None
    merge = PersonMerge.objects.get(merged=copy)
    assert merge.auto and merge.pair is not None and merge.pair.status == PairStatus.AUTO_MERGED
    # Merges move ledger rows: the programs' analyses are queued for a refresh at once, not at the next page view.
    queued = AnalysisSnapshot.objects.get(status="queued")
    assert queued.stamp == "" and queued.period == "@latest"
    AnalysisSnapshot.objects.all().delete()
    merge_undo(actor=admin, merge=merge)
    assert AnalysisSnapshot.objects.filter(status="queued").count() == 1
    with pytest.raises(LinkageError):
        merge_undo(actor=admin, merge=merge)  # once only
    copy.refresh_from_db()
    assert copy.merged_into_id is None and Membership.objects.filter(person=copy, active=True).exists()
    assert MatchPair.objects.get(pk=merge.pair_id).status == PairStatus.PENDING  # back in the queue


def test_reviewers_decide_pairs_and_only_they_may(
    village_list: ImportOutcome, admin: User, make_user: Callable[..., User], tmp_path: Path
) -> None:
    run = linkage_run_create(actor=admin)
    ahmad = Person.objects.get(nik="6474031207850001")
    bambang = Person.objects.get(name="Bambang Sutrisno")
    pair = MatchPair.objects.create(run=run, person_a=ahmad, person_b=bambang, layer="model", decision="review",
                                    probability=0.7)  # fmt: skip
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    with pytest.raises(PermissionDenied):
        pair_decide(actor=operator, pair=pair, same_person=False)
    assert pair_decide(actor=admin, pair=pair, same_person=False).status == PairStatus.REJECTED
    with pytest.raises(LinkageError):
        pair_decide(actor=admin, pair=pair, same_person=True)
    client = Client()
    assert client.login(username=admin.username, password=PASSWORD)
    page = client.get("/linkage/").content.decode()
    assert "Satu orang, satu kali" in page


def test_quality_counts_match_the_registry_and_the_checklist_names_the_dead(
    imported: ImportOutcome, admin: User, tmp_path: Path
) -> None:
    deaths = tmp_path / "mati.csv"
    deaths.write_text("nik,nama,tanggal_meninggal\n6474010101700003,Budi Santoso,2026-06-01\n", encoding="utf-8")
    import_file(actor=admin, path=deaths, kind="death", source_name="Dukcapil")
    recipients = tmp_path / "pkh.csv"
    recipients.write_text("NIK,NAMA,PERIODE,NOMINAL\n6474010101700003,Budi Santoso,2026-Q3,750000\n"
                          "6474031207850001,Ahmad Fauzi,2026-Q3,750000\n", encoding="utf-8")  # fmt: skip
    pkh = import_file(actor=admin, path=recipients, kind="program", source_name="PKH", program="PKH")
    found = quality_by_area(actor=admin)
    assert found is not None
    total, village_rows = found
    assert sum(r.counts["dead"] for r in village_rows) == total.counts["dead"]
    invalid = Membership.objects.filter(active=True, person__nik_valid=False).count()
    assert total.counts["nik_invalid"] == invalid > 0
    assert total.counts["dead"] == 1
    assert total.counts["two_families"] == 1  # Ahmad Fauzi's second KK
    checklist = program_checklist(actor=admin, batch_id=pkh.batch.pk)
    assert checklist is not None
    by_name = {r.benefit.name: r.findings for r in checklist}
    assert any(f.startswith("meninggal") for f in by_name["Budi Santoso"])
    assert any("dua KK" in f for f in by_name["Ahmad Fauzi"])
    assert Benefit.objects.filter(batch=pkh.batch).count() == 2
    client = Client()
    assert client.login(username=admin.username, password=PASSWORD)
    assert client.get("/linkage/kualitas/").status_code == 200
    response = client.get(f"/linkage/periksa/{pkh.batch.pk}/?format=xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_a_recipient_with_a_damaged_nik_is_linked_to_their_person(imported: ImportOutcome, admin: User,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    recipients = tmp_path / "sembako.csv"
    recipients.write_text(
        "NIK,NAMA,JENIS KELAMIN,TANGGAL LAHIR,KODE DESA,PERIODE\n"
        "6.47404E+15,Nur Aisyah,P,15/08/1988,64.74.03.1002,2026-09\n"
        "6.47404E+15,Siapa Saja,L,01/01/1950,64.74.03.1002,2026-09\n",
        encoding="utf-8",
    )
    batch = import_file(actor=admin, path=recipients, kind="program", source_name="Sembako", program="SEMBAKO").batch
    assert not Benefit.objects.filter(batch=batch, person__isnull=False).exists()  # the NIKs are Excel-damaged
    run = linkage_run_execute(run=linkage_run_create(actor=admin))
    assert run.counts["recipients_linked"] == 1
    linked = Benefit.objects.get(batch=batch, name="Nur Aisyah")
    assert linked.person == Person.objects.get(nik="6474035508880002")
    assert Benefit.objects.get(batch=batch, name="Siapa Saja").person is None
    assert MatchPair.objects.get(benefit=linked).status == PairStatus.AUTO_MERGED


def test_the_cleaned_list_has_each_person_once_and_is_an_audited_export(
    village_list: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    from tepat.accounts.models import AuditAction, AuditEvent

    linkage_run_execute(run=linkage_run_create(actor=admin))
    client = Client()
    assert client.login(username=admin.username, password=PASSWORD)
    lines = client.get("/linkage/daftar-bersih.csv").content.decode().splitlines()
    assert lines[0].startswith("record_id,nik,no_kk,nama")
    ids = {line.split(",")[0] for line in lines[1:]}
    assert ids == {str(p.pk) for p in Person.objects.filter(merged_into__isnull=True)}
    assert str(Person.objects.get(name__iexact="Nur Aisyah", nik__isnull=True).pk) not in ids  # merged away
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_EXPORT, purpose="daftar bersih").exists()
    partner = make_user("mitra", Role.PARTNER, area="64.74", org="PT Mitra")
    assert client.login(username=partner.username, password=PASSWORD)
    assert client.get("/linkage/daftar-bersih.csv").status_code == 403  # partners may not export persons
