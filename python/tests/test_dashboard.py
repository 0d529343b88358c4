"""The Superset dashboards show the published mart's numbers, to a read-only viewer, and follow each new build.

A real BI client and a real browser: the mart is built and published by the real CLI into a
temporary folder, Superset (its own venv, scripts/superset.sh) imports the dashboards from
dashboards/superset/ and serves them on a free loopback port, and headless Chromium opens each
dashboard as the read-only viewer, screenshots it and records every chart's data request and answer.
Those answers are compared with the mart read straight from the snapshot. Then a build with changed
clients is published while the viewer keeps querying every chart: no query fails, and Superset
answers with the new build's numbers without a restart.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .engines import PROJECT_DIR

pytestmark = pytest.mark.dashboard

SCRIPT = PROJECT_DIR / "scripts" / "superset.sh"
CLI = [sys.executable, "-m", "services.crm.cli"]
CENT = Decimal("0.01")
NEW_CLIENTS = 30  # the second build's extra clients: Tier 1 entities of $75M, qualified purchasers
DASHBOARDS = {
    "crm-dashboard": {
        "Clients and AUM per tier",
        "Client list",
        "Clients per tier and AUM band",
        "AUM per tier and AUM band",
    },
    "deal-center": {"Allocation queue", "Private-fund eligibility by tier"},
    "client-onboarding": {"QP status by basis and category", "Shortfall to the QP threshold"},
}
TABLE_CHARTS = {"Clients and AUM per tier", "Client list", "Allocation queue", "Private-fund eligibility by tier"}
TABLE_CHARTS |= {"QP status by basis and category", "Shortfall to the QP threshold"}


def cents(value: Any) -> Decimal:
    """A money value as Superset's JSON gives it (a float) or DuckDB does (a Decimal), to the cent."""
    return Decimal(str(value)).quantize(CENT)


