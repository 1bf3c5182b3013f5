// OAuth 2.0 against the real authorization server: the SDK builds the PKCE authorization URL, the test plays the
// user's browser through `client.oauth.authorize` / `submitConsent`, the SDK exchanges the code, the token calls the
// API, refreshes with rotation, is introspected (client credentials) and revoked; the metadata describes the server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { AuthenticationError, BadRequestError, OGRecords, type PendingAuthorization } from '@og/api-sdk';
import { baseUrl, liveClient, recordingFetch } from './helpers.js';

function env(name: string): string {
  const value = process.env[`OG_TEST_${name}`];
  if (!value) throw new Error(`OG_TEST_${name} is not set: run these tests through tests/sdk_typescript (pytest).`);
  return value;
}

const clientId = env('OAUTH_CLIENT_ID');
const clientSecret = env('OAUTH_CLIENT_SECRET');
const redirectUri = env('OAUTH_REDIRECT_URI');
const scopes = ['persons:read', 'persons:write'];
/** The app's own client: OAuth endpoints take no API key. */
const app = new OGRecords({ baseUrl: baseUrl(), fetch: recordingFetch });
/** Client authentication for introspection: HTTP Basic over the form-encoded id and secret (RFC 6749 §2.3.1). */
const basic = { Authorization: `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}` };
const HIDDEN = /<input type=hidden name='([^']*)' value='([^']*)'>/g;

function unescapeHtml(text: string): string {
  return text.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The query of an authorization URL, as `client.oauth.authorize` takes it. */
function authorizationQuery(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}

/** What the user's browser does: open the page, sign in, decide. Returns the consent form's answer. */
async function consent(pending: PendingAuthorization, decision = 'approve'): Promise<Response> {
  const page = await app.oauth.authorize(authorizationQuery(pending.url));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  assert.match(cookie, /^og_oauth_csrf=/, 'the page sets its CSRF cookie');
  const fields = Object.fromEntries([...(await page.text()).matchAll(HIDDEN)].map((m) => [unescapeHtml(m[1] ?? ''), unescapeHtml(m[2] ?? '')]));
  assert.ok(fields['csrf_token']);
  const form = { ...fields, email: env('USER_EMAIL'), password: env('USER_PASSWORD'), decision };
  return app.oauth.submitConsent(form, { headers: { Cookie: cookie } });
}

/** The redirect back to the app: to the registered URI, with these query parameters. */
function callback(response: Response): Record<string, string> {
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  return Object.fromEntries(location.searchParams);
}

async function authorize(): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const pending = await app.oauth.authorizationUrl({ clientId, redirectUri, scopes });
  const back = callback(await consent(pending));
  assert.equal(back['state'], pending.state);
  return app.oauth.exchangeCode({ clientId, clientSecret, redirectUri, code: back['code'] ?? '', codeVerifier: pending.codeVerifier });
}

test('the flow gives a token that acts on the user’s account and refreshes with rotation', async () => {
  const tokens = await authorize();
  assert.match(tokens.access_token, /^ogat_/);
  assert.match(tokens.refresh_token, /^ogrt_/);
  assert.deepEqual(tokens.scope.split(' ').sort(), scopes);

  const asUser = liveClient({ apiKey: tokens.access_token });
  const email = `ts-oauth-${randomUUID()}@example.com`;
  const person = await asUser.persons.create({ name: 'Via OAuth', email });
  // The user who approved owns the account the suite's API key acts on.
  assert.equal((await liveClient().persons.get(person.id)).email, email);

  let stored = tokens.refresh_token; // what an app persists
  const refreshed = await app.oauth.refresh({ clientId, clientSecret, refreshToken: stored });
  assert.notEqual(refreshed.refresh_token, stored, 'refresh tokens rotate');
  stored = refreshed.refresh_token;
  assert.equal((await liveClient({ apiKey: refreshed.access_token }).persons.get(person.id)).id, person.id);
  const again = await app.oauth.refresh({ clientId, clientSecret, refreshToken: stored });
  assert.ok(![tokens.refresh_token, refreshed.refresh_token].includes(again.refresh_token));
});

test('revocation ends the grant; introspection says so', async () => {
  const tokens = await authorize();
  const active = await app.oauth.introspect({ token: tokens.access_token }, { headers: basic });
  assert.equal(active.active, true);
  assert.equal(active.client_id, clientId);
  assert.deepEqual(active.scope?.split(' ').sort(), scopes);
  assert.equal(active.environment, 'sandbox');
  await assert.rejects(app.oauth.introspect({ token: tokens.access_token }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError, 'introspection needs client credentials');
    assert.equal(error.code, 'invalid_client');
    return true;
  });

  await app.oauth.revoke({ token: tokens.refresh_token, client_id: clientId, client_secret: clientSecret });
  assert.deepEqual(await app.oauth.introspect({ token: tokens.access_token }, { headers: basic }), { active: false });
  await assert.rejects(liveClient({ apiKey: tokens.access_token, maxRetries: 0 }).persons.list(), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'invalid_token');
    return true;
  });
  await assert.rejects(app.oauth.refresh({ clientId, clientSecret, refreshToken: tokens.refresh_token }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, 'invalid_grant');
    return true;
  });
  // Revoking an unknown token is no error (RFC 7009 §2.2), so sign-out can call it blindly.
  await app.oauth.revoke({ token: 'ogrt_unknown', client_id: clientId, client_secret: clientSecret });
});

test('the authorization endpoint answers by redirect: denial and a missing S256 go back with the state', async () => {
  const pending = await app.oauth.authorizationUrl({ clientId, redirectUri, scopes });
  const denied = callback(await consent(pending, 'deny'));
  assert.equal(denied['error'], 'access_denied');
  assert.equal(denied['state'], pending.state);
  const plain = callback(await app.oauth.authorize({ ...authorizationQuery(pending.url), code_challenge_method: 'plain' }));
  assert.equal(plain['error'], 'invalid_request');
  assert.equal(plain['state'], pending.state);
});

test('token errors are typed with their RFC 6749 codes', async () => {
  await assert.rejects(app.oauth.exchangeCode({ clientId, clientSecret, redirectUri, code: 'not-a-code', codeVerifier: 'v'.repeat(43) }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, 'invalid_grant');
    return true;
  });
  await assert.rejects(app.oauth.token({ grant_type: 'refresh_token', refresh_token: 'ogrt_unknown', client_id: clientId, client_secret: `${clientSecret}x` }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'invalid_client');
    return true;
  });
});

test('the metadata describes the server', async () => {
  const metadata = await app.oauth.metadata();
  assert.equal(metadata.issuer, baseUrl());
  assert.equal(metadata.authorization_endpoint, `${baseUrl()}/oauth/authorize`);
  assert.equal(metadata.token_endpoint, `${baseUrl()}/oauth/token`);
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.ok(metadata.scopes_supported?.includes('persons:read'));
});
