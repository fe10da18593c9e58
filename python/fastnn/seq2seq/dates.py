"""Date-format translation data: random dates written the ways people write them
("october 20, 1981", "20 oct 1981", "10/20/81", "tuesday, october 20, 1981", ...) paired with
their ISO form "1981-10-20". Everything is generated (fixed English month and day-name lists,
a seeded NumPy generator); nothing is downloaded.

Dates lie in 1950-01-01 .. 2049-12-31 so that two-digit years are unambiguous (50-99 are
19xx, 00-49 are 20xx). Slashes are always month/day/year (US order) and dots day.month.year,
so no format is ambiguous. Texts are lowercase.

Example::

    from fastnn.seq2seq import dates

    (x_train, y_train), (x_test, y_test) = dates.load_data(num_train=1000, num_test=100, seed=0)
    x_train[0], y_train[0]                 # e.g. ('20 oct 1981', '1981-10-20')
    src_vocab, tgt_vocab = dates.source_vocabulary(), dates.target_vocabulary()
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np

from .vocab import CharVocabulary

__all__ = [
    "MONTHS",
    "MONTHS_ABBR",
    "WEEKDAYS",
    "WEEKDAYS_ABBR",
    "FORMATS",
    "FIRST_DATE",
    "LAST_DATE",
    "SOURCE_CHARS",
    "TARGET_CHARS",
    "format_date",
    "random_dates",
    "generate",
    "load_data",
    "source_vocabulary",
    "target_vocabulary",
    "max_source_length",
    "TARGET_LENGTH",
]

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
MONTHS_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_ABBR = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

FIRST_DATE = _dt.date(1950, 1, 1)
LAST_DATE = _dt.date(2049, 12, 31)
TARGET_LENGTH = 10  # "YYYY-MM-DD"

# Fields: {month} {mon} {m} {mm} {d} {dd} {dth} (ordinal day) {Y} {yy} {weekday} {wd}
FORMATS: dict[str, str] = {
    "month_d_Y": "{month} {d}, {Y}",  # october 20, 1981
    "d_mon_Y": "{d} {mon} {Y}",  # 20 oct 1981
    "m/d/yy": "{m}/{d}/{yy}",  # 10/20/81
    "weekday_month_d_Y": "{weekday}, {month} {d}, {Y}",  # tuesday, october 20, 1981
    "d_month_Y": "{d} {month} {Y}",  # 20 october 1981
    "mon_d_Y": "{mon} {d}, {Y}",  # oct 20, 1981
    "month_dth_Y": "{month} {dth}, {Y}",  # october 20th, 1981
    "dd.mm.Y": "{dd}.{mm}.{Y}",  # 20.10.1981
    "mm/dd/Y": "{mm}/{dd}/{Y}",  # 10/20/1981
    "Y/mm/dd": "{Y}/{mm}/{dd}",  # 1981/10/20
    "wd_mon_d_Y": "{wd}, {mon} {d}, {Y}",  # tue, oct 20, 1981
    "dd-mon-Y": "{dd}-{mon}-{Y}",  # 20-oct-1981
    "dth_of_month_Y": "{dth} of {month}, {Y}",  # 20th of october, 1981
    "iso": "{Y}-{mm}-{dd}",  # 1981-10-20
    "weekday_d_month_Y": "{weekday} {d} {month} {Y}",  # tuesday 20 october 1981
    "mon._d_Y": "{mon}. {d}, {Y}",  # oct. 20, 1981
    "mm/dd/yy": "{mm}/{dd}/{yy}",  # 10/20/81
    "d_month_yy": "{d} {month} '{yy}",  # 20 october '81
}

SOURCE_CHARS = " ',-./0123456789abcdefghijklmnopqrstuvwxyz"
TARGET_CHARS = "-0123456789"


def _ordinal(d: int) -> str:
    suffix = "th" if 11 <= d % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


def format_date(date: _dt.date, fmt: str) -> str:
    """`date` written in format `fmt` (a name in FORMATS or a template with FORMATS's fields).

    Example::

        format_date(datetime.date(1981, 10, 20), "weekday_month_d_Y")   # 'tuesday, october 20, 1981'
    """
    if not isinstance(date, _dt.date):
        raise TypeError(f"format_date expects a datetime.date, got {date!r}")
    if not FIRST_DATE <= date <= LAST_DATE:
        raise ValueError(f"dates must lie in {FIRST_DATE} .. {LAST_DATE} (two-digit years), got {date}")
    template = FORMATS.get(fmt, fmt)
    if not isinstance(template, str) or "{" not in template:
        raise ValueError(f"unknown date format {fmt!r}; the formats are {sorted(FORMATS)}")
    fields = dict(
        month=MONTHS[date.month - 1],
        mon=MONTHS_ABBR[date.month - 1],
        m=str(date.month),
        mm=f"{date.month:02d}",
        d=str(date.day),
        dd=f"{date.day:02d}",
        dth=_ordinal(date.day),
        Y=f"{date.year:04d}",
        yy=f"{date.year % 100:02d}",
        weekday=WEEKDAYS[date.weekday()],
        wd=WEEKDAYS_ABBR[date.weekday()],
    )
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"bad date template {template!r}: {e}") from None


def _check_count(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {name}={n!r}")
    return int(n)


def random_dates(n: int, seed: int | None = 0, unique: bool = False) -> list[_dt.date]:
    """`n` dates drawn uniformly from FIRST_DATE .. LAST_DATE (distinct ones if unique)."""
    n = _check_count(n, "n")
    span = (LAST_DATE - FIRST_DATE).days + 1
    rng = np.random.default_rng(seed)
    if unique:
        if n > span:
            raise ValueError(f"only {span} distinct dates exist, asked for n={n}")
        offsets = rng.choice(span, size=n, replace=False)
    else:
        offsets = rng.integers(0, span, size=n)
    return [FIRST_DATE + _dt.timedelta(days=int(o)) for o in offsets]


def _check_formats(formats: Sequence[str] | None) -> list[str]:
    if formats is None:
        return list(FORMATS)
    if isinstance(formats, str):
        formats = [formats]
    formats = list(formats)
    if not formats:
        raise ValueError("formats must name at least one format")
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown date format {f!r}; the formats are {sorted(FORMATS)}")
    return formats


def _render(dates: list[_dt.date], formats: list[str], rng: np.random.Generator) -> tuple[list[str], list[str]]:
    choice = rng.integers(0, len(formats), size=len(dates))
    sources = [format_date(d, formats[int(c)]) for d, c in zip(dates, choice)]
    return sources, [d.isoformat() for d in dates]


def generate(n: int, seed: int | None = 0, formats: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """`n` random (human-written, ISO) pairs, each date in a format drawn from `formats`
    (all of FORMATS by default). The same seed gives the same pairs."""
    formats = _check_formats(formats)
    rng = np.random.default_rng(seed)
    dates = random_dates(_check_count(n, "n"), seed=rng)
    return _render(dates, formats, rng)


def load_data(
    num_train: int = 20000, num_test: int = 2000, seed: int | None = 0, formats: Sequence[str] | None = None
) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """Training and test pairs, Keras-style: ``(x_train, y_train), (x_test, y_test)``, lists of
    strings (human-written sources, ISO targets). The test dates are held out: no test date
    occurs in the training set, in any format."""
    num_train, num_test = _check_count(num_train, "num_train"), _check_count(num_test, "num_test")
    formats = _check_formats(formats)
    rng = np.random.default_rng(seed)
    span = (LAST_DATE - FIRST_DATE).days + 1
    if num_test >= span:
        raise ValueError(f"num_test={num_test} leaves no dates to train on (there are {span} dates)")
    offsets = rng.permutation(span)
    test_dates = [FIRST_DATE + _dt.timedelta(days=int(o)) for o in offsets[:num_test]]
    train_pool = offsets[num_test:]
    # Training dates repeat when more are asked for than remain, each time in a new random format.
    train_offsets = train_pool[rng.integers(0, len(train_pool), size=num_train)]
    train_dates = [FIRST_DATE + _dt.timedelta(days=int(o)) for o in train_offsets]
    x_train, y_train = _render(train_dates, formats, rng)
    x_test, y_test = _render(test_dates, formats, rng)
    return (x_train, y_train), (x_test, y_test)


def source_vocabulary() -> CharVocabulary:
    """The character vocabulary of the human-written dates (lowercase letters, digits, ' ,-./')."""
    return CharVocabulary(SOURCE_CHARS)


def target_vocabulary() -> CharVocabulary:
    """The character vocabulary of ISO dates (digits and '-')."""
    return CharVocabulary(TARGET_CHARS)


def max_source_length(formats: Sequence[str] | None = None) -> int:
    """The longest text any of `formats` produces."""
    formats = _check_formats(formats)
    # One year has every month, day and weekday; the years all have four digits.
    year = [_dt.date(2025, 1, 1) + _dt.timedelta(days=i) for i in range(365)]
    return max(len(format_date(d, f)) for d in year for f in formats)
