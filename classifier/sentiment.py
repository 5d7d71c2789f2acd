"""Sentiment (negative / neutral / positive) for news comments, French first.

Why a model of its own: the labelled sentiment data are tweets (the only
source with a neutral class) and film/TV reviews (always polar, the TV ones
lower-cased and tokenised), while the comments to score are news comments.
What carries the domain shift, each choice measured in the model card:

* :class:`SocialNoise` removes what only tweets have (URLs, @mentions,
  "RT"/"via", the "#" of hashtags), so "no URL" stops meaning "review, hence
  polar" and factual comments can look like the neutral tweets they resemble.
* :class:`PolarityLexicon` counts the words of a small hand-written French
  polarity lexicon (praise, support, criticism, insults, threats), with
  negation ("pas terrible", "ce n'est pas nul") and emoji/emoticons: evidence
  that does not depend on the training domain.
* a multinomial logistic regression with balanced class weights, trained with
  tweets and our own hand-written news comments (``data/sentiment_supplement_fr.csv``)
  weighted up (see the README's "Sentiment" section for the command).

The n-gram and style features are the shared fast transformer of
:mod:`classifier.features`, so scoring stays one sparse product per batch.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from classifier.features import _as_list
from classifier.text import fold

# --------------------------------------------------------------------------- tweet artefacts

# every alternative starts with a literal character (the boundary checks come after it),
# so the regular-expression engine can skip ahead fast: 4x quicker than leading look-behinds
_SOCIAL = re.compile(
    r"https?://\S*|https?\b|www\.\S+"  # links ("http" alone: links already masked upstream)
    r"|@(?<!\w@)\w+"  # @mentions (not the "@" of "b@tard")
    r"|(?:RT|rt)(?<!\w..)(?!\w)|via(?<!\w...)(?!\w)"  # retweet markers
    r"|&(?:gt|lt|amp|quot);"  # HTML entities left in tweets
    r"|#(?<!\w#)(?=\w)"  # the hash of a hashtag (the word stays)
)
_DOC_SEP = "\x1f"


def _joined(texts: list[str]) -> str:
    return _DOC_SEP.join(t.replace(_DOC_SEP, " ") for t in texts)


class SocialNoise(TransformerMixin, BaseEstimator):
    """Remove tweet-only artefacts: URLs, @mentions, RT/via, HTML entities and "#" signs.

    Stateless; one regular-expression pass over the whole batch. Case, accents,
    punctuation and emoji are kept for the features that follow.

    Examples
    --------
    >>> [" ".join(t.split()) for t in SocialNoise().fit([]).transform(["RT @user Super #écologie http://t.co/x"])]
    ['Super écologie']
    """

    def fit(self, X, y=None):
        _as_list(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return _SOCIAL.sub(" ", _joined(_as_list(X))).split(_DOC_SEP)


# --------------------------------------------------------------------------- lexicon

# Our own short lists of words common in French comments and reviews, accent-free
# and lower-case (texts are folded the same way). A trailing "*" matches any
# ending (gender, number, conjugation). Kept small and unambiguous on purpose:
# the n-grams learn the rest from data; these carry polarity across domains.
POSITIVE_WORDS = """
bravo bravissimo merci remerci* felicit* chapeau respect* super* genial* geniaux excellent* formidabl* magnifique*
superbe* sublime* merveill* parfait* bon bonne bons bonnes meilleur* top extraordinaire* incroyabl* fantastique*
epatant* impressionn* remarquabl* admir* brillant* talent* doue douee passionn* interessant* instructi* eclairant*
pertinent* nuance* objecti* rigoureu* utile* precieu* enrichissant* pedagogi* beau belle beaux belles joli*
adorabl* charmant* agreabl* plaisir* heureu* heureusement content* ravi ravie ravis ravies joie joyeu* fier fiere
fierte* enchant* satisfait* emu emue emouvant* touchant* bouleversant* poignant* drole* hilarant* amusant* sympa*
gentil* aimabl* chaleureu* genereu* courag* soutien* soutenir soutenons soutiens solidair* espoir* espere esperons
rassurant* confiance reussi* reussite* succes victoire* vainqueur* gagn* champion* exploit* progres amelior*
salutaire* bienvenu* adore adorer adorons aime aimons aimer kiff* recommand* incontournabl* pepite* bijou perle*
jubilatoire* captivant* efficace* bienveillan* honnete* digne heros hero* merite* soulag* serein*
paix bonheur* rejoui* ouf youpi cool nickel impeccabl* exemplaire* salue saluons hommage* bisou* amour* favorabl*
optimis* vive vivement prometteu* ideal* marrant* emerveill* retablissement* gratitude reconnaissan* accroch* tenez
regal* delicieu* savoureu* frisson* grandiose* epoustouflant* spectaculaire* inoubliabl* mythique* legendaire*
talentueu* virtuose* genie coeur
"""

NEGATIVE_WORDS = """
nul nulle nuls nulles nullite* nullard* naze* navet* nanar* mauvais* mal pire pires horribl* affreu* atroce* terribl*
catastroph* desastr* lamentabl* pitoyabl* pathetique* minabl* mediocr* decevant* decu decue decus decues deception*
ennui* ennuy* soporifique* chiant* fade* creu* bacle* rate ratee rates ratees echec* honte* honteu* scandal* indign*
inadmissibl* inacceptabl* inexcusabl* intolerabl* insupportabl* revoltant* degout* degueu* ecoeur* ignobl* immonde*
abject* infame* odieu* repugnant* gerb* colere* enerv* furieu* rage* agac* marre exasper* triste*
malheureu* helas dommage* regret* inquiet* inquietant* peur* angoiss* effray* alarmant* dramatique* drame* tragique*
victime* mort morts meurtr* crime* attentat* violen* agress* menac* guerre* massacr* viol voleur* escroc* escroquerie*
arnaque* mensonge* menteu* mentir hypocri* corrompu* corruption* trahi* traitre* magouill* incompeten* incapabl*
irresponsabl* inutile* absurde* ridicule* stupide* idiot* imbecil* debil* cretin* con conne cons connes connard*
conard* connasse* connerie* abruti* bete betes betise* andouille* guignol* clown* bouffon* tocard* blaireau* ordure*
salaud* salop* pourri* pourriture* merde* merdique* putain* chier emmerd* foutu* gueule* degage* degagez crever creve* pleurnich* ignar* inculte* mepris* arrogan* pretenti* dangereu* injust* faillite* penurie* galere*
bordel* gachis* gaspill* defaite* humili* pollu* detrui* destruct* saccag* bousill* deplorabl* affligeant*
consternant* navrant* effarant* aberrant* delirant* desabonn* beurk berk bof misere* vermine* parasite* rat rats
cafard* sangsue* dechet* racaille* cancer* plaie* fumier* charogn* vendu vendus vendue* larbin*
lache* pervers* psychopath* demeur* attarde* mongol* gogol* teube* charlot* baltringue* facho* gaucho* collabo*
propagand* merdia* journaleu* journalope* torchon* plumitif* dehors virez pendre pende* buter fusill* tabass* tuer tuez exterminer extermin* harcel* insult* injur* haine
haineu* raciste* racisme* antisemit* homophob* sexist* xenophob* fascis* nazi* dictat* assiste* feignant* faineant*
profiteur* voyou* delinquan* bandit* mafi* enfoire* batard* couillon* pute* encule* fdp ntm pd pede* tapette*
gouine* loser* ringard* horreur* crade* penibl* relou* stop arrete* abandon* suppression* fermeture* licenci*
"""

#: Fixed phrases whose polarity negation must not flip ("pas mal" is praise, "pas terrible" is not).
POSITIVE_PHRASES = (
    "pas mal", "pas si mal", "pas de souci", "pas de probleme", "sans faute", "ne lache rien", "ne lachez rien",
    "tenez bon", "bien joue", "de tout coeur", "bon courage", "bonne chance", "bonne continuation", "chef d oeuvre",
)
NEGATIVE_PHRASES = (
    "pas terrible", "pas top", "pas genial", "pas fameux", "pas ouf", "pas convaincu", "pas convaincue",
    "pas d'accord", "n'importe quoi", "n'importe comment", "comme d'habitude", "marche sur la tete", "fait chier",
    "ras le bol", "en a marre", "foutage de gueule", "se moque de nous", "prend pour des", "casse toi",
    "cassez vous", "tais toi", "taisez vous", "ferme la", "fermez la", "sous homme", "sous hommes", "pisse copie",
)
#: A negator flips the polarity of the next few words, up to punctuation.
NEGATORS = frozenset("ne n pas jamais rien aucun aucune ni sans guere".split())

POSITIVE_EMOJI = "😀😃😄😁😆😊🙂😍🥰😘👍👏🙌💪❤💕💖🎉🥳⭐✨🙏😋😎💯🏆🤩👌"
NEGATIVE_EMOJI = "😠😡🤬😢😭😞😔😒🙄👎💩😩😤🤮🤢😱😨😰💔😬"
_EMOTICON_POS = r"[:;=]-?[)d]|\^\^|<3"
_EMOTICON_NEG = r"[:;=](?<![\w/].)'?-?[(/](?!/)"  # not the ":/" of a link
_EMOTICON_POS_FULL = re.compile(_EMOTICON_POS)
#: One pass over the lower-cased batch: words (elisions split: "n'est" -> "n", "est"),
#: emoji and emoticons, clause punctuation, and the document separator.
_TOKEN = re.compile(
    r"\w+|[" + POSITIVE_EMOJI + NEGATIVE_EMOJI + r"]|" + _EMOTICON_POS + "|" + _EMOTICON_NEG
    + r"|[.!?;:,()«»\"…]|" + _DOC_SEP
)
_SECOND_PERSON = frozenset("tu t toi ta ton tes vous votre vos".split())
_LAUGH = frozenset("mdr lol ptdr xd".split())
#: what a matched fixed phrase becomes before tokenising (never a French word)
_POS_MARK, _NEG_MARK = "qqphraseplus", "qqphrasemoins"
# token codes: word polarity -1/0/+1, fixed phrase -2/+2, emoji -8/+8, and
_PUNCT, _NEGATOR, _YOU, _QUESTION, _NUMBER, _SEP = 3, 4, 5, 6, 7, 9
_ACCENTS = {"a": "[aàâä]", "e": "[eéèêë]", "i": "[iîï]", "o": "[oôö]", "u": "[uùûü]", "c": "[cç]"}


def _fold(word: str) -> str:
    """:func:`classifier.text.fold`, with the typographic apostrophe and the "oe" ligature spelled out."""
    return fold(word).replace("’", "'").replace("œ", "oe")


def _phrase_pattern(positive, negative) -> re.Pattern:
    """Fixed phrases (groups ``pos`` and ``neg``) in lower-cased text, accents optional.

    A space in a phrase also matches a hyphen or an apostrophe ("ras-le-bol").
    """
    def word(w: str) -> str:
        return "".join(_ACCENTS.get(c, re.escape(c)) for c in w).replace("[oôö][eéèêë]", "(?:oe|œ)")

    def alternation(phrases) -> str:
        folded = sorted({_fold(p) for p in phrases}, key=len, reverse=True)
        parts = [r"[\s'’-]+".join(word(w) for w in re.split(r"[\s']+", p)) for p in folded]
        return "|".join(parts)

    # a leading \b (not a look-behind) keeps the engine's fast scan: twice as quick
    return re.compile(r"\b(?:(?P<pos>" + alternation(positive) + r")|(?P<neg>" + alternation(negative) + r"))(?!\w)")


def _split_lexicon(words: str) -> tuple[frozenset, tuple[str, ...]]:
    entries = [_fold(w) for w in words.split()]
    return frozenset(w for w in entries if not w.endswith("*")), tuple(sorted(w[:-1] for w in entries if w.endswith("*")))


_POS_EXACT, _POS_STEMS = _split_lexicon(POSITIVE_WORDS)
_NEG_EXACT, _NEG_STEMS = _split_lexicon(NEGATIVE_WORDS)
_PHRASES = _phrase_pattern(POSITIVE_PHRASES, NEGATIVE_PHRASES)


def word_polarity(token: str) -> int:
    """+1, -1 or 0 for one folded token: exact entries first, then stems (positive ones first)."""
    if token in _POS_EXACT:
        return 1
    if token in _NEG_EXACT:
        return -1
    for stems, sign in ((_POS_STEMS, 1), (_NEG_STEMS, -1)):
        if token.startswith(stems):
            return sign
    return 0


class PolarityLexicon(TransformerMixin, BaseEstimator):
    """Dense, domain-independent polarity evidence from a hand-written French lexicon.

    Columns (standardised on the training texts, then multiplied by ``scale``):
    positive and negative word counts after negation (log1p), whether any
    positive / negative word occurs, no polar evidence at all, positive and
    negative emoji or emoticons, a question mark, share of digits, length, and
    second-person words ("tu", "vous": comments that address someone). Words
    are folded for case and accents (obfuscations are the n-grams' job); a negator
    ("ne", "pas", "jamais", "sans", ...) flips the next ``negation_window``
    words up to punctuation; fixed phrases ("pas mal", "pas terrible") are
    never flipped. Per-word polarity is memoised, so the per-comment Python
    work is one dictionary look-up per word.

    Parameters
    ----------
    negation_window : int
        How many words after a negator are flipped.
    scale : float
        Weight of the block beside the L2-normalised TF-IDF blocks.

    Examples
    --------
    >>> lex = PolarityLexicon().fit(["Bravo !", "Nul."])
    >>> raw = lex.counts(["Ce n'est pas mal du tout", "Franchement pas terrible", "Pas bon du tout"])
    >>> np.expm1(raw[:, :2]).round().tolist()  # (positive, negative) word counts
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    """

    names = ("positive", "negative", "any_positive", "any_negative", "no_polar", "emoji_positive",
             "emoji_negative", "question", "digits", "length", "second_person")

    def __init__(self, negation_window=3, scale=0.3):
        self.negation_window = negation_window
        self.scale = scale

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_memo", None)
        return state

    @staticmethod
    def _code(token: str) -> int:
        """The code of one lower-cased token: see the constants next to ``_PUNCT``."""
        if token in (_POS_MARK, _NEG_MARK):
            return 2 if token == _POS_MARK else -2
        if token == _DOC_SEP:
            return _SEP
        if token == "?":
            return _QUESTION
        if not (token[0].isalnum() or token[0] == "_"):
            if len(token) > 1:  # an emoticon
                return 8 if _EMOTICON_POS_FULL.fullmatch(token) else -8
            return 8 if token in POSITIVE_EMOJI else (-8 if token in NEGATIVE_EMOJI else _PUNCT)
        word = _fold(token)
        if word[0].isdigit():
            return _NUMBER
        if word in _SECOND_PERSON:
            return _YOU
        if word in NEGATORS:
            return _NEGATOR
        if word in _LAUGH:
            return 8
        return word_polarity(word)

    def _codes(self, tokens: list[str]) -> np.ndarray:
        memo = self.__dict__.setdefault("_memo", {})
        codes = list(map(memo.get, tokens))
        if None in codes:  # new words: coded here, so a concurrent clear() cannot leave a hole
            fresh = {t: self._code(t) for t in {t for t, c in zip(tokens, codes) if c is None}}
            codes = [fresh[t] if c is None else c for t, c in zip(tokens, codes)]
            if len(memo) > 500_000:  # bounded memory; Zipfian vocabularies refill the hot part fast
                memo.clear()
            memo.update(fresh)
        return np.array(codes, dtype=np.int64)

    def counts(self, X) -> np.ndarray:
        """The raw (unstandardised) feature columns of :attr:`names`, one row per text."""
        texts = _as_list(X)
        n = len(texts)
        lowered = _joined(texts).lower()
        lowered = _PHRASES.sub(lambda m: f" {_POS_MARK if m.lastgroup == 'pos' else _NEG_MARK} ", lowered)
        codes = self._codes(_TOKEN.findall(lowered))
        doc = np.cumsum(codes == _SEP)
        pos = np.arange(len(codes))
        # a word is negated when a negator precedes it within the window, with no punctuation or new text between
        stop = (codes == _PUNCT) | (codes == _QUESTION) | (codes == _SEP)
        last_neg = np.maximum.accumulate(np.where(codes == _NEGATOR, pos, -1)) if len(codes) else pos
        last_stop = np.maximum.accumulate(np.where(stop, pos, -1)) if len(codes) else pos
        negated = (last_neg > last_stop) & (pos - last_neg <= int(self.negation_window))
        word = np.abs(codes) == 1
        sign = np.where(word & negated, -codes, 0) + np.where(word & ~negated, codes, 0) + np.where(np.abs(codes) == 2, codes // 2, 0)

        def per_doc(mask: np.ndarray) -> np.ndarray:
            return np.bincount(doc[mask], minlength=n).astype(float)

        n_pos, n_neg = per_doc(sign > 0), per_doc(sign < 0)
        emoji_pos, emoji_neg = per_doc(codes == 8), per_doc(codes == -8)
        n_tokens = per_doc(~stop)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n).astype(float)
        return np.column_stack([
            np.log1p(n_pos), np.log1p(n_neg), n_pos > 0, n_neg > 0, (n_pos + n_neg + emoji_pos + emoji_neg) == 0,
            np.log1p(emoji_pos), np.log1p(emoji_neg), per_doc(codes == _QUESTION) > 0,
            per_doc(codes == _NUMBER) / np.maximum(n_tokens, 1.0), np.log1p(lengths), np.log1p(per_doc(codes == _YOU)),
        ]).astype(float)

    def fit(self, X, y=None):
        if int(self.negation_window) < 0 or float(self.scale) < 0:
            raise ValueError(f"negation_window and scale must be >= 0, got {self.negation_window}, {self.scale}")
        raw = self.counts(X)
        self.mean_ = raw.mean(axis=0) if len(raw) else np.zeros(len(self.names))
        std = raw.std(axis=0) if len(raw) else np.ones(len(self.names))
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features_out_ = len(self.names)
        return self

    def transform(self, X):
        check_is_fitted(self, "mean_")
        return sp.csr_matrix((self.counts(X) - self.mean_) / self.scale_ * float(self.scale))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"lexicon:{n}" for n in self.names], dtype=object)


# --------------------------------------------------------------------------- pipeline


def build_sentiment_pipeline(
    *,
    C: float = 4.0,
    lexicon_scale: float = 0.3,
    style_scale: float = 0.3,
    negation_window: int = 3,
    seed: int = 0,
    **feature_params,
):
    """The sentiment model: tweet artefacts removed -> n-grams, style and polarity lexicon -> balanced logistic regression.

    ``feature_params`` go to :class:`classifier.features.CommentFeatures`. Fits
    on a list of raw texts and labels in {negative, neutral, positive};
    ``predict_proba`` columns follow ``classes_`` (alphabetical: that order).
    Balanced class weights keep the rare neutral class in play (macro-F1);
    the probabilities are those of that re-weighted model, not calibrated to
    the training frequencies.

    >>> pipe = build_sentiment_pipeline(min_df=1)
    >>> [name for name, _ in pipe.steps]
    ['clean', 'features', 'clf']
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    from classifier.features import CommentFeatures

    features = FeatureUnion([
        ("text", CommentFeatures(style_scale=style_scale, **feature_params)),
        ("polarity", PolarityLexicon(negation_window=negation_window, scale=lexicon_scale)),
    ])
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("clean", SocialNoise()), ("features", features), ("clf", clf)])
