"""How a value reads, in every output: numbers, quantities with units, changes, shares, dates,
durations and which way is better.

The site, the four artefacts and the terminal reports format through these functions only, so
the same KPI reads the same everywhere ("10.3 days" on the KPI page, in the runbook, the deck
and the proof brief). Decisions, written once:

- at most one decimal, trailing zeros dropped, thousands separated (``1,234.5``); terminal
  reports ask for two decimals (``decimals=2``) because a desk lead checks the arithmetic there;
- units: ``%``, ``h``, ``min`` after a space; days in words (``1 day``, ``3 days``); counts bare;
- a missing value is an em dash (``—``) in documents and pages; terminal reports pass ``n/a``;
- a change carries its sign, and a change of a percentage is in percentage points (``+2.5 pp``);
- dates are ISO 8601 (``2026-03-09``).
"""

from __future__ import annotations

from datetime import date, datetime

NONE = "—"
SUFFIX = {"percent": " %", "hours": " h", "minutes": " min", "count": ""}


def number(value: float | None, *, decimals: int = 1, none: str = NONE) -> str:
    """``1,234``, ``12.5``, ``0.3``: at most ``decimals`` decimals, trailing zeros dropped."""
    if value is None:
        return none
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: float | None, unit: str, *, decimals: int = 1, none: str = NONE) -> str:
    """A value in its unit: ``87.5 %``, ``4 h``, ``1 day``, ``10.3 days``, ``12``."""
    if value is None:
        return none
    text = number(value, decimals=decimals)
    if unit == "days":
        return f"{text} day" if text == "1" else f"{text} days"
    return text + SUFFIX.get(unit, "")


def change(value: float | None, unit: str, *, decimals: int = 1, none: str = NONE) -> str:
    """A signed movement: ``+2 days``, ``-3``; percentages move in points: ``+2.5 pp``."""
    if value is None:
        return none
    sign = "+" if value > 0 else ""
    if unit == "percent":
        return f"{sign}{number(value, decimals=decimals)} pp"
    return sign + quantity(value, unit, decimals=decimals)


def share(rate: float | None, *, none: str = "") -> str:
    """A fraction (0–1) as a whole percentage: ``0.87`` → ``87 %``."""
    return none if rate is None else f"{round(rate * 100)} %"


def days(n: int | None, *, none: str = "") -> str:
    """A whole number of days: ``1 day``, ``12 days``."""
    return none if n is None else quantity(n, "days")


def day(value: date | datetime | None, *, none: str = "") -> str:
    """An ISO date (a moment's calendar day where it was recorded)."""
    if value is None:
        return none
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def count(n: int, noun: str) -> str:
    """``1 known error``, ``2 known errors``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def better(lower_is_better: bool) -> str:
    """Which way is improvement, in words: ``lower is better``."""
    return "lower is better" if lower_is_better else "higher is better"


def better_word(lower_is_better: bool) -> str:
    """The short form for a table column: ``lower`` / ``higher``."""
    return "lower" if lower_is_better else "higher"
