"""Outbound webhook delivery (Standard Webhooks v1): the machinery behind the WebhookEndpoints and Events APIs.

How an event reaches an endpoint, and why nothing is lost:

1. `server.services.events.emit` writes the event and, in the same transaction, one `webhook_deliveries` row per
   enabled endpoint that subscribes to its type (the fan-out). A rolled-back change leaves neither behind; a
   committed one always has its deliveries.
2. A worker (`worker.Worker`, embedded in `og-server serve` or run as `og-server worker`) claims due rows with
   `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL and marks them in flight with a lease (`in_flight_until`,
   longer than the 15 s request timeout) in one short transaction, then sends without holding any lock.
3. The result is recorded in a second transaction: the attempt log row, and either success or the next retry on
   the schedule (`schedule.py`). A worker killed between 2 and 3 leaves the lease, which expires; the row is then
   claimed again. Delivery is therefore at least once; receivers deduplicate on `webhook-id`.

On SQLite there is one writer: run a single worker (the embedded one). Its claims are serialised by SQLite's
writer lock; `FOR UPDATE SKIP LOCKED` is a no-op there.
"""
