// The webhook verifier agrees with the official `standardwebhooks` library, and accepts the server's deliveries.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { InternalServerError, OGRecords, WebhookVerificationError, signWebhook, type WebhookEvent } from '@og/api-sdk';
import { Webhook } from 'standardwebhooks';
import { json, liveClient, standIn } from './helpers.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
const client = new OGRecords({ apiKey: 'og_test_unused', baseUrl: 'http://127.0.0.1:9' });
const event = {
  id: 'evt_01jc0000000000000000000000',
  object: 'event',
  type: 'person.created',
  created: '2026-11-26T12:00:00Z',
  environment: 'sandbox',
  data: { object: { id: 'per_01jc0000000000000000000000', object: 'person', name: 'Zoë ♫' } },
};
const body = JSON.stringify(event);

function officialHeaders(payload: string, key: string, at = new Date()): Record<string, string> {
  const id = `msg_${randomUUID()}`;
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(key).sign(id, at, payload) };
}

const rejects = (promise: Promise<unknown>, message: RegExp): Promise<void> =>
  assert.rejects(promise, (error: unknown) => error instanceof WebhookVerificationError && message.test(error.message));

test('a delivery signed by the official library unwraps to the typed event', async () => {
  const unwrapped: WebhookEvent = await client.webhooks.unwrap(body, officialHeaders(body, secret), { secret });
  assert.deepEqual(unwrapped, event);
  assert.equal(unwrapped.type, 'person.created');
  if (unwrapped.type === 'person.created') assert.equal(unwrapped.data?.object?.name, 'Zoë ♫');
  // Headers as fetch gives them, and the raw bytes as a body, work alike.
  await client.webhooks.verify(new TextEncoder().encode(body), new Headers(officialHeaders(body, secret)), { secret });
});

test('what the SDK signs, the official library verifies', async () => {
  const headers = await signWebhook(body, { secret, id: 'msg_1' });
  assert.deepEqual(new Webhook(secret).verify(body, headers), event);
  assert.equal(headers['webhook-signature'], new Webhook(secret).sign('msg_1', new Date(Number(headers['webhook-timestamp']) * 1000), body));
});

test('both reject the same forgeries', async () => {
  const headers = officialHeaders(body, secret);
  const cases: [string, string, Record<string, string>][] = [
    ['tampered body', body.replace('Zoë', 'Zoe'), headers],
    ['other secret', body, officialHeaders(body, otherSecret)],
    ['tampered id', body, { ...headers, 'webhook-id': 'msg_other' }],
    ['tampered timestamp', body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }],
    ['signature version v2', body, { ...headers, 'webhook-signature': headers['webhook-signature']!.replace('v1,', 'v2,') }],
  ];
  for (const [name, payload, forged] of cases) {
    assert.throws(() => new Webhook(secret).verify(payload, forged), `official accepted: ${name}`);
    await rejects(client.webhooks.verify(payload, forged, { secret }), /signature/);
  }
  const { 'webhook-signature': _omitted, ...unsigned } = headers;
  assert.throws(() => new Webhook(secret).verify(body, unsigned as unknown as Record<string, string>));
  await rejects(client.webhooks.verify(body, unsigned, { secret }), /Missing/);
});

test('timestamps outside five minutes either way are refused, inside accepted', async () => {
  for (const [offsetSeconds, accepted] of [
    [-299, true],
    [299, true],
    [-301, false],
    [301, false],
  ] as const) {
    const headers = officialHeaders(body, secret, new Date(Date.now() + offsetSeconds * 1000));
    let official = true;
    try {
      new Webhook(secret).verify(body, headers);
    } catch {
      official = false;
    }
    assert.equal(official, accepted, `official library at ${offsetSeconds}s`);
    const ours = client.webhooks.verify(body, headers, { secret });
    if (accepted) await ours;
    else await rejects(ours, offsetSeconds < 0 ? /too old/ : /too new/);
  }
});

test('during a secret rotation any one matching signature among several is enough', async () => {
  const at = new Date();
  const id = 'msg_rotation';
  const signatures = `${new Webhook(otherSecret).sign(id, at, body)} ${new Webhook(secret).sign(id, at, body)}`;
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signatures };
  assert.deepEqual(new Webhook(secret).verify(body, headers), event);
  assert.deepEqual(await client.webhooks.unwrap(body, headers, { secret }), event);
});

test('a real delivery from the server verifies', async (t) => {
  const received: { body: string; headers: Record<string, string> }[] = [];
  const receiver = await standIn((request, response) => {
    received.push({ body: '', headers: request.headers as Record<string, string> });
    json(response, 200, { ok: true });
  });
  try {
    const live = liveClient();
    let endpoint;
    try {
      endpoint = await live.webhookEndpoints.create({ url: `${receiver.url}/hooks`, enabled_events: ['*'] });
    } catch (error) {
      if (error instanceof InternalServerError && error.code === 'not_implemented') {
        t.skip('the server does not implement webhook endpoints yet');
        return;
      }
      throw error;
    }
    await live.webhookEndpoints.sendTest(endpoint.id);
    const delivery = received.at(-1);
    assert.ok(delivery, 'the server delivered nothing');
    const payload = receiver.bodies.at(-1) ?? '';
    const unwrapped = await live.webhooks.unwrap(payload, delivery.headers, { secret: endpoint.secret });
    assert.equal(unwrapped.type, 'webhook.test');
    assert.equal(unwrapped.id, delivery.headers['webhook-id']);
    assert.deepEqual(new Webhook(endpoint.secret).verify(payload, delivery.headers), unwrapped);
    await live.webhookEndpoints.delete(endpoint.id); // else every later event is retried against the closed receiver
  } finally {
    await receiver.close();
  }
});
