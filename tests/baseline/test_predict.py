"""Prediction's reading ahead (predict.prefetched)."""

import pytest


def test_prefetched_keeps_the_order_and_raises_where_reading_failed():
    import threading

    from adaptor_baseline.predict import prefetched

    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield from (0, 1, 2)
        raise OSError("frame 3 cannot be read")

    got = []
    with pytest.raises(OSError, match="frame 3"):
        for b in prefetched(broken()):
            got.append(b)
    assert got == [0, 1, 2]  # every batch before the broken one was delivered

    before = threading.active_count()
    for b in prefetched(iter(range(10**6)), depth=2):  # the consumer stops early
        if b == 3:
            break
    assert threading.active_count() == before  # the reader thread has ended, not left hanging
