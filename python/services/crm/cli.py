"""crm-priority: build, score, verify and report on the client_priority mart from the command line."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.crm.build_history import BuildHistory, DuckDBHistory, PostgresHistory, SparkHistory
from services.crm.build_log import (
    BuildLogError,
    Finding,
    append_record,
    check_chain,
    check_history,
    check_readers,
    last_published,
    log_key,
    read_records,
    short_message,
)
from services.crm.build_records import (
    OUTCOME_FOR_STEP,
    new_log_entry,
    proven_entry,
    published_entry,
    source_read,
    utc_now,
)
from services.crm.client_priority import ClientInputError, PriorityScorer
from services.crm.dbt_invocation import DEFAULT_DB_RELATIVE, DbtCommandError, DbtProject
from services.crm.pipeline import BuildStepError, Publisher, Step, run_build
from services.crm.policy import PolicyError, find_project_dir, load_policy
from services.crm.postgres_publish import PostgresPublisher
from services.crm.publication import BuildLockedError, PublishError
from services.crm.publish import SNAPSHOT_NAME, DuckDBPublisher
from services.crm.report import load_report_data, render_chart, render_html
from services.crm.spark_publish import SparkPublisher
from services.crm.verify import VerificationReport, verify_warehouse
from services.crm.warehouse import (
    DuckDBWarehouse,
    ProfileError,
    Relations,
    Warehouse,
    open_warehouse,
    relations_for_target,
    resolve_target,
)
from services.crm.whatif import CHANGED_SCHEMA, WhatIfError, WhatIfResult, parse_settings, proposed_policy, what_if

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
# soft_wrap: paths and summaries stay on one line in logs and pipes, however narrow the terminal.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DB_ENV = "CRM_PRIORITY_DB"
PUBLISH_DIR_ENV = "CRM_PRIORITY_PUBLISH_DIR"
OPERATORS_DIR_ENV = "CRM_PRIORITY_OPERATORS_DIR"


def working_db_path(db: Path | None) -> Path:
    """The build's DuckDB file: --db, else $CRM_PRIORITY_DB, else data/crm_priority.duckdb in the project."""
    chosen = db or (Path(os.environ[DB_ENV]) if os.environ.get(DB_ENV) else find_project_dir() / DEFAULT_DB_RELATIVE)
    return chosen.resolve()


def publish_dir_path(publish_dir: Path | None, working_db: Path) -> Path:
    """Where readers find the mart: --publish-dir, else $CRM_PRIORITY_PUBLISH_DIR, else published/ beside the db."""
    configured = os.environ.get(PUBLISH_DIR_ENV)
    return (publish_dir or (Path(configured) if configured else working_db.parent / "published")).resolve()


def operators_dir_path(operators_dir: Path | None, working_db: Path) -> Path:
    """Rejects and tier history: --operators-dir, else $CRM_PRIORITY_OPERATORS_DIR, else operators/ beside the db."""
    configured = os.environ.get(OPERATORS_DIR_ENV)
    return (operators_dir or (Path(configured) if configured else working_db.parent / "operators")).resolve()


def artifacts_dir(project_dir: Path, purpose: str, target: dict[str, Any]) -> Path:
    """dbt's target folder for one deployment: builds of two deployments at once never share a manifest.

    A deployment is the place a target points at (its DuckDB file, or its server, database and
    schema); one folder per deployment keeps dbt's partial parsing warm from one build to the next.
    """
    place = {key: str(target.get(key)) for key in ("type", "path", "host", "port", "dbname", "schema")}
    digest = hashlib.sha256(json.dumps(place, sort_keys=True).encode()).hexdigest()[:10]
    return project_dir / "target" / f"{purpose}-{target['name']}-{digest}"


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


# Exit codes of `build` (README, "Scheduled builds"); a scheduler alerts on any non-zero one.
EXIT_OK = 0
EXIT_BUILD_FAILED = 1  # dbt failed (a model, a data test, a unit test): nothing published
EXIT_USAGE = 2  # bad option, var or profile: nothing ran
EXIT_PROOF_FAILED = 3  # the row-by-row proof found differences: nothing published
EXIT_PUBLISH_FAILED = 4  # the publish step itself failed (disk full, permissions): previous build intact
EXIT_STALE_SOURCE = 5  # the client table is past its freshness error age: nothing published
EXIT_LOCKED = 75  # another build holds the lock (EX_TEMPFAIL: try again later)
EXIT_FOR_STEP = {
    Step.WRITE: EXIT_BUILD_FAILED,
    Step.FRESHNESS: EXIT_STALE_SOURCE,
    Step.AUDIT: EXIT_PROOF_FAILED,
    Step.PUBLISH: EXIT_PUBLISH_FAILED,
}

