"""``kedb schema``: the JSON Schema of every file kind, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from ..core.reference import file_kinds

BASE_URL = "https://kedb.invalid/schema/"


def schema_of(name: str, model: type[BaseModel]) -> dict[str, object]:
    s = model.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{BASE_URL}{name}.schema.json", **s}


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in file_kinds().items():
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema_of(name, model), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
