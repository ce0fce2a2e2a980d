"""Maker/taker fee model (D101).

Fees are quoted in basis points of notional. A negative maker fee is a rebate: the exchange
pays the maker.
"""
from dataclasses import dataclass

BPS = 10_000


@dataclass(frozen=True)
class FeeSchedule:
    """Fees of one venue, in basis points of notional."""

    maker_bps: float
    taker_bps: float

    def __post_init__(self) -> None:
        if self.taker_bps < 0:
            raise ValueError("taker fee cannot be a rebate")
        if self.maker_bps > self.taker_bps:
            raise ValueError("maker fee above taker fee is not a valid schedule")

    def fee(self, notional: float, is_maker: bool) -> float:
        """Fee paid on a fill of `notional` (negative when it is a rebate)."""
        if notional < 0:
            raise ValueError("notional must be non-negative")
        bps = self.maker_bps if is_maker else self.taker_bps
        return notional * bps / BPS
