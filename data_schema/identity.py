"""The identity-number guard: a Norwegian national identity number, however written.

A fødselsnummer or D-nummer is 11 digits whose last two are mod-11 check digits. An
export whose pseudonymisation failed can hold one in many spellings: inside a text
or an id (`INC_150765_00565`), with separators (`150765 00565`, `150765/00565`),
in other digits (Arabic-Indic, fullwidth, superscript), or as a number DuckDB would
store (`3.1129910146e10`, `311299_10065`). So the guard looks at every value the
way it is normalised:

1. *fold*: every decimal digit of any script, and every character NFKC folds to
   one ASCII digit, becomes that digit; Unicode spaces and dashes and the
   fullwidth `. / _` become their ASCII separator (one character for one, so
   positions keep);
2. a *span* is a stretch of digits with only separators (`SEPARATORS`: white
   space, `_`, `.`, `/`, `-`) between them; its *groups* are its digit runs;
3. a *candidate* is one group or several neighbouring groups of a span joined,
   11 digits in all: `150765 00565`, `1 5 0 7 6 5 0 0 5 6 5` and
   `INC_150765_00565_2` all give 15076500565, while a 12-digit run is never cut;
4. a number column is checked by its value as DuckDB would store it: the integer
   of the BIGINT cast and the whole part of the DOUBLE and DECIMAL casts (so
   `3.1129910146e10` gives 31129910146; a ten-digit value counts with the leading
   zero it lost, `01019012345` read as 1019012345), and, when the text is not a
   plain number, by its text as well.

A value holds an identity number when a candidate has valid check digits. The SQL
macros (created on every connection; ingest checks every value with them) and
their Python twins (for names: batch ids, folder, file and column names, and the
one-line reasons that quote them) are built from the same tables here, and tests
keep them in agreement with each other and with Python's Unicode database.
"""

from __future__ import annotations

import re

# check digits: the 10th over the first nine digits, the 11th over the first ten
FNR_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
FNR_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
#: what replaces a value (or, in a one-line reason, a span) holding one
MASK = "<masked>"
#: the separators stripped between digit groups (after folding)
SEPARATORS = "\t\n\x0b\x0c\r _./-"

# The zero of every block of ten non-ASCII decimal digits (Unicode 14, as Python
# 3.11's unicodedata; `test_the_fold_table_matches_the_unicode_database`).
_ZEROS = (
    *(0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66),
    *(0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810),
    *(0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620),
    *(0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30),
    *(0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650),
    *(0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60),
    *(0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140),
    *(0x1E2F0, 0x1E950, 0x1FBF0),
)
# other characters NFKC folds to one digit: superscripts, subscripts, circled
_DIGIT_LIKE = (
    "\xb2\xb3\xb9\u2070\u2074\u2075\u2076\u2077\u2078\u2079\u2080\u2081\u2082"
    "\u2083\u2084\u2085\u2086\u2087\u2088\u2089\u2460\u2461\u2462\u2463\u2464"
    "\u2465\u2466\u2467\u2468\u24ea",
    "231045678901234567891234567890",
)
# Unicode spaces (Zs, Zl, Zp), dashes (Pd, the minus sign) and what NFKC folds to
# one of `_ . /`, by the ASCII separator they become
_SEPARATOR_LIKE = {
    " ": "\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
    "-": "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
    "\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32"
    "\ufe58\ufe63\uff0d\U00010ead",
    ".": "\u2024\ufe52\uff0e",
    "/": "\uff0f",
    "_": "\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f",
}
FOLD_FROM = (
    "".join(chr(z + i) for z in _ZEROS for i in range(10))
    + _DIGIT_LIKE[0]
    + "".join(_SEPARATOR_LIKE.values())
)
FOLD_TO = (
    "0123456789" * len(_ZEROS)
    + _DIGIT_LIKE[1]
    + "".join(sep * len(chars) for sep, chars in _SEPARATOR_LIKE.items())
)
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)

