"""The language of a mention, as an ISO 639-1 code.

Detection is CLD2 (Chromium's Compact Language Detector 2, through `pycld2`, Apache-2.0):
its model is compiled into the package, so nothing is downloaded, it loads in a
millisecond and adds about 2 MB to a process, and it reads 600 characters in about a
tenth of a millisecond. Only the first `MAX_CHARS` characters are read.

The feed's or page's own language (`Item.language`, often "en-US") is given as `hint`. On a
text of at least `SHORT` characters, CLD2's answer wins when CLD2 says it is reliable: an
English feed carries French comments. On a shorter one ("pas terrible", "Installation
facile et documentation claire.") CLD2 errs too often and the hint wins; with no hint, an
unreliable answer is no answer: the language is unknown (None) rather than a guess.
"""

from __future__ import annotations

import re
from typing import Any

#: Only the start of a long text is read: a language shows in a few sentences.
MAX_CHARS = 600
#: Below this many characters the hint, when there is one, wins over the detector.
SHORT = 50

_CODE = re.compile(r"[a-z]{2,3}")
_detector: Any = None


def _detect(text: str) -> tuple[bool, str]:
    global _detector
    if _detector is None:  # imported on first use: the scan's workers import this module
        import pycld2

        _detector = pycld2
    try:
        reliable, _, details = _detector.detect(text, isPlainText=True)
    except _detector.error:  # bytes CLD2 refuses (control characters…)
        return False, "un"
    return bool(reliable), str(details[0][1])


def normalise(code: str | None) -> str | None:
    """`en-US`, `fr_FR`, `FR` → `en`, `fr`, `fr`; None for anything that is not a code."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if _CODE.fullmatch(base) else None


def detect_language(text: str, hint: str | None = None) -> str | None:
    """The language of `text` (ISO 639-1; a few languages only have a 3-letter code), the
    hint's when the text is too short to tell, else None."""
    sample = text[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")
    if hint and len(sample.strip()) < SHORT and normalise(hint):
        return normalise(hint)
    reliable, code = _detect(sample) if sample.strip() else (False, "un")
    if reliable and code not in ("un", "xx", "xxx"):
        return normalise(code)
    return normalise(hint)


__all__ = ["detect_language", "normalise"]
