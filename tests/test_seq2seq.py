"""fastnn.seq2seq: beam search against an exhaustive search over tiny vocabularies (history-
dependent step functions), greedy == beam width 1, end tokens, length normalisation, n-best
order, attention weights, batching; the character vocabulary; the date generator (determinism,
formats, held-out dates); the attention seq2seq model (training, decoding, inference models
against the training model, save/load)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastnn.seq2seq import CharVocabulary, Hypothesis, beam_search, dates, gather_state, greedy_decode, length_penalty


# ------------------------------------------------------------------------ a hand-made step function
def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


class TreeLM:
    """log p(next | source, prefix) drawn from a generator seeded by (seed, source, prefix): every
    history has its own distribution, so no search short of an exhaustive one is exact by luck.
    The attention of a step is a seeded distribution over `src_len` positions."""

    def __init__(self, vocab: int, seed: int = 0, src_len: int = 5, scale: float = 2.0, max_len: int = 8):
        self.vocab, self.seed, self.src_len, self.scale, self.max_len = vocab, seed, src_len, scale, max_len
        self.calls = 0

    def dist(self, src: int, prefix: tuple) -> np.ndarray:
        rng = np.random.default_rng([self.seed, src, *prefix])
        return _log_softmax(rng.standard_normal(self.vocab) * self.scale)

    def attn(self, src: int, prefix: tuple) -> np.ndarray:
        rng = np.random.default_rng([self.seed + 1000, src, *prefix])
        return rng.dirichlet(np.ones(self.src_len)).astype(np.float32)

    def initial_state(self, sources) -> dict:
        sources = np.asarray(sources, dtype=np.int64)
        return {"src": sources, "prefix": np.full((len(sources), self.max_len + 1), -1, np.int64),
                "n": np.zeros(len(sources), np.int64)}

    def step(self, tokens, state):
        self.calls += 1
        rows = len(tokens)
        prefix, n = state["prefix"].copy(), state["n"] + 1
        prefix[np.arange(rows), state["n"]] = tokens
        keys = [tuple(int(v) for v in prefix[r, : n[r]]) for r in range(rows)]
        lp = np.stack([self.dist(int(s), k) for s, k in zip(state["src"], keys)])
        att = np.stack([self.attn(int(s), k) for s, k in zip(state["src"], keys)])
        return lp, {"src": state["src"], "prefix": prefix, "n": n}, att


def exhaustive(lm: TreeLM, src: int, start: int, end: int, max_length: int, alpha: float) -> list[tuple]:
    """Every sequence ending with `end` of at most max_length tokens (the last forced to end), as
    (score, log_prob, tokens), best first."""
    out = []

    def rec(prefix: tuple, tokens: list, logp: float):
        lp = lm.dist(src, prefix)
        n = len(tokens) + 1
        total = logp + lp[end]
        out.append((total / ((5 + n) / 6) ** alpha, total, tokens + [end]))
        if n == max_length:
            return
        for v in range(lm.vocab):
            if v != end:
                rec(prefix + (v,), tokens + [v], logp + lp[v])

    rec((start,), [], 0.0)
    return sorted(out, key=lambda r: -r[0])


def _check_hyp_attention(lm: TreeLM, src: int, start: int, hyp: Hypothesis):
    assert hyp.attention.shape == (len(hyp.tokens), lm.src_len)
    for t in range(len(hyp.tokens)):
        prefix = (start,) + tuple(hyp.tokens[:t])
        np.testing.assert_allclose(hyp.attention[t], lm.attn(src, prefix), rtol=1e-6)


# ------------------------------------------------------------------------ beam search vs exhaustive
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
@pytest.mark.parametrize("vocab,max_length", [(3, 4), (4, 3), (6, 2)])
def test_beam_search_without_pruning_is_exhaustive(vocab, max_length, alpha):
    # A beam of vocab * (vocab - 1) ** (max_length - 2) never prunes an open hypothesis, and every
    # end token ranks among the beam: beam search is then an exhaustive search.
    k = vocab * (vocab - 1) ** (max_length - 2)
    lm = TreeLM(vocab, seed=vocab * 10 + max_length)
    srcs = [3, 8]
    results = beam_search(lm.step, lm.initial_state(srcs), start_token=1, end_token=0, beam_width=k,
                          max_length=max_length, length_penalty=alpha, n_best=min(k, 6))
    for src, hyps in zip(srcs, results):
        want = exhaustive(lm, src, 1, 0, max_length, alpha)[: len(hyps)]
        assert [h.tokens for h in hyps] == [w[2] for w in want]
        np.testing.assert_allclose([h.score for h in hyps], [w[0] for w in want], rtol=1e-12)
        np.testing.assert_allclose([h.log_prob for h in hyps], [w[1] for w in want], rtol=1e-12)
        for h in hyps:
            _check_hyp_attention(lm, src, 1, h)


@pytest.mark.parametrize("vocab", [3, 4, 5, 7])
@pytest.mark.parametrize("seed", range(4))
def test_beam_width_equal_to_vocabulary_finds_the_best_sequence(vocab, seed):
    lm = TreeLM(vocab, seed=seed)
    best = beam_search(lm.step, lm.initial_state([seed]), start_token=vocab - 1, end_token=0,
                       beam_width=vocab, max_length=2)[0][0]
    want = exhaustive(lm, seed, vocab - 1, 0, 2, 0.0)[0]
    assert best.tokens == want[2] and best.log_prob == pytest.approx(want[1], rel=1e-12)


def test_wider_beams_are_never_worse_on_random_models():
    lm = TreeLM(5, seed=42, scale=1.0)
    srcs = list(range(12))
    prev = None
    for k in (1, 2, 4, 8):
        res = beam_search(lm.step, lm.initial_state(srcs), 1, 0, beam_width=k, max_length=4)
        scores = np.array([r[0].score for r in res])
        best = np.array([exhaustive(lm, s, 1, 0, 4, 0.0)[0][0] for s in srcs])
        assert (scores <= best + 1e-12).all()
        if prev is not None:
            # not a theorem for every source, but the total over many is monotone here
            assert scores.sum() >= prev.sum() - 1e-9
        prev = scores
    np.testing.assert_allclose(prev, best, rtol=1e-12)  # a beam of 8 is exact on these


def test_length_normalisation_changes_the_winner():
    # From the start: end at once (p = 0.45), or 1, 1, 1 and end (0.55 * 0.95 * 0.95 * 0.65):
    # the short one wins without normalisation, the long one with alpha = 1.
    table = {(): [np.log(0.45), np.log(0.55), -np.inf], (1,): [np.log(0.05), np.log(0.95), -np.inf],
             (1, 1): [np.log(0.05), np.log(0.95), -np.inf], (1, 1, 1): [np.log(0.65), np.log(0.35), -np.inf]}

    def step_arr(tokens, state):
        rows, new = [], []
        for t, p in zip(tokens, state):
            key = tuple(int(v) for v in p if v >= 0) + (() if t == 2 else (int(t),))
            new.append(list(key) + [-1] * (4 - len(key)))
            rows.append(table.get(key, [0.0, -np.inf, -np.inf]))
        return np.array(rows), np.array(new), None

    state = np.full((1, 4), -1)
    short = [0]
    long_ = [1, 1, 1, 0]
    lp_short, lp_long = np.log(0.45), np.log(0.55) + 2 * np.log(0.95) + np.log(0.65)
    assert lp_short > lp_long  # the short one is more probable
    assert lp_short / length_penalty(1, 1.0) < lp_long / length_penalty(4, 1.0)  # but shorter
    plain = beam_search(step_arr, state, start_token=2, end_token=0, beam_width=3, max_length=6, n_best=2)[0]
    normed = beam_search(step_arr, state, start_token=2, end_token=0, beam_width=3, max_length=6,
                         length_penalty=1.0, n_best=2)[0]
    assert plain[0].tokens == short and normed[0].tokens == long_
    assert normed[0].score == pytest.approx(lp_long / ((5 + 4) / 6), rel=1e-12)
    assert normed[0].log_prob == pytest.approx(lp_long, rel=1e-12)
    assert {tuple(h.tokens) for h in plain} == {tuple(h.tokens) for h in normed} == {(0,), (1, 1, 1, 0)}


# ------------------------------------------------------------------------ greedy
@pytest.mark.parametrize("seed", range(3))
def test_greedy_equals_beam_width_one(seed):
    lm = TreeLM(6, seed=100 + seed, scale=1.5)
    srcs = list(range(9))
    g = greedy_decode(lm.step, lm.initial_state(srcs), start_token=1, end_token=0, max_length=7)
    b = beam_search(lm.step, lm.initial_state(srcs), start_token=1, end_token=0, beam_width=1, max_length=7)
    assert len(g) == len(b) == len(srcs)
    for src, gh, (bh,) in zip(srcs, g, b):
        assert gh.tokens == bh.tokens
        assert gh.log_prob == pytest.approx(bh.log_prob, rel=1e-12)
        assert gh.score == pytest.approx(bh.score, rel=1e-12)
        np.testing.assert_allclose(gh.attention, bh.attention)
        _check_hyp_attention(lm, src, 1, gh)
        # greedy: every token is the most probable one given the prefix (the last may be forced)
        for t, tok in enumerate(gh.tokens[:-1]):
            assert tok == int(np.argmax(lm.dist(src, (1,) + tuple(gh.tokens[:t]))))


def test_beam_width_one_with_length_normalisation_is_at_least_greedy():
    # Normalised scores can rise with length, so a beam of 1 may go on past greedy's end token
    # (kept aside) looking for a better-scoring longer sequence; it never returns a worse one.
    lm = TreeLM(6, seed=77, scale=1.0)
    srcs = list(range(20))
    g = greedy_decode(lm.step, lm.initial_state(srcs), 1, 0, max_length=7, length_penalty=1.0)
    b = beam_search(lm.step, lm.initial_state(srcs), 1, 0, beam_width=1, max_length=7, length_penalty=1.0)
    assert all(bh.score >= gh.score - 1e-12 for gh, (bh,) in zip(g, b))
    for gh, (bh,) in zip(g, b):  # the same path: one is a prefix of the other, end token aside
        n = min(len(gh), len(bh)) - 1
        assert gh.tokens[:n] == bh.tokens[:n]
        assert gh.score == pytest.approx(gh.log_prob / length_penalty(len(gh), 1.0), rel=1e-12)


def test_greedy_is_batched_and_compacts_finished_rows():
    lm = TreeLM(4, seed=7, scale=1.0)
    srcs = list(range(10))
    together = greedy_decode(lm.step, lm.initial_state(srcs), 1, 0, max_length=6)
    alone = [greedy_decode(lm.step, lm.initial_state([s]), 1, 0, max_length=6)[0] for s in srcs]
    assert [h.tokens for h in together] == [h.tokens for h in alone]
    assert len({len(h.tokens) for h in together}) > 1  # sources end at different steps
    assert all(h.tokens[-1] == 0 and 0 not in h.tokens[:-1] for h in together)


def test_beam_search_batched_equals_one_source_at_a_time():
    lm = TreeLM(5, seed=11, scale=1.2)
    srcs = [4, 0, 9, 2, 7]
    together = beam_search(lm.step, lm.initial_state(srcs), 1, 0, beam_width=3, max_length=6,
                           length_penalty=0.6, n_best=3)
    for src, hyps in zip(srcs, together):
        alone = beam_search(lm.step, lm.initial_state([src]), 1, 0, beam_width=3, max_length=6,
                            length_penalty=0.6, n_best=3)[0]
        assert [h.tokens for h in hyps] == [h.tokens for h in alone]
        np.testing.assert_allclose([h.score for h in hyps], [h.score for h in alone])


# ------------------------------------------------------------------------ end tokens, n-best, attention
def test_end_token_handling():
    lm = TreeLM(5, seed=3, scale=0.3)  # flat distributions: many hypotheses run to max_length
    for hyps in beam_search(lm.step, lm.initial_state(range(6)), 1, 0, beam_width=4, max_length=5, n_best=4):
        for h in hyps:
            assert h.tokens[-1] == 0 and 0 not in h.tokens[:-1]  # ends once, at the end
            assert 1 <= len(h.tokens) <= 5
    # a hypothesis closed early is kept aside and returned although beams went on after it
    eps = 1e-9
    table = {(): [np.log(0.5), np.log(0.5)]}

    def step(tokens, state):
        keys = [tuple(int(v) for v in p if v >= 0) + ((int(t),) if t != 2 else ()) for t, p in zip(tokens, state)]
        lp = np.array([table.get(k, [np.log(eps), np.log1p(-eps)]) + [-np.inf] for k in keys])
        return lp, np.array([list(k) + [-1] * (6 - len(k)) for k in keys]), None

    (best, second), = beam_search(step, np.full((1, 6), -1), start_token=2, end_token=0, beam_width=2,
                                  max_length=5, n_best=2)
    assert best.tokens == [0] and best.log_prob == pytest.approx(np.log(0.5))
    assert second.tokens == [1, 0]
    # with length normalisation the beam that never ends by itself wins second place: the last
    # step closes it (the end token forced, its log-probability counted)
    (best, second), = beam_search(step, np.full((1, 6), -1), start_token=2, end_token=0, beam_width=2,
                                  max_length=5, n_best=2, length_penalty=1.0)
    assert best.tokens == [0] and second.tokens == [1, 1, 1, 1, 0]
    assert second.log_prob == pytest.approx(np.log(0.5) + 3 * np.log1p(-eps) + np.log(eps))
    g, = greedy_decode(step, np.full((1, 6), -1), start_token=2, end_token=0, max_length=3)
    assert g.tokens == [0]  # ties go to the lower token
    g, = greedy_decode(step, np.array([[1] + [-1] * 5]), start_token=1, end_token=0, max_length=3)
    assert g.tokens == [1, 1, 0]  # closed at max_length


def test_n_best_order_and_distinct_hypotheses():
    lm = TreeLM(6, seed=5, scale=1.0)
    for hyps in beam_search(lm.step, lm.initial_state(range(5)), 1, 0, beam_width=6, max_length=5,
                            length_penalty=0.7, n_best=6):
        assert len(hyps) == 6
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 6
        for h in hyps:
            assert h.score == pytest.approx(h.log_prob / length_penalty(len(h), 0.7), rel=1e-12)


def test_attention_is_none_without_it_and_states_are_gathered():
    seen = []

    def step(tokens, state):
        seen.append(state["row"].copy())
        lp = np.log(np.full((len(tokens), 3), 1 / 3))
        lp[:, 1] += 0.1 * state["row"][:, 0]  # each source row prefers token 1 by its own amount
        return lp, {"row": state["row"], "nested": [state["nested"][0] + 1]}, None

    state = {"row": np.arange(3, dtype=np.float64)[:, None], "nested": [np.zeros((3, 2))]}
    res = beam_search(step, state, start_token=2, end_token=0, beam_width=2, max_length=3, n_best=2)
    assert all(h.attention is None for hyps in res for h in hyps)
    assert seen[0].shape == (6, 1)  # each source repeated beam_width times
    np.testing.assert_array_equal(seen[0][:, 0], [0, 0, 1, 1, 2, 2])
    g = greedy_decode(step, state, start_token=2, end_token=0, max_length=3)
    assert all(h.attention is None for h in g)


def test_gather_state_keeps_structure():
    s = {"a": np.arange(6).reshape(3, 2), "b": [np.arange(3), (np.ones((3, 1)), None)]}
    g = gather_state(s, np.array([2, 0]))
    np.testing.assert_array_equal(g["a"], [[4, 5], [0, 1]])
    assert isinstance(g["b"], list) and isinstance(g["b"][1], tuple) and g["b"][1][1] is None
    np.testing.assert_array_equal(g["b"][0], [2, 0])


def test_decoding_errors():
    lm = TreeLM(4)
    st = lm.initial_state([0])
    with pytest.raises(ValueError, match="n_best"):
        beam_search(lm.step, st, 1, 0, beam_width=2, max_length=3, n_best=3)
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(lm.step, st, 1, 0, beam_width=0, max_length=3)
    with pytest.raises(ValueError, match="max_length"):
        greedy_decode(lm.step, st, 1, 0, max_length=0)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(lm.step, st, 1, 0, beam_width=2, max_length=3, length_penalty=-1)
    with pytest.raises(ValueError, match="end_token=9"):
        greedy_decode(lm.step, st, 1, 9, max_length=3)
    with pytest.raises(ValueError, match="at least one array"):
        greedy_decode(lm.step, {}, 1, 0, max_length=3)
    with pytest.raises(ValueError, match=r"\(1, vocab\)"):
        greedy_decode(lambda t, s: (np.zeros(4), s, None), st, 1, 0, max_length=3)
    with pytest.raises(TypeError, match="log_probs, new_state, attention"):
        greedy_decode(lambda t, s: np.zeros((1, 4)), st, 1, 0, max_length=3)
    with pytest.raises(ValueError, match="NaN"):
        greedy_decode(lambda t, s: (np.full((1, 4), np.nan), s, None), st, 1, 0, max_length=3)
    with pytest.raises(ValueError, match="first dimension"):
        greedy_decode(lm.step, {"a": np.zeros((2, 1)), "b": np.zeros((3, 1))}, 1, 0, max_length=3)


# ------------------------------------------------------------------------ vocabulary
def test_char_vocabulary():
    v = CharVocabulary("abc")
    assert v.size == len(v) == 7
    ids = v.encode(["cab", "a"], maxlen=4)
    np.testing.assert_array_equal(ids, [[0, 6, 4, 5], [0, 0, 0, 4]])
    np.testing.assert_array_equal(v.encode(["ab"], padding="post", add_start=True, add_end=True), [[1, 4, 5, 2]])
    assert v.decode([1, 6, 4, 3, 2, 5]) == "ca?"
    assert v.decode([0, 0, 4, 5]) == "ab"
    tin, tout = v.teacher_forcing(["ab", "c"])
    np.testing.assert_array_equal(tin, [[1, 4, 5], [1, 6, 0]])
    np.testing.assert_array_equal(tout, [[4, 5, 2], [6, 2, 0]])
    with pytest.raises(ValueError, match="maxlen=2"):
        v.encode(["abc"], maxlen=2)
    with pytest.raises(ValueError, match="duplicates"):
        CharVocabulary("aba")
    with pytest.raises(ValueError, match="padding"):
        v.encode(["a"], padding="middle")
    with pytest.raises(TypeError, match="list of strings"):
        v.encode("abc")
    with pytest.raises(ValueError, match="outside"):
        v.decode([99])


# ------------------------------------------------------------------------ dates
def test_date_formats_render_the_documented_examples():
    d = dt.date(1981, 10, 20)
    want = {
        "month_d_Y": "october 20, 1981", "d_mon_Y": "20 oct 1981", "m/d/yy": "10/20/81",
        "weekday_month_d_Y": "tuesday, october 20, 1981", "d_month_Y": "20 october 1981",
        "mon_d_Y": "oct 20, 1981", "month_dth_Y": "october 20th, 1981", "dd.mm.Y": "20.10.1981",
        "mm/dd/Y": "10/20/1981", "Y/mm/dd": "1981/10/20", "wd_mon_d_Y": "tue, oct 20, 1981",
        "dd-mon-Y": "20-oct-1981", "dth_of_month_Y": "20th of october, 1981", "iso": "1981-10-20",
        "weekday_d_month_Y": "tuesday 20 october 1981", "mon._d_Y": "oct. 20, 1981", "mm/dd/yy": "10/20/81",
        "d_month_yy": "20 october '81",
    }
    assert set(want) == set(dates.FORMATS)
    for f, s in want.items():
        assert dates.format_date(d, f) == s
    assert dates.format_date(dt.date(2003, 2, 1), "month_dth_Y") == "february 1st, 2003"
    assert dates.format_date(dt.date(2003, 2, 12), "month_dth_Y") == "february 12th, 2003"
    assert dates.format_date(dt.date(2003, 2, 22), "m/d/yy") == "2/22/03"
    with pytest.raises(ValueError, match="1950-01-01"):
        dates.format_date(dt.date(1900, 1, 1), "iso")
    with pytest.raises(ValueError, match="unknown date format"):
        dates.format_date(d, "nope")


def test_date_generator_is_seeded_and_covers_the_formats():
    a = dates.generate(3000, seed=5)
    assert a == dates.generate(3000, seed=5)
    assert a != dates.generate(3000, seed=6)
    src, tgt = a
    assert len(src) == len(tgt) == 3000
    chars = set(dates.SOURCE_CHARS)
    assert all(set(s) <= chars for s in src)
    assert all(len(t) == dates.TARGET_LENGTH and set(t) <= set(dates.TARGET_CHARS) for t in tgt)
    # each pair is a rendering of its target's date, and every format occurs
    used = set()
    for s, t in zip(src, tgt):
        d = dt.date.fromisoformat(t)
        fs = [f for f in dates.FORMATS if dates.format_date(d, f) == s]
        assert fs, (s, t)
        used.update(fs)
    assert used == set(dates.FORMATS)
    years = [int(t[:4]) for t in tgt]
    assert min(years) == 1950 and max(years) == 2049  # the whole range is drawn
    only = dates.generate(50, seed=1, formats=["m/d/yy"])[0]
    assert all(s.count("/") == 2 for s in only)
    with pytest.raises(ValueError, match="unknown date format"):
        dates.generate(5, formats=["x"])
    with pytest.raises(ValueError, match="n must be"):
        dates.generate(-1)


def test_date_load_data_holds_test_dates_out():
    (x, y), (xt, yt) = dates.load_data(num_train=5000, num_test=500, seed=3)
    assert len(x) == 5000 and len(xt) == 500 and len(set(yt)) == 500
    assert not set(y) & set(yt)
    assert ((x, y), (xt, yt)) == dates.load_data(num_train=5000, num_test=500, seed=3)


def test_max_source_length_and_vocabularies():
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    for f in dates.FORMATS:
        assert max(len(dates.format_date(d, f)) for d in days) <= dates.max_source_length([f])
    assert dates.max_source_length() == len("wednesday, september 24, 2025")
    src, tgt = dates.source_vocabulary(), dates.target_vocabulary()
    assert src.size == 4 + len(dates.SOURCE_CHARS) and tgt.size == 15
    assert tgt.decode(tgt.encode(["1981-10-20"])[0]) == "1981-10-20"


def test_no_text_names_two_dates():
    # The task is well posed: across all formats, a text determines its date (slashes are always
    # month/day, dots day.month, two-digit years pivot at 50).
    # Years around both ends of the range and the two-digit pivot (1999/2000, 1950/2049).
    seen: dict[str, dt.date] = {}
    for year in (1950, 1951, 1969, 1999, 2000, 2001, 2012, 2048, 2049):
        d = dt.date(year, 1, 1)
        while d.year == year:
            for f in dates.FORMATS:
                s = dates.format_date(d, f)
                assert seen.setdefault(s, d) == d, (s, seen[s], d)
            d += dt.timedelta(days=1)


# ------------------------------------------------------------------------ the Seq2Seq model
@pytest.fixture
def one_thread():
    # Small recurrent steps gain nothing from a second thread, and on a busy machine the
    # per-step synchronisation of two threads dominates: keep the training tests short.
    import fastnn

    n = fastnn.get_num_threads()
    fastnn.set_num_threads(1)
    yield
    fastnn.set_num_threads(n)


def _padded_sources(rng, vocab: int, lengths, maxlen: int) -> np.ndarray:
    out = np.zeros((len(lengths), maxlen), np.int64)
    for i, n in enumerate(lengths):
        out[i, maxlen - n:] = rng.integers(4, vocab, size=n)
    return out


@pytest.mark.parametrize("cell,attention,bidirectional", [
    ("lstm", "luong", False), ("gru", "bahdanau", False), ("lstm", "general", True), ("gru", "luong", True),
    ("lstm", "bahdanau", True),
])
def test_decoder_step_model_matches_the_training_model(cell, attention, bidirectional):
    from fastnn.seq2seq import Seq2Seq
    from oracle import TOL, assert_close

    s2s = Seq2Seq(13, 9, embedding_dim=6, units=5, cell=cell, attention=attention, bidirectional=bidirectional)
    rng = np.random.default_rng(0)
    src = _padded_sources(rng, 13, [7, 3, 1, 5], 7)
    tgt_in = np.concatenate([np.ones((4, 1), np.int64), rng.integers(3, 9, size=(4, 5))], axis=1)
    want = s2s.model.predict([src, tgt_in], verbose=0)  # (4, 6, 9), teacher forcing
    state = s2s.encode(src)
    for t in range(tgt_in.shape[1]):
        log_probs, state, att = s2s.step(tgt_in[:, t], state)
        assert_close(np.exp(log_probs), want[:, t], "seq2seq", f"step {t}", **TOL["seq2seq_step"])
        np.testing.assert_allclose(att.sum(axis=1), 1.0, rtol=1e-5)
        assert np.all(att[src == 0] < 1e-8)  # padding gets no attention
    # the masks make the padding irrelevant: more of it changes nothing
    longer = np.concatenate([np.zeros((4, 3), np.int64), src], axis=1)
    assert_close(s2s.model.predict([longer, tgt_in], verbose=0), want, "seq2seq", "padding",
                 **TOL["seq2seq_step"])


def test_seq2seq_trains_decodes_saves_and_loads(tmp_path, one_thread):
    import fastnn
    from fastnn.seq2seq import Seq2Seq

    fastnn.utils.set_random_seed(1)
    (x, y), (xt, yt) = dates.load_data(num_train=4000, num_test=200, seed=1)
    sv, tv = dates.source_vocabulary(), dates.target_vocabulary()
    n = dates.max_source_length()
    s2s = Seq2Seq(sv.size, tv.size, embedding_dim=16, units=32)
    s2s.model.compile(optimizer=fastnn.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy")
    tin, tout = tv.teacher_forcing(y)
    hist = s2s.model.fit([sv.encode(x, maxlen=n), tin], tout, epochs=6, batch_size=64, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    src = sv.encode(xt, maxlen=n)
    greedy = s2s.greedy_decode(src, max_length=11)
    beams = s2s.beam_search(src, beam_width=3, max_length=11, n_best=3)
    g_acc = np.mean([tv.decode(h.tokens) == t for h, t in zip(greedy, yt)])
    b_acc = np.mean([tv.decode(b[0].tokens) == t for b, t in zip(beams, yt)])
    assert g_acc >= 0.8 and b_acc >= g_acc - 0.02, (g_acc, b_acc)
    for h, b in zip(greedy, beams):
        assert h.attention.shape == (len(h.tokens), n) and len(b) == 3
        assert b[0].score >= b[1].score >= b[2].score
        assert b[0].log_prob >= h.log_prob - 1e-4  # the beam finds at least the greedy sequence
    # save through model.save and load: the same decodes
    p = tmp_path / "dates.keras"
    s2s.save(p)
    again = Seq2Seq.load(p)
    assert (again.cell, again.attention, again.bidirectional) == ("lstm", "luong", False)
    g2 = again.greedy_decode(src[:50], max_length=11)
    assert [h.tokens for h in g2] == [h.tokens for h in greedy[:50]]
    np.testing.assert_allclose([h.log_prob for h in g2], [h.log_prob for h in greedy[:50]], rtol=1e-6)
    wrapped = Seq2Seq.from_model(fastnn.models.load_model(p))
    assert [h.tokens for h in wrapped.greedy_decode(src[:10], max_length=11)] == [h.tokens for h in greedy[:10]]


def test_seq2seq_errors():
    import fastnn
    from fastnn.seq2seq import Seq2Seq

    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(10, 10, cell="rnn")
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(10, 10, attention="dot")
    with pytest.raises(ValueError, match="units"):
        Seq2Seq(10, 10, units=0)
    with pytest.raises(ValueError, match="end_token"):
        Seq2Seq(10, 5, end_token=7)
    s2s = Seq2Seq(10, 6, embedding_dim=4, units=3)
    with pytest.raises(ValueError, match="2-D"):
        s2s.greedy_decode(np.arange(5))
    inp = fastnn.layers.Input((3,))
    with pytest.raises(ValueError, match="not built by Seq2Seq"):
        Seq2Seq.from_model(fastnn.models.Model(inp, fastnn.layers.Dense(2)(inp)))


def test_plot_attention(tmp_path):
    pytest.importorskip("matplotlib")
    from fastnn.seq2seq import plot_attention

    a = np.random.default_rng(0).dirichlet(np.ones(4), size=3)
    p = tmp_path / "att.png"
    plot_attention(a, list("ab c"), ["1", "2", "<end>"], p, title="t")
    assert p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"expected shape \(3, 5\)"):
        plot_attention(a, list("abcde"), ["1", "2", "3"], p)


@pytest.mark.slow
def test_date_translation_example(tmp_path, one_thread, capsys):
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                        "date_translation.py")
    spec = importlib.util.spec_from_file_location("date_translation", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(epochs=3, num_train=20000, num_test=1000, plot_path=str(tmp_path / "att.png"), verbose=0)
    assert res["greedy"] >= 0.99 and res["beam"] >= res["greedy"], res
    assert "held-out exact match" in capsys.readouterr().out
    assert "plot" not in res or (tmp_path / "att.png").exists()
