import random

import pytest

from engine.fees import FeeSchedule
from engine.pnl import Fill, round_trip_pnl

SCHEDULE = FeeSchedule(maker_bps=-1, taker_bps=5)


def test_long_round_trip_net_is_gross_minus_fees():
    # D102::AC-1
    pnl = round_trip_pnl(Fill("buy", 100.0, 2, is_maker=True), Fill("sell", 101.0, 2, is_maker=False), SCHEDULE)
    assert pnl.gross == pytest.approx(2.0)
    assert pnl.fees == pytest.approx(-0.02 + 0.101)
    assert pnl.net == pytest.approx(pnl.gross - pnl.fees)


def test_short_round_trip_profits_when_price_falls():
    # D102::AC-1
    pnl = round_trip_pnl(Fill("sell", 50.0, 1, is_maker=False), Fill("buy", 49.0, 1, is_maker=False), SCHEDULE)
    assert pnl.gross == pytest.approx(1.0)


def test_breakdown_is_a_plain_dict():
    # D102::AC-2
    pnl = round_trip_pnl(Fill("buy", 10.0, 1, True), Fill("sell", 10.0, 1, True), SCHEDULE)
    assert set(pnl.as_dict()) == {"gross", "fees", "net"}


def test_mismatched_round_trips_are_rejected():
    with pytest.raises(ValueError):
        round_trip_pnl(Fill("buy", 10.0, 1, True), Fill("buy", 11.0, 1, True), SCHEDULE)
    with pytest.raises(ValueError):
        round_trip_pnl(Fill("buy", 10.0, 1, True), Fill("sell", 11.0, 2, True), SCHEDULE)


@pytest.mark.slow
def test_net_identity_holds_for_many_random_round_trips():
    # Regression-only (deselected by the fast stage): the identity net = gross - fees.
    rng = random.Random(20261101)
    for _ in range(20_000):
        qty = rng.uniform(0.001, 5)
        entry = Fill(rng.choice(["buy", "sell"]), rng.uniform(1, 1000), qty, rng.random() < 0.5)
        exit_ = Fill("sell" if entry.side == "buy" else "buy", rng.uniform(1, 1000), qty, rng.random() < 0.5)
        pnl = round_trip_pnl(entry, exit_, SCHEDULE)
        assert pnl.net == pytest.approx(pnl.gross - pnl.fees)