_SEP_CLASS = r"\t\n\x0b\x0c\r _./\-"
_SPAN = f"[0-9]+(?:[{_SEP_CLASS}]+[0-9]+)*"  # on folded (ASCII) text
_SPAN_RE = re.compile(_SPAN)
_GROUP_RE = re.compile("[0-9]+")
#: the longest plain number (a DOUBLE's text), checked by its value only: its
#: fraction digits are no identity (e.g. a coordinate 63.43051234567)
PLAIN_NUMBER = r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?"


def _re2_class(ascii_part: str, chars: str) -> str:
    """An RE2 character class of `ascii_part` and the non-ASCII `chars`, with
    consecutive code points as ranges."""
    points = sorted({ord(c) for c in chars})
    parts, i = [], 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = points[i], points[j]
        parts.append(f"\\x{{{lo:x}}}" + (f"-\\x{{{hi:x}}}" if hi > lo else ""))
        i = j + 1
    return "[" + ascii_part + "".join(parts) + "]"


_DIGIT_CHARS = "".join(
    f for f, t in zip(FOLD_FROM, FOLD_TO, strict=True) if t.isdigit()
)
_SEP_CHARS = "".join(f for f, t in zip(FOLD_FROM, FOLD_TO, strict=True) if t in " _./-")
_D = _re2_class("0-9", _DIGIT_CHARS)
_S = _re2_class(_SEP_CLASS, _SEP_CHARS)
#: prefilter on raw text (no fold needed): 11 digit-like characters with only
#: separator-like ones between; every value holding a candidate matches
HINT_SPAN = f"{_D}(?:{_S}*{_D}){{10}}"
#: prefilter on the text of number columns: forms whose value has more digits than
#: the text shows (an exponent, hexadecimal or binary)
HINT_NUMBER = "[0-9][eE]|0[xXbB]"


# ------------------------------------------------------------------ Python twins
def fnr_is_valid(digits: str) -> bool:
    """True when an 11-digit string has valid mod-11 check digits (Python twin)."""
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    d = [int(ch) for ch in digits]
    for weights, pos in ((FNR_WEIGHTS_1, 9), (FNR_WEIGHTS_2, 10)):
        k = 11 - sum(w * x for w, x in zip(weights, d, strict=False)) % 11
        k = 0 if k == 11 else k
        if k == 10 or k != d[pos]:
            return False
    return True


def fold_digits(text: str) -> str:
    """`text` with Unicode digits and separators folded to ASCII (same length)."""
    return text.translate(_FOLD)


def _candidates(span: str) -> list[str]:
    groups = _GROUP_RE.findall(span)
    out = []
    for i in range(len(groups)):
        for j in range(i, min(len(groups), i + 11)):
            joined = "".join(groups[i : j + 1])
            if len(joined) == 11:
                out.append(joined)
    return out


def identity_numbers_in(text: str) -> list[str]:
    """Every identity number a text holds, as 11 ASCII digits (twin of `has_fnr`)."""
    spans = _SPAN_RE.findall(fold_digits(text))
    return [c for s in spans for c in _candidates(s) if fnr_is_valid(c)]


def mask_identity_numbers(text: str) -> str:
    """`text` with every span holding an identity number replaced by `MASK`: for
    names and one-line reasons that must keep the rest readable."""
    folded = fold_digits(text)
    out, last = [], 0
    for m in _SPAN_RE.finditer(folded):
        if any(fnr_is_valid(c) for c in _candidates(m.group())):
            out += [text[last : m.start()], MASK]
            last = m.end()
    return "".join(out) + text[last:]


# ----------------------------------------------------------------------- SQL
def _check_digit_sql(weights: tuple[int, ...]) -> str:
    terms = " + ".join(
        f"{w} * ascii(substr(s, {i + 1}, 1))" for i, w in enumerate(weights)
    )
    # ascii('0') = 48: subtract 48 * sum(weights) once instead of per digit.
    return f"((11 - ((({terms}) - {48 * sum(weights)}) % 11)) % 11)"


