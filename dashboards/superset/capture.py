"""Open every dashboard as the read-only viewer in headless Chromium: screenshot it, record its chart data.

Run by `scripts/superset.sh capture OUT_DIR` with Superset's own Python (it has Playwright, which
drives Debian's chromium; no browser download): `python capture.py BASE_URL USER CHROMIUM OUT_DIR`,
the password in SUPERSET_VIEWER_PASSWORD. For each dashboard it writes OUT_DIR/<slug>.png and, in
OUT_DIR/capture.json, what each chart asked Superset's chart data API (the request the dashboard's
own frontend built), what it answered, and what the page rendered for it (canvas, table rows, errors).
"""

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Response, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_S = 90
# What a chart's container holds once it has drawn: an ECharts canvas or the table's rows; or an error.
RENDERED_STATE_JS = """
(chartIds) => chartIds.map((id) => {
    const holder = document.querySelector(`[data-test-chart-id="${id}"]`);
    if (!holder) return {id, found: false};
    return {
        id,
        found: true,
        canvases: holder.querySelectorAll('canvas').length,
        table_rows: holder.querySelectorAll('tbody tr').length,
        loading: holder.querySelectorAll('.loading, [data-test="loading-indicator"]').length,
        errors: Array.from(holder.querySelectorAll('.alert-danger, [role="alert"], [data-test="error-alert"]'))
            .map((node) => node.innerText),
    };
})
"""


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    # The form's CSRF token from the login page's HTML, fetched without running its scripts: the
    # page's own requests could replace the session cookie while the login sets it.
    login_page = page.context.request.get(f"{base_url}/login/").text()
    found = re.search(r'id="csrf_token"\s+value="([^"]+)"', login_page)
    token = found.group(1) if found else ""
    # Not following the redirect: the session cookie of the login is the one to keep.
    answer = page.context.request.post(
        f"{base_url}/login/",
        form={"username": username, "password": password, "csrf_token": token},
        max_redirects=0,
    )
    me = page.context.request.get(f"{base_url}/api/v1/me/")
    if me.status != 200:
        raise SystemExit(
            f"could not log in as {username}: POST /login/ answered {answer.status}, /api/v1/me/ {me.status}"
        )


def capture_dashboard(page: Page, base_url: str, dashboard: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    request = page.context.request
    charts = request.get(f"{base_url}/api/v1/dashboard/{dashboard['id']}/charts").json()["result"]
    chart_ids = [chart["id"] for chart in charts]
    responses: list[Response] = []

    def keep(response: Response) -> None:
        if "/api/v1/chart/data" in response.url:
            responses.append(response)

    page.on("response", keep)
    started = time.monotonic()
    page.goto(f"{base_url}/superset/dashboard/{dashboard['slug'] or dashboard['id']}/", wait_until="networkidle")
    states: list[dict[str, Any]] = []
    while time.monotonic() - started < RENDER_TIMEOUT_S:
        states = page.evaluate(RENDERED_STATE_JS, chart_ids)
        drawn = [
            s for s in states if s["found"] and not s["loading"] and (s["canvases"] or s["table_rows"] or s["errors"])
        ]
        if len(drawn) == len(chart_ids) and len(responses) >= len(chart_ids):
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(1000)  # let ECharts finish its entry animation before the screenshot
    states = page.evaluate(RENDERED_STATE_JS, chart_ids)
    screenshot = out_dir / f"{dashboard['slug'] or dashboard['id']}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    page.remove_listener("response", keep)

    chart_data = []
    for response in responses:
        body = response.request.post_data_json or {}
        chart_data.append(
            {
                "slice_id": (body.get("form_data") or {}).get("slice_id"),
                "request": body,
                "status": response.status,
                "response": response.json() if response.ok else response.text(),
            }
        )
    return {
        "dashboard_title": dashboard["dashboard_title"],
        "slug": dashboard["slug"],
        "screenshot": str(screenshot),
        "seconds": round(time.monotonic() - started, 2),
        "charts": {str(chart["id"]): chart["slice_name"] for chart in charts},
        "rendered": states,
        "chart_data": chart_data,
    }


def main() -> None:
    base_url, username, chromium, out = sys.argv[1:5]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            log_in(page, base_url, username, os.environ["SUPERSET_VIEWER_PASSWORD"])
            listing = page.context.request.get(f"{base_url}/api/v1/dashboard/?q=(page_size:100)").json()["result"]
            captured = [capture_dashboard(page, base_url, dashboard, out_dir) for dashboard in listing]
        finally:
            browser.close()
    (out_dir / "capture.json").write_text(json.dumps(captured, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"captured {len(captured)} dashboards into {out_dir}")


if __name__ == "__main__":
    main()
