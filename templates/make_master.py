"""Write ``templates/master.pptx``: the slide master of the executive brief.

A 16:9 master with a brand band, brand-coloured titles and the usual layouts ("Title Slide",
"Title and Content", "Title Only", "Two Content", "Blank"). The brief renderer opens it and
adds its slides on these layouts, so a team can brand the deck by editing the master in
PowerPoint or LibreOffice Impress (View, Slide Master), saving and committing it; no code
changes are needed. Rebuild the committed file byte for byte with
``.venv/bin/python templates/make_master.py``.
"""

from __future__ import annotations

import copy
import sys
from datetime import UTC, datetime
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "generators"))

from kedb.renderers._zip import normalise  # noqa: E402

BRAND = RGBColor(0x1F, 0x4E, 0x79)
ACCENT = RGBColor(0x2E, 0x75, 0xB6)
STAMP = datetime(2026, 1, 1, tzinfo=UTC)
WIDE, HIGH = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in


def _widen(shapes, factor: float) -> None:  # type: ignore[no-untyped-def]
    """Stretch shapes that have their own position (layout placeholders without one inherit the master's)."""
    for sh in shapes:
        if sh._element.spPr.find(qn("a:xfrm")) is not None:
            sh.left, sh.width = Emu(int(sh.left * factor)), Emu(int(sh.width * factor))


def build(out: Path) -> Path:
    prs = Presentation()
    factor = WIDE / prs.slide_width
    prs.slide_width, prs.slide_height = WIDE, HIGH
    master = prs.slide_master
    _widen(master.placeholders, factor)
    for layout in master.slide_layouts:
        _widen(layout.placeholders, factor)

    # Shapes cannot be added to a master through python-pptx: draw them on a scratch slide
    # and move their XML into the master's shape tree, behind the placeholders.
    scratch = prs.slides.add_slide(master.slide_layouts[6])
    band = scratch.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDE, Emu(180000))
    rule = scratch.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, HIGH - Emu(90000), WIDE, Emu(90000))
    for shape, color in ((band, BRAND), (rule, ACCENT)):
        shape.fill.solid()
        shape.fill.fore_color.rgb = color
        shape.line.fill.background()
        shape.shadow.inherit = False
    tree = master.shapes._spTree
    for i, shape in enumerate((band, rule)):
        el = copy.deepcopy(shape._element)
        el.find(qn("p:nvSpPr")).find(qn("p:cNvPr")).set("name", ("Brand band", "Brand rule")[i])
        tree.insert(2 + i, el)
    rid = prs.slides._sldIdLst[0].get(qn("r:id"))
    prs.part.drop_rel(rid)
    prs.slides._sldIdLst.remove(prs.slides._sldIdLst[0])

    # Title colour and size for every layout, from the master's text styles.
    title_style = master._element.find(qn("p:txStyles")).find(qn("p:titleStyle"))
    rpr = title_style.find(qn("a:lvl1pPr")).find(qn("a:defRPr"))
    rpr.set("sz", str(int(Pt(30).pt * 100)))
    rpr.set("b", "1")
    for old in rpr.findall(qn("a:solidFill")):
        rpr.remove(old)
    fill = rpr.makeelement(qn("a:solidFill"), {})
    clr = fill.makeelement(qn("a:srgbClr"), {"val": str(BRAND)})
    fill.append(clr)
    rpr.insert(0, fill)

    core = prs.core_properties
    core.author = core.last_modified_by = "kedb"
    core.title = "Executive brief (master)"
    core.revision = 1
    core.created = core.modified = STAMP.replace(tzinfo=None)
    prs.save(str(out))
    return normalise(out, STAMP)


if __name__ == "__main__":
    print(build(HERE / "master.pptx"))
