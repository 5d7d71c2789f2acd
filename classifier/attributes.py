"""Per-attribute scores (Perspective's production attributes) from one shared feature transform.

The attribute model is one scikit-learn Pipeline: :class:`~classifier.features.CommentFeatures`
followed by :class:`AttributeHeads`, one logistic regression per attribute of
:data:`~classifier.schema.MODEL_ATTRIBUTES` over the same feature matrix. Each head is fitted
only on the rows whose source labels that attribute (a Davidson tweet says nothing about
threats), so the label matrix carries NaN where a source is silent. Scoring transforms a batch
once and multiplies it by the stacked coefficients of every head (:class:`AttributeScorer`).

``toxicity`` is not learnt here: it is the hostile model's probability (``models/hostile-fr``).
Training data and label mapping: :mod:`classifier.attribute_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from classifier.schema import MODEL_ATTRIBUTES

if TYPE_CHECKING:  # pragma: no cover - typing only
    from classifier.model import LoadedModel

#: The shipped attribute model's folder under ``models/`` (task ``attributes``).
TASK = "attributes"


class AttributeHeads(ClassifierMixin, BaseEstimator):
    """Independent binary logistic regressions, one per attribute, over one feature matrix.

    Parameters
    ----------
    attributes : sequence of str
        The attribute names, one per column of ``Y``.
    C : float
        Inverse regularisation strength of every head.
    seed : int
        Random state of the solver.

    ``fit(X, Y, sample_weight)`` takes ``Y`` of shape (n, len(attributes)) with 1, 0 or NaN
    (not labelled: the row is left out of that head). Fitted: ``coef_`` (attributes x
    features), ``intercept_``, ``classes_`` (the attribute names), ``n_rows_`` (rows per head).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> Y = np.array([[1, np.nan], [0, 1], [1, np.nan], [0, 0]])
    >>> heads = AttributeHeads(attributes=("insult", "threat")).fit(X, Y)
    >>> heads.predict_proba(X).shape, heads.n_rows_.tolist()
    ((4, 2), [4, 2])
    """

    def __init__(self, attributes: Sequence[str] = MODEL_ATTRIBUTES, C: float = 2.0, seed: int = 0):
        self.attributes = attributes
        self.C = C
        self.seed = seed

    def fit(self, X, Y, sample_weight=None):
        from sklearn.linear_model import LogisticRegression

        Y = np.asarray(Y, dtype=np.float64)
        names = tuple(self.attributes)
        if Y.ndim != 2 or Y.shape[1] != len(names):
            raise ValueError(f"Y must have one column per attribute ({len(names)}), got shape {Y.shape}")
        weights = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        coef, intercept, rows = [], [], []
        for j, name in enumerate(names):
            labelled = ~np.isnan(Y[:, j])
            y = Y[labelled, j]
            if len(np.unique(y)) != 2:
                raise ValueError(f"attribute {name!r} needs both labels among its rows")
            head = LogisticRegression(C=self.C, solver="liblinear", max_iter=2000, random_state=self.seed)
            head.fit(X[labelled], y.astype(int), sample_weight=weights[labelled])
            coef.append(np.asarray(head.coef_[0]))
            intercept.append(float(head.intercept_[0]))
            rows.append(int(labelled.sum()))
        self.coef_ = np.vstack(coef)
        self.intercept_ = np.asarray(intercept)
        self.classes_ = np.asarray(names, dtype=object)
        self.n_rows_ = np.asarray(rows)
        return self

    def decision_function(self, X):
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X):
        """P(attribute) for every row and attribute: shape (n, len(attributes))."""
        from scipy.special import expit

        return expit(self.decision_function(X))

    def predict(self, X):
        return (self.predict_proba(X) >= 0.5).astype(int)


class AttributeScorer:
    """A loaded attribute model, scoring a batch with one feature pass for every attribute.

    Build it with :meth:`load`; thread-safe once built (the feature cache is).
    """

    def __init__(self, model: LoadedModel):
        self.model = model
        pipeline = model.pipeline
        features, heads = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        self.attributes = tuple(str(a) for a in heads.classes_)
        self._linear = features.linear_scorer(heads.coef_)
        self._intercept = heads.intercept_

    @classmethod
    def load(cls, path=None) -> AttributeScorer:
        """Load and verify the attribute model (the shipped one by default); ModelError if refused."""
        from classifier.model import load_model

        return cls(load_model(path, task=TASK))

    @property
    def model_id(self) -> str:
        return f"{self.model.name}@{self.model.version}"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(attribute) of each cleaned text: shape (n, len(self.attributes))."""
        from scipy.special import expit

        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.attributes)))
        return expit(self._linear(texts) + self._intercept)

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One ``{attribute: probability}`` per text, rounded to 4 decimals."""
        probs = self.predict_proba(texts)
        return [dict(zip(self.attributes, (round(p, 4) for p in row))) for row in probs.tolist()]
