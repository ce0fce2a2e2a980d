"""The one place PnL is computed (D102).

scripts/check_no_duplicate_pnl.py fails the Gate if PnL arithmetic appears anywhere else, so a
report or a script must call round_trip_pnl() rather than re-derive it.
"""
from dataclasses import dataclass, asdict
from typing import Dict

from engine.fees import FeeSchedule


@dataclass(frozen=True)
class Fill:
    """One execution: side is "buy" or "sell"."""

    side: str
    price: float
    qty: float
    is_maker: bool

    def __post_init__(self) -> None:
        if self.side not in ("buy", "sell"):
            raise ValueError(f"unknown side {self.side!r}")
        if self.price <= 0 or self.qty <= 0:
            raise ValueError("price and qty must be positive")

    @property
    def notional(self) -> float:
        return self.price * self.qty


@dataclass(frozen=True)
class PnlBreakdown:
    """Gross PnL, total fees and net PnL of a round trip, in quote currency."""

    gross: float
    fees: float
    net: float

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


def round_trip_pnl(entry: Fill, exit_: Fill, schedule: FeeSchedule) -> PnlBreakdown:
    """PnL of opening with `entry` and closing with `exit_` (opposite sides, same quantity)."""
    if entry.side == exit_.side:
        raise ValueError("a round trip needs opposite sides")
    if entry.qty != exit_.qty:
        raise ValueError("entry and exit quantities differ")
    direction = 1 if entry.side == "buy" else -1
    gross = direction * (exit_.price - entry.price) * entry.qty
    fees = schedule.fee(entry.notional, entry.is_maker) + schedule.fee(exit_.notional, exit_.is_maker)
    return PnlBreakdown(gross=gross, fees=fees, net=gross - fees)
