"""Language detection on short comments: py3langid against lingua, both limited to French/English.

Run from the repository (it needs ``../shared/data`` beside it)::

    .venv/bin/python bench/bench_language.py            # 400 comments per file
    .venv/bin/python bench/bench_language.py --n 100

For French files (20min.ch published comments, CyberAgressionAdo chat turns, ToxiFrench forum
posts) and English ones (UCC news comments, Davidson tweets), it samples comments with at least
two letters (seed 0) and scores whole comments and their first 1, 2, 3 and 5 words:

* accuracy of py3langid restricted to fr/en (``classifier.language``'s choice) and of lingua
  built for French and English only (``pip install lingua-language-detector`` to compare; it is
  not a dependency), with the mean time per text, and the ratio of the two;
* how often ``classifier.language.detect`` calls a French or English text unsupported (false
  refusals), and how often it refuses sentences in other languages written below (German,
  Spanish, Italian, Portuguese, Dutch, Turkish: short comment-like sentences of our own).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"
FILES = {
    "fr": ("fr_news_published_20min.csv", "fr_hostile_cyberado_fine.csv", "fr_toxic_toxifrench.csv"),
    "en": ("en_news_ucc.csv", "en_hostile_davidson.csv"),
}
FRAGMENTS = (None, 1, 2, 3, 5)
#: Comment-like sentences in languages we do not score (our own words).
OTHER = {
    "de": ["Das ist doch völlig übertrieben, die Regierung sollte sich schämen.",
           "Ich habe den Artikel gelesen und finde ihn sehr einseitig geschrieben.",
           "Warum wird darüber nicht berichtet, wenn es wirklich so wichtig ist?"],
    "es": ["No entiendo por qué el gobierno sigue gastando dinero en esto.",
           "Muy buen artículo, gracias por explicar el problema con tanta claridad.",
           "Esto es una vergüenza para todo el país, nadie dice nada."],
    "it": ["Non capisco perché nessuno abbia parlato di questo problema prima.",
           "Articolo molto interessante, grazie per averlo scritto così bene.",
           "Il governo dovrebbe vergognarsi di quello che sta succedendo."],
    "pt": ["Não entendo porque o governo continua a ignorar este problema.",
           "Muito obrigado pelo artigo, explica tudo de forma muito clara."],
    "nl": ["Ik begrijp echt niet waarom niemand hier iets aan doet.",
           "Goed artikel, bedankt voor de duidelijke uitleg over de situatie."],
    "tr": ["Bu konuda hükümetin neden hiçbir şey yapmadığını anlamıyorum.",
           "Çok güzel bir yazı olmuş, emeğinize sağlık arkadaşlar."],
}


def sample(path: Path, n: int, rng: random.Random) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh) if re.search(r"[^\W\d_]{2}", row["text"])]
    rng.shuffle(texts)
    return texts[:n]


def fragment(text: str, words: int | None) -> str:
    return text if words is None else " ".join(text.split()[:words])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="comments sampled per file")
    args = parser.parse_args()
    from classifier import language

    rng = random.Random(0)
    data = {lang: [t for name in names for t in sample(SHARED_DATA / name, args.n, rng)] for lang, names in FILES.items()}

    def ours(text: str) -> str | None:
        return language.detect_one(text).language

    detectors = {"py3langid": ours}
    try:
        from lingua import Language, LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()
        names = {Language.FRENCH: "fr", Language.ENGLISH: "en"}
        lingua.detect_language_of("warm up")
        detectors["lingua"] = lambda text: names.get(lingua.detect_language_of(text))
    except ImportError:
        print("lingua not installed: pip install lingua-language-detector to compare", file=sys.stderr)

    ours("warm up")
    n = sum(map(len, data.values()))
    print(f"language detection: {n} comments ({', '.join(f'{k} {len(v)}' for k, v in data.items())}), seed 0")
    print(f"{'text':<16}" + "".join(f"{name + ' acc':>16}{'ms/text':>9}" for name in detectors) + f"{'acc ratio':>10}{'refused':>9}")
    for words in FRAGMENTS:
        row, accs = f"{'whole' if words is None else f'first {words} word(s)':<16}", []
        for name, fn in detectors.items():
            right = 0
            start = time.perf_counter()
            for lang, texts in data.items():
                right += sum(fn(fragment(t, words)) == lang for t in texts)
            elapsed = time.perf_counter() - start
            accs.append(right / n)
            row += f"{right / n:>16.3f}{elapsed / n * 1e3:>9.3f}"
        refused = sum(ours(fragment(t, words)) is None for texts in data.values() for t in texts)
        ratio = f"{accs[0] / accs[1]:.3f}" if len(accs) > 1 else "-"
        print(row + f"{ratio:>10}{refused / n:>9.3%}")
    others = [t for texts in OTHER.values() for t in texts]
    refused = sum(ours(t) is None for t in others)
    print(f"other languages refused as unsupported: {refused}/{len(others)} ({', '.join(OTHER)})")


if __name__ == "__main__":
    main()
