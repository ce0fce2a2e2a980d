import pytest

from engine.fees import FeeSchedule


def test_taker_fee_is_bps_of_notional():
    # D101::AC-1
    assert FeeSchedule(maker_bps=2, taker_bps=5).fee(10_000, is_maker=False) == pytest.approx(5.0)


def test_maker_fee_uses_maker_rate():
    # D101::AC-1
    assert FeeSchedule(maker_bps=2, taker_bps=5).fee(10_000, is_maker=True) == pytest.approx(2.0)


def test_negative_maker_fee_is_a_rebate():
    # D101::AC-2
    assert FeeSchedule(maker_bps=-1, taker_bps=4).fee(20_000, is_maker=True) == pytest.approx(-2.0)


@pytest.mark.parametrize("maker,taker", [(1, -1), (6, 5)])
def test_invalid_schedules_are_rejected(maker, taker):
    # D101::AC-3
    with pytest.raises(ValueError):
        FeeSchedule(maker_bps=maker, taker_bps=taker)


def test_negative_notional_is_rejected():
    with pytest.raises(ValueError):
        FeeSchedule(maker_bps=1, taker_bps=2).fee(-1, is_maker=True)
