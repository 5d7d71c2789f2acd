"""Which language a comment is in, limited to the languages the models score (French, English).

One offline detector, py3langid (its model is a NumPy archive in the wheel: nothing is
unpickled or downloaded), loaded once on first use and shared by every thread. Chosen over
lingua by measurement on short comments of ``../shared/data`` (``bench/bench_language.py``):
py3langid restricted to French/English was right on 98.6 % of whole comments and 95.1 % of
their first three words (lingua: 98.1 % / 92.1 %), from a 4.6 MB wheel instead of 96 MB.

The decision, in one place (:func:`detect`):

* a text is scored as French or English, whichever the detector prefers between the two,
  so a short comment is never guessed as Turkish or Malay ("yo hamburger" is English);
* it is **unsupported** (``None``) only when it is clearly another language: at least
  :data:`MIN_LETTERS_OTHER` letters and the unrestricted detector gives another language a
  probability of at least :data:`MIN_CONFIDENCE_OTHER`;
* a text with no letters (emoji, "!!!") is scored as :data:`DEFAULT_LANGUAGE`.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from classifier.schema import DEFAULT_LANGUAGE, LANGUAGES

#: Letters a text needs before it can be called another language than French or English.
MIN_LETTERS_OTHER = 20
#: Probability the unrestricted detector must give another language to call a text unsupported.
MIN_CONFIDENCE_OTHER = 0.95
#: Characters of a comment the detector reads (the start of a long comment tells its language).
MAX_CHARS = 200

_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()
_identifiers: tuple | None = None


@dataclass(frozen=True)
class Detection:
    """A text's language: ``language`` is ``"fr"``, ``"en"`` or None (another language);
    ``guess`` is the unrestricted detector's best language (``"de"``, ``"fr"``...) and
    ``confidence`` its probability."""

    language: str | None
    guess: str
    confidence: float


def _get_identifiers():
    """py3langid's identifiers (every language; French and English only), loaded once."""
    global _identifiers
    if _identifiers is None:
        with _lock:
            if _identifiers is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                every = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ours = copy.copy(every)  # shares the model's arrays; restricting slices them
                ours.set_languages(list(LANGUAGES))
                _identifiers = (every, ours)
    return _identifiers


def detect_one(text: str) -> Detection:
    """The language of one text (see the module docstring for the rule)."""
    sample = text[:MAX_CHARS]
    letters = len(_LETTER.findall(sample))
    if letters == 0:
        return Detection(DEFAULT_LANGUAGE, DEFAULT_LANGUAGE, 0.0)
    every, ours = _get_identifiers()
    guess, confidence = every.classify(sample)
    if guess in LANGUAGES:
        return Detection(guess, guess, float(confidence))
    if letters >= MIN_LETTERS_OTHER and confidence >= MIN_CONFIDENCE_OTHER:
        return Detection(None, guess, float(confidence))
    return Detection(ours.classify(sample)[0], guess, float(confidence))


def detect(texts: Sequence[str]) -> list[Detection]:
    """The language of each text, in order."""
    return [detect_one(t) for t in texts]