TargetOption = Annotated[
    str | None, typer.Option(help="dbt target: dev (DuckDB), postgres or spark [default: the profile's default]")
]
ProfilesDirOption = Annotated[Path | None, typer.Option(help="Folder of profiles.yml [default profiles/]")]
VarsOption = Annotated[
    str | None, typer.Option("--vars", help='dbt vars as JSON, e.g. \'{"crm_source_schema": "crm_raw_feed"}\'')
]


@app.command()
def build(
    *,
    target: TargetOption = None,
    profiles_dir: ProfilesDirOption = None,
    dbt_vars: VarsOption = None,
    db: DbOption = None,
    publish_dir: Annotated[
        Path | None,
        typer.Option(help=f"DuckDB: where readers find the marts [env {PUBLISH_DIR_ENV}; default data/published]"),
    ] = None,
    operators_dir: Annotated[
        Path | None,
        typer.Option(
            help=f"DuckDB: rejects and tier history, owner only [env {OPERATORS_DIR_ENV}; default data/operators]"
        ),
    ] = None,
) -> None:
    """Write, audit, publish: dbt build where readers do not look, prove it row by row, then publish it atomically.

    Exit codes: 0 published; 1 dbt failed; 2 bad usage or config; 3 the proof found differences;
    4 publishing failed; 5 the source is stale; 75 another build is running. On any failure
    readers keep the previous build.
    """
    project_dir = find_project_dir()
    parsed_vars = parse_vars(dbt_vars)
    try:
        policy = load_policy(project_dir, overrides=parsed_vars)
        working_db = working_db_path(db)
        os.environ[DB_ENV] = str(working_db)
        target_config = resolve_target(profiles_dir or project_dir / "profiles", target)
        publisher = make_publisher(target_config, working_db, publish_dir, operators_dir)
        history = make_history(
            target_config,
            working_db,
            publish_dir,
            operators_dir,
            bi_role=project_var(project_dir, "bi_role", parsed_vars),
        )
    except (PolicyError, ProfileError, PublishError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    dbt = DbtProject(
        project_dir=project_dir,
        profiles_dir=profiles_dir or project_dir / "profiles",
        target=target,
        target_path=artifacts_dir(project_dir, "build", target_config),
    )
    # What the build log records, filled in as the build goes; appended whatever the outcome.
    entry = new_log_entry(publisher.build_id, target_config, project_dir, policy)
    try:
        with progress_bar("{task.description}") as progress:
            task = progress.add_task("audit", total=None, visible=False)
            try:
                outcome = run_build(
                    dbt,
                    publisher,
                    parsed_vars,
                    on_step=lambda step: console.print(f"[bold]{step.value}[/bold]: {STEP_TEXT[step]}"),
                    on_progress=lambda done: progress.update(task, completed=done, visible=True),
                )
            except BuildLockedError as error:
                entry.update(outcome="refused", message=short_message(str(error)))
                errors.print(f"[red]Build refused:[/red] {error}")
                raise typer.Exit(EXIT_LOCKED) from None
            except PublishError as error:  # the lock's folder itself is unusable: nothing ran
                entry.update(outcome="publish_failed", message=short_message(str(error)))
                errors.print(f"[red]Build {publisher.build_id}: nothing was published.[/red] {error}")
                raise typer.Exit(EXIT_PUBLISH_FAILED) from None
            except BuildStepError as failure:
                entry.update(outcome=OUTCOME_FOR_STEP[failure.step], message=short_message(str(failure)))
                progress.stop()
                if failure.report is not None:
                    entry.update(proven_entry(failure.report), source=source_read(dbt))
                    print_report(failure.report, 20)
                errors.print(
                    f"[red]Build {publisher.build_id} failed at the {failure.step.value} step; nothing was published"
                    f" and readers keep the previous build.[/red] {failure}"
                )
                raise typer.Exit(EXIT_FOR_STEP[failure.step]) from None
            except Exception as error:
                entry["message"] = short_message(f"{type(error).__name__}: {error}")
                raise
        publication = outcome.publication
        entry.update(published_entry(outcome))
    finally:
        append_to_log(history, entry)
    console.print(f"[green]OK[/green]: {outcome.report.describe(limit=0)}")
    console.print(f"Source read: {outcome.source}; freshness: {outcome.freshness.describe()}")
    console.print(f"Published build [bold]{publication.build_id}[/bold] to {publication.location}")
    for name, count in publication.row_counts.items():
        console.print(f"  {name}: {count} rows")
    for what, where in publication.details.items():
        console.print(f"  {what}: {where}")


def append_to_log(history: BuildHistory, entry: dict[str, Any]) -> None:
    """Seal the build's record onto the log and bring build_history up to date; a failure is shouted, not raised.

    The build's own exit code stands: a build published but not logged fails the next audit.
    """
    entry["ended_at"] = utc_now()
    try:
        record = append_record(history.log_path, entry, log_key(), then=history.sync)
    except Exception as error:  # the build's outcome is already decided; say loudly that the log missed it
        errors.print(f"[red]Build {entry['build_id']} was not written to the build log:[/red] {error}")
        return
    errors.print(f"Build log: record {record['seq']} ({record['outcome']}) in {history.log_path}")


def project_var(project_dir: Path, name: str, overrides: Mapping[str, Any]) -> str | None:
    """A dbt var as the build sees it: --vars, else dbt_project.yml."""
    if name in overrides:
        return str(overrides[name])
    with (project_dir / "dbt_project.yml").open(encoding="utf-8") as handle:
        value = ((yaml.safe_load(handle) or {}).get("vars") or {}).get(name)
    return None if value is None else str(value)


def make_history(
    target: dict[str, Any],
    working_db: Path,
    publish_dir: Path | None,
    operators_dir: Path | None,
    bi_role: str | None = None,
) -> BuildHistory:
    """Where the target's build log lives: the file in the operators' folder, build_history for readers."""
    operators = operators_dir_path(operators_dir, working_db)
    if target["type"] == "duckdb":
        return DuckDBHistory(publish_dir_path(publish_dir, working_db), operators)
    log_path = operators / f"build_log-{target['name']}.jsonl"
    if target["type"] == "postgres":
        return PostgresHistory(target, log_path, bi_role)
    if target["type"] == "spark":
        return SparkHistory(target, log_path)
    raise ProfileError(f"no build log for targets of type {target['type']!r}: supported are duckdb, postgres, spark")


@app.command()
def audit(
    *,
    target: TargetOption = None,
    profiles_dir: ProfilesDirOption = None,
    db: DbOption = None,
    publish_dir: Annotated[
        Path | None, typer.Option(help=f"DuckDB: the readers' folder [env {PUBLISH_DIR_ENV}; default data/published]")
    ] = None,
    operators_dir: Annotated[
        Path | None,
        typer.Option(help=f"Where the build log is [env {OPERATORS_DIR_ENV}; default data/operators]"),
    ] = None,
) -> None:
    """Check the build log: each record's hash, the chain, build_history, and that readers see the last published build.

    Exit codes: 0 all intact; 1 a record, build_history or what readers see is wrong (the first
    bad record is named); 2 bad usage or no build log yet.
    """
    project_dir = find_project_dir()
    try:
        working_db = working_db_path(db)
        os.environ[DB_ENV] = str(working_db)
        target_config = resolve_target(profiles_dir or project_dir / "profiles", target)
        history = make_history(target_config, working_db, publish_dir, operators_dir)
    except (PolicyError, ProfileError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    log_path = history.log_path
    if not log_path.is_file():
        errors.print(f"[red]No build log at {log_path}: no build has run with this target and folders.[/red]")
        raise typer.Exit(EXIT_USAGE)
    key = log_key()
    try:
        records = read_records(log_path)
    except BuildLogError as error:
        errors.print(f"[red]Audit failed:[/red] {log_path}: {error}")
        raise typer.Exit(1) from None
    last = last_published(records)
    finding = check_chain(records, key)
    for relation, held in ({} if finding else history.histories()).items():
        finding = finding or check_history(records, held, relation)
    if finding is None:
        try:
            finding = check_readers(last, history.readers_view())
        except Exception as error:  # a snapshot or table readers cannot read is itself a finding
            seq, build_id = (last.get("seq"), last.get("build_id")) if last else (None, None)
            finding = Finding(seq, build_id, f"cannot read what readers see: {error}")
    if finding is not None:
        errors.print(f"[red]Audit failed:[/red] {log_path}: {finding.describe()}")
        raise typer.Exit(1)
    seen = f"readers see build {last.get('build_id')} as recorded" if last else "no build published yet"
    console.print(f"{len(records)} records, chain intact, {seen}")


STEP_TEXT = {
    Step.WRITE: "dbt build where readers do not look",
    Step.FRESHNESS: "dbt source freshness of the client table",
    Step.AUDIT: "the row-by-row proof against the Python reference",
    Step.PUBLISH: "switching readers to the proven build",
}


def make_publisher(
    target: dict[str, Any], working_db: Path, publish_dir: Path | None, operators_dir: Path | None
) -> Publisher:
    """The publishing scheme of the target's engine."""
    if target["type"] == "duckdb":
        return DuckDBPublisher(
            working_db,
            publish_dir_path(publish_dir, working_db),
            operators_dir_path(operators_dir, working_db),
            schema=str(target.get("schema", "main")),
        )
    if target["type"] == "postgres":
        return PostgresPublisher(target)
    if target["type"] == "spark":
        return SparkPublisher(target)
    raise ProfileError(f"cannot build targets of type {target['type']!r}: supported are duckdb, postgres, spark")


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
    target: TargetOption = None,
    profiles_dir: ProfilesDirOption = None,
    dbt_vars: VarsOption = None,
    limit: Annotated[int, typer.Option(help="How many mismatches to show")] = 20,
    row_by_row: Annotated[
        bool, typer.Option("--row-by-row", help="Use the scalar reference path instead of the vectorized one")
    ] = False,
) -> None:
    """Check every row of a built mart against the Python reference; exit 1 on any difference.

    The source is the relation dbt resolves with the same vars (--vars as given to the build).
    """
    project_dir = find_project_dir()
    parsed_vars = parse_vars(dbt_vars)
    profiles = profiles_dir or project_dir / "profiles"
    try:
        scorer = PriorityScorer(load_policy(project_dir, overrides=parsed_vars))
        target_config = resolve_target(profiles, target)
        dbt = DbtProject(
            project_dir=project_dir,
            profiles_dir=profiles,
            target=target,
            target_path=artifacts_dir(project_dir, "verify", target_config),
        )
        dbt.invoke(["parse"], parsed_vars)
        schema = str(target_config.get("schema", "main"))
        relations = Relations.in_schema(dbt.source_relation(), schema)
        warehouse = open_warehouse(target_config, project_dir)
    except (ProfileError, PolicyError, DbtCommandError, FileNotFoundError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    total = next(iter(warehouse.rows(f"select count(*) as n from {relations.mart}")))["n"]
    with progress_bar("verifying {task.description}") as progress:
        task = progress.add_task(f"{target_config['name']} ({relations.mart})", total=int(str(total)))
        report = verify_warehouse(
            warehouse,
            relations,
            scorer,
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


@app.command()
def whatif(
    settings: Annotated[
        list[str],
        typer.Option("--set", help="A proposed threshold, NAME=VALUE (repeatable), e.g. tier_1_min_aum=75000000"),
    ],
    *,
    target: Annotated[
        str | None,
        typer.Option(help="Read this dbt target's mart (postgres, spark, ...) [default: the published build]"),
    ] = None,
    profiles_dir: Annotated[Path | None, typer.Option(help="Folder of profiles.yml [default profiles/]")] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="DuckDB file to read [default: the published snapshot]")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many changed clients to show, largest AUM first")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    out: Annotated[Path | None, typer.Option(help="Write every changed client to this CSV file")] = None,
) -> None:
    """Re-score every client under proposed thresholds: who changes tier or Qualified Purchaser status."""
    try:
        proposed = proposed_policy(parse_settings(settings))
    except (WhatIfError, PolicyError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    project_dir = find_project_dir()
    try:
        if target is None:
            database = db or publish_dir_path(None, working_db_path(None)) / SNAPSHOT_NAME
            warehouse: Warehouse = DuckDBWarehouse(database)
            mart, source = "main.client_priority", str(database)
        else:
            target_config = resolve_target(profiles_dir or project_dir / "profiles", target)
            warehouse = open_warehouse(target_config, project_dir)
            mart, source = relations_for_target(target_config).mart, f"target {target_config['name']}"
    except (ProfileError, FileNotFoundError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    import pyarrow.csv as arrow_csv

    writer = arrow_csv.CSVWriter(str(out), CHANGED_SCHEMA) if out is not None else None
    try:
        result = what_if(
            warehouse, mart, proposed, limit=limit, on_changed=writer.write_table if writer is not None else None
        )
    except WhatIfError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        if writer is not None:
            writer.close()
        if isinstance(warehouse, DuckDBWarehouse):
            warehouse.close()
    if as_json:
        console.print_json(json.dumps({"source": source, **result.as_json()}))
    else:
        print_whatif(result, source, limit)
    if out is not None:
        errors.print(f"Wrote {result.changed_count:,} changed clients to {out}")


def print_whatif(result: WhatIfResult, source: str, limit: int) -> None:
    """The what-if as tables: policies, transition matrix, QP gained and lost, the largest changes."""
    current, proposed = result.current_policy, result.proposed_policy
    console.print(f"What-if on {source}: {result.client_count:,} clients, ${result.total_aum:,.2f} AUM")
    if not result.mart_matches_policy:
        console.print(
            f"[yellow]The mart was scored under {', '.join(result.mart_policy_versions)}, not dbt_project.yml's "
            f"{current.version}: current tiers are the mart's, the proposal starts from dbt_project.yml.[/yellow]"
        )
    policies = Table("policy var", "current", "proposed", title="Policy")
    for name, value in current.as_strings().items():
        new = proposed.as_strings()[name]
        policies.add_row(name, f"${Decimal(value):,.2f}", f"${Decimal(new):,.2f}" + (" *" if new != value else ""))
    policies.add_row("policy_version", current.version, proposed.version)
    console.print(policies)

    tiers = [transition.proposed_tier for transition in result.transitions[:3]]
    matrix = Table("current ↓ / proposed →", *tiers, title="Tier transitions: clients / AUM")
    for row in range(len(tiers)):
        cells = result.transitions[row * len(tiers) : (row + 1) * len(tiers)]
        matrix.add_row(cells[0].current_tier, *(f"{cell.client_count:,} / ${cell.total_aum:,.2f}" for cell in cells))
    console.print(matrix)

    qualified = Table(
        "qp_category", "clients", "QPs now", "QPs proposed", "gained", "gained AUM", "lost", "lost AUM",
        title="Qualified Purchaser status",
    )  # fmt: skip
    for change in result.qualified_purchasers:
        qualified.add_row(
            change.qp_category,
            f"{change.client_count:,}",
            f"{change.current_qualified_count:,}",
            f"{change.proposed_qualified_count:,}",
            f"{change.gained_count:,}",
            f"${change.gained_aum:,.2f}",
            f"{change.lost_count:,}",
            f"${change.lost_aum:,.2f}",
        )
    console.print(qualified)

    console.print(f"{result.changed_count:,} clients change tier or QP status (${result.changed_aum:,.2f} AUM)")
    if result.largest_changes:
        changes = Table(
            "client_id", "client_name", "AUM", "tier", "priority", "QP",
            title=f"Largest {min(limit, len(result.largest_changes))} changes by AUM",
        )  # fmt: skip
        for client in result.largest_changes:
            changes.add_row(
                client.client_id,
                client.client_name or "—",
                f"${client.aum:,.2f}",
                f"{client.current_tier} → {client.proposed_tier}",
                f"{client.current_priority} → {client.proposed_priority}",
                f"{_yes_no(client.current_is_qualified_purchaser)} → {_yes_no(client.proposed_is_qualified_purchaser)}",
            )
        console.print(changes)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def progress_bar(description: str) -> Progress:
    """A progress bar on stderr that disappears when done, so stdout stays one line per fact."""
    return Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors, transient=True
    )


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
