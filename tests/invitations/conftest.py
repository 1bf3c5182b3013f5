"""Invitation tests share the webhook tests' rule: each test starts with no delivery due from earlier tests."""

from tests.webhooks.conftest import quiet_queue

__all__ = ["quiet_queue"]
