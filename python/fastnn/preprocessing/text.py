"""Text utilities of keras-preprocessing (Keras 2), which Keras 3 removed but tutorials use:
``Tokenizer``, ``text_to_word_sequence``, ``hashing_trick`` / ``one_hot`` and
``tokenizer_from_json``. Behaviour matches keras-preprocessing exactly: index 0 is reserved,
words are indexed by decreasing count with ties in order of first occurrence, the oov_token
(if any) takes index 1, and ``num_words`` keeps the indices below ``num_words``. A tokenizer
saves as plain JSON (``to_json``); nothing is pickled.

Example::

    tok = Tokenizer(num_words=3, oov_token="<OOV>")
    tok.fit_on_texts(["The cat sat.", "The dog sat down!"])
    tok.word_index                               # {'<OOV>': 1, 'the': 2, 'sat': 3, 'cat': 4, ...}
    tok.texts_to_sequences(["the cat sat"])      # [[2, 1, 1]]: only indices < 3 are kept
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from hashlib import md5
from typing import Any, Union

import numpy as np

__all__ = ["text_to_word_sequence", "hashing_trick", "one_hot", "Tokenizer", "tokenizer_from_json"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_MODES = ("binary", "count", "tfidf", "freq")

Split = Union[str, Callable[[str], Iterable[str]]]


def text_to_word_sequence(
    input_text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split: Split = " "
) -> list[str]:
    """Splits a text into words: lower-cases it, replaces every character of `filters` by `split`,
    splits on `split` (or calls it, if it is a function) and drops empty tokens.

    Example::

        text_to_word_sequence("Hello, World! It's here.")    # ['hello', 'world', "it's", 'here']
    """
    if not isinstance(input_text, str):
        raise TypeError(f"text_to_word_sequence expects a string, got {type(input_text).__name__}: {input_text!r}")
    if lower:
        input_text = input_text.lower()
    sep = " " if callable(split) else split
    if not callable(split) and (not isinstance(split, str) or not split):
        raise ValueError(f"split must be a non-empty string or a function, got split={split!r}")
    input_text = input_text.translate(str.maketrans({c: sep for c in filters}))
    seq = split(input_text) if callable(split) else input_text.split(split)
    return [w for w in seq if w]


def hashing_trick(
    text: str,
    n: int,
    hash_function: Callable[[str], int] | str | None = None,
    filters: str = DEFAULT_FILTERS,
    lower: bool = True,
    split: Split = " ",
) -> list[int]:
    """Words of `text` hashed into indices 1..n-1 (0 stays reserved); hash_function 'md5' is
    stable across runs, Python's ``hash`` (the default) is not."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"hashing_trick: n must be an integer >= 2, got n={n!r}")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":

        def hash_function(w: str) -> int:
            return int(md5(w.encode()).hexdigest(), 16)

    elif not callable(hash_function):
        raise ValueError(f"hash_function must be None, 'md5' or a function, got {hash_function!r}")
    seq = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [(hash_function(w) % (n - 1) + 1) for w in seq]


def one_hot(
    input_text: str, n: int, filters: str = DEFAULT_FILTERS, lower: bool = True, split: Split = " "
) -> list[int]:
    """``hashing_trick`` with Python's ``hash`` (Keras's one_hot: indices, not one-hot vectors)."""
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower, split=split)


