"""Inbound provider webhooks. Each sender's handler lives in a module of its own."""

from server.api.dsp_sync import receive_dsp_sync_webhook

__all__ = ["receive_dsp_sync_webhook"]
