"""Where the artefacts' masters and fonts come from.

Masters (``reference.docx``, ``master.pptx``) are looked up in the KB's own ``templates/``
first, so a team can brand its documents by committing its own, then in the templates kedb
ships with. Fonts for the PDF are TrueType files from the system (Debian packages
``fonts-dejavu-core`` and ``fonts-wqy-microhei``, installed by ``.ci/install-system-deps.sh``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..core.errors import EnvironmentProblem

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts", Path.home() / ".fonts")

# (file name, sub-font index in a collection); the first one found is used. Only TrueType
# outlines: reportlab cannot embed CFF-based OpenType fonts (Noto Sans CJK is CFF).
FONTS: dict[str, tuple[tuple[str, int], ...]] = {
    "sans": (("DejaVuSans.ttf", 0),),
    "sans-bold": (("DejaVuSans-Bold.ttf", 0),),
    "mono": (("DejaVuSansMono.ttf", 0),),
    "cjk": (("wqy-microhei.ttc", 0), ("wqy-zenhei.ttc", 0), ("DroidSansFallbackFull.ttf", 0)),
}
PACKAGES = {"sans": "fonts-dejavu-core", "sans-bold": "fonts-dejavu-core", "mono": "fonts-dejavu-core", "cjk": "fonts-wqy-microhei"}


@cache
def find_font(role: str) -> tuple[Path, int] | None:
    for name, index in FONTS[role]:
        for base in FONT_DIRS:
            if not base.is_dir():
                continue
            hits = sorted(base.rglob(name))
            if hits:
                return hits[0], index
    return None


def require_font(role: str) -> tuple[Path, int]:
    found = find_font(role)
    if found is None:
        names = ", ".join(n for n, _ in FONTS[role])
        raise EnvironmentProblem(
            f"the proof PDF needs the font {names} to embed ({role}); install the Debian package {PACKAGES[role]} "
            "(`bash .ci/install-system-deps.sh build` does)"
        )
    return found
