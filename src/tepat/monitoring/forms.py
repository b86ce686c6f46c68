"""The target form on the monitoring page (TKPK admins and analysts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.monitoring.models import Comparison, Indicator
from tepat.monitoring.services import TargetIn


class TargetForm(forms.Form):
    indicator = forms.ModelChoiceField(queryset=Indicator.objects.all(), label=_("Indikator"), empty_label=None)
    comparison = forms.ChoiceField(choices=Comparison.choices, label=_("Pembanding"), initial=Comparison.LE)
    value = forms.DecimalField(label=_("Nilai target"), max_digits=14, decimal_places=4, localize=True)
    year = forms.IntegerField(label=_("Tahun target"), min_value=2000, max_value=2100)
    document = forms.CharField(
        label=_("Dokumen"), max_length=200, help_text=_("Mis. RPJMD 2021–2026, RPKD, RAT 2025"), initial="RPJMD"
    )
    baseline_year = forms.IntegerField(label=_("Tahun dasar"), min_value=1990, max_value=2100, required=False)
    baseline_value = forms.DecimalField(
        label=_("Nilai dasar"), max_digits=14, decimal_places=4, localize=True, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("baseline_year") is None) != (data.get("baseline_value") is None):
            raise forms.ValidationError(_("Isi tahun dasar dan nilai dasar bersama-sama, atau kosongkan keduanya."))
        return data

    def target_in(self, area_code: str) -> TargetIn:
        data = self.cleaned_data
        baseline: Decimal | None = data.get("baseline_value")
        return TargetIn(
            area_code=area_code,
            indicator=data["indicator"].code,
            year=data["year"],
            value=data["value"],
            comparison=data["comparison"],
            document=data["document"].strip(),
            baseline_year=data.get("baseline_year"),
            baseline_value=baseline,
        )
