"""Village proposals: imported with a reason, matched to the registry, walked along their path, never applied."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from tepat.accounts.models import AuditAction, AuditEvent, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import PipelineError, import_file, import_rollback
from tepat.registry.models import Family, Person
from tepat.verification.models import Proposal, ProposalStatus
from tepat.verification.services import ProposalError, proposal_decide
from tests.conftest import PASSWORD

# Header variants as villages write them; row 6 has no reason, row 7 an unknown action, row 8 removes an invalid
# NIK; row 9 is a reason alone (a removal).
PROPOSALS = """\
No,NIK,No. KK,Nama Lengkap,Kode Desa,Jenis Usulan,Alasan
1,6474031207850001,6474031203150001,Ahmad Fauzi,64.74.03.1002,Usul Keluar,Pindah
2,,,Wa Ode Sinta,64.74.01.1001,Usulan Baru,keluarga miskin belum terdata
3,6474035508880002,,Nur Aisyah,64.74.03.1002,keluar,sudah mampu (buka warung)
4,6474010101700003,,Budi Santoso,64.74.01.1001,hapus,Meninggal
5,6474014501900009,,Orang Asing,64.74.01.1001,keluar,ganda
6,6474010101700003,,Budi Santoso,64.74.01.1001,keluar,
7,,,Siapa,64.74.01.1001,pindahkan,
8,123,,Salah NIK,64.74.01.1001,keluar,pindah
9,6474031207850001,,Ahmad Fauzi,64.74.03.1002,,menolak
"""


@pytest.fixture
def proposal_file(tmp_path: Path) -> Path:
    path = tmp_path / "usulan.csv"
    path.write_text(PROPOSALS, encoding="utf-8")
    return path


@pytest.fixture
def proposed(imported, admin: User, proposal_file: Path):  # type: ignore[no-untyped-def]
    return import_file(actor=admin, path=proposal_file, kind="proposal", source_name="Kelurahan Api-Api")


def test_proposals_are_kept_with_reasons_and_matched_without_touching_the_registry(proposed, imported) -> None:
    persons_before = Person.objects.count()
    issues = {(i.row_number, i.column, i.code) for i in proposed.issues(errors_only=True)}
    assert issues == {(7, "reason", "proposal.reason_missing"), (8, "action", "proposal.action_unknown"),
                      (9, "nik", "proposal.identity_missing")}  # fmt: skip
    assert proposed.counts["proposals_new"] == 6
    by_name = {p.name: p for p in Proposal.objects.all()}
    ahmad = Person.objects.get(nik="6474031207850001")
    moved = Proposal.objects.get(name="Ahmad Fauzi", reason="moved")
    assert (moved.action, moved.person_id, moved.status) == ("remove", ahmad.pk, ProposalStatus.PROPOSED)
    assert moved.family_id == Family.objects.get(kk="6474031203150001").pk
    assert Proposal.objects.get(name="Ahmad Fauzi", reason="refused").action == "remove"  # a reason alone
    assert by_name["Nur Aisyah"].reason == "well_off"
    assert by_name["Nur Aisyah"].reason_text == "sudah mampu (buka warung)"
    assert by_name["Budi Santoso"].reason == "died"
    assert (by_name["Wa Ode Sinta"].action, by_name["Wa Ode Sinta"].person_id) == ("add", None)
    assert by_name["Orang Asing"].person_id is None  # kept, reported as not found
    assert proposed.counts["persons_not_found"] == 1
    assert Person.objects.count() == persons_before
    assert Person.objects.get(nik="6474010101700003").vital_status == "alive"  # proposals never apply themselves


def test_a_proposal_walks_its_path_and_a_rejection_needs_a_reason(
    proposed, admin: User, make_user: Callable[..., User]
) -> None:
    p = Proposal.objects.get(name="Nur Aisyah")
    for expected in (ProposalStatus.VERIFIED, ProposalStatus.APPROVED, ProposalStatus.RATIFIED):
        p = proposal_decide(actor=admin, proposal=p, approve=True, note="cek")
        assert p.status == expected
    with pytest.raises(ProposalError):
        proposal_decide(actor=admin, proposal=p, approve=True)
    other = Proposal.objects.get(name="Wa Ode Sinta")
    with pytest.raises(ProposalError):
        proposal_decide(actor=admin, proposal=other, approve=False, note=" ")
    other = proposal_decide(actor=admin, proposal=other, approve=False, note="sudah menerima PKH di desa lain")
    assert other.status == ProposalStatus.REJECTED
    assert [h["status"] for h in other.history] == ["proposed", "rejected"]
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.01.1001")
    with pytest.raises(PermissionDenied):
        proposal_decide(actor=operator, proposal=Proposal.objects.get(name="Budi Santoso"), approve=True)
    assert AuditEvent.objects.filter(action=AuditAction.PROPOSAL_DECIDE).count() == 4


def test_rollback_removes_proposals_until_one_is_decided(proposed, admin: User) -> None:
    proposal_decide(actor=admin, proposal=Proposal.objects.get(name="Wa Ode Sinta"), approve=True)
    with pytest.raises(PipelineError):
        import_rollback(actor=admin, batch=proposed.batch)
    Proposal.objects.filter(batch=proposed.batch).update(status=ProposalStatus.PROPOSED)
    import_rollback(actor=admin, batch=proposed.batch)
    assert not Proposal.objects.exists()


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_page_is_scoped_masks_nik_for_partners_and_export_is_logged(
    proposed, admin: User, make_user: Callable[..., User]
) -> None:
    page = _client(admin).get("/usulan/?status=proposed")
    assert page.status_code == 200
    html = page.content.decode()
    assert "6474031207850001" in html and "Wa Ode Sinta" in html
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.01.1001")
    html = _client(operator).get("/usulan/").content.decode()
    assert "Budi Santoso" in html and "Nur Aisyah" not in html  # another village's proposal
    partner = make_user("mitra", Role.PARTNER, area="64.74", org="PT Mitra")
    html = _client(partner).get("/usulan/").content.decode()
    assert "6474031207850001" not in html and "6474********0001" in html
    response = _client(admin).get("/usulan/ekspor.xlsx?action=remove")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    rows = book.get_sheet_by_index(0).to_python()
    assert len(rows) == 1 + 5 and rows[0][0] == "NIK"
    assert {r[0] for r in rows[1:]} >= {"6474031207850001", "6474010101700003"}
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_EXPORT, detail__rows=5).exists()
    decided = _client(admin).post(f"/usulan/{Proposal.objects.get(name='Wa Ode Sinta').pk}/putuskan/",
                                  {"keputusan": "setuju", "catatan": "sudah dikunjungi"})  # fmt: skip
    assert decided.status_code == 302
    assert Proposal.objects.get(name="Wa Ode Sinta").status == ProposalStatus.VERIFIED
    forbidden = _client(operator).post(f"/usulan/{Proposal.objects.get(name='Budi Santoso').pk}/putuskan/",
                                       {"keputusan": "setuju"})  # fmt: skip
    assert forbidden.status_code == 403
