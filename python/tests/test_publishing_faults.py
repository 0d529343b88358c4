"""DuckDB publishing under faults: a kill between steps, a read-only or full folder, quotes in paths, two publishers.

Every fault ends in one clear error and leaves readers the previous publication, whole, with
nothing half-written left behind. The faults are real: a process killed with os._exit, a
read-only and a full tmpfs (mounting needs root; elsewhere those tests skip), real quotes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.crm.build_history import HISTORY_FILES
from services.crm.publication import PublishError
from services.crm.publish import CURRENT_LINK, VERSIONS_DIR, current_version, publish

from .engines import PROJECT_DIR, DuckDBMart
from .test_publishing import Deployment


def publish_into(working_db: Path, root: Path) -> None:
    publish(working_db, root / "published", root / "operators")


def readers_view(root: Path) -> dict[str, Path]:
    """Where each name of the mart a reader opens resolves to now (build_history is the log's, not a version's)."""
    folder = root / "published"
    return {
        path.name: path.resolve()
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.name not in HISTORY_FILES
    }


def assert_one_whole_publication(root: Path) -> Path:
    """Every name readers open resolves into the same complete version folder, and nothing is half-written."""
    for folder in (root / "published", root / "operators"):
        version = current_version(folder)
        assert version is not None
        assert {path.parent for path in readers_view(root).values()} <= {current_version(root / "published")}
        assert not list((folder / VERSIONS_DIR).glob(".*")), "a staged folder was left behind"
        assert not list(folder.glob(".*.tmp")), "a staged link was left behind"
    version = current_version(root / "published")
    assert version is not None
    return version


@pytest.fixture
def built(sample_mart: DuckDBMart, tmp_path: Path) -> Path:
    """A copy of the dbt-built sample's working database, to publish from."""
    copy = tmp_path / "work" / "crm_priority.duckdb"
    copy.parent.mkdir()
    shutil.copy(sample_mart.db_path, copy)
    return copy


# Where the kill lands: in the middle of writing the version folders (the first staged folder
# renamed to its build id), before any switch, and between the operators' and the readers' switch.
KILL_POINTS = {
    "while staging": ("pathlib.Path.rename", 1),
    "before the switches": ("os.replace", 0),
    "between the switches": ("os.replace", 1),
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_publish_killed_between_its_steps_leaves_readers_one_whole_build(
    built: Path, tmp_path: Path, kill_point: str
) -> None:
    function, killed_after_calls = KILL_POINTS[kill_point]
    module, _, name = function.rpartition(".")
    root = tmp_path / "deploy"
    publish_into(built, root)
    before = assert_one_whole_publication(root)
    # A real process dies with os._exit after the given number of renames: no clean-up runs.
    script = (
        "import os, sys, pathlib\n"
        "from pathlib import Path\n"
        "from services.crm import publish\n"
        f"real, calls = {module}.{name}, [0]\n"
        "def dying(*args):\n"
        f"    if calls[0] == {killed_after_calls}:\n"
        "        os._exit(9)\n"
        "    calls[0] += 1\n"
        "    return real(*args)\n"
        f"{module}.{name} = dying\n"
        "root = Path(sys.argv[2])\n"
        "publish.publish(Path(sys.argv[1]), root / 'published', root / 'operators')\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(built), str(root)], check=False, cwd=PROJECT_DIR)
    assert killed.returncode == 9
    version = current_version(root / "published")
    assert version is not None
    assert {path.parent for path in readers_view(root).values()} == {version}, "readers see files of two builds"
    # The next publish recovers: whole, and no debris of the killed one.
    publish_into(built, root)
    after = assert_one_whole_publication(root)
    assert after != before


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: room for one publication (about 2.2 MB), not for two."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_fails_with_one_clear_error_and_keeps_the_previous_publication(
    built: Path, small_mount: Path
) -> None:
    publish_into(built, small_mount)
    before = assert_one_whole_publication(small_mount)
    with pytest.raises(PublishError, match=r"(?i)no space left"):
        publish_into(built, small_mount)
    assert assert_one_whole_publication(small_mount) == before


def test_a_read_only_folder_fails_with_one_clear_error_and_keeps_the_previous_publication(
    built: Path, small_mount: Path
) -> None:
    publish_into(built, small_mount)
    before = assert_one_whole_publication(small_mount)
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    with pytest.raises(PublishError, match=r"[Rr]ead-only"):
        publish_into(built, small_mount)
    assert assert_one_whole_publication(small_mount) == before
    assert (small_mount / "published" / CURRENT_LINK).is_symlink()


def test_paths_with_quotes_build_and_publish(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path / 'it\'s a "quoted" folder')
    completed = deployment.build()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert deployment.manifest()["row_counts"]["client_priority"] == 303  # type: ignore[index]


def test_two_builds_publishing_into_one_folder_are_refused_clearly(tmp_path: Path) -> None:
    first, second = Deployment(tmp_path / "a"), Deployment(tmp_path / "b")
    shared = ["--publish-dir", str(tmp_path / "published")]
    process = subprocess.Popen(
        [*first.build_command(), *shared], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Running with dbt" in line:
            break
    try:
        completed = subprocess.run(
            [*second.build_command(), *shared], capture_output=True, text=True, check=False, env=os.environ
        )
        assert completed.returncode == 75
        assert "Another publish is running" in completed.stderr
    finally:
        process.communicate(timeout=300)
    assert process.returncode == 0


def test_a_publish_fault_exits_4_with_one_message_and_the_previous_build_stays(
    tmp_path: Path, small_mount: Path
) -> None:
    deployment = Deployment(tmp_path)
    on_mount = ["--publish-dir", str(small_mount / "published"), "--operators-dir", str(small_mount / "operators")]
    first = subprocess.run([*deployment.build_command(), *on_mount], capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    before = assert_one_whole_publication(small_mount)
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    completed = subprocess.run([*deployment.build_command(), *on_mount], capture_output=True, text=True, check=False)
    assert completed.returncode == 4, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert "nothing was published" in completed.stderr
    assert "Read-only file system" in completed.stderr
    assert assert_one_whole_publication(small_mount) == before
