"""pad_sequences and the Tokenizer against Keras's documented examples and hand-computed cases
(keras.utils.pad_sequences; keras-preprocessing's Tokenizer)."""

from __future__ import annotations

import json
import math

import fastnn
import numpy as np
import pytest
from fastnn.preprocessing.sequence import pad_sequences
from fastnn.preprocessing.text import Tokenizer, hashing_trick, text_to_word_sequence, tokenizer_from_json


# ------------------------------------------------------------------------ pad_sequences
def test_keras_documented_examples():
    seqs = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(seqs).dtype == np.int32


@pytest.mark.parametrize(
    "padding,truncating,want",
    [
        ("pre", "pre", [[0, 0, 0, 1], [3, 4, 5, 6], [0, 0, 7, 8]]),
        ("post", "pre", [[1, 0, 0, 0], [3, 4, 5, 6], [7, 8, 0, 0]]),
        ("pre", "post", [[0, 0, 0, 1], [2, 3, 4, 5], [0, 0, 7, 8]]),
        ("post", "post", [[1, 0, 0, 0], [2, 3, 4, 5], [7, 8, 0, 0]]),
    ],
)
def test_padding_and_truncating(padding, truncating, want):
    seqs = [[1], [2, 3, 4, 5, 6], [7, 8]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=4, padding=padding, truncating=truncating), want)


def test_maxlen_none_empty_sequences_float_dtype_and_arrays():
    got = pad_sequences([[], [1, 2], []])
    np.testing.assert_array_equal(got, [[0, 0], [1, 2], [0, 0]])
    assert pad_sequences([[], []]).shape == (2, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    f = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=-0.25)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f, np.array([[0.5, 1.5], [-0.25, 2.5]], np.float32))
    # the int32 default drops fractions (as Keras: values are cast to dtype)
    np.testing.assert_array_equal(pad_sequences([[0.5, 1.7]]), [[0, 1]])
    np.testing.assert_array_equal(pad_sequences([[1, 2]], value=0.5), [[1, 2]])
    np.testing.assert_array_equal(pad_sequences([np.array([3, 4, 5]), np.array([6])], maxlen=2), [[4, 5], [0, 6]])
    # samples with their own shape: (n, maxlen) + sample shape
    vec = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]], dtype="float32")
    assert vec.shape == (2, 2, 2)
    np.testing.assert_array_equal(vec[1], [[0, 0], [5, 6]])
    s = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert s.tolist() == [["a", "b"], ["<pad>", "c"]]


def test_utils_exposes_pad_sequences():
    assert fastnn.utils.pad_sequences is pad_sequences
    assert fastnn.preprocessing.sequence.pad_sequences is pad_sequences


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match='Padding type "middle"'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "both"'):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="non-iterable at position 1: 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="maxlen=-1"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="list of iterables"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="not compatible"):
        pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


# ------------------------------------------------------------------------ text_to_word_sequence
def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World! It's  here.\tTabs\nand lines") == [
        "hello", "world", "it's", "here", "tabs", "and", "lines"
    ]
    assert text_to_word_sequence("A-B", lower=False, filters="") == ["A-B"]
    assert text_to_word_sequence("a;b;;c", split=";", filters="") == ["a", "b", "c"]
    a = hashing_trick("the cat the", 10, hash_function="md5")
    assert a[0] == a[2] and all(1 <= i <= 9 for i in a)


# ------------------------------------------------------------------------ Tokenizer
TEXTS = ["The cat sat on the mat.", "The dog sat!", "Dog and cat; the end"]
# counts: the 4, cat 2, sat 2, dog 2, on 1, mat 1, and 1, end 1 (ties in first-occurrence order)
WORD_INDEX = {"the": 1, "cat": 2, "sat": 3, "dog": 4, "on": 5, "mat": 6, "and": 7, "end": 8}


def test_fit_on_texts_indices_counts_and_ties():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == WORD_INDEX
    assert tok.index_word == {i: w for w, i in WORD_INDEX.items()}
    assert list(tok.word_counts.items()) == [
        ("the", 4), ("cat", 2), ("sat", 2), ("on", 1), ("mat", 1), ("dog", 2), ("and", 1), ("end", 1)
    ]
    assert tok.document_count == 3
    assert tok.word_docs["the"] == 3 and tok.word_docs["dog"] == 2
    assert tok.index_docs[1] == 3 and tok.index_docs[4] == 2
    assert tok.texts_to_sequences(["the cat ate the mat"]) == [[1, 2, 1, 6]]


