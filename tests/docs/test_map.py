"""The docs are a map of what exists now (STYLE.md 14): every app, docs file, ADR and benchmark
is named where a newcomer looks for it, and the CHANGELOG is made of releases. These tests read
files only; they fail when something is added without its entry on the map."""

import importlib
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _layout_paths() -> set[str]:
    """The first column of README.md's "Layout" table, without backticks or a trailing slash."""
    section = _read("README.md").split("## Layout", 1)[1].split("\n## ", 1)[0]
    return {cell.strip("`/") for cell in re.findall(r"^\| (`[^`]+`) \|", section, flags=re.M)}


def _local_apps() -> set[str]:
    """INSTALLED_APPS that live in this repository, as paths relative to it."""
    apps = set()
    for name in settings.INSTALLED_APPS:
        origin = Path(importlib.import_module(name).__file__).resolve().parent
        if origin.is_relative_to(ROOT) and ".venv" not in origin.parts:
            apps.add(origin.relative_to(ROOT).as_posix())
    return apps


def test_the_readme_layout_names_every_app_and_every_docs_entry():
    listed = _layout_paths()
    docs = {f"docs/{entry.name}" for entry in (ROOT / "docs").iterdir() if not entry.name.startswith(".")}
    missing = sorted((_local_apps() | docs) - listed)
    assert not missing, f"README.md's Layout table does not name: {missing}"


def test_the_readme_starts_with_make_run_and_make_test():
    first_block = _read("README.md").split("```", 2)[1]
    assert re.search(r"^make run\b", first_block, flags=re.M) and re.search(r"^make test\b", first_block, flags=re.M)


def test_the_adr_index_lists_every_adr_and_explains_each_missing_number():
    index = _read("docs/adr/README.md")
    files = sorted(path.name for path in (ROOT / "docs" / "adr").glob("[0-9][0-9][0-9][0-9]-*.md"))
    unlisted = [name for name in files if f"]({name})" not in index]
    assert not unlisted, f"docs/adr/README.md does not link: {unlisted}"
    numbers = {int(name[:4]) for name in files}
    for number in set(range(1, max(numbers) + 1)) - numbers:
        assert re.search(rf"no {number:04d}\b", index, flags=re.I), f"the gap at {number:04d} is not explained"


def test_the_changelog_is_releases_with_unreleased_on_top():
    headings = re.findall(r"^## (.+)$", _read("CHANGELOG.md"), flags=re.M)
    assert headings[0] == "[Unreleased]"
    releases = headings[1:]
    assert releases, "no release has been cut"
    for heading in releases:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", heading), f"not a release heading: {heading!r}"
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    groups = set(re.findall(r"^### (.+)$", _read("CHANGELOG.md"), flags=re.M))
    assert groups <= allowed, f"not a Keep a Changelog group: {sorted(groups - allowed)}"


def test_the_benchmark_page_opens_with_every_benchmark():
    page = _read("docs/benchmarks.md")
    current = page.split("## Current figures", 1)[1].split("\n## ", 1)[0]
    benches = [f"bench/{path.name}" for path in sorted((ROOT / "bench").glob("[a-z]*.py"))] + ["bench/chaos/"]
    unlisted = [bench for bench in benches if bench not in current]
    assert not unlisted, f"the Current figures table of docs/benchmarks.md does not name: {unlisted}"
