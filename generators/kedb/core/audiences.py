"""The editions a build is for, in a module of their own: the CLI names them in its options, and it
must not import the record models (pydantic) to start (``kedb search`` answers in a fraction of a second).
Confidential records are in no edition."""

from __future__ import annotations

AUDIENCES: tuple[str, ...] = ("internal", "public")
