"""Findings and the rule registry: every problem kedb reports has a stable code and a place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem in one file: ``path:line: CODE name: message``."""

    path: str
    line: int
    code: str
    message: str

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def severity(self) -> Severity:
        return RULES[self.code].severity

    def format(self) -> str:
        """The finding as one line of text, safe to print: control characters are shown as escapes."""
        r = self.rule
        return shown(f"{self.path}:{self.line}: {self.code} {r.name} ({r.severity.value}): {self.message}")


# What a terminal acts on instead of showing: C0 controls but the tab, C1 controls (ESC starts
# colour and cursor sequences, CR and backspace overwrite, a newline would fake another finding),
# DEL, line and paragraph separators, and the bidi embeddings, overrides and isolates (they
# reorder what follows on the line).
_UNSHOWN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def shown(text: str, keep: str = "") -> str:
    """``text`` as kedb prints it: every control character written as an escape (ESC as ``\\x1b``),
    except those in ``keep`` (a multi-line message keeps its ``\\n``).

    Findings and error messages quote what records and ticket exports say; a value crafted with
    ESC sequences or a right-to-left override must not rewrite the reader's terminal."""
    if _UNSHOWN.search(text) is None:
        return text
    return _UNSHOWN.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


E, W = Severity.ERROR, Severity.WARNING

