"""What a fact is: matching and grounding checks that need no judge model.

`contains_fact` decides whether an answer states a fact, forgiving case, spacing,
currency signs and number formats (49.9 = 49.90 = €49.90 = 49,90).
`checkable_facts` pulls the statements a customer would act on — prices, dates,
codes, e-mail addresses and amounts such as "30 days" — out of an answer, so that
`ungrounded` can report those found in neither the question, the context nor the reference.
`stated_facts` is the other side: the fact strings a prompt gives the model to copy.
Evaluation counts ungrounded facts and generation keeps to stated ones
(models/grounding.py) with this one definition, so it lives below both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)*|%")  # words, numbers and %; letters and digits split apart
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})+")
_CURRENCY = r"(?:€|\$|£|eur\b|euros?\b|usd\b|gbp\b|dollars?\b|pounds?\b)"
_AMOUNT_UNITS = r"(?:%|percent\b|(?:working |business )?(?:days?|weeks?|months?|years?|hours?|minutes?)\b)"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Capitalised only, so that "4 may apply" is not read as the 4th of May.
_MONTH = "(?:" + "|".join(f"{m[:3]}(?:{m[3:]})?" for m in _MONTHS) + r")\.?"

_PRICE = re.compile(
    rf"{_CURRENCY}\s?\d(?:[\d.,]*\d)?|\d(?:[\d.,]*\d)?\s?{_CURRENCY}|\b\d+[.,]\d{{2}}\b(?![.,]\d)", re.IGNORECASE
)
_AMOUNT = re.compile(rf"\b\d+(?:[.,]\d+)?\s?{_AMOUNT_UNITS}", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH})(?:,? (\d{{4}}))?(?!\w)")
_MONTH_DAY = re.compile(rf"\b({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?\b")
# Identifiers mixing letters and at least two digits (LK-123456, C-10422, 1Z999AA1...), not "10am" or "3rd".
_CODE = re.compile(r"\b(?=[A-Za-z0-9-]*[A-Za-z])(?=(?:[A-Za-z-]*\d){2})[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LONG_NUMBER = re.compile(r"(?<![\d.,])\d{6,}(?![\d.,]\d)")  # tracking numbers, account numbers
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:st|nd|rd|th|am|pm|h|s|kg|g|km|m|cm|mm|ml|l|gb|mb|tb|w|kw|v|mah|x)", re.I)


def normalise_text(text: str) -> str:
    """Unicode-normalised, lower-cased text with runs of whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def canonical_number(token: str) -> list[str]:
    """A number token in one canonical spelling: '49,90' and '49.90' -> ['49.9']; '1,299.00' -> ['1299'].

    Dates and versions with several separators ('03.05.2024') become their parts.
    """
    if thousands := _THOUSANDS.fullmatch(token):
        token = token.replace(thousands.group(1), "")
    elif "," in token and "." in token:
        decimal_mark = "," if token.rfind(",") > token.rfind(".") else "."
        token = token.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    if token.count(",") + token.count(".") > 1:
        return [p for part in re.split(r"[.,]", token) for p in canonical_number(part)]
    try:
        value = Decimal(token.replace(",", "."))
    except InvalidOperation:
        return [token]
    text = format(value.normalize(), "f")
    return [text.rstrip("0").rstrip(".") if "." in text else text]


def tokens(text: str) -> list[str]:
    """Words, canonical numbers and % signs of `text`, for order-preserving fact matching."""
    out: list[str] = []
    for token in _TOKEN.findall(re.sub(r"\bper ?cent\b", "%", normalise_text(text))):
        out += canonical_number(token) if _NUMBER.fullmatch(token) else [token]
    return out


def contains_fact(answer: str, fact: str) -> bool:
    """True when `fact` occurs in `answer` as a whole run of words/numbers (formats normalised)."""
    wanted = tokens(fact)
    if not wanted:
        return normalise_text(fact) in normalise_text(answer)
    have = tokens(answer)
    width = len(wanted)
    return any(have[i : i + width] == wanted for i in range(len(have) - width + 1))


