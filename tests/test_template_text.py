"""KE311 template-text-left: guidance from ``templates/new/`` left in a record that is up for review.

Records are written by ``kedb new`` into a copy of the base KB, so the lines tested are the real
shipped templates' lines at the line numbers ``kedb new`` gives them; only the status (and what a
test edits on purpose) is changed by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kbtest import kedb
from kedb.check.rules import template_guidance
from kedb.check.run import Report, run
from kedb.core.findings import RULES, Severity

AS_OF = date(2026, 11, 22)
KE_LINES = [33, 34, 38, 42, 46, 50, 51]  # every guidance line of templates/new/known-error.md.j2, as `kedb new` writes it
REPLY = (
    "## Reply to customer still has the template's text: 'A short, plain message the agent can send: what is happenin…'; "
    "write the reply the customer will receive"
)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kedb new` dates the record today; pin today so created and review_by are the same on every run."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2026, 11, 22, tzinfo=UTC).timestamp())))


def new(kb: Path, kind: str, title: str, *extra: str) -> Path:
    res = kedb("--root", str(kb), "new", kind, "--title", title, "--service", "m365-mail", *extra)
    assert res.exit_code == 0, res.output + res.stderr
    return kb / res.stdout.strip()


def set_status(path: Path, status: str, *add: str) -> None:
    """Replace the first ``status:`` line (the record's); ``add`` goes into the front-matter after it."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition("\nstatus: ")
    _, _, rest = rest.partition("\n")
    path.write_text("\n".join([head, f"status: {status}", *add, rest]), encoding="utf-8")


def replace_line(path: Path, line: int, new_text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = new_text
    path.write_text("\n".join(lines), encoding="utf-8")


def check(kb: Path) -> Report:
    return run(kb, AS_OF, use_cache=False)


def left(report: Report, path: Path) -> list[int]:
    """Lines of ``path`` with a KE311 finding, in order."""
    rel = path.relative_to(report.kb.root).as_posix()
    return [f.line for f in report.findings if f.code == "KE311" and f.path == rel]


def message(report: Report, path: Path, line: int) -> str:
    rel = path.relative_to(report.kb.root).as_posix()
    (msg,) = [f.message for f in report.findings if f.code == "KE311" and f.path == rel and f.line == line]
    return msg


def test_rule_is_registered_as_an_error() -> None:
    assert RULES["KE311"].name == "template-text-left"
    assert RULES["KE311"].severity is Severity.ERROR


@pytest.mark.parametrize("status", ["in-review", "published"])
def test_known_error_up_for_review_with_the_template_text(base_kb: Path, status: str) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, status)
    replace_line(ke, 24, "no_workaround_reason: The vendor has no workaround yet.")  # was `problem: null`; keeps the lines
    report = check(base_kb)
    assert left(report, ke) == KE_LINES
    assert message(report, ke, 50) == REPLY
    assert message(report, ke, 51) == (
        "## Reply to customer still has the template's text: 'the customer will hear from us next.'; "
        "write the reply the customer will receive"
    )
    assert message(report, ke, 33) == (
        "## Symptoms still has the template's text: 'Describe what the user sees and the exact error text, codes…'; "
        "replace it with this record's own text"
    )
    # Nothing else is wrong with the record: the template text is the only reason it fails.
    others = [f for f in report.findings if f.code != "KE311"]
    assert others == [], others
    assert f"{ke.relative_to(base_kb).as_posix()}:50: KE311 template-text-left (error): {REPLY}" in {f.format() for f in report.findings}


def test_draft_with_the_template_text_is_not_reported(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    report = check(base_kb)
    assert report.kb.records["KE-0002"].meta.status == "draft"
    assert left(report, ke) == []
    assert report.findings == ()


def test_retired_record_is_not_reported(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "retired", "retired_reason: Duplicate of KE-0001.")
    assert left(check(base_kb), ke) == []


def test_written_reply_is_not_reported(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "in-review")
    replace_line(ke, 50, "Printing from Outlook stops after this month's update. We are rolling back the driver")
    replace_line(ke, 51, "and will write to you again by 17:00 today.")
    assert left(check(base_kb), ke) == [33, 34, 38, 42, 46]


def test_line_that_only_partly_matches_is_not_reported(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "in-review")
    # The template's first reply line with the end rewritten, and a template line with text added.
    replace_line(ke, 50, "A short, plain message the agent can send: what is happening, what we are doing, and")
    replace_line(ke, 46, "Where the permanent fix stands; keep `fix.status` above in step with it. CHG0042 is approved.")
    replace_line(ke, 38, "What is known about the cause so far.")
    assert left(check(base_kb), ke) == [33, 34, 42, 51]


def test_rewrapped_paragraph_is_still_the_template_text(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "in-review")
    replace_line(
        ke,
        50,
        "A short, plain message the agent can send: what is happening, what we are doing, and when the customer will hear from us next.",
    )
    replace_line(ke, 51, "")
    report = check(base_kb)
    assert left(report, ke) == [33, 34, 38, 42, 46, 50]
    assert message(report, ke, 50) == REPLY


def test_template_text_quoted_in_a_code_block_is_not_reported(base_kb: Path) -> None:
    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "in-review")
    replace_line(ke, 51, "")
    replace_line(ke, 50, "Our reply template used to say:\n\n```text\nthe customer will hear from us next.\n```")
    assert left(check(base_kb), ke) == [33, 34, 38, 42, 46]


def test_workaround_steps_are_found_even_renumbered(base_kb: Path) -> None:
    wa = new(base_kb, "workaround", "Clear the Outlook credential cache", "--for", "KE-0001")
    set_status(wa, "in-review")
    replace_line(wa, 22, "1. Close Outlook and open Credential Manager.")
    replace_line(wa, 23, "3.  Write each step as one action an agent can follow and check.")
    report = check(base_kb)
    assert left(report, wa) == [23, 27, 31]
    assert message(report, wa, 23) == (
        "## Steps still has the template's text: '3.  Write each step as one action an agent can follow and c…'; "
        "replace it with this record's own text"
    )


@pytest.mark.parametrize(("status", "lines"), [("candidate", []), ("investigating", [27]), ("closed", [])])
def test_problem_from_investigating_until_closed(base_kb: Path, status: str, lines: list[int]) -> None:
    prb = new(base_kb, "problem", "Credential prompts keep coming back", "--for", "KE-0001")
    if status != "candidate":
        set_status(prb, status)
    report = check(base_kb)
    assert report.kb.records["PRB-0002"].meta.status == status
    assert left(report, prb) == lines
    if lines:
        assert message(report, prb, 27) == (
            "## Problem statement still has the template's text: 'What keeps happening, to whom, how often, and what it costs…'; "
            "replace it with this record's own text"
        )


OWN_TEMPLATE_BODY = """
## Symptoms

Paste the caller's exact words and error text here, please.
{{ title }} is what the caller reported to the desk
- TBD

## Reply to customer

Dear customer, we are looking into it and will be in touch.
"""


def test_a_kb_template_of_its_own_decides_what_is_template_text(base_kb: Path) -> None:
    shipped = (Path(__file__).resolve().parents[1] / "templates" / "new" / "known-error.md.j2").read_text(encoding="utf-8")
    front = shipped[: shipped.index("\n---\n") + 5]
    own = base_kb / "templates" / "new" / "known-error.md.j2"
    own.parent.mkdir(parents=True)
    own.write_text(front + OWN_TEMPLATE_BODY, encoding="utf-8")

    ke = new(base_kb, "known-error", "Printer queue stalls after update")
    set_status(ke, "in-review")
    lines = ke.read_text(encoding="utf-8").split("\n")
    assert lines[32] == "Paste the caller's exact words and error text here, please."
    # The shipped template's reply, pasted into this KB, is not this KB's template text.
    replace_line(ke, 35, "A short, plain message the agent can send: what is happening, what we are doing, and when")
    report = check(base_kb)
    # 33: the KB's own guidance; 34: rendered from Jinja (the title), not guidance; 35: the shipped
    # template's line, not this KB's; 39: the KB's own reply text.
    assert left(report, ke) == [33, 39]
    assert message(report, ke, 39) == (
        "## Reply to customer still has the template's text: 'Dear customer, we are looking into it and will be in touch.'; "
        "write the reply the customer will receive"
    )
    assert template_guidance(base_kb, "known-error").lines == {
        "Paste the caller's exact words and error text here, please.",
        "Dear customer, we are looking into it and will be in touch.",
    }
    # The other kinds still come from the shipped templates.
    assert "How the agent confirms that service is restored." in template_guidance(base_kb, "workaround").lines


def test_editing_the_kb_template_is_seen_by_the_next_check(base_kb: Path) -> None:
    own = base_kb / "templates" / "new" / "problem.md.j2"
    own.parent.mkdir(parents=True)
    own.write_text("---\nid: {{ id }}\n---\n\n## Problem statement\n\nSay what keeps happening here.\n", encoding="utf-8")
    assert template_guidance(base_kb, "problem").lines == {"Say what keeps happening here."}
    own.write_text("---\nid: {{ id }}\n---\n\n## Problem statement\n\nSay what keeps happening, and to whom.\n", encoding="utf-8")
    assert template_guidance(base_kb, "problem").lines == {"Say what keeps happening, and to whom."}
