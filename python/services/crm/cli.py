"""crm-priority: build, score, verify and report on the client_priority mart from the command line."""

from __future__ import annotations

import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.crm.client_priority import ClientInputError, PriorityScorer
from services.crm.dbt_invocation import DEFAULT_DB_RELATIVE, DbtCommandError, DbtProject
from services.crm.policy import PolicyError, find_project_dir, load_policy
from services.crm.publish import SNAPSHOT_NAME, BuildLockedError, build_lock, publish
from services.crm.report import load_report_data, render_chart, render_html
from services.crm.verify import VerificationReport, verify_warehouse
from services.crm.warehouse import ProfileError, open_warehouse, relations_for_target, resolve_target

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
# soft_wrap: paths and summaries stay on one line in logs and pipes, however narrow the terminal.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DB_ENV = "CRM_PRIORITY_DB"
PUBLISH_DIR_ENV = "CRM_PRIORITY_PUBLISH_DIR"


def working_db_path(db: Path | None) -> Path:
    """The build's DuckDB file: --db, else $CRM_PRIORITY_DB, else data/crm_priority.duckdb in the project."""
    chosen = db or (Path(os.environ[DB_ENV]) if os.environ.get(DB_ENV) else find_project_dir() / DEFAULT_DB_RELATIVE)
    return chosen.resolve()


def publish_dir_path(publish_dir: Path | None, working_db: Path) -> Path:
    """Where readers find the mart: --publish-dir, else $CRM_PRIORITY_PUBLISH_DIR, else published/ beside the db."""
    configured = os.environ.get(PUBLISH_DIR_ENV)
    return (publish_dir or (Path(configured) if configured else working_db.parent / "published")).resolve()


def parse_vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"--vars must be a JSON object: {error}") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("--vars must be a JSON object")
    try:  # a misspelt or bad var is refused here, naming it, before dbt starts
        load_policy(overrides=parsed)
    except PolicyError as error:
        raise typer.BadParameter(str(error)) from None
    return parsed


DbOption = Annotated[
    Path | None, typer.Option("--db", help=f"The build's DuckDB file [env {DB_ENV}; default data/crm_priority.duckdb]")
]


