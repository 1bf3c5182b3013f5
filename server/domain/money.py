"""Money rules shared by payouts, balances and earnings: a currency's decimals and the wire form of amounts."""

from decimal import Decimal

# ISO 4217 minor units where they are not 2.
_MINOR_UNITS = {"BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3, "TND": 3}

# Earnings are kept to 10 decimal places: per-stream royalties are fractions of a cent.
EARNINGS_QUANTUM = Decimal("1e-10")


def currency_decimals(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def money_text(value: Decimal) -> str:
    """The wire form of an earnings amount: fixed 10 places, no exponent, no negative zero."""
    exact = value.quantize(EARNINGS_QUANTUM)
    if exact == 0:
        exact = abs(exact)
    return format(exact, "f")


def currency_text(amount: Decimal, currency: str) -> str:
    """The wire form of a payout amount: exactly the currency's decimals."""
    return format(amount.quantize(Decimal(1).scaleb(-currency_decimals(currency))), "f")
