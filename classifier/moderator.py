"""`Moderator`: load the shipped models once, then score lists, single texts and DataFrames.

This is the Python API behind ``classifier score``, the moderation queue and the web
server::

    from classifier import Moderator
    mod = Moderator.load()                          # shipped models, verified, loaded once
    results = mod.score(["Merci pour cet article", "TAIS-TOI ABRUTI"])   # list in, list out
    results[1].decision, results[1].reasons
    mod.score_one("Quel article nul")               # one Result
    mod.score_frame(df, column="text")              # DataFrame in, DataFrame out

A `Moderator` holds only read-only state after :meth:`Moderator.load` (fitted models
and a frozen policy), so one instance can be shared by the threads of a web server.
Scoring is vectorised: one ``predict_proba`` per model per batch, and explanations
are computed only for comments that hostility alone flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier import language as lang
from classifier import policy as pol
from classifier.errors import ModelError
from classifier.schema import MODEL_ATTRIBUTES, SCORE_ATTRIBUTES, SHOUTING_ATTRIBUTE, Result
from classifier.text import clean_text, shouting_scores

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from classifier.attributes import AttributeScorer
    from classifier.model import LoadedModel

#: How many n-grams explain a flagged comment.
TOP_REASONS = 3


class Moderator:
    """Scores comments with a hostile model (and a sentiment model when one is available).

    Build it with :meth:`load`; the constructor only stores already-loaded models.
    """

    def __init__(
        self,
        model: LoadedModel,
        policy: pol.Policy,
        sentiment: LoadedModel | None = None,
        reasons: bool = True,
        attributes: AttributeScorer | None = None,
    ):
        self.model = model
        self.policy = policy
        self.sentiment = sentiment
        self.reasons = reasons
        self.attributes = attributes
        self._hostile_column = _positive_column(model)
        loaded = (model, sentiment, attributes.model if attributes is not None else None)
        self.model_id = "+".join(f"{m.name}@{m.version}" for m in loaded if m is not None)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        sentiment_path: str | Path | None = None,
        *,
        config: str | Path | None = None,
        review: float | None = None,
        reject: float | None = None,
        sentiment: bool = True,
        reasons: bool = True,
        attributes: bool = True,
        attributes_path: str | Path | None = None,
    ) -> Moderator:
        """Load and verify the models once: the shipped ones by default.

        ``sentiment_path`` None means the shipped sentiment model if it exists (no
        sentiment otherwise). The policy takes the hostile model card's thresholds,
        overridden by the TOML ``config`` file, then by ``review`` / ``reject``.
        ``sentiment=False`` loads no sentiment model and ``reasons=False`` skips the
        n-gram explanations (the shouting rule is still reported): the gate-only
        scorer, about twice as fast. Decisions do not depend on either.
        ``attributes_path`` None means the shipped attribute model if it exists;
        ``attributes=False`` loads none (the model's attributes are then None).
        Raises :class:`classifier.errors.ModelError` for a missing or refused model.
        """
        from classifier.model import load_model

        model = load_model(path, task="hostile")
        mood = None
        if sentiment:
            mood = load_model(sentiment_path, task="sentiment") if sentiment_path else _shipped_sentiment()
        heads = None
        if attributes:
            heads = _attribute_scorer(attributes_path)
        return cls(model, pol.make_policy(model.thresholds, config, review, reject), mood, reasons, heads)

    # ------------------------------------------------------------------ scoring
    def score(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[Result]:
        """Score a list of texts: always a list of :class:`Result`, in the same order.

        ``languages`` (one per text) says what each text is; None detects it
        (:mod:`classifier.language`). The models are the same for French and
        English: the language is recorded, not used to pick a model.
        """
        texts = _texts(texts, "score")
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        hostile = self.model.predict_proba(cleaned)[:, self._hostile_column].tolist()
        caps = shouting_scores(texts)  # raw text: case is the signal
        decisions = [pol.decide(h, s, self.policy) for h, (s, _) in zip(hostile, caps)]
        ngrams = self._explain(cleaned, hostile) if self.reasons else {}
        sentiments = self._sentiment(cleaned)
        attributes = self._attributes(cleaned, hostile)
        if languages is None:
            languages = [d.language for d in lang.detect(cleaned)]
        return [
            Result(
                text=text,
                hostile=h,
                shouting=shout,
                caps_ratio=round(ratio, 4),
                decision=decision,
                reasons=pol.reasons(ngrams.get(i, ()), shout, ratio) if i in ngrams or shout else (),
                model=self.model_id,
                sentiment=label,
                sentiment_scores=probs,
                language=language,
                attributes=scores,
            )
            for i, (text, h, (shout, ratio), decision, (label, probs), language, scores) in enumerate(
                zip(texts, hostile, caps, decisions, sentiments, languages, attributes)
            )
        ]

    def score_attributes(self, texts: Sequence[str], only: Sequence[str] | None = None) -> list[dict[str, float]]:
        """The attribute probabilities alone, plus :data:`~classifier.schema.SHOUTING_ATTRIBUTE` (the caps ratio).

        What the Perspective-compatible API needs: no decision, sentiment or reasons.
        Without the attribute model, only ``toxicity`` and shouting. ``only`` names the
        attributes wanted: the attribute model runs only when one of its attributes is.
        """
        texts = _texts(texts, "score_attributes")
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        hostile = self.model.predict_proba(cleaned)[:, self._hostile_column].tolist()
        caps = shouting_scores(texts)
        learn = only is None or any(a in MODEL_ATTRIBUTES for a in only)
        return [
            {**{k: v for k, v in scores.items() if v is not None}, SHOUTING_ATTRIBUTE: round(ratio, 4)}
            for scores, (_, ratio) in zip(self._attributes(cleaned, hostile, learn), caps)
        ]

    def available_attributes(self) -> tuple[str, ...]:
        """The attributes this moderator scores (with the shouting rule)."""
        learnt = self.attributes.attributes if self.attributes is not None else ()
        return (*(a for a in SCORE_ATTRIBUTES if a == "toxicity" or a in learnt), SHOUTING_ATTRIBUTE)

    def score_one(self, text: str) -> Result:
        """Score one text."""
        if not isinstance(text, str):
            raise TypeError(f"Moderator.score_one() takes a str, not {type(text).__name__}")
        return self.score([text])[0]

    def score_frame(self, df: pd.DataFrame, column: str = "text") -> pd.DataFrame:
        """A copy of ``df`` with the result columns added (input columns kept, same index)."""
        if column not in df.columns:
            raise KeyError(f"no column {column!r} in the DataFrame (columns: {', '.join(map(str, df.columns))})")
        results = self.score(df[column].tolist())
        out = df.copy()
        records = [r.to_dict() for r in results]
        for key in RESULT_COLUMNS:
            out[key] = [r[key] for r in records]
        return out

    # ------------------------------------------------------------------ parts
    def _explain(self, cleaned: list[str], hostile: list[float]) -> dict[int, list[str]]:
        """The top n-grams of the comments that hostility flags, in one batch call."""
        flagged = [i for i, h in enumerate(hostile) if pol.needs_explanation(h, self.policy)]
        if not flagged:
            return {}
        explained = self.model.explain([cleaned[i] for i in flagged], top_k=TOP_REASONS, floor=self.policy.review)
        return dict(zip(flagged, explained))

    def _attributes(self, cleaned: list[str], hostile: list[float], learn: bool = True) -> list[dict[str, float | None]]:
        """``toxicity`` (the hostile probability) and the attribute model's scores (None without it or not ``learn``)."""
        use = learn and self.attributes is not None
        learnt = self.attributes.score(cleaned) if use else [{}] * len(cleaned)
        return [
            {"toxicity": round(h, 4), **{a: scores.get(a) for a in MODEL_ATTRIBUTES}}
            for h, scores in zip(hostile, learnt)
        ]

    def _sentiment(self, cleaned: list[str]) -> list[tuple[str | None, dict[str, float] | None]]:
        if self.sentiment is None:
            return [(None, None)] * len(cleaned)
        classes = [str(c) for c in self.sentiment.classes]
        probs = self.sentiment.predict_proba(cleaned)
        best = probs.argmax(axis=1).tolist()
        return [
            (classes[b], {c: round(p, 4) for c, p in zip(classes, row)})
            for b, row in zip(best, probs.tolist())
        ]


#: The fields a result adds to an input record (``Result.to_dict()`` without ``text``).
RESULT_COLUMNS = (
    "hostile", *SCORE_ATTRIBUTES, "shouting", "caps_ratio", "sentiment", "negative", "neutral", "positive",
    "decision", "reasons", "language", "model",
)  # fmt: skip


def _texts(texts: Sequence[str], method: str) -> list[str]:
    """``texts`` as a list of str; a lone string or a non-str item is a TypeError."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"Moderator.{method}() takes a list of texts; use score_one() for a single text")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{i} is {type(text).__name__}, not str")
    return texts


def _positive_column(model: Any) -> int:
    """Index of the hostile class (1) in ``predict_proba``'s columns."""
    classes = [str(c) for c in model.classes]
    for positive in ("1", "hostile", "True"):
        if positive in classes:
            return classes.index(positive)
    raise ModelError(f"model {model.name} has no hostile class (classes: {classes})")


def _attribute_scorer(path: str | Path | None) -> AttributeScorer | None:
    """The attribute model at ``path``, else the shipped one, or None when it has not been built yet."""
    from classifier.attributes import TASK, AttributeScorer
    from classifier.model import CARD_FILE, model_dir

    if path is None and not (model_dir(task=TASK) / CARD_FILE).is_file():
        return None
    return AttributeScorer.load(path)


def _shipped_sentiment() -> LoadedModel | None:
    """The shipped sentiment model, or None when it has not been built yet."""
    from classifier.model import CARD_FILE, load_model, model_dir

    if not (model_dir(task="sentiment") / CARD_FILE).is_file():
        return None
    return load_model(task="sentiment")
