// The OAuth helper: PKCE per RFC 7636, the authorization URL, code exchange and refresh with rotation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { BadRequestError, OGRecords, createPkcePair, pkceChallenge } from '@og/api-sdk';
import { json, standIn } from './helpers.js';

test('the S256 challenge is RFC 7636’s, and fresh pairs differ', async () => {
  // RFC 7636 appendix B.
  assert.equal(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  const pair = await createPkcePair();
  assert.match(pair.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(pair.challenge, createHash('sha256').update(pair.verifier).digest('base64url'));
  assert.notEqual((await createPkcePair()).verifier, pair.verifier);
});

test('the authorization URL carries everything the server needs', async () => {
  const client = new OGRecords({ baseUrl: 'https://api.example.test/' });
  const pending = await client.oauth.authorizationUrl({
    clientId: 'app_123',
    redirectUri: 'http://127.0.0.1:4000/callback',
    scopes: ['releases:read', 'earnings:read'],
  });
  const url = new URL(pending.url);
  assert.equal(`${url.origin}${url.pathname}`, 'https://api.example.test/oauth/authorize');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    response_type: 'code',
    client_id: 'app_123',
    redirect_uri: 'http://127.0.0.1:4000/callback',
    scope: 'releases:read earnings:read',
    state: pending.state,
    code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  assert.ok(pending.state.length >= 16);
});

test('code exchange and refresh post the right forms; each refresh answers a new refresh token', async () => {
  let issued = 0;
  const server = await standIn((_request, response) => {
    issued++;
    json(response, 200, { access_token: `at_${issued}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt_${issued}`, scope: 'releases:read' });
  });
  try {
    const client = new OGRecords({ baseUrl: server.url });
    const tokens = await client.oauth.exchangeCode({ clientId: 'app_123', code: 'code_1', redirectUri: 'http://127.0.0.1:4000/callback', codeVerifier: 'v'.repeat(43) });
    assert.equal(tokens.refresh_token, 'rt_1');
    const refreshed = await client.oauth.refresh({ clientId: 'app_123', refreshToken: tokens.refresh_token });
    assert.equal(refreshed.refresh_token, 'rt_2');

    const [exchange, refresh] = server.requests;
    assert.equal(exchange?.url, '/oauth/token');
    assert.equal(exchange?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(exchange?.headers['authorization'], undefined, 'a public client sends no credential');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(server.bodies[0])), {
      grant_type: 'authorization_code',
      code: 'code_1',
      redirect_uri: 'http://127.0.0.1:4000/callback',
      code_verifier: 'v'.repeat(43),
      client_id: 'app_123',
    });
    assert.equal(refresh?.url, '/oauth/token');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(server.bodies[1])), { grant_type: 'refresh_token', refresh_token: 'rt_1', client_id: 'app_123' });
  } finally {
    await server.close();
  }
});

test('an OAuth error answer becomes a typed error with its RFC 6749 code', async () => {
  const server = await standIn((_request, response) => {
    response.writeHead(400, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ error: 'invalid_grant', error_description: 'The refresh token was already used.' }));
  });
  try {
    const client = new OGRecords({ baseUrl: server.url });
    await assert.rejects(client.oauth.refresh({ clientId: 'app_123', refreshToken: 'rt_old' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 'invalid_grant');
      assert.equal(error.detail, 'The refresh token was already used.');
      return true;
    });
  } finally {
    await server.close();
  }
});
