"""The engine's sentences and labels in the user's language.

The engine (tepat.engine.rules, tepat.engine.scorecard) has no Django and says everything in Indonesian, or as a key
and parameters (``RuleError.key``/``detail``, ``RowExplanation.reason``). Here the keys are looked up in the gettext
catalogue, whose msgids are the engine's own Indonesian templates, so English users read English and the catalogue
needs no second source language. The table below repeats the engine's templates as literals because makemessages
only finds literals; tests/targeting/test_texts.py keeps the two equal.

Labels of fields and scorecards are data (tepat.engine.scorecard.fields, data/targeting/*.json): ``label`` passes
them through gettext, and ``LABELS`` lists the shipped ones for makemessages (a test checks none is missing). A
region's own labels stay as written.
"""

# ruff: noqa: E501  (msgids are whole sentences, kept on one line each as makemessages and translators see them)
from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from tepat.engine.rules import TEXTS

if TYPE_CHECKING:
    from tepat.engine.rules import RowExplanation, RuleError

N = gettext_noop

RULE_TEXTS: dict[str, Promise] = {
    "rule.empty": _("aturan kosong"),
    "rule.too_long": _("aturan terlalu panjang ({length} karakter; batas {limit})"),
    "rule.too_deep": _("tanda kurung terlalu bertingkat"),
    "rule.bad_character": _("karakter {char!r} tidak dikenal"),
    "rule.unterminated_string": _("teks tidak ditutup tanda petik"),
    "rule.bad_number": _("tulis angka {text} tanpa pemisah ribuan, mis. {plain}"),
    "rule.syntax": _("{found} tidak diharapkan di sini; {expected}"),
    "rule.unexpected_end": _("aturan berakhir terlalu cepat; {expected}"),
    "rule.unknown_field": _("nama kolom {name!r} tidak dikenal"),
    "rule.unknown_field.suggestion": _("nama kolom {name!r} tidak dikenal (maksud Anda {suggestion!r}?)"),
    "rule.unknown_function": _("fungsi {name!r} tidak dikenal; yang tersedia: {known}"),
    "rule.type_mismatch.arithmetic": _("`{op}` hanya untuk angka, sedangkan {text!r} berjenis {kind}"),
    "rule.type_mismatch.minus": _("tanda minus hanya untuk angka"),
    "rule.type_mismatch.compare": _("{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind})"),
    "rule.type_mismatch.compare_quoted_number": _(
        "{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind}); angka ditulis tanpa tanda petik"
    ),
    "rule.type_mismatch.compare_unquoted_text": _(
        '{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind}); teks ditulis dalam tanda petik, mis. "64.74.03.1002"'
    ),
    "rule.type_mismatch.yes_no_order": _("nilai ya/tidak hanya bisa dibandingkan dengan == atau !="),
    "rule.type_mismatch.list": _("{text!r} berjenis {kind}, sedangkan isi daftar berjenis {item_kind}"),
    "rule.type_mismatch.yes_no_in": _("`in` tidak untuk nilai ya/tidak"),
    "rule.not_condition": _("{text!r} bukan syarat ya/tidak (jenisnya {kind}); bandingkan dulu, mis. {text} > 0"),
    "rule.bad_list.placement": _("daftar [..] hanya boleh sesudah `in`"),
    "rule.bad_list.literal": _("isi daftar harus angka atau teks tetap"),
    "rule.bad_list.too_long": _("daftar lebih dari {limit} isi"),
    "rule.bad_list.mixed": _("isi daftar harus sejenis (semua angka atau semua teks)"),
    "rule.unknown_value.suggestion": _("nilai {value!r} tidak dikenal untuk {name} (maksud Anda {suggestion!r}?)"),
    "rule.unknown_value.known": _("nilai {value!r} tidak dikenal untuk {name}; nilai yang dikenal: {known}"),
    "rule.null_comparison": _("untuk memeriksa data kosong tulis `{name} is null` atau `{name} is not null`"),
    "rule.null_comparison.bare": _("untuk memeriksa data kosong tulis `kolom is null` atau `kolom is not null`"),
    "rule.arguments.fixed_prefix": _("starts_with() memerlukan awalan tetap"),
    "rule.arguments.numbers": _("{name}() memerlukan dua angka atau lebih"),
    "rule.arguments.count": _("{name}() memerlukan {count} argumen"),
    "rule.arguments.type": _("{name}() memerlukan {kind}, bukan {actual_kind}"),
    "rule.arguments.same_type": _("{name}() memerlukan dua nilai sejenis"),
    "rule.missing_column": _("kolom {names} tidak tersedia di data keluarga"),
    "rule.column_type": _("kolom {name} di data berjenis {actual}, padahal aturan memerlukan {kind}"),
    "rule.position": _("posisi {position}: {message}"),
    "expected.and_or_end": _("diharapkan `and`/`or` atau akhir aturan"),
    "expected.in_after_not": _("diharapkan `in` sesudah `not`"),
    "expected.null_after_is": _("diharapkan `null` sesudah `is`"),
    "expected.close": _("diharapkan `)`"),
    "expected.operand": _("diharapkan nama kolom, angka, teks dalam tanda petik, atau `(`"),
    "expected.argument_end": _("diharapkan `,` atau `)`"),
    "expected.list": _('diharapkan daftar, mis. [1, 2] atau ["a", "b"]'),
    "expected.list_end": _("diharapkan `,` atau `]`"),
    "token.end": _("akhir aturan"),
    "type.number": _("angka"),
    "type.text": _("teks"),
    "type.bool": _("ya/tidak"),
    "type.null": _("kosong"),
    "type.list": _("daftar"),
    "type.any": _("nilai apa saja"),
    "reason.eligible": _("Memenuhi syarat: {clause}"),
    "reason.eligible.data": _("Memenuhi syarat: {clause} ({values})"),
    "reason.not_eligible": _("Tidak memenuhi syarat: {clause}"),
    "reason.not_eligible.data": _("Tidak memenuhi syarat: {clause} ({values})"),
    "reason.unknown": _("Tidak dapat dinilai, data kosong: {missing}"),
    "value.null": _("kosong"),
    "value.yes": _("ya"),
    "value.no": _("tidak"),
}

