"""`bench/buy.py --check`: which of the issue's goals a run missed (a scheduled run's verdict)."""

from bench.buy import goal_misses


def run(rate, p99=60.0, non_2xx=0):
    return {"rate": rate, "p99_ms": p99, "non_2xx": non_2xx}


def one_round(**given):
    """A round's runs; each given as a rate, or as a whole run."""
    found = {"me": 800, "spread": 420, "hot": 400, "spread+key": 400, **given}
    return {name: value if isinstance(value, dict) else run(value) for name, value in found.items()}


def check(*rounds, differences=()):
    results = {f"{name}#{number}": found for number, each in enumerate(rounds, 1) for name, found in each.items()}
    results["raw_sql"] = {"spread": 2000.0, "hot": 700.0}
    return goal_misses(list(rounds), results, list(differences))


def test_a_run_that_meets_every_goal_has_no_misses():
    assert check(one_round(), one_round(me=900, spread=380, hot=240)) == []


def test_each_ratio_is_judged_on_its_median_over_the_rounds():
    # One round below 0.4 is not a miss when the median is above it...
    assert check(one_round(spread=300), one_round(), one_round()) == []
    # ...and is one when most rounds are below.
    assert check(one_round(spread=300, hot=290), one_round(spread=310, hot=300), one_round()) == [
        "spread / me = 0.39, below 0.40"]
    assert check(one_round(hot=200)) == ["hot / spread = 0.48, below 0.60"]


def test_p99_is_a_goal_for_spread_and_hot_runs_but_not_for_keyed_ones():
    assert check(one_round(hot=run(400, p99=100.0), **{"spread+key": run(400, p99=140.0)})) == [
        "hot#1: p99 100.0 ms, not under 100 ms"]


def test_any_error_in_a_buy_run_and_an_unclean_ledger_are_misses():
    misses = check(one_round(**{"spread+key": run(400, non_2xx=3)}), differences=[("wallet", 1)])
    assert misses == ["spread+key#1: 3 non-2xx responses", "reconcile: 1 differences"]
    # A failing /me/ is the reference, not a buy: its errors are not counted as the buys'.
    assert check(one_round(me=run(800, non_2xx=5))) == []