@dataclass(frozen=True)
class CheckableFact:
    """A statement in an answer a customer would act on."""

    kind: str  # "price", "amount", "date", "code" or "email"
    text: str  # as written in the answer
    key: str  # canonical form used for the grounding check


def checkable_facts(answer: str) -> list[CheckableFact]:
    """Prices, amounts (30 days, 15 %), dates, codes (order ids, SKUs, tracking codes) and e-mails in `answer`."""
    text = unicodedata.normalize("NFKC", answer)
    found: list[CheckableFact] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, match: re.Match[str], key: str) -> None:
        span = match.span()
        if any(span[0] < end and start < span[1] for start, end in taken):
            return
        taken.append(span)
        found.append(CheckableFact(kind, match.group(0).strip(), key))

    for match in _EMAIL.finditer(text):
        add("email", match, match.group(0).lower())
    for match in _ISO_DATE.finditer(text):
        add("date", match, _date_key(match.group(3), match.group(2), match.group(1)))
    for match in _NUMERIC_DATE.finditer(text):
        add("date", match, _date_key(match.group(1), match.group(2), match.group(3)))
    for match in _DAY_MONTH.finditer(text):
        add("date", match, _date_key(match.group(1), _month_number(match.group(2)), match.group(3)))
    for match in _MONTH_DAY.finditer(text):
        add("date", match, _date_key(match.group(2), _month_number(match.group(1)), match.group(3)))
    for match in _PRICE.finditer(text):
        add("price", match, " ".join(canonical_number(_NUMBER.search(match.group(0)).group(0))))
    for match in _AMOUNT.finditer(text):
        add("amount", match, " ".join(canonical_number(_NUMBER.search(match.group(0)).group(0))))
    for match in _CODE.finditer(text):
        if not _NUMBER_WITH_UNIT.fullmatch(match.group(0)):
            add("code", match, _code_key(match.group(0)))
    for match in _LONG_NUMBER.finditer(text):
        add("code", match, match.group(0))
    return found


@dataclass(frozen=True)
class Grounding:
    """What the sources (question, context, reference) state, in the canonical forms facts are checked in."""

    numbers: frozenset[str]
    dates: frozenset[str]
    emails: frozenset[str]
    alnum: str

    @classmethod
    def of(cls, *sources: str) -> Grounding:
        text = "\n".join(sources)
        facts = checkable_facts(text)
        dates = {fact.key for fact in facts if fact.kind == "date"}
        emails = {fact.key for fact in facts if fact.kind == "email"}
        return cls(frozenset(tokens(text)), frozenset(dates), frozenset(emails), _code_key(text))

    def supports(self, fact: CheckableFact) -> bool:
        if fact.kind == "email":
            return fact.key in self.emails
        if fact.kind == "date":
            return any(_same_date(fact.key, known) for known in self.dates)
        if fact.kind == "code":
            return fact.key in self.alnum
        return all(part in self.numbers for part in fact.key.split())


def ungrounded(answer: str, *sources: str) -> list[CheckableFact]:
    """The checkable facts of `answer` that none of `sources` supports (possible hallucinations)."""
    grounding = Grounding.of(*sources)
    return [fact for fact in checkable_facts(answer) if not grounding.supports(fact)]


def stated_facts(text: str) -> set[str]:
    """The fact strings `text` states, as written: its checkable facts and every number (what `ungrounded` accepts).

    An answer that states only these, copied, has no ungrounded fact against `text` — but for
    a date re-assembled from stated numbers in another order.
    """
    text = unicodedata.normalize("NFKC", text)
    return {fact.text for fact in checkable_facts(text)} | set(_NUMBER.findall(text))


def _code_key(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", text).upper())


def _month_number(name: str) -> str:
    return str([m[:3] for m in _MONTHS].index(name[:3]) + 1)


def _date_key(day: str, month: str, year: str | None) -> str:
    return f"{int(year) if year else '?'}-{int(month):02d}-{int(day):02d}"


def _same_date(a: str, b: str) -> bool:
    """Same day and month, and the same year unless one of them names none."""
    year_a, rest_a = a.split("-", 1)
    year_b, rest_b = b.split("-", 1)
    return rest_a == rest_b and (year_a == year_b or "?" in (year_a, year_b))
