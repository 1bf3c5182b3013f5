// Sandbox ↔ production parity (a smaller twin of the Python suite's test_parity_live.py): one scenario with an
// account's sandbox key and its production key; the same statuses, response shapes (keys, types, id prefixes) and
// error codes, and only the documented differences (mock data; ids do not cross over).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { APIError, OGRecords } from '@og/api-sdk';
import { baseUrl, recordingFetch } from './helpers.js';

const ID = /^([a-z]+)_[0-9a-z]{26}$/;

/** What a client relies on in a JSON value: keys, types, id prefixes; not the values themselves. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) {
    const shapes: string[] = [];
    for (const item of value) {
      const one = JSON.stringify(shape(item));
      if (!shapes.includes(one)) shapes.push(one);
    }
    return shapes;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shape((value as Record<string, unknown>)[key])]));
  }
  if (typeof value === 'string') {
    const match = ID.exec(value);
    return match ? `id:${match[1]}` : 'string';
  }
  return value === null ? 'null' : typeof value;
}

type Step = { status: number; body: unknown };

/** A client whose last HTTP status is kept: the status of a success is the server's, not assumed. */
function client(key: string): { sdk: OGRecords; last: { status: number } } {
  const last = { status: 0 };
  const fetching: typeof fetch = async (input, init) => {
    const response = await recordingFetch(input, init);
    last.status = response.status;
    return response;
  };
  return { sdk: new OGRecords({ apiKey: key, baseUrl: baseUrl(), fetch: fetching, maxRetries: 0 }), last };
}

async function step(request: () => Promise<unknown>, last: { status: number }): Promise<Step> {
  try {
    const body = await request();
    return { status: last.status, body };
  } catch (error) {
    assert.ok(error instanceof APIError, String(error));
    return { status: error.status, body: { code: error.code, errors: error.errors.map((e) => `${e.code} ${e.pointer}`) } };
  }
}

async function scenario({ sdk, last }: ReturnType<typeof client>): Promise<{ steps: Record<string, Step>; releaseId: string }> {
  const tag = randomUUID().slice(0, 8);
  const steps: Record<string, Step> = {};
  steps['person'] = await step(() => sdk.persons.create({ name: 'Ida Parity', email: `ida-${tag}@example.com` }), last);
  const release = await sdk.releases.create({ title: `Parity ${tag}`, primary_artists: ['Ida Parity'] });
  steps['early submit'] = await step(() => sdk.releases.submit(release.id), last);
  steps['details'] = await step(() => sdk.releases.updateDetails(release.id, { label: 'Parity Records', genre: 'electronic', language: 'en' }), last);
  steps['events'] = await step(async () => (await sdk.events.list({ type: 'person.created', limit: 1 })).data, last);
  steps['invalid person'] = await step(() => sdk.persons.create({ name: '', email: 'not-an-email' }), last);
  steps['unknown release'] = await step(() => sdk.releases.get(`rel_${'0'.repeat(26)}`), last);
  return { steps, releaseId: release.id };
}

test('a sandbox key and a production key of one account answer the same scenario alike', async () => {
  const sandboxClient = client(process.env['OG_TEST_PARITY_SANDBOX_KEY'] ?? '');
  const productionClient = client(process.env['OG_TEST_PARITY_PRODUCTION_KEY'] ?? '');
  const mine = await scenario(sandboxClient);
  const theirs = await scenario(productionClient);
  const [sandbox, production] = [sandboxClient.sdk, productionClient.sdk];

  assert.deepEqual(Object.keys(mine.steps), Object.keys(theirs.steps));
  for (const [name, { status, body }] of Object.entries(mine.steps)) {
    assert.equal(status, theirs.steps[name]?.status, name);
    assert.deepEqual(shape(body), shape(theirs.steps[name]?.body), name);
  }
  for (const name of ['early submit', 'invalid person', 'unknown release']) assert.deepEqual(mine.steps[name]?.body, theirs.steps[name]?.body, name);
  assert.deepEqual(
    Object.fromEntries(Object.entries(mine.steps).map(([name, { status }]) => [name, status])),
    { person: 201, 'early submit': 422, details: 200, events: 200, 'invalid person': 422, 'unknown release': 404 },
  );

  // The documented differences: the sandbox starts with a mock catalogue, production with nothing; ids never cross.
  assert.ok((await sandbox.releases.list({ limit: 100 })).data.length > 1);
  assert.deepEqual((await production.releases.list({ limit: 100 })).data.map((r) => r.id), [theirs.releaseId]);
  await assert.rejects(production.releases.get(mine.releaseId), (error: unknown) => error instanceof APIError && error.status === 404);
});

test("the sandbox's own operations work with the sandbox key and refuse the production key", async () => {
  const { sdk: sandbox } = client(process.env['OG_TEST_PARITY_SANDBOX_KEY'] ?? '');
  const { sdk: production } = client(process.env['OG_TEST_PARITY_PRODUCTION_KEY'] ?? '');
  const triggered = await sandbox.sandbox.trigger({ event: 'release.submitted' });
  assert.equal(triggered.event, 'release.submitted');
  const release = await sandbox.sandbox.advanceRelease(String(triggered.resource['id']), { to: 'live' });
  assert.equal(release.status, 'live');
  const before = await sandbox.sandbox.getClock();
  const target = new Date(Date.parse(before.now) + 86_400_000);
  const moved = await sandbox.sandbox.advanceClock({ to: target.toISOString() });
  assert.ok(Math.abs(Date.parse(moved.now) - target.getTime()) <= 2000, `${moved.now} is a day after ${before.now}`);
  for (const call of [() => production.sandbox.getClock(), () => production.sandbox.trigger({ event: 'earnings.imported' })]) {
    await assert.rejects(call(), (error: unknown) => error instanceof APIError && error.status === 403 && error.code === 'sandbox_only');
  }
});
