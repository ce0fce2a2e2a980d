import pytest

from engine.pricing import mid, quote


def test_mid_is_halfway():
    assert mid(99.0, 101.0) == pytest.approx(100.0)


def test_crossed_book_is_rejected():
    with pytest.raises(ValueError):
        mid(101.0, 99.0)


def test_quote_is_symmetric_around_mid():
    # D201::AC-1
    bid, ask = quote(100.0, spread_bps=20)
    assert bid == pytest.approx(99.9)
    assert ask == pytest.approx(100.1)
    assert (bid + ask) / 2 == pytest.approx(100.0)
