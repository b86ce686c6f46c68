"""Partner adoption: a masked priority list for the partner's locus, one partner per need per family."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import ProtectedError

from tepat.accounts.models import AuditEvent, Organisation, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome, PipelineError, import_rollback
from tepat.programs.models import Adoption, AdoptionStatus
from tepat.programs.selectors import adoptions_visible, initials, priority_list
from tepat.programs.services import (
    AdoptionError,
    adoption_cancel,
    adoption_claim,
    adoption_deliver,
    partner_locus_set,
)
from tepat.registry.models import Family

pytestmark = pytest.mark.django_db


@pytest.fixture
def k1(ledger: ImportOutcome) -> Family:
    return Family.objects.get(kk="6474031203150001")  # desil 2, on PKH and Sembako


@pytest.fixture
def k3(ledger: ImportOutcome) -> Family:
    return Family.objects.get(kk="6474021010200004")  # desil 1, on nothing


def test_priority_list_puts_the_extreme_poor_first_masked_for_partners(k1: Family, k3: Family, partner: User) -> None:
    listing = priority_list(actor=partner)
    assert [line.pk for line in listing.lines] == [k3.pk, k1.pk]  # desil 1 before desil 2; K2 (desil 9) not at all
    first, second = listing.lines
    assert first.programs == 0 and second.programs == 2
    assert second.head_nik == "6474********0001" and second.head == "A. F."
    assert not hasattr(second, "address")


def test_two_partners_cannot_claim_the_same_need_of_a_family(
    k3: Family, partner: User, make_user: Callable[..., User]
) -> None:
    other = make_user("baznas", Role.PARTNER, org="BAZNAS Kota")
    first = adoption_claim(actor=partner, family_id=k3.pk, need="pangan", note="paket sembako 6 bulan")
    with pytest.raises(AdoptionError, match="sudah diklaim"):
        adoption_claim(actor=other, family_id=k3.pk, need="pangan")
    with pytest.raises(AdoptionError):
        adoption_claim(actor=partner, family_id=k3.pk, need="pangan")  # not twice by the same partner either
    adoption_claim(actor=other, family_id=k3.pk, need="usaha")  # another need of the same family is free
    claimed = next(line.claimed for line in priority_list(actor=other).lines if line.pk == k3.pk)
    assert set(claimed) == {("Pangan", "mitra lain"), ("Modal usaha", "BAZNAS Kota")}  # the rival stays unnamed
    assert priority_list(actor=other, need="pangan").total == 1  # K3 hidden for food, K1 still there
    delivered = adoption_deliver(actor=partner, adoption=first, note="6 paket", amount=Decimal(2_100_000))
    assert delivered.status == AdoptionStatus.DELIVERED
    with pytest.raises(AdoptionError):
        adoption_claim(actor=other, family_id=k3.pk, need="pangan")  # delivered still holds the need
    with pytest.raises(AdoptionError):
        adoption_deliver(actor=partner, adoption=delivered, note="lagi")
    with pytest.raises(PermissionDenied):
        adoption_cancel(actor=other, adoption=first, note="bukan milik kami")
    assert AuditEvent.objects.filter(action="program.adoption").count() == 3


def test_a_cancelled_claim_frees_the_need(k3: Family, partner: User, make_user: Callable[..., User]) -> None:
    other = make_user("baznas", Role.PARTNER, org="BAZNAS Kota")
    claim = adoption_claim(actor=partner, family_id=k3.pk, need="rumah")
    with pytest.raises(AdoptionError):
        adoption_cancel(actor=partner, adoption=claim, note=" ")
    adoption_cancel(actor=partner, adoption=claim, note="anggaran dialihkan")
    assert adoption_claim(actor=other, family_id=k3.pk, need="rumah").organisation.name == "BAZNAS Kota"
    assert Adoption.objects.filter(family=k3, need="rumah").count() == 2


def test_locus_limits_the_list_and_the_claims(k1: Family, k3: Family, partner: User, admin: User) -> None:
    partner_locus_set(actor=admin, organisation=partner.organisation, areas=["64.74.03"])  # type: ignore[arg-type]
    assert [line.pk for line in priority_list(actor=partner).lines] == [k1.pk]
    with pytest.raises(AdoptionError, match="lokus"):
        adoption_claim(actor=partner, family_id=k3.pk, need="pangan")
    with pytest.raises(PermissionDenied):
        partner_locus_set(actor=partner, organisation=partner.organisation, areas=[])  # type: ignore[arg-type]


def test_only_partners_adopt_and_the_tkpk_sees_every_adoption(
    k1: Family, partner: User, admin: User, make_user: Callable[..., User]
) -> None:
    with pytest.raises(PermissionDenied):
        adoption_claim(actor=admin, family_id=k1.pk, need="pangan")
    other = make_user("baznas", Role.PARTNER, org="BAZNAS Kota")
    adoption_claim(actor=partner, family_id=k1.pk, need="pangan")
    adoption_claim(actor=other, family_id=k1.pk, need="pendidikan")
    assert adoptions_visible(actor=admin).count() == 2
    assert [a.need for a in adoptions_visible(actor=other)] == ["pendidikan"]


def test_rollback_of_the_registry_import_is_refused_while_adoptions_exist(
    k1: Family, partner: User, admin: User, imported: ImportOutcome
) -> None:
    adoption_claim(actor=partner, family_id=k1.pk, need="pangan")
    with pytest.raises((PipelineError, ProtectedError)):
        import_rollback(actor=admin, batch=imported.batch)
    assert Adoption.objects.count() == 1


def test_adoption_page_for_partner_and_tkpk(
    k1: Family, k3: Family, partner: User, admin: User, client_for: Any
) -> None:
    client = client_for(partner)
    html = client.get("/program/adopsi/").content.decode()
    assert "6474********0001" in html and "6474031207850001" not in html and "Ahmad Fauzi" not in html
    response = client.post("/program/adopsi/klaim/", {"family": k3.pk, "need": "pangan", "note": "sembako"})
    assert response.status_code == 302 and Adoption.objects.filter(family=k3, need="pangan").exists()
    adoption = Adoption.objects.get(family=k3)
    client.post(f"/program/adopsi/{adoption.pk}/salur/", {"note": "6 paket sembako", "amount": "2.100.000"})
    adoption.refresh_from_db()
    assert (adoption.status, adoption.amount) == ("delivered", Decimal(2_100_000))
    tkpk = client_for(admin).get("/program/adopsi/").content.decode()
    assert "PT Mitra Sejahtera" in tkpk and "6 paket sembako" in tkpk and "6474021010200004" in tkpk
    assert client_for(admin).post("/program/adopsi/lokus/", {"organisation": partner.organisation_id,
                                                              "areas": "64.74.03"}).status_code == 302  # fmt: skip
    assert Organisation.objects.get(pk=partner.organisation_id).loci.count() == 1


def test_initials() -> None:
    assert initials("Ahmad Fauzi") == "A. F."
    assert initials("  sri  wahyuni ") == "S. W."
    assert initials("") == ""
