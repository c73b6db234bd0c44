"""Benchmark: how long a management command takes to start (`manage.py help`).

    .venv/bin/python bench/startup.py [--runs 30] [--against /path/to/other/checkout]

Runs `python manage.py help` with production-shaped settings: DEBUG off, PostgreSQL and
Redis URLs (nothing connects: `help` only sets Django up). First hyperfine (when installed)
times this checkout alone: the wall-clock figure against the goal, under 1.5 s on a quiet
machine. Then, with --against another checkout (e.g. a worktree of the commit before a
change), a loop of its own alternates the two, run by run, so both see the same machine, and
reports wall time and CPU time (user + system of the child: what the start-up costs, and
much less moved by other load than wall time) with their ratios. Prints the load average
before and after and which heavy libraries `django.setup()` imported in each checkout.
Results: docs/benchmarks.md, "Command start-up".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "pandas", "matplotlib", "reportlab", "openpyxl", "httpx", "rich", "boto3")
ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-startup-secret-key-0123456789abcdefghijklmnop",
    "JWT_SIGNING_KEY": "bench-startup-jwt-key-0123456789abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEYS": "0Ah9B8-adaICXVdTx6j8Vqz7Nmfvx1S9FTPYdLSWtx4=",
    "BLIND_INDEX_KEY": "bench-startup-blind-index-key",
    "PAYMENT_SANDBOX_WEBHOOK_SECRET": "bench-startup-payments",
    "PAYOUT_SANDBOX_WEBHOOK_SECRET": "bench-startup-payouts",
    "SANDBOX_PROVIDERS": "1",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tranche_bench_startup",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(ENV)
    return env


def _command(checkout: Path) -> list[str]:
    return [str(checkout / ".venv" / "bin" / "python"), str(checkout / "manage.py"), "help"]


def _heavy_at_setup(checkout: Path) -> list[str]:
    code = ("import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
            f"print(','.join(n for n in {HEAVY!r} if n in sys.modules))")
    result = subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-c", code], cwd=checkout,
                            env=_environment(), capture_output=True, text=True, check=True)
    return [name for name in result.stdout.strip().split(",") if name]


def _with_hyperfine(checkout: Path, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        export = Path(directory) / "times.json"
        command = ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--export-json", str(export),
                   " ".join(_command(checkout))]
        subprocess.run(command, env=_environment(), check=True, stdout=subprocess.DEVNULL)
        return json.loads(export.read_text())["results"][0]["times"]


def _alternating(checkouts: dict[str, Path], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds per run, the checkouts taking turns run by run."""
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in checkouts}
    for round_number in range(runs + 3):
        for name, checkout in checkouts.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(_command(checkout), cwd=checkout, env=_environment(), check=True,
                           stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_number >= 3:  # the first rounds warm the disk cache and the .pyc files
                times[name][0].append(wall)
                times[name][1].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--against", type=Path, help="Another checkout to time the same way (e.g. the base commit).")
    arguments = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"manage.py help, {arguments.runs} runs each; {os.cpu_count()} cores")
    if shutil.which("hyperfine"):
        series = _with_hyperfine(ROOT, arguments.runs)
        print(f"  hyperfine, this checkout: mean {statistics.mean(series):.3f} s, "
              f"median {statistics.median(series):.3f} s, min {min(series):.3f} s "
              f"(load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)")
    else:
        print("  (hyperfine not installed: only the alternating loop below)")
    checkouts = {"this": ROOT}
    if arguments.against:
        checkouts["against"] = arguments.against.resolve()
    load = os.getloadavg()[0]
    times = _alternating(checkouts, arguments.runs)
    print(f"  alternating loop (load average {load:.2f} before, {os.getloadavg()[0]:.2f} after):")
    for name, checkout in checkouts.items():
        wall, cpu = times[name]
        heavy = ", ".join(_heavy_at_setup(checkout)) or "none"
        print(f"    {name:<8} {checkout}: wall median {statistics.median(wall):.3f} s (min {min(wall):.3f} s), "
              f"CPU median {statistics.median(cpu):.3f} s; heavy libraries at setup: {heavy}")
    if "against" in times:
        for index, what in enumerate(("wall", "CPU")):
            ratio = statistics.median(times["this"][index]) / statistics.median(times["against"][index])
            print(f"  median {what} ratio this/against: {ratio:.2f}")


if __name__ == "__main__":
    main()
