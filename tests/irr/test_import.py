"""The irr package is pure Python on numpy and scipy: it must never import Django."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import datetime as dt, sys
import irr
# exercise every module, the scipy fallback included
irr.xirr([(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), 230), (dt.date(2023, 1, 1), -132)])
irr.xirr_many([[(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), 110)]])
irr.schedule("amortizing", 1000, 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), "monthly")
irr.irr([-100, 60, 60])
print(sorted(name for name in sys.modules if name == "django" or name.startswith("django.")))
"""


def test_importing_and_using_irr_loads_no_django():
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_irr_imports_only_the_standard_library_numpy_and_scipy():
    allowed = set(sys.stdlib_module_names) | {"numpy", "scipy", "irr", "__future__"}
    imported = set()
    for path in (ROOT / "irr").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])

    assert imported - allowed == set()
