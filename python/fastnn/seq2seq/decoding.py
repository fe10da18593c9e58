"""Greedy and beam-search decoding over a step function, batched over source sentences.

A decoder is driven one token at a time through a *step function*::

    step(tokens, state) -> (log_probs, new_state, attention)

``tokens`` is an int64 array (rows,) of the previous tokens, one row per hypothesis;
``state`` is an array or a nested list / tuple / dict of arrays whose leading dimension is the
row (the recurrent states, and anything else the step needs, such as the encoder outputs);
``log_probs`` is (rows, vocab) log-probabilities of the next token; ``attention`` is
(rows, src_len) or None. The decoders pick rows of the state with ``np.take(leaf, index, 0)``
to follow the surviving hypotheses, so every leaf must have the rows first.

Conventions:

- ``max_length`` counts every generated token, the end token included; a hypothesis still open
  at ``max_length`` is closed with the end token (its log-probability counted, as fairseq
  does), so every returned hypothesis ends with ``end_token``.
- The score of a hypothesis Y is GNMT's length-normalised log-probability
  ``log P(Y) / ((5 + |Y|) / 6) ** alpha`` (|Y| counts the end token; alpha = 0 is the plain
  log-probability).
- Beam search: at each step the 2 * beam_width best extensions (by log-probability, ties to
  the lower beam then the lower token) are taken in order; an end token among the first
  beam_width closes its hypothesis, which is kept aside, and the first beam_width others
  stay open. A source is done when n_best hypotheses are closed and no open one can still
  finish above the n_best-th of them (the bound allows for the normalisation favouring longer
  hypotheses up to max_length). Beam width 1 follows the greedy path; with alpha = 0 it is
  greedy decoding.

Example::

    import numpy as np
    from fastnn.seq2seq import beam_search

    table = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.7, 0.2, 0.1]]))

    def step(tokens, state):       # a bigram model; token 0 is the end
        return table[tokens], state, None

    best = beam_search(step, np.zeros((1, 1)), start_token=2, end_token=0, beam_width=3,
                       max_length=5, n_best=2)[0]
    best[0].tokens, best[0].score      # ([0], -0.357...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Hypothesis", "greedy_decode", "beam_search", "length_penalty", "gather_state"]

StepFn = Callable[[np.ndarray, Any], tuple]


@dataclass
class Hypothesis:
    """One decoded sequence.

    Attributes:
        tokens: the generated tokens (the start token excluded, the end token last).
        score: the length-normalised log-probability that ranks hypotheses.
        log_prob: the total log-probability of the tokens.
        attention: (len(tokens), src_len) attention weights of each generated token, or None
            when the step function returns none.
    """

    tokens: list[int]
    score: float
    log_prob: float
    attention: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.tokens)


def length_penalty(length, alpha: float):
    """GNMT's length normalisation ``((5 + length) / 6) ** alpha``."""
    return ((5.0 + np.asarray(length, dtype=np.float64)) / 6.0) ** alpha


# ---------------------------------------------------------------------- state helpers
def _leaves(state) -> list:
    if isinstance(state, (list, tuple)):
        return [x for s in state for x in _leaves(s)]
    if isinstance(state, dict):
        return [x for s in state.values() for x in _leaves(s)]
    return [] if state is None else [state]


def gather_state(state, index: np.ndarray):
    """Rows `index` of every array in a nested state (the structure is kept)."""
    if isinstance(state, list):
        return [gather_state(s, index) for s in state]
    if isinstance(state, tuple):
        return tuple(gather_state(s, index) for s in state)
    if isinstance(state, dict):
        return {k: gather_state(v, index) for k, v in state.items()}
    if state is None:
        return None
    return np.take(np.asarray(state), index, axis=0)


def _batch_size(state) -> int:
    leaves = _leaves(state)
    if not leaves:
        raise ValueError("the initial state must hold at least one array whose first dimension is the batch")
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(
            "every array of the initial state must have the batch as its first dimension, got shapes "
            f"{[tuple(np.shape(x)) for x in leaves]}"
        )
    b = sizes.pop()
    if b == 0:
        raise ValueError("the initial state has a batch of 0 sources")
    return b


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    return int(value)


def _call_step(step: StepFn, tokens: np.ndarray, state, rows: int, end_token: int):
    out = step(tokens, state)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise TypeError(
            "the step function must return (log_probs, new_state, attention); got "
            f"{type(out).__name__}{'' if not isinstance(out, (tuple, list)) else f' of length {len(out)}'}"
        )
    log_probs, new_state, attention = out
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] != rows:
        raise ValueError(
            f"the step function must return log_probs of shape (rows, vocab) = ({rows}, vocab), "
            f"got shape {log_probs.shape}"
        )
    if not 0 <= end_token < log_probs.shape[1]:
        raise ValueError(f"end_token={end_token} is outside the vocabulary of {log_probs.shape[1]} tokens")
    if np.isnan(log_probs).any():
        raise ValueError("the step function returned NaN log-probabilities")
    if attention is not None:
        attention = np.asarray(attention, dtype=np.float32)
        if attention.ndim != 2 or attention.shape[0] != rows:
            raise ValueError(
                f"the step function must return attention of shape (rows, src_len) = ({rows}, src_len) or None, "
                f"got shape {attention.shape}"
            )
    return log_probs, new_state, attention


