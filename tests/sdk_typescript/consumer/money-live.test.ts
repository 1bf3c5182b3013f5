// Splits, earnings and the balance against the real server. Earnings arrive as in production: the DSP
// sub-distributor posts a signed `report.lines` event (Standard Webhooks); a fetch wrapper plays the partner's signer
// over the exact bytes the SDK sends.
import assert from 'node:assert/strict';
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { NotFoundError, OGRecords, UnprocessableEntityError } from '@og/api-sdk';
import { apiKey, baseUrl, liveClient, recordingFetch } from './helpers.js';

function gtin13(): string {
  const body = '4' + Array.from({ length: 11 }, () => randomInt(10)).join('');
  const total = [...body].reduce((sum, digit, index) => sum + Number(digit) * (index % 2 ? 3 : 1), 0);
  return body + String((10 - (total % 10)) % 10);
}

/** The partner's side: every request to the DSP sync receiver is signed with the partner secret. */
function partner(): OGRecords {
  const secret = process.env['OG_TEST_DSP_SYNC_SECRET'];
  if (!secret) throw new Error('OG_TEST_DSP_SYNC_SECRET is not set: run these tests through tests/sdk_typescript (pytest).');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signing: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const body = await request.clone().text();
    const id = request.headers.get('webhook-id') ?? '';
    const timestamp = request.headers.get('webhook-timestamp') ?? '';
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const headers = new Headers(request.headers);
    headers.set('webhook-signature', `v1,${signature}`);
    return recordingFetch(new Request(request, { headers, body }));
  };
  return new OGRecords({ apiKey: apiKey(), baseUrl: baseUrl(), fetch: signing, maxRetries: 0 });
}

test('splits are versioned, earnings import through the signed DSP feed, the balance and summaries add up', async () => {
  const sdk = liveClient();
  const ada = await sdk.persons.create({ name: 'Ada TS', email: `ada-${randomUUID()}@example.com` });
  const ben = await sdk.persons.create({ name: 'Ben TS', email: `ben-${randomUUID()}@example.com` });
  const release = await sdk.releases.create({ title: 'Ledger Lines', primary_artists: ['Ada TS'] });
  const upc = gtin13();
  await sdk.releases.updateDetails(release.id, { upc });
  const isrc = `QZTSX26${String(randomInt(100000)).padStart(5, '0')}`;
  const track = await sdk.tracks.create({ title: 'Remainder', primary_artists: ['Ada TS'], release_id: release.id, isrc });

  await assert.rejects(
    sdk.splits.create({ release_id: release.id, track_id: track.id, shares: [{ person_id: ada.id, role: 'artist', share_bps: 9999 }] }),
    (error: unknown) => {
      assert.ok(error instanceof UnprocessableEntityError);
      assert.deepEqual(error.errors.map((e) => `${e.code} ${e.pointer}`).sort(), ['shares_total_invalid /shares', 'split_target_required /release_id']);
      return true;
    },
  );
  const first = await sdk.splits.create({
    release_id: release.id,
    shares: [
      { person_id: ada.id, role: 'artist', share_bps: 3333 },
      { person_id: ben.id, role: 'producer', share_bps: 6667 },
    ],
  });
  assert.equal(first.version, 1);
  const later = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  const second = await sdk.splits.create({ release_id: release.id, shares: [{ person_id: ada.id, role: 'artist', share_bps: 10000 }], effective_from: later });
  assert.equal(second.version, 2);
  const superseded = await sdk.splits.get(first.id);
  assert.equal(superseded.status, 'superseded');
  assert.equal(superseded.superseded_by, second.id);
  const active: string[] = [];
  for await (const split of sdk.splits.listForRelease(release.id)) active.push(split.id);
  assert.deepEqual(active, [second.id]);
  const versions: string[] = [];
  for await (const split of sdk.splits.list({ release_id: release.id })) versions.push(split.id);
  assert.deepEqual(versions, [second.id, first.id]);
  await assert.rejects(sdk.splits.get('spl_01jc3m8a4s6t3v0q7k2x9bz5hd'), NotFoundError);

  const before = await sdk.balance.get();
  const messageId = `msg_${randomUUID()}`;
  const report = {
    type: 'report.lines' as const,
    timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    data: {
      report_id: `rep-ts-${randomUUID()}`,
      dsp: 'deezer',
      reported_period: '2026-10',
      lines: [
        { line_id: `${messageId}-1`, territory: 'FR', sale_period: '2026-08', isrc, upc, usage_type: 'stream' as const, units: 10, gross: '0.05', net: '0.04', currency: 'EUR', fx_rate: '1' },
        { line_id: `${messageId}-2`, territory: 'FR', sale_period: '2026-09', isrc, usage_type: 'stream' as const, units: -2, gross: '-0.01', net: '-0.0100000001', currency: 'EUR' },
      ],
    },
  };
  const headers = { 'webhook-id': messageId, 'webhook-timestamp': Math.floor(Date.now() / 1000), 'webhook-signature': 'v1,placeholder' };
  const receipt = await partner().inboundWebhooks.dspSync(report, headers);
  assert.deepEqual(receipt, { received: true, duplicate: false });
  assert.equal((await partner().inboundWebhooks.dspSync(report, headers)).duplicate, true);

  const lines = [];
  for await (const line of sdk.earnings.list({ release_id: release.id, store: 'deezer' })) lines.push(line);
  assert.deepEqual(lines.map((line) => line.amount).sort(), ['-0.0100000001', '0.0400000000']);
  const summary = await sdk.earnings.summarize({ group_by: 'store', release_id: release.id });
  assert.deepEqual(summary.groups.map((group) => [group.key, group.label, group.net]), [['deezer', 'Deezer', '0.0299999999']]);
  const after = await sdk.balance.get();
  assert.equal(after.currency, 'EUR');
  // The lines predate every split (never retroactive): the whole net is the account's, and settled.
  const gained = (Number(after.available.replace('.', '')) - Number(before.available.replace('.', ''))) / 1e10;
  assert.equal(gained.toFixed(10), '0.0299999999');
});
