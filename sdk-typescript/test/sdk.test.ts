// The SDK's own unit tests (`npm test`): no server needed, a stub `fetch` answers. The live suite is
// tests/sdk_typescript/ in the repository.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  APIError,
  APIResponse,
  BadRequestError,
  InternalServerError,
  OGRecords,
  OPERATIONS,
  UnprocessableEntityError,
} from '../src/index.js';
import { ENVIRONMENT, ERROR_NAMES } from '../src/surface.gen.js';

const person = { id: 'per_01jc3m8a4s6t3v0q7k2x9bz5hd', object: 'person', name: 'Mara' };

function stub(status = 201, body: unknown = person): { fetch: typeof fetch; requests: Request[] } {
  const requests: Request[] = [];
  const fetchStub = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    requests.push(new Request(input, init));
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_01stub' },
    });
  };
  return { fetch: fetchStub as typeof fetch, requests };
}

test('every operation of the surface is a method of the client', () => {
  const client = new OGRecords({ apiKey: 'og_test_x' });
  for (const [operationId, path] of Object.entries(OPERATIONS)) {
    const [resource, method] = path.split('.') as [keyof OGRecords, string];
    assert.equal(typeof (client[resource] as unknown as Record<string, unknown>)[method], 'function', `${operationId} → ${path}`);
  }
});

test('each status throws the class the surface names, others the fallbacks', () => {
  for (const [status, name] of Object.entries(ERROR_NAMES)) {
    const error = APIError.from(Number(status), { code: 'x' }, new Headers());
    assert.equal(error.constructor.name, name);
  }
  assert.ok(APIError.from(422, {}, new Headers()) instanceof UnprocessableEntityError);
  assert.ok(APIError.from(418, {}, new Headers()) instanceof BadRequestError);
  assert.ok(APIError.from(502, {}, new Headers()) instanceof InternalServerError);
});

test('settings come from OG_RECORDS_* and still from the deprecated OG_* names', () => {
  assert.deepEqual(ENVIRONMENT, { apiKey: 'OG_RECORDS_API_KEY', baseUrl: 'OG_RECORDS_BASE_URL', webhookSecret: 'OG_RECORDS_WEBHOOK_SECRET' });
  process.env['OG_RECORDS_BASE_URL'] = 'http://127.0.0.1:1234/';
  try {
    assert.equal(new OGRecords().baseUrl, 'http://127.0.0.1:1234');
  } finally {
    delete process.env['OG_RECORDS_BASE_URL'];
  }
  process.env['OG_BASE_URL'] = 'http://127.0.0.1:4321';
  try {
    assert.equal(new OGRecords().baseUrl, 'http://127.0.0.1:4321');
  } finally {
    delete process.env['OG_BASE_URL'];
  }
  assert.equal(new OGRecords().baseUrl, 'https://api.og-records.com');
});

test('per-request options reach the request', async () => {
  const { fetch, requests } = stub();
  const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: 'http://stub', fetch });
  await client.persons.create({ name: 'Mara', email: 'mara@example.com' }, { extraHeaders: { 'X-Trace': 't1' }, idempotencyKey: 'idem-1', maxRetries: 0, timeout: 5000 });
  assert.equal(requests[0]?.headers.get('x-trace'), 't1');
  assert.equal(requests[0]?.headers.get('idempotency-key'), 'idem-1');
  assert.equal(requests[0]?.headers.get('authorization'), 'Bearer og_test_x');
});

test('withRawResponse resolves to status, headers, request id and the parsed body', async () => {
  const { fetch } = stub();
  const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: 'http://stub', fetch });
  const raw = await client.persons.withRawResponse.create({ name: 'Mara', email: 'mara@example.com' });
  assert.ok(raw instanceof APIResponse);
  assert.equal(raw.statusCode, 201);
  assert.equal(raw.requestId, 'req_01stub');
  assert.equal(raw.headers.get('content-type'), 'application/json');
  assert.equal(raw.parse().name, 'Mara');
  const page = await client.persons.withRawResponse.list({ limit: 1 });
  assert.equal(page.requestId, 'req_01stub');
});

test('errors carry the request id', async () => {
  const { fetch } = stub(422, { code: 'validation_failed', detail: 'bad', errors: [{ code: 'x', pointer: '/name', detail: 'empty' }] });
  const client = new OGRecords({ apiKey: 'og_test_x', baseUrl: 'http://stub', fetch, maxRetries: 0 });
  await assert.rejects(client.persons.create({ name: '', email: 'x' }), (error: unknown) => {
    assert.ok(error instanceof UnprocessableEntityError);
    assert.equal(error.requestId, 'req_01stub');
    assert.equal(error.errors[0]?.pointer, '/name');
    return true;
  });
});

test('the CommonJS build loads with require()', () => {
  const require = createRequire(import.meta.url);
  const sdk = require('@og/api-sdk') as { OGRecords: typeof OGRecords; OPERATIONS: typeof OPERATIONS };
  assert.equal(typeof sdk.OGRecords, 'function');
  assert.equal(sdk.OPERATIONS.getBalance, 'balance.get');
  assert.equal(new sdk.OGRecords({ apiKey: 'og_test_x' }).baseUrl, 'https://api.og-records.com');
});
