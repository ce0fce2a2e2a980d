"""Quoting around a mid price (D201)."""
from typing import Tuple

from engine.fees import BPS


def mid(bid: float, ask: float) -> float:
    """Mid price of a book whose best bid is not above its best ask."""
    if bid <= 0 or ask <= 0:
        raise ValueError("prices must be positive")
    if bid > ask:
        raise ValueError("crossed book: bid above ask")
    return (bid + ask) / 2


def quote(mid_price: float, spread_bps: float) -> Tuple[float, float]:
    """Bid and ask placed symmetrically `spread_bps` apart around `mid_price`."""
    half = mid_price * spread_bps / BPS / 2
    return (mid_price - half, mid_price + half)
