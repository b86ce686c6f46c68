"""Forms of the programs pages: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import Organisation
from tepat.programs.models import BenefitType, Funder, Need, PeriodKind, Program, Strategy, Unit


class StrategyField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Strategy) -> str:
        return f"{obj.name} ({obj.code})"


class ProgramForm(forms.Form):
    code = forms.CharField(
        label=_("Kode"), max_length=80, help_text=_("Seperti ditulis di kolom program daftar penerima")
    )
    name = forms.CharField(label=_("Nama program"), max_length=200)
    funder = forms.ChoiceField(label=_("Sumber dana"), choices=Funder.choices)
    organisation = forms.ModelChoiceField(
        label=_("Pemilik program"), queryset=Organisation.objects.all(), required=False
    )
    unit = forms.ChoiceField(label=_("Sasaran"), choices=Unit.choices)
    benefit_type = forms.ChoiceField(label=_("Jenis bantuan"), choices=BenefitType.choices)
    value = forms.DecimalField(label=_("Nilai per penerima per periode (Rp)"), required=False, min_value=0,
                               max_digits=14, decimal_places=2, localize=True)  # fmt: skip
    value_note = forms.CharField(label=_("Keterangan nilai"), max_length=300, required=False)
    period = forms.ChoiceField(label=_("Periode"), choices=PeriodKind.choices)
    eligibility_rule = forms.CharField(
        label=_("Aturan kelayakan"), max_length=1000, required=False,
        help_text=_("Mis. desil <= 4 and school_age_children > 0. Kosong: kelayakan tidak dinilai."),
    )  # fmt: skip
    eligibility_note = forms.CharField(label=_("Keterangan kelayakan"), max_length=300, required=False)
    strategies = StrategyField(label=_("Strategi"), queryset=Strategy.objects.all(), required=False)
    source = forms.CharField(label=_("Dasar/sumber"), max_length=300, required=False)
    active = forms.BooleanField(label=_("Aktif"), required=False, initial=True)

    @classmethod
    def for_program(cls, program: Program | None, data: Any = None) -> ProgramForm:
        initial = {}
        if program is not None:
            initial = {name: getattr(program, name) for name in (
                "code", "name", "funder", "organisation", "unit", "benefit_type", "value", "value_note", "period",
                "eligibility_rule", "eligibility_note", "source", "active")}  # fmt: skip
            initial["strategies"] = list(program.strategies.all())
        form = cls(data or None, initial=initial)
        if program is not None:
            form.fields["code"].disabled = True
        return form


class PlanForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Perangkat daerah"), queryset=Organisation.objects.all())
    year = forms.IntegerField(label=_("Tahun"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Judul"), max_length=200, required=False)


class ActivityForm(forms.Form):
    budget_code = forms.CharField(label=_("Kode kegiatan"), max_length=60, required=False)
    name = forms.CharField(label=_("Kegiatan"), max_length=300)
    strategies = StrategyField(label=_("Strategi"), queryset=Strategy.objects.all(), required=False)


class SubActivityForm(forms.Form):
    activity = forms.IntegerField(widget=forms.HiddenInput)
    budget_code = forms.CharField(label=_("Kode sub-kegiatan"), max_length=60, required=False)
    name = forms.CharField(label=_("Sub-kegiatan"), max_length=300)
    budget = forms.DecimalField(label=_("Pagu (Rp)"), min_value=0, max_digits=16, decimal_places=2, localize=True)
    output_indicator = forms.CharField(label=_("Indikator keluaran"), max_length=200, required=False)
    output_target = forms.DecimalField(label=_("Target"), required=False, max_digits=14, decimal_places=2,
                                       localize=True)  # fmt: skip
    output_unit = forms.CharField(label=_("Satuan"), max_length=40, required=False)
    villages = forms.CharField(label=_("Lokus (kode desa/kelurahan, pisahkan dengan ;)"), required=False,
                               max_length=5000)  # fmt: skip
    strategies = StrategyField(label=_("Strategi"), queryset=Strategy.objects.all(), required=False)
    program = forms.ModelChoiceField(label=_("Program terkait"), queryset=Program.objects.all(), required=False)


class FollowUpForm(forms.Form):
    budget_absorbed = forms.DecimalField(label=_("Realisasi anggaran (Rp)"), required=False, min_value=0,
                                         max_digits=16, decimal_places=2, localize=True)  # fmt: skip
    output_realised = forms.DecimalField(label=_("Realisasi keluaran"), required=False, max_digits=14,
                                         decimal_places=2, localize=True)  # fmt: skip
    families_reached = forms.IntegerField(label=_("Keluarga terjangkau"), required=False, min_value=0)
    note = forms.CharField(label=_("Catatan"), max_length=500, required=False)
    advance = forms.BooleanField(label=_("Lanjut ke tahap berikutnya"), required=False)


class PlanUploadForm(forms.Form):
    file = forms.FileField(label=_("Berkas RAT (CSV/XLSX)"))


class ClaimForm(forms.Form):
    family = forms.IntegerField(widget=forms.HiddenInput)
    need = forms.ChoiceField(label=_("Kebutuhan"), choices=Need.choices)
    note = forms.CharField(label=_("Rencana bantuan"), max_length=300, required=False)


class DeliverForm(forms.Form):
    note = forms.CharField(label=_("Catatan"), max_length=500)
    amount = forms.DecimalField(label=_("Nilai (Rp)"), required=False, min_value=0, max_digits=14, decimal_places=2,
                                localize=True)  # fmt: skip
