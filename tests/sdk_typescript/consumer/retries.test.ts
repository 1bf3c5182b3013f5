// Retries against a stand-in server: the real one cannot be made to fail on demand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  InternalServerError,
  OGRecords,
  RateLimitError,
  UnprocessableEntityError,
} from '@og/api-sdk';
import { json, problem, standIn } from './helpers.js';

const person = { id: 'per_01jc0000000000000000000000', object: 'person', name: 'Ada' };

test('a 503 is retried with the same Idempotency-Key until it succeeds', async () => {
  const server = await standIn((_request, response, attempt) => {
    if (attempt <= 2) problem(response, 503, 'service_unavailable', { 'Retry-After': '0' });
    else json(response, 201, person);
  });
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url });
    const created = await client.persons.create({ name: 'Ada', email: 'ada@example.com' });
    assert.equal(created.id, person.id);
    assert.equal(server.requests.length, 3);
    const keys = server.requests.map((request) => request.headers['idempotency-key']);
    assert.ok(typeof keys[0] === 'string' && keys[0].length > 0);
    assert.deepEqual(keys, [keys[0], keys[0], keys[0]]);
    assert.deepEqual(new Set(server.bodies).size, 1, 'every try sends the same body');
    assert.equal(JSON.parse(server.bodies[0] ?? '').name, 'Ada');
  } finally {
    await server.close();
  }
});

test('the caller’s Idempotency-Key is kept; each call gets its own otherwise', async () => {
  const server = await standIn((_request, response) => json(response, 201, person));
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url });
    await client.persons.create({ name: 'Ada', email: 'ada@example.com' }, { idempotencyKey: 'my-key-1' });
    await client.persons.create({ name: 'Ada', email: 'ada@example.com' });
    await client.persons.create({ name: 'Ada', email: 'ada@example.com' });
    const [mine, second, third] = server.requests.map((request) => request.headers['idempotency-key']);
    assert.equal(mine, 'my-key-1');
    assert.notEqual(second, third);
  } finally {
    await server.close();
  }
});

test('a 429 waits Retry-After, then succeeds', async () => {
  const server = await standIn((_request, response, attempt) => {
    if (attempt === 1) problem(response, 429, 'rate_limited', { 'Retry-After': '1' });
    else json(response, 200, person);
  });
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url });
    const started = performance.now();
    await client.persons.get(person.id);
    const waited = performance.now() - started;
    assert.equal(server.requests.length, 2);
    assert.ok(waited >= 950, `waited only ${waited} ms`);
    assert.equal(server.requests[0]?.headers['idempotency-key'], undefined, 'a GET needs no Idempotency-Key');
  } finally {
    await server.close();
  }
});

test('when retries run out the last error is thrown, typed', async () => {
  const server = await standIn((_request, response) => problem(response, 429, 'rate_limited', { 'Retry-After': '0' }));
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url, maxRetries: 3 });
    await assert.rejects(client.persons.get(person.id), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.retryAfter, 0);
      assert.equal(error.requestId, 'req_rate_limited');
      return true;
    });
    assert.equal(server.requests.length, 4);
    await assert.rejects(client.persons.get(person.id, { maxRetries: 0 }), RateLimitError);
    assert.equal(server.requests.length, 5);
  } finally {
    await server.close();
  }
});

test('408, 409 and 5xx are retried; 4xx like 422 and 501 are not', async () => {
  const statuses = [408, 409, 500, 502];
  const server = await standIn((_request, response, attempt) => {
    const status = statuses[attempt - 1];
    if (status === undefined) json(response, 200, person);
    else problem(response, status, 'whatever', { 'Retry-After': '0' });
  });
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url, maxRetries: 4 });
    await client.persons.get(person.id);
    assert.equal(server.requests.length, 5);
  } finally {
    await server.close();
  }

  for (const [status, ErrorClass] of [
    [422, UnprocessableEntityError],
    [501, InternalServerError],
  ] as const) {
    const failing = await standIn((_request, response) => problem(response, status, 'nope'));
    try {
      const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: failing.url });
      await assert.rejects(client.persons.get(person.id), ErrorClass);
      assert.equal(failing.requests.length, 1, `${status} must not be retried`);
    } finally {
      await failing.close();
    }
  }
});

test('a dropped connection is retried; without retries it is an APIConnectionError', async () => {
  const server = await standIn((request, response, attempt) => {
    if (attempt === 1) request.socket.destroy();
    else json(response, 200, person);
  });
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url });
    assert.equal((await client.persons.get(person.id)).id, person.id);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }

  const closed = await standIn((request) => request.socket.destroy());
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: closed.url, maxRetries: 1 });
    await assert.rejects(client.persons.get(person.id), APIConnectionError);
    assert.equal(closed.requests.length, 2);
  } finally {
    await closed.close();
  }
});

test('a try that takes longer than `timeout` is abandoned and retried', async () => {
  const server = await standIn((_request, response, attempt) => {
    if (attempt === 1) setTimeout(() => json(response, 200, person), 1_000);
    else json(response, 200, person);
  });
  try {
    const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: server.url, timeout: 200 });
    assert.equal((await client.persons.get(person.id)).id, person.id);
    assert.equal(server.requests.length, 2);
    await assert.rejects(client.persons.get(person.id, { maxRetries: 0, timeout: 1 }), APIConnectionTimeoutError);
  } finally {
    await server.close();
  }
});
