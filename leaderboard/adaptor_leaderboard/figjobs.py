"""Draw the page's figures side by side: each figure is an independent call that returns SVG text,
so on a machine with two or more cores this process and forked workers draw them
side by side, shared out by their expected cost.

Drawing is most of ``publish``'s time (6 teams x 100 frames x 500 replicates on 2 cores: the
analyses about 0.2 s, the ten figures about 1.3 s one after another, mostly matplotlib's Python),
and matplotlib holds the GIL, so threads would not help. Workers are forked, not spawned: a child
starts with matplotlib imported and the analysis in memory, nothing is pickled on the way in,
only the SVG text comes back; the result is in the order of the calls. Drawing stays in this
process (one after another) when:

* the machine has one core, or there are fewer than two figures;
* the platform cannot fork, or this process runs other Python threads (a forked child gets only
  the calling thread; a lock another thread held would stay locked there);
* ``ADAPTOR_FIGURE_WORKERS=1`` (or ``0``) is set: the switch for a debugger, a profiler, or a
  host that forbids ``fork``. ``ADAPTOR_FIGURE_WORKERS=N`` caps the workers at N.

The figures drawn either way are the same text: a test compares the two byte for byte. A worker
that dies (killed, out of memory) costs time, not the page: its figures are drawn here instead.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

WORKERS_ENV = "ADAPTOR_FIGURE_WORKERS"

# What the forked workers draw: set just before the pool forks, read (inherited) in the child.
_CALLS: dict[str, tuple[Callable[..., str], tuple]] = {}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, not the machine's
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers(n_calls: int) -> int:
    """How many processes draw ``n_calls`` figures here (1: this process, one after another)."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    cap = int(wanted) if wanted.isdigit() else _cores()
    if cap < 2 or n_calls < 2 or threading.active_count() > 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(cap, n_calls)


def _draw(names: list[str]) -> dict[str, str]:
    return {name: _CALLS[name][0](*_CALLS[name][1]) for name in names}


def shares(names, cost: dict[str, float], n: int) -> list[list[str]]:
    """``names`` in ``n`` groups of about equal ``cost``, longest first into the lightest group
    (the greedy rule, within 4/3 of the best split).

    >>> shares(["a", "b", "c", "d"], {"a": 8, "b": 4, "c": 4, "d": 1}, 2)
    [['a', 'd'], ['b', 'c']]
    """
    groups: list[list[str]] = [[] for _ in range(n)]
    load = [0.0] * n
    for name in sorted(names, key=lambda x: -cost.get(x, 1.0)):
        i = load.index(min(load))
        groups[i].append(name)
        load[i] += cost.get(name, 1.0)
    return groups


def draw_all(calls: dict[str, tuple[Callable[..., str], tuple]],
             cost: dict[str, float] | None = None) -> dict[str, str]:  # fmt: skip
    """Each call's SVG text, by name: ``{name: func(*args)}``. ``cost``: a relative estimate of
    each call's time, by which the calls are shared out so the workers finish together. This
    process draws one share itself while the forked workers draw the others."""
    n = workers(len(calls))
    _CALLS.clear()
    _CALLS.update(calls)
    try:
        if n == 1:
            return _draw(list(calls))
        mine, *theirs = shares(calls, cost or {}, n)
        with warnings.catch_warnings():
            # Python 3.12+ warns on any fork of a process with OS threads; numpy's OpenBLAS pool
            # is one, idle, and re-made in the child (pthread_atfork). Python threads were ruled
            # out above.
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n - 1, mp_context=ctx) as pool:
                futures = [pool.submit(_draw, share) for share in theirs]
                drawn = _draw(mine)
                for share, future in zip(theirs, futures):
                    try:
                        drawn.update(future.result())
                    except BrokenProcessPool:  # the worker died (killed, out of memory)
                        warnings.warn("a figure worker stopped; drawing its figures here",
                                      RuntimeWarning, stacklevel=2)  # fmt: skip
                        drawn.update(_draw(share))
    finally:
        _CALLS.clear()
    return {name: drawn[name] for name in calls}
