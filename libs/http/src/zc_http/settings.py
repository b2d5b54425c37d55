"""HTTP layer: loading a service's pydantic-settings so a bad setting stops start-up with one clear line."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


class SettingsError(SystemExit):
    """Raised (as SystemExit, so no traceback) when a setting is missing or invalid."""


def load_settings(cls: type[S]) -> S:
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        problems = []
        for err in exc.errors():
            if not err["loc"]:  # a check across several settings
                problems.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            name = prefix + "_".join(str(p) for p in err["loc"]).upper()
            reason = "is not set" if err["type"] == "missing" else f"is invalid: {err['msg']}"
            problems.append(f"{name} {reason}")
        raise SettingsError(f"{cls.__module__.split('.')[0]}: cannot start: " + "; ".join(problems)) from None