LABELS = (
    N("ID keluarga"),
    N("Kode desa/kelurahan"),
    N("Kode kecamatan"),
    N("Kode kabupaten/kota"),
    N("Desil nasional (resmi)"),
    N("Desil provinsi (resmi)"),
    N("Desil kabupaten/kota (resmi)"),
    N("Miskin ekstrem"),
    N("Skor lokal (0-1, makin tinggi makin miskin)"),
    N("Desil lokal dalam wilayah"),
    N("Jumlah anggota keluarga"),
    N("Jumlah penghuni rumah"),
    N("Balita (0-4 tahun)"),
    N("Anak usia sekolah (7-18 tahun)"),
    N("Anak usia sekolah yang tidak bersekolah"),
    N("Lansia (60 tahun ke atas)"),
    N("Anggota dengan disabilitas"),
    N("Anggota yang bekerja"),
    N("Pendidikan tertinggi anggota 15+ (0 tidak sekolah … 5 S1+)"),
    N("Kepala keluarga perempuan"),
    N("Umur kepala keluarga"),
    N("Pendidikan kepala keluarga"),
    N("Tingkat pendidikan kepala (0 tidak sekolah … 5 S1+)"),
    N("Pekerjaan kepala keluarga"),
    N("Kepala keluarga tidak bekerja"),
    N("Status kepemilikan rumah"),
    N("Luas lantai (m²)"),
    N("Luas lantai per penghuni (m²)"),
    N("Jenis lantai terluas"),
    N("Jenis dinding terluas"),
    N("Jenis atap terluas"),
    N("Sumber air minum"),
    N("Fasilitas buang air besar"),
    N("Sumber penerangan / daya listrik"),
    N("Bahan bakar memasak"),
    N("Memiliki mobil"),
    N("Jumlah sepeda motor"),
    N("Tidak memiliki tempat berteduh/tinggal"),
    N("Pernah khawatir/tidak makan setahun terakhir"),
    N("Pangsa pengeluaran makanan (0-1)"),
    N("Tidak membeli pakaian setahun terakhir"),
    N("Frekuensi makan per hari"),
    N("Makan daging/ayam/susu lebih dari sekali seminggu"),
    N("Sanggup membayar berobat ke puskesmas"),
    N("Memiliki jaminan kesehatan (JKN)"),
    N("Memiliki tabungan/barang mudah dijual ≥ Rp500.000"),
    N("ASN (PNS/PPPK)"),
    N("TNI/Polri"),
    N("Guru bersertifikasi"),
    N("Pelanggan PLN ≥ 900 VA nonsubsidi"),
    N("Pemilik mobil"),
    N("Upah di atas UMK"),
    N("Perangkat desa"),
    N("Pengusaha terdaftar"),
    N("Ada temuan pengecualian apa pun"),
    N("Kriteria fakir miskin (Kepmensos 262/HUK/2022)"),
    N("Pekerjaan"),
    N("Pangan dan pengeluaran"),
    N("Perumahan"),
    N("Kepala keluarga atau pengurus keluarga tidak bekerja"),
    N("Pernah khawatir tidak makan atau pernah tidak makan dalam setahun terakhir"),
    N("Pengeluaran makanan lebih dari separuh total pengeluaran"),
    N("Tidak ada pengeluaran untuk pakaian selama setahun terakhir"),
    N("Lantai sebagian besar tanah dan/atau plesteran"),
    N("Dinding sebagian besar bambu, kawat, papan kayu, terpal, kardus, tembok tanpa plester, rumbia atau seng"),
    N("Tidak memiliki jamban sendiri atau memakai jamban komunitas"),
    N("Penerangan dari listrik 450 VA atau bukan listrik"),
    N("Tidak memiliki tempat berteduh/tinggal sehari-hari"),
    N("14 kriteria rumah tangga miskin (BPS; Kepmensos 146/HUK/2013, sudah dicabut)"),
    N("Pangan dan sandang"),
    N("Kesehatan"),
    N("Pekerjaan dan pendidikan kepala"),
    N("Aset"),
    N("Luas lantai kurang dari 8 m² per orang"),
    N("Lantai tanah, bambu atau kayu murahan"),
    N("Dinding bambu, rumbia, kayu berkualitas rendah atau tembok tanpa plester"),
    N("Tidak punya fasilitas buang air besar atau bersama-sama dengan rumah tangga lain"),
    N("Penerangan tidak menggunakan listrik"),
    N("Air minum dari sumur/mata air tidak terlindung, sungai atau air hujan"),
    N("Bahan bakar memasak kayu bakar, arang atau minyak tanah"),
    N("Hanya mengonsumsi daging/susu/ayam satu kali seminggu"),
    N("Hanya membeli satu stel pakaian baru dalam setahun"),
    N("Hanya sanggup makan satu/dua kali sehari"),
    N("Tidak sanggup membayar biaya pengobatan di puskesmas/poliklinik"),
    N("Kepala rumah tangga petani gurem, buruh tani, nelayan, buruh bangunan/perkebunan atau berpenghasilan rendah"),
    N("Pendidikan tertinggi kepala rumah tangga tidak sekolah, tidak tamat SD atau hanya SD"),
    N("Tidak memiliki barang mudah dijual senilai Rp500.000 (diwakili: tanpa sepeda motor dan mobil)"),
    N("Kemiskinan multidimensi keluarga (pendidikan, kesehatan, standar hidup, pekerjaan, disabilitas)"),
    N("Pendidikan"),
    N("Standar hidup"),
    N("Disabilitas"),
    N("Tidak ada anggota berumur 15+ yang tamat SMP"),
    N("Ada anak usia sekolah (7-18 tahun) yang tidak bersekolah"),
    N("Tidak memiliki jaminan kesehatan (JKN)"),
    N("Tidak sanggup membayar berobat ke puskesmas"),
    N("Makan kurang dari dua kali sehari atau pernah tidak makan setahun terakhir"),
    N("Lantai tanah atau bambu"),
    N("Dinding atau atap dari bahan tidak layak"),
    N("Luas lantai kurang dari 8 m² per penghuni"),
    N("Tanpa jamban sendiri"),
    N("Air minum dari sumber tidak layak"),
    N("Tanpa listrik PLN"),
    N("Memasak dengan kayu bakar, arang atau minyak tanah"),
    N("Tidak memiliki sepeda motor maupun mobil"),
    N("Tidak ada anggota keluarga yang bekerja"),
    N("Ada anggota keluarga dengan disabilitas"),
    N(
        "Keputusan Menteri Sosial Nomor 262/HUK/2022 tentang Kriteria Fakir Miskin, ditetapkan 31 Desember 2022; mencabut Kepmensos 146/HUK/2013."
    ),
    N(
        "Empat belas kriteria rumah tangga miskin BPS (Pendataan Sosial Ekonomi 2005), dipakai Kepmensos 146/HUK/2013 yang dicabut oleh Kepmensos 262/HUK/2022."
    ),
    N(
        "Metode Alkire-Foster (OPHI/UNDP, Indeks Kemiskinan Multidimensi global) dengan dimensi pekerjaan dan disabilitas ditambahkan untuk kebutuhan TKPK; indikator memakai variabel DTSEN dan verifikasi lapangan."
    ),
)


def rule_text(key: str) -> str:
    """The template of an engine key in the active language (the engine's Indonesian when no msgid exists)."""
    template = RULE_TEXTS.get(key)
    return str(template) if template is not None else TEXTS[key]


def rule_problem(error: RuleError) -> str:
    """Why a rule cannot be used, with its position, in the active language."""
    return error.message(rule_text)


def reason(explanation: RowExplanation) -> str:
    """Why a family is in or out of a rule, in the active language."""
    return explanation.summary(rule_text)


def label(text: str) -> str:
    """A field, indicator, dimension or scorecard label in the active language (as written when not shipped)."""
    return gettext(text) if text else text
