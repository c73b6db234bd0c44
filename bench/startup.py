"""Benchmark: how long a management command takes to start (`manage.py help`).

    .venv/bin/python bench/startup.py [--runs 30] [--against /path/to/other/checkout]

Runs `python manage.py help` in this checkout (and, with --against, in another one, e.g. a
worktree of the commit before a change, alternating so both see the same machine) with
production-shaped settings: DEBUG off, PostgreSQL and Redis URLs (nothing connects: `help`
only sets Django up). Uses hyperfine when it is installed, else a loop of its own. Prints
mean, median and min wall time per checkout, the ratio, the load average before and after,
and which heavy libraries `django.setup()` imported. Goal: under 1.5 s on a quiet machine.
Results: docs/benchmarks.md, "Command start-up".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
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


def _with_hyperfine(checkouts: dict[str, Path], runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as directory:
        export = Path(directory) / "times.json"
        command = ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--export-json", str(export)]
        for name, checkout in checkouts.items():
            command += ["--command-name", name, " ".join(_command(checkout))]
        subprocess.run(command, env=_environment(), check=True, stdout=subprocess.DEVNULL)
        results = json.loads(export.read_text())["results"]
    return {result["command"]: result["times"] for result in results}


def _with_a_loop(checkouts: dict[str, Path], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in checkouts}
    for round_number in range(runs + 3):
        for name, checkout in checkouts.items():  # alternating: both see the same machine
            started = time.perf_counter()
            subprocess.run(_command(checkout), cwd=checkout, env=_environment(), check=True,
                           stdout=subprocess.DEVNULL)
            if round_number >= 3:  # the first rounds warm the disk cache and the .pyc files
                times[name].append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--against", type=Path, help="Another checkout to time the same way (e.g. the base commit).")
    arguments = parser.parse_args()
    checkouts = {"this": ROOT}
    if arguments.against:
        checkouts["against"] = arguments.against.resolve()
    load_before = os.getloadavg()
    tool = "hyperfine" if shutil.which("hyperfine") else "a loop"
    times = (_with_hyperfine if tool == "hyperfine" else _with_a_loop)(checkouts, arguments.runs)
    load_after = os.getloadavg()
    print(f"manage.py help, {arguments.runs} runs each, timed with {tool}; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; {os.cpu_count()} cores")
    for name, checkout in checkouts.items():
        series = times[name]
        heavy = ", ".join(_heavy_at_setup(checkout)) or "none"
        print(f"  {name:<8} {checkout}: mean {statistics.mean(series):.3f} s, "
              f"median {statistics.median(series):.3f} s, min {min(series):.3f} s; heavy libraries at setup: {heavy}")
    if "against" in times:
        ratio = statistics.median(times["this"]) / statistics.median(times["against"])
        print(f"  median ratio this/against: {ratio:.2f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
