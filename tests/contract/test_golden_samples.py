"""Contracts: a golden sample per live event version must still parse, and every live version has one.

A failing sample means a breaking change inside a major version: add a v<N+1> instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zc_contracts import Envelope, all_models, parse_payload

SAMPLES = Path(__file__).parent / "samples"


def _samples() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.stem)
def test_golden_sample_parses_with_live_contract(sample: Path) -> None:
    envelope = Envelope.model_validate(json.loads(sample.read_text()))
    assert f"{envelope.subject}.json" == sample.name
    payload = parse_payload(envelope)
    dumped = payload.model_dump(mode="json")
    # every field of the sample survives; fields added later in the same major version take their defaults
    assert {k: dumped[k] for k in envelope.data} == envelope.data


def test_every_live_event_version_has_a_golden_sample() -> None:
    have = {p.stem for p in _samples()}
    missing = {m.subject() for m in all_models()} - have
    assert not missing, f"add samples for {sorted(missing)} under tests/contract/samples/"
