// Smart links against the real server: create with pre-saves, the public page, a click's redirect (the follow
// helper returns the Location), the owner's reads and the statistics of the range.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ConflictError, NotFoundError, UnprocessableEntityError, type SmartLink } from '@og/api-sdk';
import { liveClient } from './helpers.js';

const SPOTIFY = 'https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy';
const BANDCAMP = 'https://novalane.bandcamp.com/album/midnight-drive';
const isoDay = (offsetDays: number): string => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

test('a smart link from creation to its statistics', async () => {
  const sdk = liveClient();
  const release = await sdk.releases.create({ title: 'Midnight Drive', primary_artists: ['Nova Lane'] });
  await sdk.releases.updateDistribution(release.id, { release_date: isoDay(14) });
  const slug = `midnight-drive-${randomUUID().slice(0, 8)}`;
  const link: SmartLink = await sdk.smartLinks.create({
    release_id: release.id,
    slug,
    destinations: [
      { service: 'spotify', url: SPOTIFY },
      { service: 'bandcamp', url: BANDCAMP },
    ],
    presave: { enabled: true, services: ['spotify'], time_zone: 'Europe/Berlin' },
  });
  assert.equal(link.mode, 'presave');
  assert.equal(link.presave.time_zone, 'Europe/Berlin');
  assert.equal((await sdk.smartLinks.get(link.id)).slug, slug);
  const listed: string[] = [];
  for await (const item of sdk.smartLinks.list({ release_id: release.id })) listed.push(item.id);
  assert.deepEqual(listed, [link.id]);

  const page = await sdk.smartLinks.getPublic(slug);
  assert.deepEqual(page.services.map((s) => [s.service, s.action]), [['spotify', 'presave'], ['bandcamp', 'buy']]);
  assert.equal(await sdk.smartLinks.follow(slug, 'spotify'), SPOTIFY);

  const stats = await sdk.smartLinks.getStats(link.id, { from: isoDay(-1), to: isoDay(0) });
  assert.equal(stats.smartlink_id, link.id);
  assert.equal(stats.daily.length, 2);

  await assert.rejects(sdk.smartLinks.create({ release_id: release.id, slug }), ConflictError);
  await assert.rejects(
    sdk.smartLinks.create({ release_id: release.id, slug: `${slug}-x`, destinations: [{ service: 'tidal', url: 'http://x.test/' }] }),
    (error: unknown) => error instanceof UnprocessableEntityError && error.errors[0]?.pointer === '/destinations/0/url',
  );
  await assert.rejects(sdk.smartLinks.getPublic('no-such-link-here'), NotFoundError);
});
