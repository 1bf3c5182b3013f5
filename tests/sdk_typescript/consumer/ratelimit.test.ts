// The server's real 429: exhaust a dedicated key's limit, check the error, then let the SDK wait it out.
// tests/sdk_typescript runs the server with OG_RATE_LIMIT_MULTIPLIER=2: a burst of 120 requests, then 2 a second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitError } from '@og/api-sdk';
import { liveClient } from './helpers.js';

const ATTEMPTS_TO_FIND_THE_LIMIT = 400;

test('a 429 from the server is a RateLimitError, and retries wait Retry-After out', { timeout: 180_000 }, async () => {
  const key = process.env['OG_TEST_RATE_LIMIT_KEY'];
  assert.ok(key, 'OG_TEST_RATE_LIMIT_KEY is not set');
  const impatient = liveClient({ apiKey: key, maxRetries: 0 });
  let limited: RateLimitError | undefined;
  for (let i = 0; i < ATTEMPTS_TO_FIND_THE_LIMIT && limited === undefined; i++) {
    try {
      await impatient.persons.list({ limit: 1 });
    } catch (error) {
      if (!(error instanceof RateLimitError)) throw error;
      limited = error;
    }
  }
  assert.ok(limited !== undefined, `the server sent no 429 in ${ATTEMPTS_TO_FIND_THE_LIMIT} requests`);
  assert.equal(limited.status, 429);
  assert.equal(limited.code, 'rate_limited');
  assert.ok(limited.retryAfter !== undefined && limited.retryAfter > 0 && limited.retryAfter <= 60, 'a 429 must say Retry-After');

  const patient = liveClient({ apiKey: key, maxRetries: 5 });
  const page = await patient.persons.list({ limit: 1 });
  assert.ok(Array.isArray(page.data));
});
