"""Benchmark: XIRR over a batch of realistic series, and one 24-flow call.

    .venv/bin/python bench/xirr.py [--series 10000] [--seed 20240601] [--repeat 7]
    .venv/bin/python bench/xirr.py --compare-with TREE [--rounds 40]

Builds series the way the platform holds them: Python lists of (date, Decimal) pairs, one
investment then 3-24 monthly repayments, priced to yields between -20% and +40% (fixed
seed). Times, on the same batch in one run: ``irr.xirr_many`` (counting the packing of the
Python lists into arrays; with the compiled packer irr/_speedups.c when it is built, and
again with the pure-Python packer it falls back to), a loop of ``irr.xirr``, a loop of
``pyxirr.xirr`` and a plain scipy loop (numpy arrays per series, ``scipy.optimize.newton``);
then the same batch with float amounts. Prints series per second (median of the repeats),
the ratio to the pyxirr loop, each method's largest difference from pyxirr, and how
``xirr_many``'s time splits between reading the Python objects and solving. Then times one
24-flow ``xirr`` call (median of many, microseconds). Results and their reading:
docs/benchmarks.md, "XIRR".

``--compare-with TREE`` times this tree's ``irr`` against the ``irr`` of another source tree
(a worktree of main, say, with its packer built: ``git worktree add /tmp/irr-before main &&
.venv/bin/python /tmp/irr-before/irr/_build.py``), for a change to the solver: both loaded
in this process, the same work alternated round by round, in CPU time
(``time.process_time``): ``xirr_many`` on the batch (Decimal, then float amounts), one
24-flow ``xirr``, a loop of ``xirr`` over 1,000 series. It prints each version's minimum
over the rounds and the ratio of the minima (this tree / the other), with the median of the
per-round ratios. On a shared machine separate runs drift by more than a solver change
costs; alternating in one process keeps both versions under the same conditions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyxirr
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from irr import add_months, xirr, xirr_many

XIRR_MODULE = sys.modules["irr.xirr"]  # the module; the package's xirr function shadows it
COMPILED_PACK = XIRR_MODULE._pack_flows

PAISA = Decimal("0.01")


def build_series(count: int, seed: int) -> list[list[tuple[dt.date, Decimal]]]:
    """One investment, then 3-24 monthly repayments of uneven size, priced to a yield
    drawn from -20% to +40% (the investment is their present value, in paise)."""
    rng = random.Random(seed)
    batch = []
    for _ in range(count):
        start = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(2000))
        repayments = rng.randint(3, 24)
        target = rng.uniform(-0.2, 0.4)
        flows = []
        for month in range(1, repayments + 1):
            amount = Decimal(rng.randint(50_000, 5_000_000)) * PAISA
            flows.append((add_months(start, month), amount))
        present_value = sum(
            float(amount) * (1 + target) ** (-(date - start).days / 365) for date, amount in flows
        )
        batch.append([(start, -Decimal(present_value).quantize(PAISA)), *flows])
    return batch


def scipy_xirr(flows) -> float:
    """What one would write with scipy alone: arrays per series, then Newton on the NPV."""
    first = min(date for date, _ in flows)
    years = np.array([(date - first).days / 365 for date, _ in flows])
    amounts = np.array([float(amount) for _, amount in flows])

    def value(rate):
        return np.sum(amounts * (1 + rate) ** -years)

    def slope(rate):
        return np.sum(-years * amounts * (1 + rate) ** (-years - 1))

    return optimize.newton(value, 0.1, fprime=slope, tol=1e-12, maxiter=100)


def timed(function, repeat: int) -> tuple[float, object]:
    """Median wall time over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def pure_python_packer(function):
    """``function`` run with xirr_many's compiled packer switched off."""

    def run():
        XIRR_MODULE._pack_flows = None
        try:
            return function()
        finally:
            XIRR_MODULE._pack_flows = COMPILED_PACK

    return run


def compare(batch, repeat: int, label: str) -> None:
    count = len(batch)
    methods = {
        "irr.xirr_many (with packing)": (lambda: xirr_many(batch).rates, repeat),
        "  pure-Python packer": (pure_python_packer(lambda: xirr_many(batch).rates), repeat),
        "irr.xirr loop": (lambda: np.array([xirr(flows) for flows in batch]), repeat),
        "pyxirr.xirr loop": (lambda: np.array([pyxirr.xirr(flows) for flows in batch]), repeat),
        "scipy newton loop": (lambda: np.array([scipy_xirr(flows) for flows in batch]), 1),
    }
    results = {name: timed(method, runs) for name, (method, runs) in methods.items()}
    reference_seconds, reference = results["pyxirr.xirr loop"]
    print(f"\n{count} series, {label} amounts ({sum(map(len, batch))} flows)")
    print(f"{'method':30} {'series/s':>10} {'vs pyxirr':>10} {'max |diff| vs pyxirr':>21}")
    for name, (seconds, rates) in results.items():
        difference = float(np.max(np.abs(np.asarray(rates, dtype=float) - reference)))
        ratio = reference_seconds / seconds
        print(f"{name:30} {count / seconds:10,.0f} {ratio:9.2f}x {difference:21.2e}")

    (packing, solving), (python_packing, _) = split(batch, repeat), split(batch, repeat, python=True)
    whole = results["irr.xirr_many (with packing)"][0]
    print(
        f"xirr_many split: reading the Python objects {packing * 1e3:.1f} ms "
        f"({python_packing * 1e3:.1f} ms in pure Python), "
        f"solving {solving * 1e3:.1f} ms ({count / solving:,.0f} series/s on arrays), "
        f"whole call {whole * 1e3:.1f} ms; the pyxirr loop {reference_seconds * 1e3:.1f} ms"
    )


