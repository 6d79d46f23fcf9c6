"""Personal data out of text before journey writes it for training: e-mail addresses, phone numbers, IBANs,
card numbers, and the values a caller knows to be personal (a customer's name, their verified identity fields),
each replaced by a placeholder such as `<EMAIL>`.

The detectors are presidio-analyzer's predefined pattern recognizers, called directly: presidio's
AnalyzerEngine would load a spaCy model, which nothing here may download, while these need none (the
e-mail check reads tldextract's bundled suffix list instead of fetching one). Known values are presidio
deny lists. Every redacted text is scanned again, and a text in which anything is still found is refused
(`RedactionFailed`), so a caller can write nothing rather than something half-redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from journey.errors import UserError

PLACEHOLDERS = {"EMAIL_ADDRESS": "<EMAIL>", "PHONE_NUMBER": "<PHONE>", "IBAN_CODE": "<IBAN>", "CREDIT_CARD": "<CARD>"}
# Where a phone number without a country code is looked for (one with +<code> is found in any): presidio's default
# regions and western Europe's. Not LU or DK: their short plans read prices ("49.90") and dates as numbers.
PHONE_REGIONS = ("US", "CA", "GB", "IE", "DE", "FR", "BE", "NL", "AT", "CH", "SE", "ES", "PT", "IT", "PL")
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
_GLUED = re.compile(r"[A-Za-z]-?$")  # what ends the text before a number that is part of an id


class RedactionFailed(UserError):
    """Personal data could not be taken out of a text; nothing derived from it may be written."""


class Redactor:
    """Finds and replaces personal data. Never redacted: the values in `keep` (the company's own phone number),
    text inside a match of one of `keep_patterns` (regexes: order ids, tracking codes), and a number glued to the
    letters or hyphen before it (the digits of an id such as LK-172542 are not a phone number)."""

    def __init__(
        self,
        keep: Iterable[str] = (),
        keep_patterns: Iterable[str] = (),
        phone_regions: tuple[str, ...] = PHONE_REGIONS,
    ) -> None:
        self.keep = {value.strip().casefold() for value in keep if value.strip()}
        self.keep_patterns = [_compiled(pattern) for pattern in keep_patterns]
        self.phone_regions = phone_regions

    @cached_property
    def _recognizers(self) -> list[Any]:
        """presidio's pattern recognizers (imported on first use: presidio takes seconds to import)."""
        import tldextract
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            PhoneRecognizer,
        )

        offline = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())  # the bundled public suffix list

        class OfflineEmailRecognizer(EmailRecognizer):
            def validate_result(self, pattern_text: str) -> bool:
                return offline(pattern_text).fqdn != ""

        phones = PhoneRecognizer(supported_regions=self.phone_regions)
        return [OfflineEmailRecognizer(), phones, IbanRecognizer(), CreditCardRecognizer()]

    def redact(self, text: str, known: Mapping[str, str] | None = None) -> str:
        """`text` with each finding replaced by its placeholder; `known` maps personal values to theirs
        (e.g. {"Ada Lovelace": "<NAME>"}), matched as whole words, ignoring case."""
        try:
            redacted = _replace(text, self._find(text, known or {}))
            left = self._find(redacted, known or {})
        except Exception as exc:  # a recognizer's own failure: nothing may be written on its word
            raise RedactionFailed(f"Redaction failed ({type(exc).__name__}: {exc}); nothing was written.") from exc
        if left:
            kinds = sorted({placeholder for _, _, placeholder in left})
            raise RedactionFailed(f"Redaction left {', '.join(kinds)} in a text; nothing was written.")
        return redacted

    def _find(self, text: str, known: Mapping[str, str]) -> list[tuple[int, int, str]]:
        """(start, end, placeholder) of every finding, widest first where findings overlap."""
        found = []
        kept = [m.span() for pattern in self.keep_patterns for m in pattern.finditer(text)]
        for recognizer in [*self._recognizers, *_known_recognizers(known)]:
            for result in recognizer.analyze(text, recognizer.supported_entities, None):
                value = text[result.start : result.end]
                if value.strip().casefold() in self.keep or _PLACEHOLDER.fullmatch(value):
                    continue
                if any(start <= result.start and result.end <= end for start, end in kept):
                    continue
                if result.entity_type == "PHONE_NUMBER" and _GLUED.search(text[: result.start]):
                    continue
                found.append((result.start, result.end, PLACEHOLDERS.get(result.entity_type, result.entity_type)))
        chosen: list[tuple[int, int, str]] = []
        for span in sorted(found, key=lambda s: (s[0] - s[1], s[0])):
            if all(span[1] <= other[0] or span[0] >= other[1] for other in chosen):
                chosen.append(span)
        return sorted(chosen)


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UserError(f"harvest.keep_patterns: {pattern!r} is not a valid regex ({exc}).") from None


def name_parts(name: str) -> list[str]:
    """A full name and each of its capitalised words of two letters or more ("Ada de Vries" → it, "Ada", "Vries")."""
    name = " ".join(name.split())
    return [name, *(part for part in name.split(" ") if len(part) >= 2 and part[0].isupper())] if name else []


def _known_recognizers(known: Mapping[str, str]) -> list[Any]:
    """One presidio deny-list recognizer per placeholder, its longest values first (a full name before its parts)."""
    from presidio_analyzer import PatternRecognizer

    by_placeholder: dict[str, set[str]] = {}
    for value, placeholder in known.items():
        if value.strip():
            by_placeholder.setdefault(placeholder, set()).add(value.strip())
    return [
        PatternRecognizer(supported_entity=placeholder, deny_list=sorted(values, key=lambda v: (-len(v), v)))
        for placeholder, values in by_placeholder.items()
    ]


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, at = [], 0
    for start, end, placeholder in spans:
        out += [text[at:start], placeholder]
        at = end
    return "".join([*out, text[at:]])
