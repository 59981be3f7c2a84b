"""The searchable knowledge-base site (MkDocs-Material), without MkDocs.

- :mod:`.pages` renders every page as Markdown from the Jinja templates in ``templates/site/``;
- :mod:`.text` keeps record text inert (escaping, safe rendering of record bodies);
- :mod:`.search` and :mod:`.searchindex` write the record index (:mod:`kedb.search`) and what results show;
- :mod:`.feed`, :mod:`.charts`, :mod:`.kpis`, :mod:`.downloads`, :mod:`.views` supply the parts.

:mod:`kedb.site.plugin` hands the result to MkDocs; :mod:`kedb.site.render` runs MkDocs
for ``kedb build``; :mod:`kedb.site.zensical` hands the same pages to Zensical for
``kedb build --engine zensical``.
"""
