// API key management against the real server: a created key's secret works in a second client, lists filter by
// status across pages, rotation keeps the old secret for its grace period (or not), revocation is immediate.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { AuthenticationError, type ApiKeyScope, type ApiKeyWithSecret, type OGRecords, PermissionDeniedError } from '@og/api-sdk';
import { liveClient } from './helpers.js';

const client = liveClient();
const DAY_MS = 24 * 60 * 60 * 1000;

function create(scopes: ApiKeyScope[], expiresAt?: string): Promise<ApiKeyWithSecret> {
  const name = `TS key ${randomUUID().slice(0, 8)}`;
  return client.apiKeys.create(expiresAt === undefined ? { name, scopes } : { name, scopes, expires_at: expiresAt });
}

/** A second client holding the created key, as another service of the integrator would. */
const holding = (secret: string): OGRecords => liveClient({ apiKey: secret, maxRetries: 0 });

async function refusedWith(holder: OGRecords): Promise<string> {
  let code = '';
  await assert.rejects(holder.persons.list({ limit: 1 }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.status, 401);
    code = error.code;
    return true;
  });
  return code;
}

test('a created key works in a second client, with only its scopes', async () => {
  const key = await create(['persons:read']);
  assert.match(key.secret, /^og_test_/);
  assert.equal(key.last_four, key.secret.slice(-4));
  assert.equal(key.status, 'active');
  const second = holding(key.secret);
  assert.ok(Array.isArray((await second.persons.list({ limit: 1 })).data));
  await assert.rejects(second.persons.create({ name: 'Not allowed', email: 'not-allowed@example.com' }), (error: unknown) => {
    assert.ok(error instanceof PermissionDeniedError);
    assert.equal(error.code, 'insufficient_scope');
    return true;
  });
  const fetched = await client.apiKeys.get(key.id);
  assert.equal(fetched.id, key.id);
  assert.equal(fetched.last_four, key.last_four);
  assert.ok(!('secret' in fetched), 'the secret is shown once, at creation');
  assert.notEqual(fetched.last_used_at, null, "the second client's request was recorded");
});

test('list filters by status and walks every page', async () => {
  const active = new Set<string>();
  for (let i = 0; i < 3; i++) active.add((await create(['persons:read'])).id);
  const expiring = await create(['persons:read'], new Date(Date.now() + 2 * DAY_MS).toISOString());
  assert.equal(expiring.status, 'expiring');
  const revoked = await create(['persons:read']);
  await client.apiKeys.revoke(revoked.id);

  const first = await client.apiKeys.list({ status: 'active', limit: 2 });
  assert.equal(first.data.length, 2);
  assert.ok(first.hasNextPage());
  const second = await first.getNextPage();
  assert.ok(second.data.every((key) => !first.data.some((seen) => seen.id === key.id)));
  const listed: string[] = [];
  for await (const key of client.apiKeys.list({ status: 'active', limit: 2 })) {
    assert.equal(key.status, 'active');
    listed.push(key.id);
  }
  assert.equal(new Set(listed).size, listed.length, 'a key came twice');
  for (const id of active) assert.ok(listed.includes(id), `${id} missing from the active keys`);
  assert.ok(!listed.includes(expiring.id) && !listed.includes(revoked.id));

  const expiringIds: string[] = [];
  for await (const key of client.apiKeys.list({ status: 'expiring' })) expiringIds.push(key.id);
  assert.ok(expiringIds.includes(expiring.id));
  const revokedIds: string[] = [];
  for await (const key of client.apiKeys.list({ status: 'revoked', limit: 1 })) revokedIds.push(key.id);
  assert.ok(revokedIds.includes(revoked.id));
  assert.ok([...active].every((id) => !revokedIds.includes(id)));
});

test('rotation keeps the old secret for the grace period, unless expires_in is 0', async () => {
  const key = await create(['persons:read']);
  const rotated = await client.apiKeys.rotate(key.id);
  assert.equal(rotated.id, key.id);
  assert.notEqual(rotated.secret, key.secret);
  assert.ok(rotated.previous_secret_expires_at, 'the old secret has a grace period');
  const grace = Date.parse(rotated.previous_secret_expires_at) - Date.now();
  assert.ok(grace > 7 * DAY_MS - 60 * 60 * 1000 && grace <= 7 * DAY_MS, `grace of ${grace} ms`);
  const old = holding(key.secret);
  const fresh = holding(rotated.secret);
  assert.ok(Array.isArray((await old.persons.list({ limit: 1 })).data), 'the old secret works during the grace period');
  assert.ok(Array.isArray((await fresh.persons.list({ limit: 1 })).data));

  const again = await client.apiKeys.rotate(key.id, { expires_in: 0 }); // a leaked secret: end every earlier one now
  assert.equal(again.previous_secret_expires_at, null);
  assert.equal(await refusedWith(old), 'invalid_api_key');
  assert.equal(await refusedWith(fresh), 'invalid_api_key');
  assert.ok(Array.isArray((await holding(again.secret).persons.list({ limit: 1 })).data));
});

test('a revoked key is refused with api_key_revoked', async () => {
  const key = await create(['persons:read']);
  const holder = holding(key.secret);
  assert.ok(Array.isArray((await holder.persons.list({ limit: 1 })).data));
  const revoked = await client.apiKeys.revoke(key.id);
  assert.equal(revoked.status, 'revoked');
  assert.ok(revoked.revoked_at);
  assert.equal(await refusedWith(holder), 'api_key_revoked');
  const again = await client.apiKeys.revoke(key.id); // revoking twice changes nothing
  assert.equal(again.revoked_at, revoked.revoked_at);
});
