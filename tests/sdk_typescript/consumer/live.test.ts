// Against the real server: every operation it implements, typed errors, pagination across pages.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { AuthenticationError, NotFoundError, OGRecords, UnprocessableEntityError, type Person } from '@og/api-sdk';
import { baseUrl, liveClient, recordingFetch } from './helpers.js';

const client = liveClient();
const email = (): string => `sdk-${randomUUID()}@example.com`;

test('system probes answer', async () => {
  assert.deepEqual(await client.system.health(), { status: 'ok' });
  const readiness = await client.system.readiness();
  assert.equal(readiness.status, 'ready');
});

test('a person is created, fetched and listed', async () => {
  const created: Person = await client.persons.create({ name: 'Ada Lovelace', email: email(), roles: ['composer'], metadata: { crm: '42' } });
  assert.match(created.id, /^per_/);
  assert.equal(created.name, 'Ada Lovelace');
  assert.deepEqual(created.roles, ['composer']);

  const fetched = await client.persons.get(created.id);
  assert.deepEqual(fetched, created);

  const page = await client.persons.list({ limit: 100 });
  assert.ok(page.data.some((person) => person.id === created.id));
});

test('for await walks every page; pages are reachable one by one too', async () => {
  // A fresh account's key would be cleaner, but the filter on creation time isolates this test's persons.
  const since = new Date(Date.now() - 1000).toISOString();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await client.persons.create({ name: `Page ${i}`, email: email() })).id);

  const seen: string[] = [];
  for await (const person of client.persons.list({ limit: 2, created_gte: since })) seen.push(person.id);
  for (const id of ids) assert.ok(seen.includes(id), `${id} missing from the iteration`);
  assert.equal(new Set(seen).size, seen.length, 'an item came twice');

  const first = await client.persons.list({ limit: 2, created_gte: since });
  assert.equal(first.data.length, 2);
  assert.ok(first.hasNextPage());
  const second = await first.getNextPage();
  assert.equal(second.data.length, 2);
  assert.notDeepEqual(second.data, first.data);
  let pages = 0;
  for await (const page of first.iterPages()) {
    pages++;
    assert.ok(page.data.length <= 2);
  }
  assert.ok(pages >= 3, `expected at least 3 pages of 2, got ${pages}`);
});

test('errors are typed by family and carry the problem fields', async () => {
  await assert.rejects(client.persons.get('per_01aaaaaaaaaaaaaaaaaaaaaaaa'), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'not_found');
    assert.match(error.requestId ?? '', /^req_/);
    return true;
  });

  await assert.rejects(client.persons.create({ name: '', email: 'not-an-email' }), (error: unknown) => {
    assert.ok(error instanceof UnprocessableEntityError);
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(error.errors.map((e) => e.pointer).sort(), ['/email', '/name']);
    return true;
  });

  const anonymous = new OGRecords({ apiKey: 'og_test_not_a_real_key', baseUrl: baseUrl(), fetch: recordingFetch });
  await assert.rejects(anonymous.persons.list(), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.status, 401);
    return true;
  });
});
