"""What a reason may be: whole words or phrases of the comment, never function words.

Why a module: the rules a moderator relies on ("the highlighted words are the
ones that made the score") are checked in one place, by the explanations
(:meth:`classifier.model.LoadedModel.explain`), the tests and the page (which
highlights whole words only). A reason is

* a whole word of the text (edge punctuation and a leading elision such as
  ``l'``, ``qu'`` removed), or a pair of adjacent words (a phrase);
* not a function word (:data:`FUNCTION_WORDS`, French and English), and a
  phrase not made of function words only;
* then verified by the model (see ``explain``): hostile on its own, and the
  comment's score falls when it is removed -- so words hostile only by their
  company ("homme", "russe") are not shown.
"""

from __future__ import annotations

import re
import unicodedata

#: French and English function words (articles, pronouns, prepositions, conjunctions, auxiliaries and
#: common light verbs, adverbs of degree), accent- and case-folded. One list for every check.
FUNCTION_WORDS = frozenset(
    """
    a ai aie aient aies ait as au aucun aucune aupres auquel aura aurai auraient aurais aurait auras aurez auriez
    aurions aurons auront aussi autre autres aux auxquelles auxquels avaient avais avait avant avec avez aviez avions
    avoir avons ayant ayez ayons c ca car ce ceci cela celle celles celui cependant certain certaine certaines certains
    ces cet cette ceux chacun chacune chaque chez ci comme comment d dans de des desquelles desquels deux devant doit
    doivent donc dont du duquel elle elles en encore entre es est et etaient etais etait etant ete etes etiez etions
    etre eu eue eues eurent eus eusse eut eux faire fait fais faut fois font fut furent ici il ils j je jusqu jusque l
    la laquelle le lequel les lesquelles lesquels leur leurs lors lorsqu lorsque lui m ma mais me meme memes mes moi
    mon n ne ni non nos notre nous on ont ou par parce pas pendant peu peut peuvent peux plus plutot pour pourquoi
    puis puisqu puisque qu quand que quel quelle quelles quels qui quoi s sa sans se sera serai seraient serais serait
    seras serez seriez serions serons seront ses si sien soi soient sois soit sommes son sont sous suis sur t ta te
    tes toi ton tous tout toute toutes tres tu un une unes uns vers voici voila vos votre vous y deja alors ainsi
    apres bien ceux-ci oui va vais vont aller ete fut sinon tant tel telle tels telles
    about above after again against all am an and any are as at be because been before being below between both but
    by can could did do does doing down during each few for from further had has have having he her here hers herself
    him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only
    or other our ours ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also get got let lets im youre dont doesnt isnt
    re s t ve ll d m
    """.split()
)

_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
#: a leading elision: l', d', j', qu', jusqu', lorsqu', puisqu' ... (straight or curly apostrophe)
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def fold(word: str) -> str:
    """Lower case, accents removed: how words are compared with :data:`FUNCTION_WORDS`."""
    return "".join(c for c in unicodedata.normalize("NFD", word.casefold()) if not unicodedata.combining(c))


def is_function_word(word: str) -> bool:
    return fold(word) in FUNCTION_WORDS


def strip_edges(chunk: str) -> str:
    """A chunk without its leading and trailing punctuation ("«abruti»," -> "abruti")."""
    return _EDGE.sub("", chunk)


def reason_word(chunk: str) -> str | None:
    """The whole word a whitespace chunk shows as a reason ("d'abruti," -> "abruti"), or None.

    None for a chunk without letters, for a function word, and for a chunk that
    holds several words after its elision ("qu'il" -> "il" is a function word).
    """
    word = _EDGE.sub("", chunk)
    word = _ELISION.sub("", word)
    word = _EDGE.sub("", word)
    if not word or not _LETTER.search(word) or is_function_word(word):
        return None
    return word


def is_reason_text(reason: str) -> bool:
    """Whether a reason string keeps the rules: whole words, at least one of them not a function word."""
    words = reason.split()
    return 0 < len(words) <= 2 and all(_EDGE.sub("", w) == w for w in words) and not all(map(is_function_word, words))
