// Every operation of the spec has a method on the client (the compiler checks the table; this checks the methods).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OGRecords, OPERATIONS } from '@og/api-sdk';

test('every operation resolves to a method of a namespace', () => {
  const client = new OGRecords({ apiKey: 'og_test_x' });
  for (const [operationId, path] of Object.entries(OPERATIONS)) {
    const [namespace, method] = path.split('.') as [keyof OGRecords, string];
    const resource = client[namespace] as unknown as Record<string, unknown>;
    assert.equal(typeof resource[method], 'function', `${operationId} → ${path}`);
  }
  assert.equal(new Set(Object.values(OPERATIONS)).size, Object.keys(OPERATIONS).length, 'two operations share a method');
});

test('the client reads OG_RECORDS_API_KEY and OG_RECORDS_BASE_URL when not given them', () => {
  process.env['OG_RECORDS_BASE_URL'] = 'http://127.0.0.1:1234/';
  try {
    assert.equal(new OGRecords().baseUrl, 'http://127.0.0.1:1234');
    assert.equal(new OGRecords({ baseUrl: 'https://x.test' }).baseUrl, 'https://x.test');
  } finally {
    delete process.env['OG_RECORDS_BASE_URL'];
  }
  assert.equal(new OGRecords().baseUrl, 'https://api.og-records.com');
});
