"""The users of the mixed-load benchmark (bench/mixed_load.py runs this file with `locust --headless`; it is not a
benchmark module of its own: importing locust monkey-patches the process with gevent).

Three kinds of user, each doing what the web client does for one person, with think time between the steps:
- 申报人 (applicants): open 我的申报 and the editor (the application, the committee's notice, the files), 暂存
  changed sections (PUT …/sections, the editor's one request for every changed section) one to three times, and
  every third visit 提交; now and then one comes back to an application a reviewer returned, edits and resubmits it.
  Each benchmark applicant holds one prepared draft and signs in with a token (bench/stack.py).
- 工作单位审核人 (unit reviewers, the demo unit's, a real cookie session through the gateway): 我的待办 (the task page
  and the counts), 认领, the task and the submitted application, then 办理: approve three times in four, else return
  to the applicant. The reviewers share one identity; each takes only its share of the tasks (by task id), so two
  never race for the same task.
- 公众 (the public certificate check, no login): by number and name, or by the QR code's token; one in ten asks for
  a number that does not exist. Each visitor sends from its own loopback address (127.0.x.y), as distinct visitors
  do, so the service's per-address limit (30 checks a minute) applies to each as it would.

The plan (base URL, drafts, certificates, how many of each) comes from the JSON file named by ZC_MIXED_PLAN; every
request's name, time, status and outcome is written to the plan's `out` file when the run ends.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

PLAN: dict[str, Any] = json.loads(Path(os.environ["ZC_MIXED_PLAN"]).read_text(encoding="utf-8"))
CSRF = {"X-Requested-With": "zhicheng"}
DRAFTS = list(PLAN["drafts"])  # [app_id, token]; each applicant takes the next
RECORDS: list[list[Any]] = []  # [name, started (epoch s), ms, status, ok]
_reviewer_index = itertools.count()
_visitor_index = itertools.count()
APP = "/api/applications/applications/{id}"
SUMMARIES = ("长期从事农业机械化推广工作。", "主持丘陵山区农机化示范项目。", "参与智慧农机培训与推广。")


class BrowserLike(HTTPAdapter):
    """What a browser does with its connections: a request that fails on a kept-alive connection the gateway had
    just closed (uvicorn closes one idle for 5 s; the think times straddle that) is sent again once, on a new
    connection; urllib3 logs each such retry, and the benchmark counts them. Optionally from one loopback address
    (each public visitor is a distinct client)."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0, allowed_methods=None)
        super().__init__(max_retries=retry)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.address:
            kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any, response: Any, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    RECORDS.append([name, time.time() - response_time / 1000, response_time, status, exception is None])


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    with open(PLAN["out"], "w", encoding="utf-8") as f:
        json.dump(RECORDS, f)


class Applicant(HttpUser):
    fixed_count = PLAN["applicants"]
    wait_time = between(3, 8)
    host = PLAN["base"]

    def on_start(self) -> None:
        self.client.mount("http://", BrowserLike())
        self.submitted: list[tuple[str, str]] = []
        self.current: tuple[str, str] | None = None
        self.visits = 0

    def as_applicant(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **CSRF}

    def open_editor(self, app_id: str, h: dict[str, str]) -> dict[str, Any] | None:
        r = self.client.get(APP.format(id=app_id), params={"reveal": "true"}, headers=h, name="GET " + APP)
        if not r.ok:
            return None
        app: dict[str, Any] = r.json()
        committee = app["settings"]["committee_id"]
        self.client.get(
            f"/api/applications/committees/{committee}/activities/{app['year']}",
            headers=h,
            name="GET /api/applications/committees/{id}/activities/{year}",
        )
        self.client.get(f"{APP.format(id=app_id)}/attachments", headers=h, name="GET " + APP + "/attachments")
        return app

    def edit(self, app_id: str, h: dict[str, str], app: dict[str, Any]) -> dict[str, Any] | None:
        basic = {**app["sections"]["basic_info"], "performance_summary": random.choice(SUMMARIES)}
        change: dict[str, Any] = {"basic_info": {"version": app["section_versions"]["basic_info"], "content": basic}}
        if random.random() < 0.5:  # sometimes a list section too (工作经历)
            history = [
                {**entry, "content": entry.get("content", "")[:40] + random.choice("。；")}
                for entry in app["sections"]["work_history"]
            ]
            change["work_history"] = {"version": app["section_versions"]["work_history"], "content": history}
        r = self.client.put(
            f"{APP.format(id=app_id)}/sections", json=change, headers=h, name="PUT " + APP + "/sections"
        )
        if not r.ok:
            return None
        return self.open_editor(app_id, h)  # the editor reloads after 暂存

    @task
    def visit(self) -> None:
        self.visits += 1
        if self.submitted and random.random() < 0.25:  # back to one already submitted: returned to me?
            app_id, token = random.choice(self.submitted)
            h = self.as_applicant(token)
            mine = self.client.get(
                "/api/applications/applications", headers=h, name="GET /api/applications/applications"
            )
            if mine.ok and any(a["id"] == app_id and a["status"] == "returned" for a in mine.json()["items"]):
                self.submitted.remove((app_id, token))
                self.current = (app_id, token)
            else:
                return
        if self.current is None:
            if not DRAFTS:
                return
            self.current = tuple(DRAFTS.pop())  # type: ignore[assignment]
        assert self.current is not None
        app_id, token = self.current
        h = self.as_applicant(token)
        self.client.get("/api/applications/applications", headers=h, name="GET /api/applications/applications")
        app = self.open_editor(app_id, h)
        for _ in range(random.randint(1, 3)):
            if app is None:
                return
            time.sleep(random.uniform(2, 5))  # filling in the form
            app = self.edit(app_id, h, app)
        if self.visits % 3 == 0:
            r = self.client.post(f"{APP.format(id=app_id)}/submit", headers=h, name="POST " + APP + "/submit")
            if r.ok:
                self.submitted.append((app_id, token))
                self.current = None
            self.client.get("/api/applications/applications", headers=h, name="GET /api/applications/applications")


