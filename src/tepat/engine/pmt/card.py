"""The model card: what a PMT was fitted on, how well it targets in cross-validation, and what it cannot do.

Written in Bahasa Indonesia because TKPK members read it; produced from the model file alone, so anyone holding a
model can see its figures and limits without the survey.
"""

from __future__ import annotations

from typing import Any

_MODEL_NAMES = {"ridge": "regresi ridge (linear)", "boosting": "gradient boosting (pohon keputusan)"}


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


def cv_table(model: dict[str, Any]) -> list[str]:
    """The cross-validated figures, one line per candidate model (the chosen one marked)."""
    cv = model["cv"]
    kind = model["target"]["kind"]
    lines = []
    coverage = [f"cakupan {round(100 * c)}%: eksklusi / inklusi" for c in cv["coverage"]]
    head = (
        "model | Spearman | " + ("macro-F1 | akurasi | " if kind == "label" else "R² (log) | ") + " | ".join(coverage)
    )
    lines.append(head)
    for name, figures in cv["candidates"].items():
        mark = " *" if name == cv["chosen"] else ""
        cells = [f"{name}{mark}", _num(figures.get("spearman"))]
        if kind == "label":
            cells += [_num(figures.get("macro_f1")), _pct(figures.get("accuracy"))]
        else:
            cells += [_num(figures.get("r2"))]
        for item in figures["targeting"]:
            cells.append(f"{_pct(item['exclusion_error'])} / {_pct(item['inclusion_error'])}")
        lines.append(" | ".join(cells))
    return lines


def model_card(model: dict[str, Any]) -> str:
    card = model["card"]
    data = card["data"]
    columns = card["columns"]
    target = model["target"]
    cv = model["cv"]
    kind = target["kind"]
    lines = [
        "# Kartu model PMT",
        "",
        f"Dibuat: {model['created']} · model terpilih: {_MODEL_NAMES.get(cv['chosen'], cv['chosen'])}",
        "",
        "## Data",
        f"- Berkas survei: {data['file']} ({data['rows']:,} baris, "
        f"{'satu baris per anggota' if data['row_kind'] == 'persons' else 'satu baris per rumah tangga'})",
        f"- Rumah tangga: {data['households']:,}; dipakai: {data['households_used']:,}",
        f"- Bobot survei: {data['weight_column'] or 'tidak ada (setiap rumah tangga berbobot 1)'}",
    ]
    if kind == "welfare":
        lines.append(
            f"- Target: {target['column']} (kontinu; transformasi {target['transform']}); median "
            f"{target['median']:,.0f}, rentang {target['min']:,.0f} – {target['max']:,.0f}"
        )
    else:
        classes = ", ".join(f"{c:g} ({100 * s:.0f}%)" for c, s in zip(target["classes"], target["shares"], strict=True))
        lines.append(f"- Target: {target['column']} (kelas berurutan, makin kecil makin miskin): {classes}")
    lines += [
        "",
        "## Prediktor",
        f"- {columns['features']} kolom fitur dari {len(columns['household']) + len(columns['member'])} kolom survei",
        f"- Tingkat rumah tangga: {', '.join(columns['household']) or '-'}",
        f"- Tingkat anggota (dijumlah, dirata-rata, min/maks, pangsa): {', '.join(columns['member']) or '-'}",
        f"- Kolom umur: {columns['age'] or 'tidak terdeteksi'}; kepala rumah tangga: "
        + (
            f"{columns['head']['column']} = {columns['head']['value']}"
            if columns["head"]
            else "tidak terdeteksi (pakai --head-column/--head-value)"
        ),
    ]
    if data["excluded_columns"]:
        lines.append(f"- Dikecualikan oleh pengguna: {', '.join(data['excluded_columns'])}")
    if card["top_features"]:
        lines.append(
            "- Fitur terpenting: "
            + ", ".join(f"{t['feature']} ({_pct(t['share'])})" for t in card["top_features"][:10])
        )
    lines += [
        "",
        f"## Validasi silang ({cv['folds']} lipatan, rumah tangga; pemilihan menurut {cv['criterion']})",
        "",
        *cv_table(model),
        "",
        "Galat eksklusi: bagian rumah tangga yang benar-benar termiskin pada cakupan itu tetapi tidak terpilih model. "
        "Galat inklusi: bagian rumah tangga terpilih yang sebenarnya tidak termasuk termiskin.",
    ]
    if card["warnings"]:
        lines += ["", "## Peringatan", *[f"- {w}" for w in card["warnings"]]]
    lines += [
        "",
        "## Batasan",
        "- Skor PMT adalah perkiraan dari ciri yang teramati, bukan pengukuran kesejahteraan: pada cakupan di atas, "
        "galat eksklusi menunjukkan berapa banyak rumah tangga miskin yang akan terlewat. Verifikasi lapangan tetap "
        "diperlukan.",
        "- Hanya berlaku untuk data dengan definisi kolom yang sama dengan survei (kode, satuan, periode). Kolom "
        "yang namanya sama tetapi artinya berbeda membuat skor salah tanpa peringatan.",
        "- Desil resmi (DTSEN/BPS) tidak boleh ditimpa oleh skor ini; skor ini untuk program daerah dan "
        "pemeriksaan silang.",
        "- Untuk target kontinu, skor adalah exp(prediksi log): cocok untuk peringkat, cenderung di bawah rata-rata "
        "untuk nilai rupiah.",
        "- Model mencerminkan waktu dan wilayah survei; latih ulang bila survei baru tersedia.",
    ]
    return "\n".join(lines) + "\n"
