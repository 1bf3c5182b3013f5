// The operations beyond the wizard against the real server (issue 19): a takedown confirmed by the sandbox's
// simulated sub-distributor, deleting a draft, removing a track, updating and deleting a person, updating,
// disabling and deleting a smart link, and an ISRC nobody else can take.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { APIError, ConflictError, NotFoundError } from '@og/api-sdk';
import { liveClient } from './helpers.js';

const sdk = liveClient();

test('a takedown: takedown_requested at once, taken_down when every store confirms', async () => {
  // A live release of a sandbox account's mock catalogue (this suite's own account starts empty, without drafts to
  // submit; the parity account has mock data, and no other test takes its releases down).
  const mocked = liveClient({ apiKey: process.env['OG_TEST_PARITY_SANDBOX_KEY'] ?? '' });
  const live = (await mocked.releases.list({ limit: 100 })).data.find((release) => release.status === 'live');
  assert.ok(live, 'the mock catalogue has a live release');
  const requested = await mocked.releases.requestTakedown(live.id);
  assert.equal(requested.status, 'takedown_requested');
  assert.ok(requested.deliveries.every((delivery) => delivery.status === 'removing' || delivery.status === 'removed'));
  assert.equal((await mocked.releases.requestTakedown(live.id)).status, 'takedown_requested', 'a repeat changes nothing');
  const done = await mocked.sandbox.advanceRelease(live.id, { to: 'taken_down' });
  assert.equal(done.status, 'taken_down');
  await assert.rejects(mocked.releases.delete(live.id), (error: unknown) => error instanceof ConflictError && error.code === 'invalid_state');
});

test('a draft: remove a track, then delete the draft', async () => {
  const release = await sdk.releases.create({ title: 'Short Lived', primary_artists: ['Nova Lane'] });
  const first = await sdk.tracks.create({ release_id: release.id, title: 'One', primary_artists: ['Nova Lane'] });
  const second = await sdk.tracks.create({ release_id: release.id, title: 'Two', primary_artists: ['Nova Lane'] });
  const after = await sdk.releases.removeTrack(release.id, first.id);
  assert.deepEqual(after.tracks.map((t) => [t.id, t.track_number]), [[second.id, 1]]);
  assert.equal((await sdk.tracks.get(first.id)).release_id, null);
  await sdk.releases.delete(release.id);
  await assert.rejects(sdk.releases.get(release.id), NotFoundError);
  await assert.rejects(sdk.releases.delete(release.id), NotFoundError);
  assert.equal((await sdk.tracks.get(second.id)).release_id, null);
});

test('a person: update, then delete', async () => {
  const person = await sdk.persons.create({ name: 'Mara Lindqvist', email: `sdk-${randomUUID()}@example.com` });
  const updated = await sdk.persons.update(person.id, { legal_name: 'Mara Sofia Lindqvist', roles: ['composer'] });
  assert.deepEqual([updated.legal_name, updated.roles, updated.email], ['Mara Sofia Lindqvist', ['composer'], person.email]);
  await sdk.persons.delete(person.id);
  await assert.rejects(sdk.persons.get(person.id), NotFoundError);
});

test('a smart link: update, disable (410 for fans), delete', async () => {
  const release = await sdk.releases.create({ title: 'Midnight Drive', primary_artists: ['Nova Lane'] });
  const slug = `ops-${randomUUID().slice(0, 8)}`;
  const link = await sdk.smartLinks.create({ release_id: release.id, slug });
  const retitled = await sdk.smartLinks.update(link.id, {
    title: 'Midnight Drive (Deluxe)',
    destinations: [{ service: 'spotify', url: 'https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy' }],
  });
  assert.equal(retitled.title, 'Midnight Drive (Deluxe)');
  const disabled = await sdk.smartLinks.update(link.id, { status: 'disabled' });
  assert.equal(disabled.status, 'disabled');
  await assert.rejects(
    sdk.smartLinks.getPublic(slug),
    (error: unknown) => error instanceof APIError && error.status === 410 && error.code === 'smartlink_disabled',
  );
  await sdk.smartLinks.delete(link.id);
  await assert.rejects(sdk.smartLinks.get(link.id), NotFoundError);
  await assert.rejects(sdk.smartLinks.getPublic(slug), NotFoundError);
});

test('an ISRC in use cannot be taken by another track', async () => {
  const isrc = `QZ${randomUUID().replace(/[^0-9]/g, '').slice(0, 3).padEnd(3, '7')}26${String(Date.now() % 100000).padStart(5, '0')}`;
  await sdk.tracks.create({ title: 'Original', primary_artists: ['Nova Lane'], isrc });
  await assert.rejects(
    sdk.tracks.create({ title: 'Copy', primary_artists: ['Nova Lane'], isrc }),
    (error: unknown) => error instanceof ConflictError && error.code === 'conflict',
  );
});
