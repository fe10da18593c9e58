"""Character vocabularies for sequence-to-sequence models: a fixed list of characters plus the
padding (0), start, end and unknown tokens, with encoding to padded id arrays and decoding back.

Example::

    from fastnn.seq2seq import CharVocabulary

    vocab = CharVocabulary("0123456789-")
    ids = vocab.encode(["1981-10-20"], maxlen=12, add_end=True)   # (1, 12) int64
    vocab.decode(ids[0])                                          # '1981-10-20'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["CharVocabulary", "PAD", "START", "END", "UNK"]

PAD, START, END, UNK = 0, 1, 2, 3
_SPECIAL = ("<pad>", "<start>", "<end>", "<unk>")


class CharVocabulary:
    """A character vocabulary: ids 0-3 are ``<pad>``, ``<start>``, ``<end>`` and ``<unk>``, then
    the characters in the order given.

    Args:
        chars: the characters (a string or a sequence of one-character strings), each once.

    Example::

        vocab = CharVocabulary("abc")
        vocab.size                      # 7
        vocab.encode(["cab"], maxlen=4)  # [[0, 6, 4, 5]]  ('pre' padding, as pad_sequences)
    """

    def __init__(self, chars: str | Sequence[str]):
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharVocabulary: every entry must be one character, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharVocabulary: characters must be distinct, got duplicates {dup}")
        self.chars = chars
        self.tokens = list(_SPECIAL) + chars
        self.index = {c: i + len(_SPECIAL) for i, c in enumerate(chars)}
        self.pad, self.start, self.end, self.unk = PAD, START, END, UNK

    @property
    def size(self) -> int:
        """The number of ids (the characters and the four special tokens)."""
        return len(self.tokens)

    def __len__(self) -> int:
        return self.size

    def encode_text(self, text: str) -> list[int]:
        """The ids of `text`'s characters (unknown characters become ``<unk>``)."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocabulary.encode_text expects a string, got {text!r}")
        return [self.index.get(c, UNK) for c in text]

    def encode(
        self,
        texts: Iterable[str],
        maxlen: int | None = None,
        padding: str = "pre",
        add_start: bool = False,
        add_end: bool = False,
    ) -> np.ndarray:
        """Encode texts to an int64 array (len(texts), maxlen), padded with 0.

        Args:
            maxlen: the length of each row (by default the longest encoded text); longer
                texts raise ValueError (nothing is silently cut off).
            padding: 'pre' (the default of pad_sequences; best for encoders without masks) or
                'post'.
            add_start / add_end: put ``<start>`` before / ``<end>`` after each text.
        """
        if padding not in ("pre", "post"):
            raise ValueError(f"padding must be 'pre' or 'post', got padding={padding!r}")
        if isinstance(texts, str):
            raise TypeError("CharVocabulary.encode expects a list of strings, got a single string")
        rows = [([START] if add_start else []) + self.encode_text(t) + ([END] if add_end else []) for t in texts]
        longest = max((len(r) for r in rows), default=0)
        if maxlen is None:
            maxlen = longest
        elif longest > maxlen:
            raise ValueError(f"a text encodes to {longest} ids, more than maxlen={maxlen}")
        out = np.zeros((len(rows), maxlen), dtype=np.int64)
        for i, r in enumerate(rows):
            if r:
                if padding == "pre":
                    out[i, maxlen - len(r):] = r
                else:
                    out[i, : len(r)] = r
        return out

    def decode(self, ids: Iterable[int], stop_at_end: bool = True) -> str:
        """The text of `ids`: padding and ``<start>`` are skipped, ``<end>`` stops (or is
        skipped when stop_at_end is False) and ``<unk>`` becomes '?'."""
        out = []
        for i in np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids).reshape(-1):
            i = int(i)
            if i == END and stop_at_end:
                break
            if i in (PAD, START, END):
                continue
            if i == UNK:
                out.append("?")
            elif 0 <= i < self.size:
                out.append(self.tokens[i])
            else:
                raise ValueError(f"id {i} is outside the vocabulary of {self.size} ids")
        return "".join(out)

    def teacher_forcing(self, texts: Iterable[str], maxlen: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The decoder input and target of teacher forcing: ``<start> y`` and ``y <end>``,
        'post'-padded to maxlen + 1 ids (maxlen defaults to the longest text)."""
        texts = list(texts)
        if maxlen is None:
            maxlen = max((len(t) for t in texts), default=0)
        target_in = self.encode(texts, maxlen + 1, padding="post", add_start=True)
        target_out = self.encode(texts, maxlen + 1, padding="post", add_end=True)
        return target_in, target_out

    def get_config(self) -> dict:
        return {"chars": "".join(self.chars)}

    def __repr__(self) -> str:
        return f"CharVocabulary({''.join(self.chars)!r})"
