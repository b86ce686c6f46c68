"""Forms of the targeting pages. Amounts are typed as Indonesians write them ("Rp 1.500.000", "2,5"), so money
fields parse the grouping dots and the decimal comma instead of refusing them."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.programs.models import Program
from tepat.targeting.models import EligibilityRule, Priority, Scenario
from tepat.targeting.services import DEFAULT_DESIL_CUTS

_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+$")


def parse_amount(text: str) -> Decimal:
    """'Rp 1.500.000' → 1500000; '1.500.000,50' → 1500000.50; '2,5' → 2.5; '2500000' → 2500000."""
    cleaned = re.sub(r"(?i)^\s*rp\.?\s*", "", text).replace(" ", "").strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _GROUPED.match(cleaned):
        cleaned = cleaned.replace(".", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


class AmountField(forms.Field):
    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def to_python(self, value: Any) -> Decimal | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            amount = parse_amount(text[:40])
        except ValueError:
            raise forms.ValidationError(_("Tulis angka, mis. 1.500.000 atau 1500000.")) from None
        if amount < 0:
            raise forms.ValidationError(_("Angka tidak boleh negatif."))
        return amount


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Nama aturan"), max_length=120)
    program = forms.ModelChoiceField(label=_("Program (boleh kosong)"), queryset=Program.objects.all(), required=False)
    expression = forms.CharField(
        label=_("Syarat"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"}),
    )
    note = forms.CharField(label=_("Catatan"), max_length=300, required=False)


def _cuts_text() -> str:
    return ", ".join(str(c) for c in DEFAULT_DESIL_CUTS)


class ScenarioBaseForm(forms.Form):
    name = forms.CharField(label=_("Nama skenario"), max_length=160)
    poverty_line = AmountField(label=_("Garis kemiskinan (Rp/kapita/bulan)"))
    welfare_source = forms.ChoiceField(label=_("Perkiraan kesejahteraan"), choices=[("desil", "desil")])
    desil_cuts = forms.CharField(
        label=_("Batas atas desil 1–9 (× garis kemiskinan)"), max_length=200, required=False, initial=_cuts_text
    )

    def __init__(self, *args: Any, sources: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sources:
            self.fields["welfare_source"].choices = sources  # type: ignore[attr-defined]

    def clean_desil_cuts(self) -> list[float]:
        text = self.cleaned_data.get("desil_cuts") or ""
        if not text.strip():
            return list(DEFAULT_DESIL_CUTS)
        try:
            # "1,25; 1,45" (decimal commas, semicolons) or "1.25, 1.45" (decimal points, commas)
            parts = text.split(";") if ";" in text else re.split(r"[,\s]+", text)
            cuts = [float(part.strip().replace(",", ".")) for part in parts if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Tulis sembilan angka dipisah koma, mis. 1.0, 1.25, 1.45 …")) from None
        if len(cuts) != 9 or cuts[0] <= 0 or any(b <= a for a, b in itertools.pairwise(cuts)):
            raise forms.ValidationError(_("Perlu sembilan angka positif yang makin besar."))
        return cuts


class CompareForm(ScenarioBaseForm):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.all(), required=False)
    budget = AmountField(label=_("Anggaran (Rp)"))
    cost_per_family = AmountField(label=_("Biaya per keluarga (Rp)"))
    monthly_value = AmountField(label=_("Nilai bagi keluarga per bulan (Rp)"), required=False)
    rule_a = forms.ModelChoiceField(label=_("Aturan A"), queryset=EligibilityRule.objects.filter(archived_at=None))
    rule_b = forms.ModelChoiceField(
        label=_("Aturan B (pembanding)"), queryset=EligibilityRule.objects.filter(archived_at=None), required=False
    )
    priority = forms.ChoiceField(label=_("Urutan prioritas"), choices=Priority.choices, initial=Priority.WELFARE)


class AllocateForm(ScenarioBaseForm):
    max_programs_per_family = forms.IntegerField(
        label=_("Paling banyak program per keluarga (kosong = tanpa batas)"), min_value=1, max_value=20, required=False
    )


class LineForm(forms.Form):
    code = forms.CharField(label=_("Kode"), max_length=40, required=False)
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.all(), required=False)
    rule = forms.ModelChoiceField(
        label=_("Aturan"), queryset=EligibilityRule.objects.filter(archived_at=None), required=False
    )
    budget = AmountField(label=_("Anggaran (Rp)"), required=False)
    cost_per_family = AmountField(label=_("Biaya per keluarga (Rp)"), required=False)
    monthly_value = AmountField(label=_("Nilai per bulan (Rp)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        used = any(data.get(k) for k in ("code", "program", "rule", "budget", "cost_per_family"))
        if used:
            if not data.get("code") and data.get("program"):
                data["code"] = data["program"].code[:40]
            for name in ("code", "rule", "budget", "cost_per_family"):
                if not data.get(name):
                    self.add_error(name, _("Wajib diisi untuk program ini."))
        data["used"] = used
        return data


LineFormSet = forms.formset_factory(LineForm, extra=4, max_num=12)


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def scenario_initial(scenario: Scenario) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The forms' starting values for changing a scenario: its own inputs (and its programs, for an allocation)."""
    common: dict[str, Any] = {
        "name": scenario.name,
        "poverty_line": _amount(scenario.poverty_line),
        "welfare_source": scenario.welfare_source,
        "desil_cuts": ", ".join(str(c) for c in scenario.desil_cuts or DEFAULT_DESIL_CUTS),
        "program": scenario.program_id,
        "budget": _amount(scenario.budget),
        "cost_per_family": _amount(scenario.cost_per_family),
        "monthly_value": _amount(scenario.monthly_value),
        "rule_a": scenario.rule_a_id,
        "rule_b": scenario.rule_b_id,
        "priority": scenario.priority,
        "max_programs_per_family": scenario.max_programs_per_family,
    }
    lines = [
        {
            "code": line.code,
            "program": line.program_id,
            "rule": line.rule_id,
            "budget": _amount(line.budget),
            "cost_per_family": _amount(line.cost_per_family),
            "monthly_value": _amount(line.monthly_value),
        }
        for line in scenario.lines.all()
    ]
    return common, lines