def macro_sql() -> list[str]:
    """DuckDB macros of the guard, created on every connection.

    `has_fnr(text)` / `first_fnr(text)`: a text (any column but a number);
    `has_fnr_number(text)` / `first_fnr_number(text)`: a number column's text;
    `mask_fnr(csv_line)`: a raw CSV line with each field holding one masked.
    """
    k1 = _check_digit_sql(FNR_WEIGHTS_1)
    k2 = _check_digit_sql(FNR_WEIGHTS_2)
    fold_from = FOLD_FROM.replace("'", "''")
    return [
        "create or replace temp macro fnr_valid(s) as ("
        f" length(s) = 11 and regexp_full_match(s, '[0-9]{{11}}')"
        f" and {k1} <> 10 and {k2} <> 10"
        f" and {k1} = ascii(substr(s, 10, 1)) - 48"
        f" and {k2} = ascii(substr(s, 11, 1)) - 48)",
        f"create or replace temp macro fold_digits(v) as"
        f" translate(v, '{fold_from}', '{FOLD_TO}')",
        # every candidate of a span's digit groups: neighbours joined, 11 digits
        "create or replace temp macro fnr_joins(g) as flatten(list_transform("
        " range(1, len(g) + 1), i -> list_filter(list_transform("
        " range(i, least(len(g), i + 10) + 1), j -> array_to_string(g[i:j], '')),"
        " x -> length(x) = 11)))",
        "create or replace temp macro fnr_runs(v) as flatten(list_transform("
        f" regexp_extract_all(fold_digits(v), '{_SPAN}'),"
        " s -> fnr_joins(regexp_extract_all(s, '[0-9]+'))))",
        "create or replace temp macro has_fnr(v) as ("
        f" v is not null and regexp_matches(v, '{HINT_SPAN}') and coalesce("
        " list_bool_or(list_transform(fnr_runs(v), x -> fnr_valid(x))), false))",
        "create or replace temp macro first_fnr(v) as ("
        " list_filter(fnr_runs(v), x -> fnr_valid(x))[1])",
        # a number as DuckDB would store it: BIGINT, whole part of DOUBLE, DECIMAL;
        # ten digits are an 11-digit one that lost its leading zero
        "create or replace temp macro fnr_number_value(v) as list_filter("
        " list_transform([try_cast(v as bigint),"
        " try_cast(trunc(try_cast(v as double)) as hugeint),"
        " try_cast(trunc(try_cast(v as decimal(38, 2))) as hugeint)],"
        " x -> case when abs(x) between 1000000000 and 9999999999"
        " then '0' || cast(abs(x) as varchar) else cast(abs(x) as varchar) end),"
        " x -> fnr_valid(x))[1]",
        "create or replace temp macro has_fnr_number(v) as ("
        " v is not null and (fnr_number_value(trim(v)) is not null or"
        f" (not regexp_full_match(trim(v), '{PLAIN_NUMBER}') and has_fnr(v))))",
        "create or replace temp macro first_fnr_number(v) as"
        " coalesce(fnr_number_value(trim(v)), first_fnr(v))",
        # a raw CSV line: field by field (a comma is no separator), type unknown
        "create or replace temp macro mask_fnr(v) as array_to_string("
        " list_transform(string_split(v, ','), p -> case when has_fnr(p)"
        f" or fnr_number_value(trim(p, ' \"')) is not null then '{MASK}'"
        " else p end), ',')",
        "create or replace temp macro first_fnr_line(v) as list_filter("
        " list_transform(string_split(v, ','), p -> coalesce(first_fnr(p),"
        " fnr_number_value(trim(p, ' \"')))), x -> x is not null)[1]",
    ]