@app.command()
def build(
    db: DbOption = None,
    publish_dir: Annotated[
        Path | None, typer.Option(help=f"Where readers find the mart [env {PUBLISH_DIR_ENV}; default data/published]")
    ] = None,
    dbt_vars: Annotated[str | None, typer.Option("--vars", help="dbt vars as JSON, e.g. a threshold override")] = None,
) -> None:
    """Seed, build and test the mart on the embedded DuckDB, then publish it for readers."""
    working_db = working_db_path(db)
    readers_dir = publish_dir_path(publish_dir, working_db)
    working_db.parent.mkdir(parents=True, exist_ok=True)
    os.environ[DB_ENV] = str(working_db)
    try:
        with build_lock(working_db):
            DbtProject.default().invoke(["build"], parse_vars(dbt_vars))
            published = publish(working_db, readers_dir)
    except (DbtCommandError, BuildLockedError) as error:
        errors.print(f"[red]Build failed; the published mart is unchanged.[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"Built the mart in [bold]{working_db}[/bold]")
    console.print(f"Published for readers: [bold]{published.snapshot}[/bold]")
    for name, path in published.parquet.items():
        console.print(f"  {name}: {published.row_counts[name]} rows, Parquet {path}")


@app.command()
def score(
    aum: Annotated[str, typer.Option(help="Assets under management in USD, e.g. 120000000")],
    sfo: Annotated[bool, typer.Option("--sfo/--no-sfo", help="The client is a Single Family Office")] = False,
    investor_type: Annotated[
        str | None, typer.Option(help="individual, family_company or entity [default individual]")
    ] = None,
    investments: Annotated[str | None, typer.Option(help="Total investments in USD (Rule 2a51-1)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON")] = False,
) -> None:
    """Score one client with the Python reference, under the policy in dbt_project.yml."""
    try:
        profile = PriorityScorer().calculate_priority(
            aum, is_sfo=sfo, investor_type=investor_type, investments=investments
        )
    except (ClientInputError, TypeError, PolicyError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        console.print_json(
            json.dumps(profile, default=lambda value: str(value) if isinstance(value, Decimal) else value)
        )
        return
    table = Table(show_header=False, box=None)
    for key, value in profile.items():
        shown = f"${value:,.2f}" if isinstance(value, Decimal) else ("—" if value is None else str(value))
        table.add_row(key, shown)
    console.print(table)


@app.command()
def verify(
    target: Annotated[str | None, typer.Option(help="dbt target to verify [default: the profile's default]")] = None,
    profiles_dir: Annotated[Path | None, typer.Option(help="Folder of profiles.yml [default profiles/]")] = None,
    limit: Annotated[int, typer.Option(help="How many mismatches to show")] = 20,
    row_by_row: Annotated[
        bool, typer.Option("--row-by-row", help="Use the scalar reference path instead of the vectorized one")
    ] = False,
) -> None:
    """Check every row of a built mart against the Python reference; exit 1 on any difference."""
    project_dir = find_project_dir()
    try:
        target_config = resolve_target(profiles_dir or project_dir / "profiles", target)
        warehouse = open_warehouse(target_config, project_dir)
    except (ProfileError, FileNotFoundError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    relations = relations_for_target(target_config)
    total = next(iter(warehouse.rows(f"select count(*) as n from {relations.mart}")))["n"]
    with Progress(
        TextColumn("verifying {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{target_config['name']} ({relations.mart})", total=int(str(total)))
        report = verify_warehouse(
            warehouse,
            relations,
            PriorityScorer(),
            on_progress=lambda done: progress.update(task, completed=done),
            row_by_row=row_by_row,
        )
    print_report(report, limit)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="Folder for the PNG and HTML files")] = Path("reports"),
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB file to read [default: the published snapshot]")
    ] = None,
) -> None:
    """Render the AUM distribution (PNG and a self-contained HTML page) and print a summary per tier."""
    database = db or publish_dir_path(None, working_db_path(None)) / SNAPSHOT_NAME
    if not database.is_file():
        errors.print(f"[red]No mart at {database}: run `make build` first.[/red]")
        raise typer.Exit(2)
    data = load_report_data(database)
    chart = render_chart(data, out / "aum_distribution.png")
    page = render_html(data, chart, out / "aum_distribution.html")
    book = sum((tier.total_aum for tier in data.tiers), Decimal(0))
    table = Table("tier", "clients", "AUM", "share", "QPs", title=f"Client book by tier — build of {data.build_date}")
    for tier in data.tiers:
        table.add_row(
            tier.tier_label,
            f"{tier.clients:,}",
            f"${tier.total_aum:,.2f}",
            f"{tier.aum_share(book)}%",
            f"{tier.qualified_purchasers:,}",
        )
    console.print(table)
    console.print(f"Chart: {chart}\nPage:  {page}")


def print_report(report: VerificationReport, limit: int) -> None:
    status = "[green]OK[/green]" if report.ok else "[red]MISMATCH[/red]"
    console.print(f"{status}: {report.describe(limit=0)}")
    for column, count in sorted(report.mismatches_by_column.items()):
        console.print(f"  {column}: {count} mismatched")
    if report.mismatches:
        table = Table("client_id", "column", "mart", "reference", title=f"First {limit} mismatches")
        for mismatch in report.mismatches[:limit]:
            table.add_row(
                mismatch.client_id, mismatch.column, repr(mismatch.mart_value), repr(mismatch.reference_value)
            )
        console.print(table)
    if not report.ok and not report.mismatches:
        console.print(report.describe(limit=limit))


def main() -> None:
    logging.basicConfig(level=os.environ.get("CRM_PRIORITY_LOG_LEVEL", "WARNING"))
    app()


if __name__ == "__main__":
    main()
