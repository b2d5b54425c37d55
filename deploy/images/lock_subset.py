"""The part of requirements.lock that some projects need: their dependency closure, pins and hashes unchanged.

The one lock pins the whole workspace (every service, the dev stack, the test and lint tools). An image installs
only what its own service needs: this walks uv's `# via` annotations (who requires each entry) from the given
projects, so the result is a sub-lock of the lock, never a new resolution. Our own packages are the lock's
`-e ./path` entries; their names come from `<root>/<path>/pyproject.toml`.

    python3 lock_subset.py requirements.lock --root . --project zc-applications \
        --requirements req.txt --local local.txt

writes the third-party entries (requirement line and `--hash` lines, for `pip install --require-hashes
--no-deps`) to req.txt and the paths of our own packages in the closure to local.txt. Standard library only: it
runs in the image's build stage with Debian's Python, before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Entry:
    name: str | None  # None: a local package whose pyproject.toml is not there
    lines: list[str]  # what pip reads: the requirement and its --hash continuation lines
    required_by: set[str] = field(default_factory=set)
    local_path: str | None = None


def parse_lock(text: str, root: Path) -> list[Entry]:
    entries: list[Entry] = []
    in_via = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():  # a new entry (or a top-level comment)
            in_via = False
            if line.startswith("#"):
                continue
            if line.startswith("-e "):
                path = line[3:].strip()
                pyproject = root / path / "pyproject.toml"
                name = None
                if pyproject.exists():
                    name = normalize(tomllib.loads(pyproject.read_text())["project"]["name"])
                entries.append(Entry(name, [line], local_path=path))
                continue
            match = _PIN.match(line)
            if match is None:
                raise ValueError(f"not a pinned requirement: {line!r}")
            entries.append(Entry(normalize(match.group(1)), [line]))
            continue
        if not entries:
            raise ValueError(f"continuation before any entry: {line!r}")
        text_part = line.strip()
        if text_part.startswith("# via"):
            rest = text_part[len("# via") :].strip()
            in_via = not rest
            if rest:
                entries[-1].required_by.add(rest)
        elif text_part.startswith("#"):
            if in_via:
                entries[-1].required_by.add(text_part.lstrip("#").strip())
        else:
            entries[-1].lines.append(line)
    for entry in entries:
        entry.required_by = {normalize(r) for r in entry.required_by if not r.startswith("-r ")}
    return entries


def closure(entries: list[Entry], projects: list[str]) -> list[Entry]:
    """The entries the projects need, in lock order. A requirement of an extra counts as soon as the package that
    has the extra is needed (the annotations do not say which extra): at worst a few packages too many."""
    by_name = {e.name: e for e in entries if e.name is not None}
    wanted = [normalize(p) for p in projects]
    missing = [p for p in wanted if p not in by_name]
    if missing:
        raise ValueError(f"not in the lock (or their pyproject.toml is missing): {', '.join(missing)}")
    needed: set[str] = set(wanted)
    queue = deque(wanted)
    while queue:
        parent = queue.popleft()
        for entry in entries:
            if parent not in entry.required_by:
                continue
            if entry.name is None:
                raise ValueError(f"{entry.local_path} is needed by {parent} but its pyproject.toml is not there")
            if entry.name not in needed:
                needed.add(entry.name)
                queue.append(entry.name)
    return [e for e in entries if e.name in needed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--root", type=Path, default=Path("."), help="where the lock's -e paths start")
    parser.add_argument("--project", action="append", required=True, help="a project name (repeatable)")
    parser.add_argument("--requirements", type=Path, required=True, help="out: third-party pins with hashes")
    parser.add_argument("--local", type=Path, help="out: paths of our own packages in the closure")
    args = parser.parse_args(argv)
    needed = closure(parse_lock(args.lock.read_text(), args.root), args.project)
    third_party = [e for e in needed if e.local_path is None]
    local = [e for e in needed if e.local_path is not None]
    unhashed = [e.name for e in third_party if not any("--hash=" in line for line in e.lines)]
    if unhashed:
        raise SystemExit(f"entries without hashes: {', '.join(n or '?' for n in unhashed)}")
    args.requirements.write_text("".join("\n".join(e.lines) + "\n" for e in third_party))
    if args.local is not None:
        args.local.write_text("".join(f"{e.local_path}\n" for e in local))
    elif local:
        raise SystemExit(f"local packages in the closure but no --local file: {[e.local_path for e in local]}")
    sys.stderr.write(f"{len(third_party)} pinned packages, {len(local)} local packages\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
