"""The site renderer: builds the whole MkDocs-Material site into ``out_dir``.

It runs MkDocs with the KB's own ``mkdocs.yml`` (or, for a KB without one, the default in
``templates/site/mkdocs.yml``) and hands the ``kedb`` plugin the build context that
``kedb build`` already made, so the site is the one ``mkdocs build`` gives, with the
artefacts of this build (``ctx.downloads_dir``) linked and copied into ``downloads/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..build.context import BuildContext
from ..core.errors import EnvironmentProblem, KedbError
from ..core.resources import find_template
from . import urls

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig


def config_file(root: Path) -> Path:
    own = root / "mkdocs.yml"
    return own if own.is_file() else find_template(root, "site/mkdocs.yml")


def load(root: Path, **overrides: str) -> MkDocsConfig:
    """The MkDocs configuration of the KB at ``root`` (:func:`config_file`), as ``mkdocs build`` reads it."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    cfg_path = config_file(root)
    if cfg_path.parent.resolve() != Path(root).resolve():
        overrides.setdefault("docs_dir", str((Path(root) / "content").resolve()))
    try:
        return load_config(config_file=str(cfg_path), **overrides)
    except ConfigurationError as e:
        raise EnvironmentProblem(f"{cfg_path}: {e}") from e


@dataclass(frozen=True)
class Published:
    """What the site ``kedb build`` makes of a KB calls itself and where it puts record pages, as its
    mkdocs.yml says (``site_name``, ``site_url``, ``use_directory_urls``): ``kedb mcp`` answering from
    the KB names and links records as the site does."""

    name: str
    urls: urls.Urls
    site_url: str | None

    def record_url(self, record_id: str) -> str:
        return urls.absolute(self.site_url, self.urls.url(urls.record_src(record_id)))


def published(root: Path) -> Published:
    cfg = load(root)
    return Published(cfg.site_name, urls.Urls(cfg.use_directory_urls), cfg.site_url or None)


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from mkdocs.commands.build import build
    from mkdocs.exceptions import Abort

    from .plugin import KedbPlugin

    root = ctx.kb.root
    cfg_path = config_file(root)
    cfg = load(root, site_dir=str(Path(out_dir).resolve()))
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
