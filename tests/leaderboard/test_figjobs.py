"""The page's figures drawn side by side (figjobs): the same text as drawn one after another,
really in another process, errors carried back, and the switch that keeps it in one process."""

import os
import threading

import pytest

from adaptor_leaderboard import figjobs
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.page import FIGURE_COST, figure_calls
from adaptor_leaderboard.publish import build_board
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.runner import score_into_ledger


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(figjobs, "_cores", lambda: 2)
    monkeypatch.delenv(figjobs.WORKERS_ENV, raising=False)


def _board(tmp_path, test_set):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for name in ("good", "mid", "weak"):
            score_into_ledger(ledger, ledger.add_submission(name, "test", "I"), teams[name], gt)
        return build_board(ledger, PhaseRules("test"), replicates=40, seed=0)


def test_side_by_side_draws_the_same_figures_byte_for_byte(tmp_path, test_set, two_cores,
                                                            monkeypatch):  # fmt: skip
    calls = figure_calls(_board(tmp_path, test_set))
    assert figjobs.workers(len(calls)) == 2
    together = figjobs.draw_all(calls, FIGURE_COST)
    monkeypatch.setenv(figjobs.WORKERS_ENV, "1")
    assert figjobs.workers(len(calls)) == 1
    alone = figjobs.draw_all(calls, FIGURE_COST)
    assert list(together) == list(calls) == list(alone)  # in the order of the calls
    assert together == alone
    assert all(svg.startswith("<svg") for svg in alone.values())


def test_a_share_is_drawn_in_another_process(two_cores):
    calls = {"here": (os.getpid, ()), "there": (os.getpid, ())}
    got = figjobs.draw_all(calls, {"here": 2, "there": 1})
    assert got["here"] == os.getpid() != got["there"]


def _broken():
    raise ValueError("a figure that cannot be drawn")


def test_an_error_in_a_worker_reaches_the_caller(two_cores):
    calls = {"fine": (os.getpid, ()), "broken": (_broken, ())}
    with pytest.raises(ValueError, match="cannot be drawn"):
        figjobs.draw_all(calls, {"fine": 5, "broken": 1})  # "broken" goes to the worker
    assert figjobs._CALLS == {}


def test_one_process_when_asked_or_when_other_threads_run(two_cores, monkeypatch):
    assert figjobs.workers(10) == 2 and figjobs.workers(1) == 1
    monkeypatch.setenv(figjobs.WORKERS_ENV, "0")
    assert figjobs.workers(10) == 1
    monkeypatch.setenv(figjobs.WORKERS_ENV, "3")
    assert figjobs.workers(10) == 3 and figjobs.workers(2) == 2
    monkeypatch.delenv(figjobs.WORKERS_ENV)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert figjobs.workers(10) == 1  # a fork would copy a lock the other thread may hold
    finally:
        stop.set()
        other.join()


def test_shares_balance_the_cost():
    cost = {"a": 185, "b": 175, "c": 135, "d": 130, "e": 120, "f": 115, "g": 110, "h": 105}
    groups = figjobs.shares(cost, cost, 2)
    loads = [sum(cost[n] for n in g) for g in groups]
    assert sorted(sum(groups, [])) == sorted(cost)
    assert abs(loads[0] - loads[1]) <= max(cost.values())


PARENT = os.getpid()


def _dies_in_a_worker():
    if os.getpid() != PARENT:
        os._exit(1)  # a worker killed mid-figure
    return "drawn here"


def test_a_worker_that_dies_costs_time_not_the_page(two_cores):
    calls = {"fine": (os.getpid, ()), "dies": (_dies_in_a_worker, ())}
    with pytest.warns(RuntimeWarning, match="worker stopped"):
        got = figjobs.draw_all(calls, {"fine": 5, "dies": 1})  # "dies" goes to the worker
    assert got == {"fine": os.getpid(), "dies": "drawn here"}