def _check_common(start_token, end_token, max_length, alpha) -> tuple[int, int, int, float]:
    start_token = _check_int(start_token, "start_token", 0)
    end_token = _check_int(end_token, "end_token", 0)
    max_length = _check_int(max_length, "max_length", 1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not alpha >= 0:
        raise ValueError(f"length_penalty must be a number >= 0 (GNMT's alpha), got length_penalty={alpha!r}")
    return start_token, end_token, max_length, float(alpha)


# ---------------------------------------------------------------------- greedy
def greedy_decode(
    step: StepFn,
    initial_state,
    start_token: int,
    end_token: int,
    max_length: int,
    length_penalty: float = 0.0,
) -> list[Hypothesis]:
    """Decode each source by taking the most probable token at every step.

    Args:
        step: the step function (see the module's docstring).
        initial_state: the decoder state of each source (the batch first).
        start_token: the token fed first.
        end_token: the token that ends a sequence.
        max_length: the most tokens generated per source, the end token included.
        length_penalty: GNMT's alpha, used only for the reported score.

    Returns:
        One Hypothesis per source, in order.

    Example::

        hyps = greedy_decode(step, state, start_token=1, end_token=2, max_length=12)
        hyps[0].tokens
    """
    start_token, end_token, max_length, alpha = _check_common(start_token, end_token, max_length, length_penalty)
    batch = _batch_size(initial_state)
    tokens_out: list[list[int]] = [[] for _ in range(batch)]
    attn_out: list[list[np.ndarray]] = [[] for _ in range(batch)]
    logp = np.zeros(batch)
    active = np.arange(batch)  # the sources still open, in the rows of `state`
    state = initial_state
    tokens = np.full(batch, start_token, dtype=np.int64)
    has_attention = True
    for t in range(max_length):
        log_probs, state, attention = _call_step(step, tokens, state, len(active), end_token)
        has_attention = has_attention and attention is not None
        if t == max_length - 1:
            choice = np.full(len(active), end_token, dtype=np.int64)
        else:
            choice = np.argmax(log_probs, axis=1).astype(np.int64)  # ties to the lower token
        logp[active] += log_probs[np.arange(len(active)), choice]
        for r, src in enumerate(active):
            tokens_out[src].append(int(choice[r]))
            attn_out[src].append(attention[r] if attention is not None else None)
        keep = np.flatnonzero(choice != end_token)
        if keep.size == 0:
            break
        if keep.size < len(active):
            state = gather_state(state, keep)
            active = active[keep]
        tokens = choice[keep]
    out = []
    for src in range(batch):
        n = len(tokens_out[src])
        out.append(
            Hypothesis(
                tokens=tokens_out[src],
                score=float(logp[src] / ((5.0 + n) / 6.0) ** alpha),
                log_prob=float(logp[src]),
                attention=np.stack(attn_out[src]) if has_attention else None,
            )
        )
    return out


# ---------------------------------------------------------------------- beam search
def _done(finished: list[Hypothesis], open_scores: list[float], n_best: int, length: int, max_length: int,
          alpha: float) -> bool:
    """True when no open hypothesis (log-probabilities `open_scores`, `length` tokens) can
    finish above the n_best-th closed one: a completion of n tokens, length < n <= max_length,
    scores at most L / lp(n), largest at one end of the range (lp grows with n)."""
    if len(finished) < n_best:
        return False
    nth = sorted((h.score for h in finished), reverse=True)[n_best - 1]
    best = max(open_scores)
    lo, hi = ((5.0 + length + 1) / 6.0) ** alpha, ((5.0 + max_length) / 6.0) ** alpha
    return max(best / lo, best / hi) <= nth


def beam_search(
    step: StepFn,
    initial_state,
    start_token: int,
    end_token: int,
    beam_width: int = 4,
    max_length: int = 50,
    length_penalty: float = 0.0,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """Beam search for each source (all sources advance together through one step call).

    Args:
        step: the step function (see the module's docstring).
        initial_state: the decoder state of each source (the batch first); it is repeated
            beam_width times per source (rows ``source * beam_width + beam``).
        start_token: the token fed first.
        end_token: the token that ends a sequence.
        beam_width: the number of open hypotheses kept per source.
        max_length: the most tokens generated per source, the end token included.
        length_penalty: GNMT's alpha: hypotheses are ranked by
            ``log P(Y) / ((5 + |Y|) / 6) ** alpha``; 0 ranks by log-probability.
        n_best: how many hypotheses to return per source (at most beam_width).

    Returns:
        For each source, a list of n_best Hypothesis, best first (equal scores keep the order
        in which the hypotheses closed); fewer where fewer sequences have a finite score.

    Example::

        results = beam_search(step, state, start_token=1, end_token=2, beam_width=5,
                              max_length=12, length_penalty=0.6, n_best=3)
        results[0][0].tokens, results[0][0].score
    """
    start_token, end_token, max_length, alpha = _check_common(start_token, end_token, max_length, length_penalty)
    k = _check_int(beam_width, "beam_width", 1)
    n_best = _check_int(n_best, "n_best", 1)
    if n_best > k:
        raise ValueError(f"n_best must be at most beam_width, got n_best={n_best} and beam_width={k}")
    batch = _batch_size(initial_state)

    # Rows of the state: k per open source. Only the start hypothesis is live at first (the
    # other rows start at -inf so that the first step does not pick k copies of one token).
    active = np.arange(batch)
    state = gather_state(initial_state, np.repeat(np.arange(batch), k))
    scores = np.tile(np.r_[0.0, np.full(k - 1, -np.inf)], batch)  # log-probabilities per row
    tokens = np.full(batch * k, start_token, dtype=np.int64)
    history = np.zeros((batch * k, 0), dtype=np.int64)
    attn_hist: np.ndarray | None = None
    has_attention = True
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]

    for t in range(max_length):
        n_act = len(active)
        log_probs, state, attention = _call_step(step, tokens, state, n_act * k, end_token)
        vocab = log_probs.shape[1]
        if t == max_length - 1:  # the last step closes every hypothesis
            forced = np.full_like(log_probs, -np.inf)
            forced[:, end_token] = log_probs[:, end_token]
            log_probs = forced
        has_attention = has_attention and attention is not None
        if has_attention:
            step_attn = attention[:, None, :]
            attn_hist = step_attn if attn_hist is None else np.concatenate([attn_hist, step_attn], axis=1)
        cand = (scores[:, None] + log_probs).reshape(n_act, k * vocab)
        # A stable sort of -score keeps ties in (beam, token) order, the flat order of `cand`.
        n_cand = min(2 * k, k * vocab)
        order = np.argsort(-cand, axis=1, kind="stable")[:, :n_cand]
        lp = ((5.0 + t + 1) / 6.0) ** alpha

        next_rows, next_tokens, next_scores, still_open = [], [], [], []
        for a, src in enumerate(active):
            live = 0
            for rank, flat in enumerate(order[a]):
                s = cand[a, flat]
                if not np.isfinite(s):
                    break
                beam, tok = divmod(int(flat), vocab)
                row = a * k + beam
                if tok == end_token:
                    if rank < k:
                        finished[src].append(
                            Hypothesis(
                                tokens=[int(x) for x in history[row]] + [end_token],
                                score=float(s / lp),
                                log_prob=float(s),
                                attention=attn_hist[row].copy() if has_attention else None,
                            )
                        )
                elif live < k:
                    next_rows.append(row)
                    next_tokens.append(tok)
                    next_scores.append(s)
                    live += 1
                if live == k and rank + 1 >= k:  # later end tokens rank >= k: none can close
                    break
            if live > 0 and not _done(finished[src], next_scores[len(next_scores) - live:], n_best, t + 1,
                                      max_length, alpha):
                # Fewer than k open hypotheses (a tiny vocabulary): pad with dead rows.
                while live < k:
                    next_rows.append(next_rows[-1])
                    next_tokens.append(end_token)
                    next_scores.append(-np.inf)
                    live += 1
                still_open.append(src)
            else:
                del next_rows[len(next_rows) - live:]
                del next_tokens[len(next_tokens) - live:]
                del next_scores[len(next_scores) - live:]
        if not still_open:
            break
        idx = np.asarray(next_rows, dtype=np.int64)
        state = gather_state(state, idx)
        history = np.concatenate([history[idx], np.asarray(next_tokens, dtype=np.int64)[:, None]], axis=1)
        if has_attention:
            attn_hist = attn_hist[idx]
        tokens = np.asarray(next_tokens, dtype=np.int64)
        scores = np.asarray(next_scores, dtype=np.float64)
        active = np.asarray(still_open, dtype=np.int64)

    out = []
    for src in range(batch):
        # sorted() is stable: equal scores keep the order of closing.
        ranked = sorted(finished[src], key=lambda h: -h.score)
        out.append(ranked[:n_best])
    return out

