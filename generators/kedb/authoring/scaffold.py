"""``kedb new``: write a new record from ``templates/new/`` with the next free id."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

from ..core.errors import UsageError
from ..core.kb import KB
from ..core.load.files import RECORD_DIR, RECORD_NAME
from ..core.resources import template_dirs

KINDS = {"known-error": "KE", "workaround": "WA", "problem": "PRB"}
_FM_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(.*)$")


def slugify(text: str, limit: int = 48) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return slug[:limit].rstrip("-") or "record"


def taken_numbers(root: Path, prefix: str) -> set[int]:
    """Numbers used by ``prefix`` in the work tree and, when it exists, on ``origin/main``."""
    nums: set[int] = set()
    base = root / RECORD_DIR
    if base.is_dir():
        for p in base.rglob(f"{prefix}-*.md"):
            m = RECORD_NAME.match(p.name)
            if m and m.group(1) == prefix:
                nums.add(int(m.group(2)))
    nums |= _numbers_on_ref(root, "origin/main", prefix)
    return nums


def _numbers_on_ref(root: Path, ref: str, prefix: str) -> set[int]:
    try:
        import git  # gitpython; imported here so `kedb check` does not pay for it

        repo = git.Repo(root, search_parent_directories=True)
        rel = root.resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()  # type: ignore[arg-type]
        path = f"{rel}/{RECORD_DIR}" if rel != "." else RECORD_DIR
        names = repo.git.ls_tree("-r", "--name-only", ref, "--", path).splitlines()
    except Exception:
        return set()
    out: set[int] = set()
    for n in names:
        m = RECORD_NAME.match(n.rsplit("/", 1)[-1])
        if m and m.group(1) == prefix:
            out.add(int(m.group(2)))
    return out


def next_id(root: Path, prefix: str) -> str:
    nums = taken_numbers(root, prefix)
    return f"{prefix}-{(max(nums) + 1) if nums else 1:04d}"


def create(
    kb: KB, kind: str, title: str, service: str, owner: str | None, today: date, link_to: str | None = None
) -> tuple[Path, list[str]]:
    """Write the new record; returns its path and notes about linked records that were updated."""
    import jinja2

    prefix = KINDS[kind]
    prog = kb.program
    if prog.services is not None and service not in prog.service_ids:
        raise UsageError(f"unknown service '{service}'; choose one of: {', '.join(sorted(prog.service_ids))}")
    if len(title.strip()) < 5:
        raise UsageError("the title needs at least 5 characters")
    if owner is None:
        assigned = [a.primary_owner for a in (prog.roles.assignments if prog.roles else []) if a.service == service]
        owner = assigned[0] if assigned else (prog.roles.maintainers[0] if prog.roles else None)
    if owner is None:
        raise UsageError("no owner given and none can be taken from content/roles.yml; pass --owner")
    if owner not in prog.people and prog.roles is not None:
        raise UsageError(f"owner '{owner}' is not a person in content/roles.yml")
    linked = None
    if link_to:
        linked = kb.records.get(link_to)
        if linked is None or not link_to.startswith("KE-"):
            raise UsageError(f"--for needs an existing, valid known error; '{link_to}' is not one")
    rid = next_id(kb.root, prefix)
    matrix = prog.triage.matrix if prog.triage else {}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dirs(kb.root, "new")[0]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["yaml"] = lambda s: json.dumps(str(s), ensure_ascii=False)
    text = env.get_template(f"{kind}.md.j2").render(
        id=rid,
        title=title.strip(),
        service=service,
        owner=owner,
        today=today.isoformat(),
        review_by=(today + timedelta(days=180)).isoformat(),
        signature=f"{service}:{slugify(title, 60)}",
        priority=matrix.get("medium", {}).get("medium", "P2"),
        applies_to=[link_to] if (kind == "workaround" and link_to) else [],
        known_errors=[link_to] if (kind == "problem" and link_to) else [],
    )
    path = kb.root / RECORD_DIR / f"{rid}-{slugify(title)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    notes: list[str] = []
    if linked is not None:
        if kind == "workaround":
            set_front_matter(kb.root / linked.source.path, "workarounds", rid, is_list=True)
            notes.append(f"added {rid} to {link_to}'s workarounds")
        elif kind == "problem":
            if linked.meta.problem:
                notes.append(f"{link_to} already names {linked.meta.problem} as its problem; not changed")
            else:
                set_front_matter(kb.root / linked.source.path, "problem", rid, is_list=False)
                notes.append(f"set {link_to}'s problem to {rid}")
    return path, notes


def set_front_matter(path: Path, key: str, value: str, *, is_list: bool) -> None:
    """Add ``value`` to a top-level front-matter key, keeping every other line as written."""
    lines = path.read_text(encoding="utf-8").split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    for i in range(1, end):
        m = _FM_KEY.match(lines[i])
        if not m or m.group(1) != key:
            continue
        rest = m.group(2).strip()
        if not is_list:
            lines[i] = f"{key}: {value}"
        elif rest.startswith("[") and rest.endswith("]"):
            items = [x.strip() for x in rest[1:-1].split(",") if x.strip()]
            lines[i] = f"{key}: [{', '.join([*items, value])}]"
        elif rest in ("", "null", "~"):
            j = i + 1
            while j < end and lines[j].startswith((" ", "-")):
                j += 1
            indent = "  "
            if j > i + 1:
                indent = lines[i + 1][: len(lines[i + 1]) - len(lines[i + 1].lstrip())]
            lines.insert(j, f"{indent}- {value}")
            if rest in ("null", "~"):
                lines[i] = f"{key}:"
        else:
            raise UsageError(f"cannot add {value} to '{key}' in {path.name}: edit it by hand")
        break
    else:
        lines.insert(end, f"{key}: [{value}]" if is_list else f"{key}: {value}")
    path.write_text("\n".join(lines), encoding="utf-8")