@dataclass
class Superset:
    """A Superset server reading a published folder, run by scripts/superset.sh."""

    root: Path
    port: int
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        return self.root / "superset"

    @property
    def working_db(self) -> Path:
        return self.root / "work" / "crm_priority.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def snapshot(self) -> Path:
        return self.published / "crm_priority.duckdb"

    def log_tail(self, lines: int = 80) -> str:
        log = self.home / "superset.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no log)"
        return f"--- {log}, last {lines} lines ---\n" + "\n".join(text.splitlines()[-lines:])

    def script(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        try:
            completed = subprocess.run(
                ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=self.env, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"scripts/superset.sh {' '.join(args)} took over {timeout} s\n{self.log_tail()}")
        self.timings[args[0]] = self.timings.get(args[0], 0.0) + time.monotonic() - started
        assert completed.returncode == 0, (
            f"scripts/superset.sh {' '.join(args)} failed ({completed.returncode})\n"
            f"{completed.stdout}\n{completed.stderr}\n{self.log_tail()}"
        )
        return completed

    def build(self, *extra: str) -> None:
        started = time.monotonic()
        completed = subprocess.run(
            [*CLI, "build", "--db", str(self.working_db), "--publish-dir", str(self.published), *extra],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        self.timings["build"] = self.timings.get("build", 0.0) + time.monotonic() - started
        assert completed.returncode == 0, completed.stdout + completed.stderr

    def server_pid(self) -> int:
        return int((self.home / "gunicorn.pid").read_text(encoding="utf-8").strip())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def superset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    root = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    server = Superset(root=root, port=port, env={})
    server.env = {
        **os.environ,
        "CRM_PRIORITY_SUPERSET_HOME": str(server.home),
        "CRM_PRIORITY_SUPERSET_PORT": str(port),
        "CRM_PRIORITY_SNAPSHOT": str(server.snapshot),
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32),
        "SUPERSET_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "SUPERSET_VIEWER_PASSWORD": secrets.token_urlsafe(16),
    }
    server.build()
    server.script("install", timeout=900)
    server.script("import", timeout=600)
    server.script("serve", timeout=300)
    try:
        yield server
    finally:
        server.script("stop", timeout=60)
        print("superset test timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in server.timings.items()))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Viewer:
    """The read-only viewer's HTTP session with Superset (a form login, as a browser does)."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies)
        login_page = self.opener.open(f"{base_url}/login/", timeout=30).read().decode()
        token = re.search(r'id="csrf_token"\s+value="([^"]+)"', login_page)
        assert token, "no CSRF token on Superset's login page"
        form = urllib.parse.urlencode({"username": "viewer", "password": password, "csrf_token": token.group(1)})
        # The login answers with the session cookie and a redirect, which is not followed: the
        # pages it leads to could replace that cookie.
        login = urllib.request.build_opener(cookies, NoRedirect())
        try:
            login.open(f"{base_url}/login/", data=form.encode(), timeout=30)
        except urllib.error.HTTPError as redirect:
            if redirect.code != 302:
                raise
        status, me = self.get("/api/v1/me/")
        assert status == 200, f"the viewer could not log in: {status} {me}"

    def get(self, path: str) -> tuple[int, Any]:
        return self._send(urllib.request.Request(self.base_url + path))

    def post(self, path: str, body: dict[str, Any], csrf_token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Referer": self.base_url}
        if csrf_token:
            headers["X-CSRFToken"] = csrf_token
        request = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(), headers=headers)
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> tuple[int, Any]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def rows_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a chart data answer (one query per chart here)."""
    results = answer["result"]
    assert len(results) == 1
    assert results[0]["status"] == "success", results[0]
    rows: list[dict[str, Any]] = results[0]["data"]
    return rows


def query(snapshot: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def tier_summary(snapshot: Path) -> dict[str, tuple[int, Decimal, int]]:
    rows = query(
        snapshot,
        "select tier_label, count(*), sum(aum), count(*) filter (where is_qualified_purchaser)"
        " from client_priority group by tier_label",
    )
    return {label: (clients, cents(aum), qps) for label, clients, aum, qps in rows}


def superset_tier_summary(rows: list[dict[str, Any]]) -> dict[str, tuple[int, Decimal, int]]:
    return {row["tier_label"]: (row["clients"], cents(row["total_aum"]), row["qualified_purchasers"]) for row in rows}


def expected_charts(snapshot: Path) -> dict[str, Any]:
    """What each chart must show, read straight from the published snapshot."""
    distribution = query(
        snapshot, "select band_order, band_label, tier_label, client_count, total_aum from aum_distribution"
    )
    return {
        "Clients and AUM per tier": tier_summary(snapshot),
        "Client list": query(
            snapshot,
            "select client_id, client_name, tier_label, aum, is_qualified_purchaser, qp_basis"
            " from client_priority order by priority, aum desc, client_id",
        ),
        "Clients per tier and AUM band": {(f"{o}. {band}", tier): count for o, band, tier, count, _ in distribution},
        "AUM per tier and AUM band": {(f"{o}. {band}", tier): cents(aum) for o, band, tier, _, aum in distribution},
        "Allocation queue": query(
            snapshot,
            "select allocation_rank, client_id, client_name, tier_label, aum, is_private_fund_eligible, qp_basis"
            " from allocation_queue order by allocation_rank",
        ),
        "Private-fund eligibility by tier": {
            tier: (clients, eligible)
            for tier, clients, eligible in query(
                snapshot,
                "select tier_label, count(*), count(*) filter (where is_private_fund_eligible)"
                " from allocation_queue group by tier_label",
            )
        },
        "QP status by basis and category": {
            (category, qualified, basis): (clients, cents(amount))
            for category, qualified, basis, clients, amount in query(
                snapshot,
                "select qp_category, is_qualified_purchaser, qp_basis, count(*), sum(qp_amount_tested)"
                " from client_eligibility group by all",
            )
        },
        "Shortfall to the QP threshold": query(
            snapshot,
            "select client_id, qp_shortfall from client_eligibility where not is_qualified_purchaser"
            " order by qp_shortfall, client_id",
        ),
    }


def shown_by(chart: str, rows: list[dict[str, Any]]) -> Any:
    """What a chart's answer shows, in the shape of expected_charts()."""
    if chart == "Clients and AUM per tier":
        return superset_tier_summary(rows)
    if chart in {"Clients per tier and AUM band", "AUM per tier and AUM band"}:  # pivoted: a column per tier
        value = int if chart.startswith("Clients") else cents
        return {(row["aum_band"], tier): value(v) for row in rows for tier, v in row.items() if tier != "aum_band"}
    if chart in {"Client list", "Allocation queue"}:
        money = {"aum"}
        return [tuple(cents(v) if k in money else v for k, v in row.items()) for row in rows]
    if chart == "Private-fund eligibility by tier":
        return {row["tier_label"]: (row["clients"], row["eligible_clients"]) for row in rows}
    if chart == "QP status by basis and category":
        return {
            (row["qp_category"], row["is_qualified_purchaser"], row["qp_basis"]): (
                row["clients"],
                cents(row["amount_tested"]),
            )
            for row in rows
        }
    assert chart == "Shortfall to the QP threshold"
    return [(row["client_id"], cents(row["qp_shortfall"])) for row in rows]


def normalized(chart: str, expected: Any) -> Any:
    """expected_charts() values with money to the cent, comparable with shown_by()."""
    if chart in {"Client list", "Allocation queue"}:
        money_at = 3 if chart == "Client list" else 4
        return [tuple(cents(v) if i == money_at else v for i, v in enumerate(row)) for row in expected]
    if chart == "Shortfall to the QP threshold":
        return [(client_id, cents(shortfall)) for client_id, shortfall in expected]
    return expected


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture(scope="module")
def captured(superset: Superset) -> list[dict[str, Any]]:
    out = superset.root / "capture"
    superset.script("capture", str(out), timeout=300)
    result: list[dict[str, Any]] = json.loads((out / "capture.json").read_text(encoding="utf-8"))
    return result


def test_the_viewer_sees_every_dashboard_with_its_charts_drawn(captured: list[dict[str, Any]]) -> None:
    assert {dashboard["slug"]: set(dashboard["charts"].values()) for dashboard in captured} == DASHBOARDS
    for dashboard in captured:
        names = {int(chart_id): name for chart_id, name in dashboard["charts"].items()}
        for state in dashboard["rendered"]:
            name = names[state["id"]]
            assert state["found"], f"{dashboard['slug']}: chart {name!r} is not on the page"
            assert state["errors"] == [], f"{dashboard['slug']}: chart {name!r} shows {state['errors']}"
            drawn = state["table_rows"] > 0 if name in TABLE_CHARTS else state["canvases"] > 0
            assert drawn, f"{dashboard['slug']}: chart {name!r} drew nothing: {state}"
        width, height = png_size(Path(dashboard["screenshot"]))
        assert width >= 1600
        assert height >= 900
        print(f"{dashboard['slug']}: rendered in {dashboard['seconds']} s, screenshot {dashboard['screenshot']}")


def test_every_chart_shows_the_marts_numbers(superset: Superset, captured: list[dict[str, Any]]) -> None:
    expected = expected_charts(superset.snapshot)
    seen = set()
    for dashboard in captured:
        names = {int(chart_id): name for chart_id, name in dashboard["charts"].items()}
        for data in dashboard["chart_data"]:
            name = names[data["slice_id"]]
            assert data["status"] == 200, f"{name}: {data['response']}"
            assert shown_by(name, rows_of(data["response"])) == normalized(name, expected[name]), name
            seen.add(name)
    assert seen == set(expected)


def test_a_new_build_shows_up_without_a_restart_and_no_query_fails(
    superset: Superset, captured: list[dict[str, Any]]
) -> None:
    requests = {
        dashboard["charts"][str(data["slice_id"])]: data["request"]
        for dashboard in captured
        for data in dashboard["chart_data"]
    }
    before = tier_summary(superset.snapshot)
    pid = superset.server_pid()
    viewer = Viewer(superset.base_url, superset.env["SUPERSET_VIEWER_PASSWORD"])
    answers: list[tuple[str, int, Any]] = []
    stop = threading.Event()

    def query_every_chart_in_a_loop() -> None:
        while not stop.is_set():
            for name, body in requests.items():
                status, answer = viewer.post("/api/v1/chart/data", body)
                answers.append((name, status, answer))

    # The changed clients: the sample plus new ones, as a table the build reads instead of the seed.
    with duckdb.connect(str(superset.working_db)) as connection:
        connection.execute("create schema if not exists feed")
        connection.execute(
            "create or replace table feed.clients as"
            f" select * from read_csv('{PROJECT_DIR / 'seeds' / 'clients.csv'}', all_varchar = true)"
            " union all select 'NEW' || lpad(cast(i as varchar), 4, '0'), 'New client ' || i, '75000000.00',"
            f" 'false', 'entity', null from range({NEW_CLIENTS}) t(i)"
        )
    loop = threading.Thread(target=query_every_chart_in_a_loop, daemon=True)
    loop.start()
    try:
        superset.build("--vars", json.dumps({"crm_source_schema": "feed", "crm_source_table": "clients"}))
        after = tier_summary(superset.snapshot)
        deadline = time.monotonic() + 30
        shown: dict[str, tuple[int, Decimal, int]] = {}
        while time.monotonic() < deadline:
            status, answer = viewer.post("/api/v1/chart/data", requests["Clients and AUM per tier"])
            assert status == 200, answer
            shown = superset_tier_summary(rows_of(answer))
            if shown == after:
                break
            time.sleep(0.5)
    finally:
        stop.set()
        loop.join(timeout=120)

    tier_1 = "Tier 1 — Single Family Office / $50M+"
    assert after[tier_1][0] == before[tier_1][0] + NEW_CLIENTS
    assert shown == after, f"Superset still shows {shown}, the new build has {after}\n{superset.log_tail()}"
    assert superset.server_pid() == pid, "Superset was restarted"
    failed = [(name, status, answer) for name, status, answer in answers if status != 200]
    assert failed == [], f"{len(failed)} of {len(answers)} chart queries failed during the build: {failed[:3]}"
    assert len(answers) >= len(requests), "the viewer's queries did not run during the build"
    print(f"during the build: {len(answers)} chart queries by the viewer, 0 errors")
    # Every chart now shows the new build.
    expected = expected_charts(superset.snapshot)
    for name, body in requests.items():
        status, answer = viewer.post("/api/v1/chart/data", body)
        assert status == 200, answer
        assert shown_by(name, rows_of(answer)) == normalized(name, expected[name]), name


def test_the_viewer_cannot_change_the_dashboards(superset: Superset) -> None:
    viewer = Viewer(superset.base_url, superset.env["SUPERSET_VIEWER_PASSWORD"])
    status, listing = viewer.get("/api/v1/dashboard/")
    assert status == 200
    assert listing["count"] == len(DASHBOARDS)
    dashboard_id = listing["result"][0]["id"]
    status, token = viewer.get("/api/v1/security/csrf_token/")
    assert status == 200, token
    status, answer = viewer.post(
        "/api/v1/chart/", {"slice_name": "mine", "viz_type": "table", "datasource_id": 1}, token["result"]
    )
    assert status == 403, answer
    status, answer = viewer.get(f"/api/v1/dashboard/export/?q=!({dashboard_id})")
    assert status == 403, answer
