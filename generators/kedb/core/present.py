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
- dates are ISO 8601 (``2026-03-09``);
- a movement is judged in words, never by its sign alone: ``better by 7.5 pp``, ``worse by 2 days``,
  and every output that colours it takes the colour of the word from :data:`TONE`;
- money carries its currency symbol or code and no decimals: ``£10,220``, ``CHF 4,100``.
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


# ---------------------------------------------------------------- movement, standing and money
# The colour (RGB hex, no '#') of each judgement word, for every output that colours one: green
# for better, on track (a KPI meeting its target) and passing, amber for at risk (short of a target
# with time left, a control not yet operating), red for worse, missed and failing, grey for the
# rest. The word is always printed too, so the judgement survives black-and-white printing. Each
# colour reads at 4.5:1 or more on white.
TONE: dict[str, str] = {
    "better": "1E7B34",
    "on track": "1E7B34",
    "done": "1E7B34",
    "pass": "1E7B34",
    "at risk": "9A5B00",
    "worse": "B42318",
    "missed": "B42318",
    "overdue": "B42318",
    "fail": "B42318",
    "no change": "595959",
    "not measured": "7F7F7F",
    "no target": "7F7F7F",
    "not run": "7F7F7F",
}


def verdict(before: float | None, after: float | None, lower_is_better: bool) -> str:
    """``better``, ``worse``, ``no change`` or ``not measured``: which way a value moved, judged by its direction."""
    if before is None or after is None:
        return "not measured"
    if round(after - before, 9) == 0:
        return "no change"
    return "better" if (after < before) == lower_is_better else "worse"


def movement(before: float | None, after: float | None, unit: str, lower_is_better: bool, *, none: str = NONE) -> str:
    """A movement in words: ``better by 7.5 pp``, ``worse by 2 days``, ``no change``; ``none`` when not measured."""
    word = verdict(before, after, lower_is_better)
    if word == "not measured":
        return none
    if word == "no change":
        return word
    assert before is not None and after is not None
    return f"{word} by {change(abs(after - before), unit).lstrip('+')}"


def relative(before: float | None, after: float | None, *, decimals: int = 0, none: str = NONE) -> str:
    """The change as a share of where it started: ``-37 %``, ``+12 %`` (``-37.67 %`` with ``decimals=2``);
    ``none`` without both or from zero."""
    if before is None or after is None or before == 0:
        return none
    pct = round((after - before) / abs(before) * 100, decimals)
    text = number(pct, decimals=decimals)
    return f"{'+' if pct > 0 else ''}{text} %"


CURRENCY_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(amount: float | None, currency: str, *, none: str = NONE) -> str:
    """Whole units with the currency's symbol (``£10,220``) or its code (``CHF 4,100``)."""
    if amount is None:
        return none
    text = f"{round(amount):,}"
    symbol = CURRENCY_SYMBOL.get(currency)
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else symbol + text
    return f"{currency} {text}"


def duration(value: float | None, unit: str, *, decimals: int = 1, none: str = NONE) -> str:
    """A duration in the unit a reader takes in at a glance: ``45 min`` under two hours, ``43.3 h`` under
    two days, else ``1.8 days``; ``value`` is in ``unit`` (minutes, hours or days; other units as :func:`quantity`)."""
    if value is None:
        return none
    per = {"minutes": 1.0, "hours": 60.0, "days": 1440.0}.get(unit)
    if per is None:
        return quantity(value, unit, decimals=decimals)
    minutes = value * per
    if abs(minutes) < 120:
        return quantity(minutes, "minutes", decimals=decimals)
    if abs(minutes) < 2 * 1440:
        return quantity(minutes / 60, "hours", decimals=decimals)
    return quantity(minutes / 1440, "days", decimals=decimals)
