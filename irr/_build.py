"""Build irr's optional compiled packer, irr/_speedups.c, in place:

    .venv/bin/python irr/_build.py [--optional] [--force]

``make install`` and ``make install-dev`` run it. It compiles with the compiler and flags
this Python was built with (``sysconfig``, as setuptools does on POSIX), so it needs a C
compiler and the Python headers, and nothing from PyPI. The result,
``irr/_speedups<EXT_SUFFIX>``, is named for this interpreter (another Python version just
does not find it) and is gitignored. It is rebuilt only when the source or this script is
newer. Without it irr gives the same results, only ``xirr_many`` reads Python objects more
slowly (docs/benchmarks.md, XIRR). ``--optional`` turns a failed build into a warning:
``make`` passes it except under CI, where the compiled packer must be built and tested.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("_speedups.c")


def target() -> Path:
    return SOURCE.with_name("_speedups" + sysconfig.get_config_var("EXT_SUFFIX"))


def is_current(built: Path) -> bool:
    if not built.exists():
        return False
    newest_input = max(SOURCE.stat().st_mtime, Path(__file__).stat().st_mtime)
    return built.stat().st_mtime >= newest_input


def compile_command(output: Path) -> list[str]:
    """One compile-and-link step: LDSHARED is this Python's compiler driver with its
    shared-library flags ("gcc -shared …", "clang -bundle -undefined dynamic_lookup …")."""
    config = sysconfig.get_config_var
    return [
        *shlex.split(config("LDSHARED") or f"{config('CC') or 'cc'} -shared"),
        *shlex.split(config("CFLAGS") or ""),
        *shlex.split(config("CCSHARED") or ""),
        "-O2",
        "-I",
        sysconfig.get_paths()["include"],
        str(SOURCE),
        "-o",
        str(output),
    ]


def build(force: bool = False) -> Path:
    built = target()
    if not force and is_current(built):
        return built
    partial = built.with_name(built.name + ".partial")
    command = compile_command(partial)
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError as error:
        raise RuntimeError(f"no C compiler: {error}") from error
    except subprocess.CalledProcessError as error:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{shlex.join(command)} failed:\n{error.stderr.strip()}") from error
    os.replace(partial, built)  # a running process never imports a half-written file
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description="Build irr/_speedups.c in place.")
    parser.add_argument("--optional", action="store_true", help="warn instead of failing")
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    arguments = parser.parse_args()
    try:
        build(arguments.force)
    except (OSError, RuntimeError) as error:
        if not arguments.optional:
            print(f"irr: building the compiled packer failed: {error}", file=sys.stderr)
            return 1
        print(
            f"irr: the compiled packer was not built ({error}); xirr_many uses its "
            "pure-Python packer instead (same results, slower).",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