def test_oov_token_and_num_words():
    tok = Tokenizer(num_words=4, oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    # oov takes index 1; word_index keeps every word, sequences keep indices < num_words
    assert tok.word_index == {"<OOV>": 1, **{w: i + 1 for w, i in WORD_INDEX.items()}}
    assert tok.texts_to_sequences(["the cat sat on a mat"]) == [[2, 3, 1, 1, 1, 1]]
    assert tok.sequences_to_texts([[2, 3, 4, 9, 42]]) == ["the cat <OOV> <OOV> <OOV>"]
    plain = Tokenizer(num_words=3)
    plain.fit_on_texts(TEXTS)
    assert plain.texts_to_sequences(["the cat sat on a mat"]) == [[1, 2]]  # the top num_words - 1 words
    assert plain.sequences_to_texts([[1, 2, 3, 99]]) == ["the cat"]
    m = plain.texts_to_matrix(["the cat sat"], mode="count")
    assert m.shape == (1, 3)
    np.testing.assert_array_equal(m, [[0, 1, 1]])


def test_char_level_and_token_lists():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["abca", "Bd"])
    assert tok.word_index == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert tok.texts_to_sequences(["dab!"]) == [[4, 1, 2]]
    keep_case = Tokenizer(char_level=True, lower=False, oov_token="?")
    keep_case.fit_on_texts(["aA a"])
    assert keep_case.word_index == {"?": 1, "a": 2, "A": 3, " ": 4}
    assert keep_case.texts_to_sequences(["Ab"]) == [[3, 1]]
    lists = Tokenizer()
    lists.fit_on_texts([["Hello", "world"], ["hello"]])
    assert lists.word_index == {"hello": 1, "world": 2}
    assert lists.texts_to_sequences([["WORLD", "x"]]) == [[2]]


def test_texts_to_matrix_modes():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    docs = ["the the cat", "dog"]
    n = len(WORD_INDEX) + 1
    b = tok.texts_to_matrix(docs, mode="binary")
    c = tok.texts_to_matrix(docs, mode="count")
    f = tok.texts_to_matrix(docs, mode="freq")
    t = tok.texts_to_matrix(docs, mode="tfidf")
    assert b.shape == c.shape == f.shape == t.shape == (2, n)
    np.testing.assert_array_equal(b[0, [1, 2]], [1, 1])
    np.testing.assert_array_equal(c[0, [1, 2]], [2, 1])
    np.testing.assert_allclose(f[0, [1, 2]], [2 / 3, 1 / 3])
    assert b[0].sum() == 2 and c[1, 4] == 1 and b[:, 0].sum() == 0
    # Keras's tf-idf: (1 + log count) * log(1 + documents / (1 + documents with the word))
    np.testing.assert_allclose(t[0, 1], (1 + math.log(2)) * math.log(1 + 3 / (1 + 3)))
    np.testing.assert_allclose(t[0, 2], 1.0 * math.log(1 + 3 / (1 + 2)))
    np.testing.assert_allclose(t[1, 4], 1.0 * math.log(1 + 3 / (1 + 2)))
    seq = Tokenizer(num_words=5)
    seq.fit_on_sequences([[1, 2], [2, 3, 3]])
    assert seq.document_count == 2 and seq.index_docs[3] == 1
    np.testing.assert_array_equal(seq.sequences_to_matrix([[3, 3, 9]], mode="count"), [[0, 0, 0, 2, 0]])


def test_json_round_trip_is_plain_json():
    tok = Tokenizer(num_words=6, oov_token="<unk>", filters="!.", lower=False, split=" ")
    tok.fit_on_texts(TEXTS)
    s = tok.to_json()
    data = json.loads(s)
    assert data["class_name"] == "Tokenizer" and isinstance(data["config"]["word_index"], str)
    again = tokenizer_from_json(s)
    assert again.word_index == tok.word_index and again.index_word == tok.index_word
    assert list(again.word_counts.items()) == list(tok.word_counts.items())
    assert dict(again.index_docs) == dict(tok.index_docs) and again.document_count == tok.document_count
    probe = ["The cat sat on a mat!", "Dog and end."]
    assert again.texts_to_sequences(probe) == tok.texts_to_sequences(probe)
    np.testing.assert_array_equal(again.texts_to_matrix(probe, "tfidf"), tok.texts_to_matrix(probe, "tfidf"))
    again.fit_on_texts(["more words"])  # a loaded tokenizer keeps fitting
    assert "more" in again.word_index


def test_tokenizer_then_pad_sequences_pipeline():
    tok = Tokenizer(num_words=1000, oov_token="<OOV>")
    tok.fit_on_texts(["the cat sat", "the dog sat down"])
    x = pad_sequences(tok.texts_to_sequences(["the cat ran", "down"]), maxlen=5)
    np.testing.assert_array_equal(x, [[0, 0, 2, 4, 1], [0, 0, 0, 0, 6]])


def test_tokenizer_errors():
    with pytest.raises(TypeError, match="wrap it in a list"):
        Tokenizer().fit_on_texts("just one string")
    with pytest.raises(ValueError, match="num_words=-2"):
        Tokenizer(num_words=-2)
    with pytest.raises(TypeError, match="Unrecognized keyword"):
        Tokenizer(bogus=1)
    with pytest.raises(ValueError, match="fit on some text data first"):
        Tokenizer().texts_to_matrix(["a"])
    tok = Tokenizer(num_words=3)
    with pytest.raises(ValueError, match="before using tfidf"):
        tok.sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="Unknown vectorization mode"):
        tok.sequences_to_matrix([[1]], mode="bm25")
    with pytest.raises(TypeError, match="a text must be a string"):
        Tokenizer().fit_on_texts([3])
    with pytest.raises(ValueError, match="not a Tokenizer JSON"):
        tokenizer_from_json('{"config": {}}')
    with pytest.raises(ValueError, match="split must be"):
        Tokenizer(split="")
