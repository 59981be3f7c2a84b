"""The site renderer: builds the whole MkDocs-Material site into ``out_dir``.

It runs MkDocs with the KB's own ``mkdocs.yml`` (or, for a KB without one, the default in
``templates/site/mkdocs.yml``) and hands the ``kedb`` plugin the build context that
``kedb build`` already made, so the site is the one ``mkdocs build`` gives, with the
artefacts of this build (``ctx.downloads_dir``) linked and copied into ``downloads/``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..build.context import BuildContext
from ..core.errors import EnvironmentProblem, KedbError
from ..core.resources import find_template


def config_file(root: Path) -> Path:
    own = root / "mkdocs.yml"
    return own if own.is_file() else find_template(root, "site/mkdocs.yml")


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    from .plugin import KedbPlugin

    root = ctx.kb.root
    cfg_path = config_file(root)
    overrides: dict[str, str] = {"site_dir": str(Path(out_dir).resolve())}
    if cfg_path.parent.resolve() != root.resolve():
        overrides["docs_dir"] = str((root / "content").resolve())
    try:
        cfg = load_config(config_file=str(cfg_path), **overrides)
    except ConfigurationError as e:
        raise EnvironmentProblem(f"{cfg_path}: {e}") from e
    plugin = next((p for p in cfg.plugins.values() if isinstance(p, KedbPlugin)), None)
    if plugin is None:
        raise EnvironmentProblem(f"{cfg_path} does not list the kedb plugin (plugins: [search, tags, kedb])")
    plugin.preset = ctx
    plugin.config.root = str(root)
    errors = _ErrorLog()
    logging.getLogger("mkdocs").addHandler(errors)
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    except Abort as e:
        raise KedbError(f"the site build failed: {e}" + "".join(f"\n  {m}" for m in errors.messages)) from None
    except Exception as e:
        for m in errors.messages:  # MkDocs' own words, e.g. "Error building page 'known-errors/KE-0001.md': ..."
            e.add_note(m)
        raise
    finally:
        cfg.plugins.on_shutdown()
        logging.getLogger("mkdocs").removeHandler(errors)
        plugin.preset = None
    return Path(out_dir)


class _ErrorLog(logging.Handler):
    """Keeps MkDocs' warnings and errors so a failed build can say why."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
