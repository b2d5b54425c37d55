"""HTTP layer: a missing or invalid setting stops start-up with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from zc_http import SettingsError, load_settings


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    database_url: str = Field(pattern=r"^postgres")
    port: int = 8000


def test_missing_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_DATABASE_URL", raising=False)
    with pytest.raises(SettingsError) as err:
        load_settings(DemoSettings)
    assert "DEMO_DATABASE_URL is not set" in str(err.value)
    assert "\n" not in str(err.value)


def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "mysql://x")
    monkeypatch.setenv("DEMO_PORT", "eighty")
    with pytest.raises(SettingsError) as err:
        load_settings(DemoSettings)
    assert "DEMO_DATABASE_URL is invalid" in str(err.value) and "DEMO_PORT is invalid" in str(err.value)


@pytest.mark.parametrize(
    ("module", "variable"),
    [
        ("applications.main", "APPLICATIONS_DATABASE_URL"),
        ("review.worker", "REVIEW_DATABASE_URL"),
        ("certificates.main", "CERTIFICATES_DATABASE_URL"),
        ("identity_bridge.main", "IDENTITY_DATABASE_URL"),
    ],
)
def test_service_exits_with_one_line_when_database_url_missing(module: str, variable: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    r = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert variable in lines[0] and "is not set" in lines[0]
