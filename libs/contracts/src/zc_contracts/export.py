"""Contracts: write (or with --check, verify) the JSON Schema of every event under libs/contracts/schemas/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zc_contracts import Envelope, all_models

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def render() -> dict[str, str]:
    files = {"envelope.json": Envelope.model_json_schema()}
    for model in all_models():
        schema = model.model_json_schema()
        schema["$id"] = model.subject()
        files[f"{model.subject()}.json"] = schema
    return {name: json.dumps(s, ensure_ascii=False, indent=2, sort_keys=True) + "\n" for name, s in files.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the checked-in schemas differ")
    args = parser.parse_args()
    wanted = render()
    existing = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")} if SCHEMA_DIR.exists() else {}
    if args.check:
        stale = sorted(n for n in wanted.keys() | existing.keys() if wanted.get(n) != existing.get(n))
        if stale:
            sys.stderr.write("contract schemas are out of date (run `make schemas`): " + ", ".join(stale) + "\n")
            return 1
        sys.stderr.write(f"contract schemas up to date ({len(wanted)} files)\n")
        return 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in existing.keys() - wanted.keys():
        (SCHEMA_DIR / name).unlink()
    for name, text in wanted.items():
        (SCHEMA_DIR / name).write_text(text)
    sys.stderr.write(f"wrote {len(wanted)} schemas to {SCHEMA_DIR}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
