"""Outbound messages: email through Mailgun, WhatsApp through whapi.cloud, and the outbox between them and the
platform.

- `outbox.enqueue` writes a message in the caller's transaction (the outbox pattern): it exists exactly when the
  change that caused it committed. The sandbox captures messages (readable with `GET /api/v1/sandbox/outbox`)
  and never sends; production without a configured provider keeps them in the local outbox for the operator
  (`og-server mail list`, `og-server mail show ID`).
- `dispatch.dispatch_due` (run by the webhook worker's loop, and by `og-server mail send`) sends queued messages
  after commit, retries transient provider errors and reports permanent failures to the cause's handler.
- `providers` speaks the wire formats (Mailgun `POST /v3/{domain}/messages`, whapi.cloud `POST /messages/text`).
- `compose` renders the German and English templates (`server/web/templates/mail/`).
"""
