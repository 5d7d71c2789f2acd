"""Offline, French-first moderation of reader comments on news sites.

Importing this package is cheap: it loads no model and imports neither
scikit-learn nor pandas. The public names are resolved lazily::

    from classifier import Moderator, parse_path
    mod = Moderator.load()
    results = mod.score(["Merci pour cet article", "TAIS-TOI ABRUTI"])
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "Moderator": "classifier.moderator",
    "parse_path": "classifier.parse",
    "Comment": "classifier.schema",
    "Result": "classifier.schema",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'classifier' has no attribute {name!r}")
