"""`import irr` is cheap: the functions (and numpy) load on first use, and each name is the
function whatever is used first (the submodule `irr.xirr` must not shadow the function)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import datetime as dt, sys
import irr
assert "numpy" not in sys.modules, "import irr loaded numpy"
try:
    irr.IrrError  # errors are there at once
    irr.schedule  # the first use loads every module
    assert "numpy" in sys.modules
    assert callable(irr.xirr) and irr.xirr.__module__ == "irr.xirr", irr.xirr
    print(round(irr.xirr([(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), 110)]), 6))
    irr.no_such_name
except AttributeError as exc:
    print(exc)
"""


def test_numpy_loads_on_first_use_and_names_stay_functions():
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0.1", "module 'irr' has no attribute 'no_such_name'"]