class UnitReviewer(HttpUser):
    fixed_count = PLAN["reviewers"]
    wait_time = between(3, 8)
    host = PLAN["base"]

    def on_start(self) -> None:
        self.index = next(_reviewer_index)
        self.client.mount("http://", BrowserLike())
        self.client.headers.update(CSRF)
        r = self.client.post(
            f"/api/identity/dev/login/{PLAN['reviewer']}",
            params={"return_to": "/"},
            allow_redirects=False,
            name="POST /api/identity/dev/login/{who}",
        )
        assert r.status_code == 303, r.text

    def inbox(self, size: int = 20) -> list[dict[str, Any]]:
        r = self.client.get(
            "/api/review/tasks", params={"page": 1, "size": size, "sort": "due_at"}, name="GET /api/review/tasks"
        )
        self.client.get("/api/review/tasks/counts", name="GET /api/review/tasks/counts")
        return list(r.json()["items"]) if r.ok else []

    def mine(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        share = PLAN["reviewers"]
        return [t for t in tasks if t["name"] == "unit_review" and uuid.UUID(t["task_id"]).int % share == self.index]

    @task
    def decide(self) -> None:
        tasks = self.mine(self.inbox())
        if not tasks:  # none of mine on the first page: a bigger page, as a reviewer scrolls on
            tasks = self.mine(self.inbox(100))
            if not tasks:
                return
        found = tasks[0]
        tid = found["task_id"]
        if found.get("assignee") is None:
            self.client.post(f"/api/review/tasks/{tid}/claim", name="POST /api/review/tasks/{id}/claim")
            self.inbox()  # the inbox reloads after 认领
        r = self.client.get(f"/api/review/tasks/{tid}", name="GET /api/review/tasks/{id}")
        if not r.ok:
            return
        app_id = found["business_key"]  # the application's id
        self.client.get(
            f"/api/applications/review/applications/{app_id}", name="GET /api/applications/review/applications/{id}"
        )
        time.sleep(random.uniform(3, 8))  # reading the application
        if random.random() < 0.75:
            body: dict[str, Any] = {"decision": "approve", "comment": "同意推荐"}
        else:
            body = {"decision": "return", "reasons": ["请补充业绩成果证明材料"], "return_target": "applicant"}
        self.client.post(
            f"/api/review/tasks/{tid}/complete",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            name="POST /api/review/tasks/{id}/complete",
        )
        self.inbox()


class PublicVisitor(HttpUser):
    fixed_count = PLAN["public"]
    wait_time = between(5, 15)
    host = PLAN["base"]

    def on_start(self) -> None:
        n = next(_visitor_index)
        self.client.mount("http://", BrowserLike(f"127.0.{1 + n // 250}.{2 + n % 250}"))

    @task
    def check(self) -> None:
        number, name, token = random.choice(PLAN["certificates"])
        roll = random.random()
        if roll < 0.6:
            params = {"number": number, "name": name}
            self.client.get("/api/certificates/public/check", params=params, name="GET /api/certificates/public/check")
        elif roll < 0.9:
            self.client.get(
                f"/api/certificates/public/check/{token}", name="GET /api/certificates/public/check/{token}"
            )
        else:
            params = {"number": f"512026NONGYE{random.randint(0, 899_999):06d}", "name": name}
            self.client.get("/api/certificates/public/check", params=params, name="GET /api/certificates/public/check")
