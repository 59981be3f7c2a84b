"""The rules and the check run: ``kedb check`` (``run``), the record and program rules (``rules``)
and the progression-policy rules (``progression``)."""