def split(batch, repeat: int, python: bool = False) -> tuple[float, float]:
    """Median time ``xirr_many`` spends reading the Python objects (``_pack``, chunk by
    chunk) and solving the arrays (``_solve_plain_series``), timed inside real calls."""
    names = ("_pack", "_solve_plain_series")
    originals = {name: getattr(XIRR_MODULE, name) for name in names}
    spent = dict.fromkeys(names, 0.0)

    def timing(name):
        def run(*arguments):
            began = time.perf_counter()
            try:
                return originals[name](*arguments)
            finally:
                spent[name] += time.perf_counter() - began

        return run

    call = (lambda: xirr_many(batch)) if not python else pure_python_packer(lambda: xirr_many(batch))
    samples = {name: [] for name in names}
    for name in names:
        setattr(XIRR_MODULE, name, timing(name))
    try:
        for _ in range(repeat):
            spent.update(dict.fromkeys(names, 0.0))
            call()
            for name in names:
                samples[name].append(spent[name])
    finally:
        for name, original in originals.items():
            setattr(XIRR_MODULE, name, original)
    return statistics.median(samples["_pack"]), statistics.median(samples["_solve_plain_series"])


def single_call(batch, samples: int = 20_000) -> None:
    flows = next(flows for flows in batch if len(flows) == 25)  # one investment, 24 repayments
    floats = [(date, float(amount)) for date, amount in flows]
    for label, series in (("Decimal", flows), ("float", floats)):
        for name, function in (("irr.xirr", xirr), ("pyxirr.xirr", pyxirr.xirr)):
            times = []
            for _ in range(samples // 100):
                began = time.perf_counter()
                for _ in range(100):
                    function(series)
                times.append((time.perf_counter() - began) / 100)
            median = statistics.median(times) * 1e6
            print(f"one 24-flow call, {label:7} amounts, {name:12} median {median:6.2f} us")


def load_other_irr(root: Path):
    """The ``irr`` package of another source tree, imported beside this tree's (each
    function keeps its own modules); this tree's stay in ``sys.modules``."""
    ours = {name: module for name, module in sys.modules.items() if name == "irr" or name.startswith("irr.")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        import irr as other

        return other
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == "irr" or name.startswith("irr.")]:
            del sys.modules[name]
        sys.modules.update(ours)


def cpu_time(function, calls: int) -> float:
    began = time.process_time()
    for _ in range(calls):
        function()
    return (time.process_time() - began) / calls


def compare_trees(other_root: Path, batch, rounds: int) -> None:
    """This tree's irr against ``other_root``'s, alternated in one process (CPU time)."""
    other = load_other_irr(other_root)
    ours = sys.modules["irr"]
    floats = [[(date, float(amount)) for date, amount in flows] for flows in batch]
    flows = next(flows for flows in batch if len(flows) == 25)
    cases = {
        f"xirr_many, {len(batch):,} Decimal series": (lambda irr: lambda: irr.xirr_many(batch), 3),
        f"xirr_many, {len(batch):,} float series": (lambda irr: lambda: irr.xirr_many(floats), 3),
        "xirr, one 24-flow series": (lambda irr: lambda: irr.xirr(flows), 2000),
        "xirr loop, 1,000 series": (lambda irr: lambda: [irr.xirr(each) for each in batch[:1000]], 1),
    }
    print(f"\n{other_root} (other) against this tree, {rounds} rounds, CPU time, minimum over rounds")
    for name, (make, calls) in cases.items():
        run_other, run_ours = make(other), make(ours)
        run_other(), run_ours()
        times_other, times_ours = [], []
        for index in range(rounds):
            if index % 2:
                times_ours.append(cpu_time(run_ours, calls))
                times_other.append(cpu_time(run_other, calls))
            else:
                times_other.append(cpu_time(run_other, calls))
                times_ours.append(cpu_time(run_ours, calls))
        ratios = [mine / theirs for theirs, mine in zip(times_other, times_ours, strict=True)]
        print(
            f"{name:34} other {min(times_other) * 1e6:10.1f} us  this {min(times_ours) * 1e6:10.1f} us  "
            f"this / other {min(times_ours) / min(times_other):.3f} (median of rounds {statistics.median(ratios):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compare-with", type=Path, help="another source tree whose irr to time against")
    parser.add_argument("--rounds", type=int, default=40, help="rounds of --compare-with")
    arguments = parser.parse_args()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pyxirr {pyxirr.__version__}"
        f", {platform.machine()}, {os.cpu_count()} cpus, load average "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    if COMPILED_PACK is None:
        print("irr packer: pure Python (the compiled irr/_speedups.c is not built: make install)")
    else:
        print(f"irr packer: compiled ({Path(sys.modules['irr._speedups'].__file__).name})")
    batch = build_series(arguments.series, arguments.seed)
    if arguments.compare_with is not None:
        compare_trees(arguments.compare_with.resolve(), batch, arguments.rounds)
        return
    compare(batch, arguments.repeat, "Decimal")
    floats = [[(date, float(amount)) for date, amount in flows] for flows in batch]
    compare(floats, arguments.repeat, "float")
    print()
    single_call(batch)


if __name__ == "__main__":
    main()
