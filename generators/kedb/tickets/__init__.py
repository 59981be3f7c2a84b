"""Ticket exports → symptom signatures, problem candidates and KPI snapshots.

``importer`` reads an export (via ``reader`` and a ``mapping``) into the local DuckDB store
(``store``); ``candidates`` applies the recurrence rules of ``content/recurrence.yml`` to it
and ``drafts`` writes candidate problem records; ``kpi`` computes a month's figures and
writes ``content/kpi/YYYY-MM.yml``. Raw ticket text never leaves the export: the store keeps
ids, dates, counts, categories and extracted error codes, and the repository only aggregates
and ticket ids.
"""
