"""Issue 17: schemathesis against every service's OpenAPI document, through the gateway, as an anonymous
visitor, an applicant and a unit reviewer. Every answer must be one the document declares (status and content
type: errors are application/problem+json) and none may be a 5xx.

Bounded so that it fits CI: ZC_FUZZ_EXAMPLES cases per operation and phase (default 10), a fixed seed
(ZC_FUZZ_SEED) so that a run can be repeated; set another seed to explore further.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e.conftest import CLIENT_HEADER, ProbeStack

SERVICES = ("identity", "applications", "review", "certificates")
ROLES = ("anonymous", "applicant", "unit_reviewer")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"
EXAMPLES = os.environ.get("ZC_FUZZ_EXAMPLES", "10")
SEED = os.environ.get("ZC_FUZZ_SEED", "20261205")


def _headers(stack: ProbeStack, role: str) -> list[str]:
    if role == "anonymous":
        return []
    # the session cookie for the identity bridge, a bearer token for the others (schemathesis would otherwise
    # fill the declared bearer scheme with made-up tokens)
    sent = {
        **CLIENT_HEADER,
        "Cookie": f"zc_session={stack.session_cookie(role)}",
        "Authorization": f"Bearer {stack.bearer(role)}",
    }
    return [arg for name, value in sent.items() for arg in ("-H", f"{name}: {value}")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("role", ROLES)
def test_fuzzed_requests_get_only_documented_answers_and_no_server_error(
    probe_stack: ProbeStack, role: str, service: str, report_counts, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{probe_stack.base}/api/{service}/openapi.json",
        "--url",
        probe_stack.base,
        "--checks",
        CHECKS,
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--no-shrink",
        "--max-redirects",
        "0",  # a redirect is the answer under test (login goes to the provincial platform)
        "--request-timeout",
        "30",
        "--workers",
        "1",  # with threads, Python 3.11's ast.parse (hypothesis describing a strategy) can fail at random
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        *_headers(probe_stack, role),
    ]
    if role != "anonymous":
        command += ["--exclude-path", "/api/identity/logout"]  # it would end the session under test
    run = subprocess.run(command, capture_output=True, text=True, timeout=540, check=False)
    output = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", output)
    assert generated is not None, output[-5000:]
    report_counts({"generated": int(generated.group(1))})
    assert run.returncode == 0, output[-12000:]