class Tokenizer:
    """Turns texts into sequences of word indices (or count / tf-idf matrices), as Keras 2's
    ``keras.preprocessing.text.Tokenizer``.

    Args:
        num_words: keep only the words of index < num_words (the num_words - 1 most frequent,
            counting the oov_token) in texts_to_sequences and the matrices; None keeps all.
            word_index always holds every word seen.
        filters: characters removed from the texts (punctuation, tabs, newlines; not the `'`).
        lower: lower-case the texts.
        split: the word separator (or a function from a text to its tokens).
        char_level: every character is a token.
        oov_token: a token (index 1) standing for words not in the vocabulary (or beyond
            num_words) in texts_to_sequences; without it such words are dropped.

    Attributes (after fit_on_texts): word_index (word -> index, 1-based), index_word, word_counts
    (an OrderedDict in order of first occurrence), word_docs, index_docs, document_count.

    Example::

        tok = Tokenizer()
        tok.fit_on_texts(["a b b", "b c"])
        tok.word_index                         # {'b': 1, 'a': 2, 'c': 3}
        tok.texts_to_sequences(["c b a d"])    # [[3, 1, 2]]
        tok.texts_to_matrix(["a b b"], mode="count")   # [[0., 2., 1., 0.]]
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split: Split = " ",
        char_level: bool = False,
        oov_token: str | None = None,
        analyzer: Callable[[str], Iterable[str]] | None = None,
        document_count: int = 0,
        **kwargs: Any,
    ):
        if "nb_words" in kwargs:  # Keras 1 spelling
            import warnings

            warnings.warn(
                "The `nb_words` argument in `Tokenizer` has been renamed `num_words`.", DeprecationWarning, stacklevel=2
            )
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to Tokenizer: {kwargs}")
        if num_words is not None and (
            isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer)) or num_words < 0
        ):
            raise ValueError(
                f"Tokenizer: num_words must be None or a non-negative integer, got num_words={num_words!r}"
            )
        if not isinstance(filters, str):
            raise TypeError(f"Tokenizer: filters must be a string of characters, got filters={filters!r}")
        if not callable(split) and (not isinstance(split, str) or not split):
            raise ValueError(f"Tokenizer: split must be a non-empty string or a function, got split={split!r}")
        if analyzer is not None and not callable(analyzer):
            raise TypeError(f"Tokenizer: analyzer must be a function of a text, got analyzer={analyzer!r}")
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = bool(lower)
        self.num_words = None if num_words is None else int(num_words)
        self.document_count = int(document_count)
        self.char_level = bool(char_level)
        self.oov_token = oov_token
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.analyzer = analyzer

    # ------------------------------------------------------------------ tokens of one text
    def _tokens(self, text: Any) -> Sequence[str]:
        if self.char_level or isinstance(text, list):
            if not isinstance(text, (str, list)):
                raise TypeError(f"Tokenizer: a text must be a string or a list of tokens, got {text!r}")
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if not isinstance(text, str):
            raise TypeError(
                f"Tokenizer: a text must be a string or a list of tokens, got {type(text).__name__}: {text!r}"
            )
        if self.analyzer is not None:  # Keras hands the raw text to the analyzer
            return list(self.analyzer(text))
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    @staticmethod
    def _check_texts(texts: Any, what: str) -> None:
        if isinstance(texts, str):
            raise TypeError(
                f"Tokenizer.{what} expects a list of texts, got one string {texts[:40]!r}: wrap it in a list"
            )

    # ------------------------------------------------------------------ fitting
    def fit_on_texts(self, texts: Iterable[str | list[str]]) -> None:
        """Updates the vocabulary from `texts` (strings, or lists of tokens); may be called
        several times (counts accumulate and the indices are recomputed)."""
        self._check_texts(texts, "fit_on_texts")
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        wcounts = list(self.word_counts.items())
        wcounts.sort(key=lambda x: x[1], reverse=True)  # stable: ties keep their first occurrence order
        sorted_voc = [] if self.oov_token is None else [self.oov_token]
        sorted_voc.extend(wc[0] for wc in wcounts)
        self.word_index = dict(zip(sorted_voc, range(1, len(sorted_voc) + 1)))
        self.index_word = {c: w for w, c in self.word_index.items()}
        for w, c in list(self.word_docs.items()):
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences: Iterable[Sequence[int]]) -> None:
        """Updates the document counts from sequences of indices (for sequences_to_matrix with
        mode='tfidf' when fit_on_texts was not called)."""
        sequences = list(sequences)
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    # ------------------------------------------------------------------ texts <-> sequences
    def texts_to_sequences(self, texts: Iterable[str | list[str]]) -> list[list[int]]:
        """Each text as a list of word indices: words of index >= num_words and unknown words
        become the oov_token's index, or are dropped without an oov_token."""
        self._check_texts(texts, "texts_to_sequences")
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable[str | list[str]]):
        """texts_to_sequences, one sequence at a time."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vect.append(oov_index)
                    else:
                        vect.append(i)
                elif self.oov_token is not None:
                    vect.append(oov_index)
            yield vect

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Each sequence of indices back to a text (words joined by spaces), with the same
        num_words / oov_token rules as texts_to_sequences."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences: Iterable[Sequence[int]]):
        """sequences_to_texts, one text at a time."""
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            vect = []
            for num in seq:
                num = int(num)
                word = self.index_word.get(num)
                if word is not None:
                    if num_words and num >= num_words:
                        if oov_index is not None:
                            vect.append(self.index_word[oov_index])
                    else:
                        vect.append(word)
                elif self.oov_token is not None:
                    vect.append(self.index_word[oov_index])
            yield " ".join(vect)

    # ------------------------------------------------------------------ matrices
    def texts_to_matrix(self, texts: Iterable[str | list[str]], mode: str = "binary") -> np.ndarray:
        """A (len(texts), num_words) float64 matrix: mode 'binary' (word present), 'count',
        'freq' (count / length of the text's sequence) or 'tfidf' (Keras's (1 + log count) *
        log(1 + docs / (1 + docs with the word)))."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Sequence[Sequence[int]], mode: str = "binary") -> np.ndarray:
        """As texts_to_matrix, from sequences of indices (indices >= num_words are ignored)."""
        if mode not in _MODES:
            raise ValueError(f"Unknown vectorization mode: {mode!r}; expected one of {_MODES}")
        if not self.num_words:
            if self.word_index:
                num_words = len(self.word_index) + 1
            else:
                raise ValueError("Specify a dimension (num_words argument), or fit on some text data first.")
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        sequences = list(sequences)
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts: defaultdict[int, int] = defaultdict(int)
            for j in seq:
                j = int(j)
                if j >= num_words:
                    continue
                counts[j] += 1
            for j, c in list(counts.items()):
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i][j] = tf * idf
        return x

    # ------------------------------------------------------------------ JSON
    def get_config(self) -> dict:
        """The tokenizer's state as Keras stores it (the dictionaries as JSON strings)."""
        if callable(self.split):
            raise ValueError("Tokenizer: a tokenizer with a split function cannot be saved as JSON")
        if self.analyzer is not None:
            raise ValueError("Tokenizer: a tokenizer with an analyzer function cannot be saved as JSON")
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs: Any) -> str:
        """A JSON string of the tokenizer (Keras's format); ``tokenizer_from_json`` reads it back.
        Keyword arguments go to ``json.dumps``."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """The Tokenizer that ``Tokenizer.to_json`` wrote (plain JSON: loading runs no code).

    Example::

        tok2 = tokenizer_from_json(tok.to_json())
        tok2.texts_to_sequences(texts) == tok.texts_to_sequences(texts)    # True
    """
    try:
        tokenizer_config = json.loads(json_string)
        config = dict(tokenizer_config["config"])
        word_counts = json.loads(config.pop("word_counts"))
        word_docs = json.loads(config.pop("word_docs"))
        index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
        index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
        word_index = json.loads(config.pop("word_index"))
    except (TypeError, KeyError, ValueError, AttributeError) as e:
        raise ValueError(f"tokenizer_from_json: not a Tokenizer JSON string ({type(e).__name__}: {e})") from e
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(word_counts)
    tokenizer.word_docs = defaultdict(int, word_docs)
    tokenizer.index_docs = defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer
