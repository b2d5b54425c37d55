"""DB layer: run a service's Alembic history programmatically (dev stack, tests, the k8s migrate Job)."""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(migrations_dir: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """`alembic upgrade head`. Runs in a thread because env.py calls asyncio.run()."""
    error: list[BaseException] = []

    def work() -> None:
        try:
            command.upgrade(alembic_config(migrations_dir, url), revision)
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    t = threading.Thread(target=work, name="alembic-upgrade")
    t.start()
    t.join()
    if error:
        raise error[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply a service's migrations")
    parser.add_argument("migrations_dir", type=Path)
    parser.add_argument("--url-env", required=True, help="env var holding the database URL")
    args = parser.parse_args()
    url = os.environ.get(args.url_env)
    if not url:
        raise SystemExit(f"{args.url_env} is not set: the database URL to migrate")
    upgrade(args.migrations_dir, url)


if __name__ == "__main__":
    main()
