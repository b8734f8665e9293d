"""Exact numbers in one place: how a Decimal is normalised for output and for canonical JSON.

Light on purpose (standard library only), so that the engine, the batch scorer and the
digests can all use it without importing one another.
"""

from __future__ import annotations

import datetime as dt
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

# Normalising in the default (or the engine's) context would round a number of more digits than its precision
# (28, 60): 812.3500000000000000000000000000000000001 would become 812.35.  In this context nothing is rounded.
_NO_ROUNDING = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def exact(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent (962.470 → 962.47, 1E+3 → 1000)."""
    normalized = value.normalize(_NO_ROUNDING)
    if normalized != normalized.to_integral_value():
        return normalized                       # a fraction: its exponent is negative (a cheaper test first)
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normalized.quantize(Decimal(1), context=_NO_ROUNDING)
    return normalized


def canonical_value(value: Any) -> Any:
    """Plain data for canonical JSON: decimals as normalised text without exponent, dates as YYYY-MM-DD.

    0.20, 0.2 and 2E-1 all become "0.2"; 1E+3 becomes "1000"; tuples become lists; keys become text.
    """
    if isinstance(value, Decimal):
        return format(value.normalize(_NO_ROUNDING), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    return value
