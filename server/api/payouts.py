"""Payouts and the balance they draw on."""

from server.api.balance import get_balance

__all__ = ["get_balance"]
