// Payouts and the provider receivers against the real server. The balance is funded as in production (a signed DSP
// `report.lines` event); the sandbox runs the payout's Wise transfer at once. Each provider receiver is called with a
// fetch wrapper that signs the exact bytes the SDK sends the way that provider does (Stripe t/v1 HMAC, Wise
// RSA-SHA256); Mailgun signs inside the body and whapi.cloud sends its channel token.
import assert from 'node:assert/strict';
import { createHmac, createSign, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { NotFoundError, OGRecords, UnprocessableEntityError } from '@og/api-sdk';
import { apiKey, baseUrl, liveClient, recordingFetch } from './helpers.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/sdk_typescript (pytest).`);
  return value;
}

function gtin13(): string {
  const body = '4' + Array.from({ length: 11 }, () => randomInt(10)).join('');
  const total = [...body].reduce((sum, digit, index) => sum + Number(digit) * (index % 2 ? 3 : 1), 0);
  return body + String((10 - (total % 10)) % 10);
}

/** The providers' side: each receiver's request signed the way its sender signs. */
function provider(): OGRecords {
  const signing: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = await request.clone().text();
    const headers = new Headers(request.headers);
    const path = new URL(request.url).pathname;
    if (path.endsWith('/webhooks/dsp-sync')) {
      const key = Buffer.from(env('OG_TEST_DSP_SYNC_SECRET').replace(/^whsec_/, ''), 'base64');
      const signed = `${headers.get('webhook-id')}.${headers.get('webhook-timestamp')}.${body}`;
      headers.set('webhook-signature', `v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
    } else if (path.endsWith('/webhooks/stripe')) {
      const t = Math.floor(Date.now() / 1000);
      headers.set('Stripe-Signature', `t=${t},v1=${createHmac('sha256', env('OG_TEST_STRIPE_SECRET')).update(`${t}.${body}`).digest('hex')}`);
    } else if (path.endsWith('/webhooks/wise')) {
      headers.set('X-Signature-SHA256', createSign('RSA-SHA256').update(body).sign(env('OG_TEST_WISE_PRIVATE_KEY'), 'base64'));
    }
    return recordingFetch(new Request(request, { headers, body }));
  };
  return new OGRecords({ apiKey: apiKey(), baseUrl: baseUrl(), fetch: signing, maxRetries: 0 });
}

async function fund(sdk: OGRecords, net: string): Promise<void> {
  const release = await sdk.releases.create({ title: 'Payday', primary_artists: ['Ada TS'] });
  const upc = gtin13();
  await sdk.releases.updateDetails(release.id, { upc });
  const isrc = `QZTSP26${String(randomInt(100000)).padStart(5, '0')}`;
  await sdk.tracks.create({ title: 'Payday', primary_artists: ['Ada TS'], release_id: release.id, isrc });
  const messageId = `msg_${randomUUID()}`;
  const report = {
    type: 'report.lines' as const,
    timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    data: {
      report_id: `rep-ts-pay-${randomUUID()}`,
      dsp: 'spotify',
      reported_period: '2026-10',
      lines: [{ line_id: `${messageId}-1`, territory: 'DE', sale_period: '2026-08', isrc, upc, usage_type: 'stream' as const, units: 10000, gross: net, net, currency: 'EUR', fx_rate: '1' }],
    },
  };
  const headers = { 'webhook-id': messageId, 'webhook-timestamp': Math.floor(Date.now() / 1000), 'webhook-signature': 'v1,placeholder' };
  assert.equal((await provider().inboundWebhooks.dspSync(report, headers)).received, true);
}

test('a payout leaves the balance once, follows its transfer and is listed', async () => {
  const sdk = liveClient();
  await fund(sdk, '60.00');
  const before = Number((await sdk.balance.get()).available);
  assert.ok(before >= 60);
  const idempotencyKey = randomUUID();
  const payout = await sdk.payouts.request({ currency: 'EUR', amount: '25.00' }, { idempotencyKey });
  assert.equal(payout.status, 'paid'); // the sandbox simulates the Wise transfer at once
  assert.equal(payout.amount, '25.00');
  assert.equal((Number(payout.amount) - Number(payout.fee)).toFixed(2), payout.net_amount);
  assert.equal((await sdk.payouts.request({ currency: 'EUR', amount: '25.00' }, { idempotencyKey })).id, payout.id);
  assert.equal(Number((await sdk.balance.get()).available).toFixed(10), (before - 25).toFixed(10));
  assert.equal((await sdk.payouts.get(payout.id)).provider_reference, payout.provider_reference);
  const paid: string[] = [];
  for await (const item of sdk.payouts.list({ status: 'paid' })) paid.push(item.id);
  assert.ok(paid.includes(payout.id));
  await assert.rejects(sdk.payouts.get('pay_01jc3m8a4s6t3v0q7k2x9bz5hd'), NotFoundError);
  await assert.rejects(sdk.payouts.request({ currency: 'EUR', amount: '999999.00' }), (error: unknown) => {
    assert.ok(error instanceof UnprocessableEntityError);
    assert.equal(error.code, 'insufficient_balance');
    return true;
  });
});

test('provider receivers verify each sender and acknowledge duplicates', async () => {
  const sdk = liveClient();
  const receivers = provider().inboundWebhooks;
  const stripe = {
    id: `evt_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    object: 'event' as const,
    type: 'customer.subscription.updated',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { id: 'sub_ts', object: 'subscription', status: 'active', customer: 'cus_ts' } },
  };
  assert.deepEqual(await receivers.stripe(stripe, { 'Stripe-Signature': 't=0,v1=placeholder' }), { received: true, duplicate: false });
  assert.equal((await receivers.stripe(stripe, { 'Stripe-Signature': 't=0,v1=placeholder' })).duplicate, true);

  const now = new Date().toISOString();
  const wise = {
    event_type: 'transfers#state-change',
    schema_version: '2.0.0',
    sent_at: now,
    data: { resource: { id: 99000002, profile_id: 217896, type: 'transfer' }, current_state: 'outgoing_payment_sent', previous_state: 'funds_converted', occurred_at: now },
  };
  const delivery = { 'X-Signature-SHA256': 'placeholder', 'X-Delivery-Id': randomUUID() };
  assert.equal((await receivers.wise(wise, delivery)).duplicate, false);
  assert.equal((await receivers.wise(wise, delivery)).duplicate, true);

  const email = `bounce-${randomUUID()}@ts.example.com`;
  const person = await sdk.persons.create({ name: 'Bounce TS', email, invite: true });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', env('OG_TEST_MAILGUN_KEY')).update(timestamp + token).digest('hex');
  const mailgun = { signature: { timestamp, token, signature }, 'event-data': { event: 'complained', recipient: email } };
  assert.equal((await receivers.mailgun(mailgun)).duplicate, false);
  assert.equal((await receivers.mailgun(mailgun)).duplicate, true); // a replayed token
  assert.equal((await sdk.persons.get(person.id)).invitation_status, 'failed');

  const whapi = { channel_id: 'MANTIS-K7QXP', event: { type: 'messages', event: 'post' }, messages: [{ id: `wamid.${randomUUID()}`, from: '4915112345678', type: 'text' }] };
  const channel = { 'X-Whapi-Token': env('OG_TEST_WHAPI_TOKEN') };
  assert.equal((await receivers.whapi(whapi, channel)).duplicate, false);
  assert.equal((await receivers.whapi(whapi, channel)).duplicate, true);
});
