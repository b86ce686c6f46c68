"""Every sentence the rule language says to people, as Indonesian templates under stable keys.

The engine cannot translate (no Django here), so it never hands out finished sentences only: an error or an
explanation is a key and its parameters (``RuleError.key``/``detail``, ``RowExplanation.reason``), and it is
rendered with a ``Text`` function that maps a key to a template. The default is the Indonesian of this table (what
the CLI prints and ``str(error)`` says); the web application passes a function that looks the same Indonesian
template up in its gettext catalogue (tepat.targeting.texts), so an English user reads English.

Parameters whose names end in ``kind`` hold a type code (``number``, ``text`` …) and are rendered through the
``type.*`` keys; ``expected`` holds an ``expected.*`` key; ``found`` holds the text of a token, or None for the end
of the rule. Everything else is inserted as given (``{name!r}`` quotes it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Text = Callable[[str], str]

TEXTS: dict[str, str] = {
    # errors (RuleProblem values, and their variants after a dot)
    "rule.empty": "aturan kosong",
    "rule.too_long": "aturan terlalu panjang ({length} karakter; batas {limit})",
    "rule.too_deep": "tanda kurung terlalu bertingkat",
    "rule.bad_character": "karakter {char!r} tidak dikenal",
    "rule.unterminated_string": "teks tidak ditutup tanda petik",
    "rule.bad_number": "tulis angka {text} tanpa pemisah ribuan, mis. {plain}",
    "rule.syntax": "{found} tidak diharapkan di sini; {expected}",
    "rule.unexpected_end": "aturan berakhir terlalu cepat; {expected}",
    "rule.unknown_field": "nama kolom {name!r} tidak dikenal",
    "rule.unknown_field.suggestion": "nama kolom {name!r} tidak dikenal (maksud Anda {suggestion!r}?)",
    "rule.unknown_function": "fungsi {name!r} tidak dikenal; yang tersedia: {known}",
    "rule.type_mismatch.arithmetic": "`{op}` hanya untuk angka, sedangkan {text!r} berjenis {kind}",
    "rule.type_mismatch.minus": "tanda minus hanya untuk angka",
    "rule.type_mismatch.compare": "{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind})",
    "rule.type_mismatch.compare_quoted_number": (
        "{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind}); "
        "angka ditulis tanpa tanda petik"
    ),
    "rule.type_mismatch.compare_unquoted_text": (
        "{left!r} ({left_kind}) tidak bisa dibandingkan dengan {right!r} ({right_kind}); "
        'teks ditulis dalam tanda petik, mis. "64.74.03.1002"'
    ),
    "rule.type_mismatch.yes_no_order": "nilai ya/tidak hanya bisa dibandingkan dengan == atau !=",
    "rule.type_mismatch.list": "{text!r} berjenis {kind}, sedangkan isi daftar berjenis {item_kind}",
    "rule.type_mismatch.yes_no_in": "`in` tidak untuk nilai ya/tidak",
    "rule.not_condition": "{text!r} bukan syarat ya/tidak (jenisnya {kind}); bandingkan dulu, mis. {text} > 0",
    "rule.bad_list.placement": "daftar [..] hanya boleh sesudah `in`",
    "rule.bad_list.literal": "isi daftar harus angka atau teks tetap",
    "rule.bad_list.too_long": "daftar lebih dari {limit} isi",
    "rule.bad_list.mixed": "isi daftar harus sejenis (semua angka atau semua teks)",
    "rule.unknown_value.suggestion": "nilai {value!r} tidak dikenal untuk {name} (maksud Anda {suggestion!r}?)",
    "rule.unknown_value.known": "nilai {value!r} tidak dikenal untuk {name}; nilai yang dikenal: {known}",
    "rule.null_comparison": "untuk memeriksa data kosong tulis `{name} is null` atau `{name} is not null`",
    "rule.null_comparison.bare": "untuk memeriksa data kosong tulis `kolom is null` atau `kolom is not null`",
    "rule.arguments.fixed_prefix": "starts_with() memerlukan awalan tetap",
    "rule.arguments.numbers": "{name}() memerlukan dua angka atau lebih",
    "rule.arguments.count": "{name}() memerlukan {count} argumen",
    "rule.arguments.type": "{name}() memerlukan {kind}, bukan {actual_kind}",
    "rule.arguments.same_type": "{name}() memerlukan dua nilai sejenis",
    "rule.missing_column": "kolom {names} tidak tersedia di data keluarga",
    "rule.column_type": "kolom {name} di data berjenis {actual}, padahal aturan memerlukan {kind}",
    "rule.position": "posisi {position}: {message}",
    # what the parser wanted where it stopped
    "expected.and_or_end": "diharapkan `and`/`or` atau akhir aturan",
    "expected.in_after_not": "diharapkan `in` sesudah `not`",
    "expected.null_after_is": "diharapkan `null` sesudah `is`",
    "expected.close": "diharapkan `)`",
    "expected.operand": "diharapkan nama kolom, angka, teks dalam tanda petik, atau `(`",
    "expected.argument_end": "diharapkan `,` atau `)`",
    "expected.list": 'diharapkan daftar, mis. [1, 2] atau ["a", "b"]',
    "expected.list_end": "diharapkan `,` atau `]`",
    "token.end": "akhir aturan",
    # value types
    "type.number": "angka",
    "type.text": "teks",
    "type.bool": "ya/tidak",
    "type.null": "kosong",
    "type.list": "daftar",
    "type.any": "nilai apa saja",
    # why a family is in or out (RowExplanation.reason)
    "reason.eligible": "Memenuhi syarat: {clause}",
    "reason.eligible.data": "Memenuhi syarat: {clause} ({values})",
    "reason.not_eligible": "Tidak memenuhi syarat: {clause}",
    "reason.not_eligible.data": "Tidak memenuhi syarat: {clause} ({values})",
    "reason.unknown": "Tidak dapat dinilai, data kosong: {missing}",
    "value.null": "kosong",
    "value.yes": "ya",
    "value.no": "tidak",
}


def indonesian(key: str) -> str:
    return TEXTS[key]


def render(key: str, params: Mapping[str, Any], text: Text | None = None) -> str:
    """The sentence for ``key`` with its parameters, in the language of ``text`` (default: Indonesian)."""
    look = text or indonesian
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("kind") and isinstance(value, str) and f"type.{value}" in TEXTS:
            values[name] = look(f"type.{value}")
        elif name == "expected" and isinstance(value, str) and value in TEXTS:
            values[name] = look(value)
        elif name == "found":
            values[name] = look("token.end") if value is None else repr(value)
        else:
            values[name] = value
    return look(key).format(**values)


def show_value(value: Any, text: Text | None = None) -> str:
    """A cell as people read it in an explanation: empty, yes/no, whole numbers without ``.0``."""
    look = text or indonesian
    if value is None:
        return look("value.null")
    if isinstance(value, bool):
        return look("value.yes") if value else look("value.no")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
