"""A Keras-like progress bar: ``Progbar`` draws it, ``ProgbarLogger`` drives it from fit/evaluate.

verbose=1 on a terminal redraws one line per step::

    Epoch 1/5
    12/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.7813 - loss: 0.5012

and ends each epoch with the full bar, the time taken, the time per step and the epoch's logs
(the validation logs too). When the output is not a terminal, verbose=1 prints only that final
line per epoch; verbose=2 prints ``32/32 - 0s - 2ms/step - accuracy: ... - loss: ...``.
"""

from __future__ import annotations

import sys
import time

from ..callbacks import Callback

__all__ = ["Progbar", "ProgbarLogger"]


def _format_value(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return f" {v}"
    return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """A progress bar over `target` steps.

    Args:
        target: the number of steps.
        width: the bar width in characters (20 as Keras).
        verbose: 1 (a bar; redrawn on a terminal) or 2 (one line at the end).
        interval: the minimum time between redraws, in seconds.
        stream: where to write (sys.stdout by default, read at each write).

    Example::

        bar = Progbar(10)
        for i in range(10):
            bar.update(i + 1, [("loss", 0.5)])
    """

    def __init__(
        self,
        target: int,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stream=None,
        dynamic: bool | None = None,
    ):
        self.target, self.width, self.verbose, self.interval = int(target), int(width), int(verbose), interval
        self._stream = stream
        self._dynamic = dynamic
        self._start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    @property
    def dynamic(self) -> bool:
        if self._dynamic is not None:
            return self._dynamic
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError):
            return False

    def due(self) -> bool:
        """Whether a redraw would show now (a terminal and the interval elapsed)."""
        return self.verbose == 1 and self.dynamic and time.perf_counter() - self._last >= self.interval

    def _bar(self, current: int) -> str:
        digits = len(str(self.target))
        frac = min(current / self.target, 1.0) if self.target else 1.0
        done = int(self.width * frac)
        if self.dynamic:
            bar = "\x1b[1m" + "━" * done + "\x1b[0m" + "\x1b[37m" + "━" * (self.width - done) + "\x1b[0m"
        else:
            bar = "━" * done + " " * (self.width - done)
        return f"{current:>{digits}}/{self.target} {bar}"

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Show step `current` with `values` (a list of (name, value) or a dict)."""
        if finalize is None:
            finalize = current >= self.target
        items = list(values.items()) if isinstance(values, dict) else list(values or [])
        now = time.perf_counter()
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        metrics = "".join(f" - {k}: {_format_value(v)}" for k, v in items)
        if self.verbose == 2:
            if finalize:
                self.stream.write(f"{current}/{self.target} - {elapsed:.0f}s - {_format_time(per_step)}{metrics}\n")
                self.stream.flush()
            return
        if not finalize:
            if not self.dynamic or now - self._last < self.interval:
                return
            eta = per_step * (self.target - current)
            line = f"{self._bar(current)} {eta:.0f}s {_format_time(per_step)}{metrics}"
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self._last = now
            self._drawn = True
            return
        line = f"{self._bar(current)} {elapsed:.0f}s {_format_time(per_step)}{metrics}"
        self.stream.write(("\r" + line + "\x1b[K\n") if self.dynamic else line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Draws the progress bar of fit (mode 'train') or evaluate (mode 'test') from the callback hooks."""

    def __init__(self, mode: str = "train"):
        super().__init__()
        self.mode = mode
        self.bar: Progbar | None = None
        self._seen = 0

    def _new_bar(self) -> None:
        self.bar = Progbar(self.params.get("steps") or 1, verbose=self.params.get("verbose", 1))
        self._seen = 0

    def wants_update(self, step: int) -> bool:
        return self.bar is not None and self.bar.due()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if self.mode == "train":
            epochs = self.params.get("epochs", 1)
            if self.params.get("verbose", 1):
                sys.stdout.write(f"Epoch {epoch + 1}/{epochs}\n")
            self._new_bar()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._seen = batch + 1
        if self.bar is not None:
            self.bar.update(batch + 1, logs or {}, finalize=False)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.mode == "train" and self.bar is not None:
            self.bar.update(self.params.get("steps") or 1, logs or {}, finalize=True)

    def on_test_begin(self, logs=None) -> None:
        if self.mode == "test":
            self._new_bar()

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        if self.mode == "test" and self.bar is not None:
            self.bar.update(batch + 1, logs or {}, finalize=False)

    def on_test_end(self, logs=None) -> None:
        if self.mode == "test" and self.bar is not None:
            self.bar.update(self.params.get("steps") or 1, logs or {}, finalize=True)
