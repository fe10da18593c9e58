"""Tables for the benchmark reports: markdown (pastes into issues and notes) or plain text with
aligned columns (for a terminal). Cells are strings; numbers are formatted by the suite."""

from __future__ import annotations

from collections.abc import Sequence

FORMATS = ("md", "plain")


def _is_numeric(cell: str) -> bool:
    s = cell.strip().rstrip("%x*").replace(",", "").replace("(", "").replace(")", "").split(" ")[0]
    try:
        float(s)
        return True
    except ValueError:
        return cell.strip() in ("n/a", "-")


def render(header: Sequence[str], rows: Sequence[Sequence[str]], fmt: str = "md") -> str:
    """The table as one string (no trailing newline). Numeric columns are right-aligned."""
    if fmt not in FORMATS:
        raise ValueError(f"table format must be one of {FORMATS}, got {fmt!r}")
    header = [str(h) for h in header]
    rows = [[str(c) for c in r] for r in rows]
    for r in rows:
        if len(r) != len(header):
            raise ValueError(f"row {r} has {len(r)} cells, the header has {len(header)}")
    ncol = len(header)
    width = [max([len(header[j])] + [len(r[j]) for r in rows]) for j in range(ncol)]
    right = [bool(rows) and all(_is_numeric(r[j]) for r in rows) for j in range(ncol)]

    def cell(s: str, j: int) -> str:
        return s.rjust(width[j]) if right[j] else s.ljust(width[j])

    if fmt == "md":
        lines = ["| " + " | ".join(cell(h, j) for j, h in enumerate(header)) + " |"]
        lines.append("|" + "|".join(("-" * (width[j] + 1) + ":") if right[j] else "-" * (width[j] + 2)
                                    for j in range(ncol)) + "|")
        lines += ["| " + " | ".join(cell(c, j) for j, c in enumerate(r)) + " |" for r in rows]
    else:
        lines = ["  ".join(cell(h, j) for j, h in enumerate(header)).rstrip()]
        lines.append("  ".join("-" * width[j] for j in range(ncol)))
        lines += ["  ".join(cell(c, j) for j, c in enumerate(r)).rstrip() for r in rows]
    return "\n".join(lines)


def gflops(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def percent(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"