_RULES: list[Rule] = [
    Rule("KE000", "internal-error", E, "kedb itself failed on this file; the message says what to report."),
    # KE0xx — the file and its YAML
    Rule("KE001", "not-utf8", E, "The file is not valid UTF-8 text."),
    Rule("KE002", "no-front-matter", E, "A record must start with a `---` line opening its YAML front-matter."),
    Rule(
        "KE003",
        "unterminated-front-matter",
        E,
        "The front-matter has no closing `---` line (a `...` line ends a YAML document, not the front-matter).",
    ),
    Rule("KE004", "yaml-syntax", E, "The YAML cannot be parsed."),
    Rule("KE005", "duplicate-key", E, "A key appears twice in the same mapping; YAML would silently keep one."),
    Rule("KE006", "yaml-tag", E, "Explicit YAML tags (`!!python/...`, `!!str`, `!custom`) are not allowed."),
    Rule("KE007", "yaml-anchor", E, "YAML anchors (`&a`) and aliases (`*a`) are not allowed; write values out."),
    Rule("KE008", "yaml-merge-key", E, "YAML merge keys (`<<:`) are not allowed; write keys out."),
    Rule(
        "KE009",
        "multiple-documents",
        E,
        "Only one YAML document is allowed per file: nothing may follow a `---` or `...` line that ends the YAML, "
        "or it would be silently dropped.",
    ),
    Rule("KE010", "not-a-mapping", E, "The front-matter (or data file) must be a mapping of `key: value` lines."),
    Rule("KE011", "tab-indentation", E, "Tabs are not allowed for indentation in YAML; use spaces."),
    Rule("KE012", "unexpected-file", W, "A file under known_errors/ is not named like a record (KE-/WA-/PRB-NNNN-slug.md)."),
    Rule("KE013", "missing-program-file", E, "A required program data file in content/ is missing."),
    Rule(
        "KE014",
        "symlink",
        E,
        "A file or folder under known_errors/, content/ or templates/ is a symbolic link; kedb reads and publishes only "
        "real files (a link can point outside the KB, and the gate cannot judge what it points to).",
    ),
    Rule(
        "KE015",
        "unpublished-file",
        W,
        "A file under content/ that kedb neither reads nor publishes (only playbooks and the images and PDFs of "
        "content/assets/ are published), or an asset of a refused type (SVG, HTML) or whose bytes are not what its name says.",
    ),
    Rule(
        "KE016",
        "special-file",
        E,
        "A file under known_errors/, content/ or templates/ is a named pipe, device or socket; kedb never opens it "
        "(reading it could wait for ever).",
    ),
    # KE1xx — schema
    Rule("KE101", "missing-field", E, "A required field is missing."),
    Rule("KE102", "unknown-field", E, "A field is not part of the schema (typo?)."),
    Rule("KE103", "invalid-value", E, "A field has a value outside the allowed list."),
    Rule("KE104", "wrong-type", E, "A field has the wrong type (text, number, list, mapping, true/false)."),
    Rule("KE105", "invalid-date", E, "A date is not a real calendar date in YYYY-MM-DD form."),
    Rule("KE106", "invalid-format", E, "A value does not match the required format (ids, signatures, lengths, ranges)."),
    Rule("KE107", "missing-section", E, "A required body section (`## Heading`) is missing or empty."),
    Rule(
        "KE108",
        "control-character",
        E,
        "Text contains a control character that would corrupt outputs or a terminal (C0 and C1 controls, DEL, line and "
        "paragraph separators, bidirectional overrides and isolates), written as it is or as an escape in a double-quoted "
        "YAML value (`\\e`, `\\x0b`, `\\u202e`).",
    ),
    Rule(
        "KE109",
        "text-before-first-section",
        E,
        "A record has text before its first `## ` heading. Records are shown section by section, so that text would be in "
        "no output; put it under a section. (A playbook's page shows its whole body, so playbooks may open with text.)",
    ),
    # KE2xx — ids and links
    Rule("KE201", "filename-mismatch", E, "The file name does not start with the record id."),
    Rule("KE202", "duplicate-id", E, "Two records have the same id."),
    Rule("KE203", "broken-link", E, "A link points to a record that does not exist or is of the wrong kind."),
    Rule("KE204", "one-way-link", E, "A link is not mirrored by the record it points to."),
    Rule("KE205", "unknown-service", E, "The service is not in the taxonomy in content/services.yml."),
    Rule("KE206", "unknown-person", W, "An owner or approver is not listed in content/roles.yml."),
    Rule("KE207", "unknown-tenant", W, "A tenant is not listed in content/kedb.yml."),
    Rule("KE208", "link-to-retired", W, "A live record links to a retired record."),
    # KE3xx — lifecycle and status-dependent requirements
    Rule("KE301", "published-without-workaround", E, "A published known error needs a verified workaround or `no_workaround_reason`."),
    Rule(
        "KE302",
        "problem-stage-incomplete",
        E,
        "A problem's status needs its stage's fields: root cause and its date from `root-cause-identified`, `fix_proposal` from `fix-proposed`, `closed_on` when closed.",
    ),
    Rule("KE303", "rollback-missing", E, "A medium- or high-risk workaround needs a `## Rollback` section."),
    Rule("KE304", "high-impact-without-approvers", E, "A high-impact record belongs to a service with no approvers in content/roles.yml."),
    Rule("KE305", "stale-record", W, "The record's `review_by` date has passed."),
    Rule("KE306", "priority-mismatch", W, "The priority differs from the triage matrix for this impact and urgency."),
    Rule("KE307", "date-order", E, "Dates are out of order (e.g. review before creation, root cause before opening)."),
    Rule("KE308", "retired-without-reason", E, "A retired record needs `retired_reason` (and `superseded_by` where one exists)."),
    Rule("KE309", "fix-incomplete", E, "The fix status needs its change reference and dates."),
    Rule("KE310", "unverified-workaround", W, "A published workaround has no verification (`verified_by`, `verified_on`)."),
    Rule(
        "KE311",
        "template-text-left",
        E,
        "A record in review or published (a problem from `investigating` until closed) still has a line of the `kedb new` "
        "template's guidance (templates/new/); write the record's own text, above all the reply to the customer.",
    ),
    # KE4xx — secrets and personal data
    Rule("KE401", "secret", E, "Text looks like a password, token, private key, connection string or credential."),
    Rule("KE402", "email-address", E, "An e-mail address that is not in the allowlist in content/kedb.yml."),
    Rule("KE403", "phone-number", E, "A phone number that is not in the allowlist in content/kedb.yml."),
    # KE5xx — unsafe body content
    Rule("KE501", "raw-html", E, "Raw HTML is not allowed in record bodies; use Markdown."),
    Rule("KE502", "unsafe-link", E, "`javascript:`, `vbscript:` and `data:` links are not allowed."),
    Rule("KE503", "event-attribute", E, "`on*=` attributes (attr_list) are not allowed."),
    Rule("KE504", "include-directive", E, "Snippet/include directives (`--8<--`, `{% include %}`) are not allowed in records."),
    Rule("KE505", "html-comment", E, "HTML comments hide text from reviewers; remove them."),
    Rule(
        "KE506",
        "attribute-list",
        E,
        "An attribute list that sets attributes (`{: style=... }`): kedb renders CommonMark, where it is text, and MkDocs' "
        "attr_list would let it restyle or cover the page.",
    ),
    Rule(
        "KE507",
        "image-not-shown",
        W,
        "An image the site does not show: one on another host (shown as a link, never fetched) or one that is not an "
        "image of content/assets/ (.png, .jpg, .jpeg, .gif, .webp).",
    ),
    # KE6xx — size
    Rule("KE601", "file-too-large", E, "The file is larger than the limit in content/kedb.yml."),
    Rule("KE602", "line-too-long", W, "A line is longer than the limit in content/kedb.yml."),
    # KE7xx — program data consistency
    Rule("KE701", "program-reference", E, "Program data refers to something that is not defined (person, service, role, priority)."),
    Rule("KE702", "kpi-missing", E, "A KPI the program is judged by has no definition in content/kpis.yml."),
    Rule("KE703", "duplicate-program-id", E, "Two entries in program data have the same id."),
    Rule("KE704", "program-gap", E, "Program data leaves a gap (a triage-matrix cell, a day of the 30-day rhythm)."),
    Rule(
        "KE705",
        "snapshot-name",
        E,
        "A stored snapshot (content/kpi/, content/audits/) is not named after its period or date, or not in its week or tenant folder.",
    ),
    # KE71x — the candidate decision log (content/decisions.yml)
    Rule(
        "KE711",
        "decision-repeated",
        E,
        "A signature is rejected again while its rejection stands (not reinstated, volume not grown past the regrowth factor), "
        "a reinstatement has no rejection to lift, or a problem is logged as missed twice.",
    ),
    Rule("KE712", "decision-date", E, "A decision is dated after the day of the check, or before the decision above it."),
    Rule(
        "KE713",
        "rejected-problem",
        E,
        "A problem a rejection ends is still open or has a root-cause date (it would count into mean time to root cause).",
    ),
    # KE72x — the progression policy (content/progression.yml) against the importer's status classes
    Rule("KE721", "unknown-stage", E, "The progression policy names a stage that is not defined under `stages`."),
    Rule("KE722", "stage-gap", E, "An open status class (new, open, pending, resolved) has no default stage, hence no threshold."),
    Rule("KE723", "stage-class-mismatch", E, "A status is mapped to a stage of another class than its source's mapping gives it."),
    Rule("KE724", "unknown-status", W, "A status listed for a source is not in that source's built-in mapping (only a --map can add it)."),
    Rule("KE725", "progression-range", E, "Working hours end before they start, age buckets do not increase, or a threshold is zero."),
    # KE8xx — rules that need git: a base revision (--base) or the history of main (--approvals)
    Rule("KE801", "id-collision-with-base", E, "A record added here has an id that the base branch already gave to another record."),
    Rule("KE802", "published-record-deleted", E, "A record published on the base branch is deleted; retire it instead."),
    Rule("KE803", "status-skips-review", E, "A status change skips a state (draft straight to published, a problem jumping steps)."),
    Rule("KE804", "illegal-status-transition", E, "A status change that the lifecycle does not allow (e.g. published back to draft)."),
    Rule(
        "KE810",
        "approval-missing",
        E,
        "A change to a live high-impact record (before or after it) landed on main without an Approved-by: trailer.",
    ),
    Rule(
        "KE811",
        "approval-unauthorised",
        E,
        "No Approved-by: trailer names an approver of the record's service (of both services, when it moved) "
        "in the policy in force before the change.",
    ),
    Rule("KE812", "self-approved", E, "The only authorised approval came from an author of the change."),
    Rule(
        "KE813",
        "version-unreadable",
        E,
        "kedb cannot read a version of a record (git cannot return it, its front-matter does not parse, it is a symlink) "
        "or the policy in force before it, so the gate cannot judge it: it never passes.",
    ),
    Rule(
        "KE814",
        "maintainer-approval-missing",
        E,
        "A change to files that are not records (content/, generators, templates, CI, build files) landed on main "
        "without the approval of a maintainer who did not write it.",
    ),
    Rule(
        "KE815",
        "approval-gate-moved",
        E,
        "approvals_since in content/kedb.yml is set in the future or moved later than it was: changes would escape the gate.",
    ),
    Rule(
        "KE816",
        "author-unknown",
        W,
        "An author of a change that needed an approval is not in content/roles.yml, so kedb cannot tell whether they "
        "are also its approver.",
    ),
    Rule(
        "KE818",
        "approval-gate-not-started",
        W,
        "content/kedb.yml sets no approvals_since, so the approval gate has not started: every change counts as before it.",
    ),
    Rule(
        "KE817",
        "approval-unsigned",
        E,
        "In signed mode, the commit carrying Approved-by: is not signed by the platform's merge key or by the approver "
        "(keys in content/allowed_signers).",
    ),
    Rule(
        "KE819",
        "reply-approval-missing",
        E,
        "A change to the customer reply of a live P1 or risk-tagged known error (before or after it) landed on main "
        "without the approval of a holder of each role that approves the reply (the incident lead for P1, each risk "
        "tag's approver_role in content/triage.yml) in the policy in force before the change.",
    ),
    # KE9xx — the site engine
    Rule(
        "KE901",
        "site-engine",
        W,
        "The KB would be built by an engine that does not run the kedb plugin (mkdocs.yml without it, Zensical, MkDocs 2): "
        "that build publishes no records.",
    ),
]

RULES: dict[str, Rule] = {r.code: r for r in _RULES}


def rule_table_markdown() -> str:
    """The rule reference as a Markdown table (embedded in the README; a test keeps it complete)."""
    lines = ["| Code | Name | Severity | What it means |", "|---|---|---|---|"]
    for r in _RULES:
        summary = r.summary.replace("|", "\\|")
        lines.append(f"| `{r.code}` | `{r.name}` | {r.severity.value} | {summary} |")
    return "\n".join(lines)
