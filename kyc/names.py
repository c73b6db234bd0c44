"""Name matching between what a user typed and what a provider holds (PAN, bank).

Indian names come in many orders and spellings (`RAO ASHA`, `Asha K. Rao`, `Mr Asha Rao`), so
the score ignores case, punctuation, honorifics and word order: it is the better of the
similarity of the sorted words and the share of the shorter name's words found in the longer,
from 0 to 100 (Decimal, two places).
"""

import re
from decimal import ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher

_HONORIFICS = frozenset({"MR", "MRS", "MS", "MISS", "DR", "SHRI", "SMT", "KUM", "M/S", "MESSRS"})
_COMPANY_WORDS = {"PRIVATE": "PVT", "LIMITED": "LTD", "COMPANY": "CO", "AND": "&"}


def _words(name: str) -> list[str]:
    words = re.sub(r"[^A-Z0-9&/ ]", " ", name.upper()).split()
    return [_COMPANY_WORDS.get(word, word) for word in words if word not in _HONORIFICS]


def name_match_score(first: str, second: str) -> Decimal:
    a, b = _words(first), _words(second)
    if not a or not b:
        return Decimal("0.00")
    sorted_ratio = SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(b))).ratio()
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    # Initials count for a word that starts with them (`K` for `KUMAR`), at half weight.
    found = 0.0
    for word in shorter:
        if word in longer:
            found += 1
        elif len(word) == 1 and any(other.startswith(word) for other in longer):
            found += 0.5
    overlap = found / len(longer) if len(shorter) == 1 else found / len(shorter)
    score = Decimal(str(max(sorted_ratio, overlap) * 100))
    return score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
