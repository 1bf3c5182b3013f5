// Webhooks end to end against the real server: an endpoint on a local receiver, real signed deliveries verified with
// `client.webhooks.unwrap`, secret rotation (both signatures during the overlap), the attempt log, a test event,
// resend and recovery, the event log, update and delete.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ConflictError, NotFoundError, WebhookVerificationError, type OGRecords, type WebhookAttempt } from '@og/api-sdk';
import { json, ownKeyClient, standIn, waitFor, type StandIn } from './helpers.js';

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

function deliveriesOf(receiver: StandIn, eventId: string): Delivery[] {
  return receiver.requests
    .map((request, index) => ({ headers: request.headers as Record<string, string>, body: receiver.bodies[index] ?? '' }))
    .filter((delivery) => delivery.headers['webhook-id'] === eventId);
}

const arrived = (receiver: StandIn, eventId: string, count = 1): Promise<Delivery[]> =>
  waitFor(async () => deliveriesOf(receiver, eventId), (found) => found.length >= count, 20_000);

async function personEvent(sdk: OGRecords, since: string): Promise<{ personId: string; eventId: string }> {
  const person = await sdk.persons.create({ name: 'Hook', email: `hook-${randomUUID()}@example.com` });
  for await (const event of sdk.events.list({ type: 'person.created', created_gte: since, limit: 5 })) {
    if (event.data.object['id'] === person.id) return { personId: person.id, eventId: event.id };
  }
  throw new Error(`no person.created event for ${person.id}`);
}

async function settledAttempts(sdk: OGRecords, endpointId: string, count: number): Promise<WebhookAttempt[]> {
  return waitFor(
    async () => {
      const attempts: WebhookAttempt[] = [];
      for await (const attempt of sdk.webhookEndpoints.listAttempts(endpointId, { limit: 2 })) attempts.push(attempt);
      return attempts;
    },
    (attempts) => attempts.length >= count && attempts.every((attempt) => attempt.outcome !== 'pending'),
    20_000,
  );
}

test('real deliveries verify through rotation, resend and recovery; the endpoint is updated and deleted', async () => {
  const sdk = await ownKeyClient('TypeScript SDK: webhooks');
  const receiver = await standIn((_request, response) => json(response, 200, { ok: true }));
  const endpoint = await sdk.webhookEndpoints.create({ url: `${receiver.url}/og-webhooks`, enabled_events: ['person.created'], description: 'TypeScript SDK' });
  try {
    assert.match(endpoint.secret, /^whsec_/);
    const since = new Date(Date.now() - 2000).toISOString();

    const first = await personEvent(sdk, since);
    const [delivery] = await arrived(receiver, first.eventId);
    assert.ok(delivery);
    const event = await sdk.webhooks.unwrap(delivery.body, delivery.headers, { secret: endpoint.secret });
    assert.equal(event.id, first.eventId);
    assert.equal(event.type, 'person.created');
    if (event.type === 'person.created') assert.equal(event.data?.object?.id, first.personId);
    assert.deepEqual(await sdk.events.get(first.eventId), event, 'the delivery is the logged event');
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    await assert.rejects(sdk.webhooks.unwrap(delivery.body, delivery.headers, { secret: other }), WebhookVerificationError);
    await assert.rejects(sdk.webhooks.unwrap(delivery.body.replace(first.personId, 'per_forged'), delivery.headers, { secret: endpoint.secret }), WebhookVerificationError);

    // During a rotation's overlap every delivery carries a signature per secret; either one verifies it.
    const rotated = await sdk.webhookEndpoints.rotateSecret(endpoint.id, { overlap_seconds: 3600 });
    assert.notEqual(rotated.secret, endpoint.secret);
    assert.ok(rotated.previous_secret_expires_at);
    const second = await personEvent(sdk, since);
    const [overlapping] = await arrived(receiver, second.eventId);
    assert.ok(overlapping);
    assert.equal(overlapping.headers['webhook-signature']?.split(' ').length, 2);
    for (const secret of [endpoint.secret, rotated.secret]) {
      assert.equal((await sdk.webhooks.unwrap(overlapping.body, overlapping.headers, { secret })).id, second.eventId);
    }
    await assert.rejects(sdk.webhooks.verify(overlapping.body, overlapping.headers, { secret: other }), WebhookVerificationError);

    const attempts = await settledAttempts(sdk, endpoint.id, 2);
    assert.deepEqual(new Set(attempts.map((a) => a.event_id)), new Set([first.eventId, second.eventId]));
    assert.ok(attempts.every((a) => a.outcome === 'succeeded' && a.response_status === 200 && a.trigger === 'automatic'));

    const tested = await sdk.webhookEndpoints.sendTest(endpoint.id);
    assert.deepEqual([tested.trigger, tested.event_type, tested.outcome, tested.response_status], ['test', 'webhook.test', 'succeeded', 200]);
    const [testDelivery] = await arrived(receiver, tested.event_id);
    assert.ok(testDelivery);
    assert.equal((await sdk.webhooks.unwrap(testDelivery.body, testDelivery.headers, { secret: rotated.secret })).type, 'webhook.test');

    const resent = await sdk.events.resend(first.eventId, { endpoint_id: endpoint.id });
    assert.deepEqual(resent.attempts.map((a) => [a.endpoint_id, a.trigger]), [[endpoint.id, 'resend']]);
    const [, again] = await arrived(receiver, first.eventId, 2);
    assert.ok(again);
    assert.equal((await sdk.webhooks.unwrap(again.body, again.headers, { secret: rotated.secret })).id, first.eventId);

    // Other test files create persons at the same time: the range holds at least this test's two events.
    const recovered = await sdk.webhookEndpoints.recoverEvents(endpoint.id, { since });
    assert.equal(recovered.endpoint_id, endpoint.id);
    assert.ok(recovered.event_count >= 2, `${recovered.event_count} events recovered`);
    await arrived(receiver, first.eventId, 3);
    await arrived(receiver, second.eventId, 2);

    const logged: string[] = [];
    for await (const e of sdk.events.list({ type: 'person.created', created_gte: since })) logged.push(e.id);
    assert.ok(logged.indexOf(second.eventId) < logged.indexOf(first.eventId), 'newest first');

    const fetched = await sdk.webhookEndpoints.get(endpoint.id);
    assert.equal('secret' in fetched, false, 'the secret is shown at creation only');
    const disabled = await sdk.webhookEndpoints.update(endpoint.id, { enabled_events: ['*'], status: 'disabled' });
    assert.deepEqual([disabled.enabled_events, disabled.status, disabled.disabled_reason], [['*'], 'disabled', 'manual']);
    const listed: string[] = [];
    for await (const e of sdk.webhookEndpoints.list({ status: 'disabled', limit: 1 })) listed.push(e.id);
    assert.ok(listed.includes(endpoint.id));
    await assert.rejects(sdk.webhookEndpoints.recoverEvents(endpoint.id, { since }), (error: unknown) => error instanceof ConflictError && error.code === 'invalid_state');
  } finally {
    await sdk.webhookEndpoints.delete(endpoint.id);
    await receiver.close();
  }
  await assert.rejects(sdk.webhookEndpoints.get(endpoint.id), NotFoundError);
  await assert.rejects(sdk.webhookEndpoints.delete(endpoint.id), NotFoundError);
});
