// The release wizard against the real server: a draft, each step, real audio and cover art uploaded (one file streamed
// from disk), QC polled to its result, the submit checks as typed field errors, a valid submit, the status lock.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openAsBlob, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConflictError, UnprocessableEntityError, type OGRecords, type QcReport, type Release } from '@og/api-sdk';
import { ownKeyClient, waitFor } from './helpers.js';
import { png, wav } from './media.js';

const client: Promise<OGRecords> = ownKeyClient('TypeScript SDK: releases');
const master = wav();
const folder = mkdtempSync(join(tmpdir(), 'og-media-'));
const masterPath = join(folder, 'master.wav');
writeFileSync(masterPath, master);
const cover = png();

const draft = async (sdk: OGRecords, title = 'Northern Lights'): Promise<Release> => sdk.releases.create({ title, primary_artists: ['Aurora Vale'] });

async function audioReport(sdk: OGRecords, trackId: string): Promise<QcReport> {
  const status = await waitFor(() => sdk.tracks.getQcStatus(trackId), (qc) => qc.audio != null && qc.audio.status !== 'pending');
  assert.ok(status.audio);
  return status.audio;
}

test('the wizard end to end, then the submitted release is locked', async () => {
  const sdk = await client;
  const writer = await sdk.persons.create({ name: 'Mara Lindqvist', legal_name: 'Mara Sofia Lindqvist', email: `mara-${randomUUID()}@example.com` });
  const credits = [
    { person_id: writer.id, role: 'composer' as const },
    { person_id: writer.id, role: 'lyricist' as const },
  ];

  const release = await draft(sdk);
  assert.match(release.id, /^rel_/);
  assert.equal(release.status, 'draft');
  assert.deepEqual(release.steps.tracks.missing, ['/tracks']);

  await assert.rejects(sdk.releases.submit(release.id), (error: unknown) => {
    assert.ok(error instanceof UnprocessableEntityError);
    assert.equal(error.code, 'submission_checks_failed');
    const failed = error.errors.map((e) => `${e.code} ${e.pointer}`);
    for (const expected of ['required /label', 'no_tracks /tracks', 'artwork_missing /artwork']) assert.ok(failed.includes(expected), `${expected} in ${failed.join(', ')}`);
    return true;
  });

  const detailed = await sdk.releases.updateDetails(release.id, {
    label: 'Nordlicht Records',
    genre: 'electronic',
    language: 'en',
    p_line: { year: 2026, owner: 'Nordlicht Records' },
    c_line: { year: 2026, owner: 'Aurora Vale' },
  });
  assert.equal(detailed.steps.details.complete, true);

  const first = await sdk.tracks.create({ title: 'Aurora', primary_artists: ['Aurora Vale'], release_id: release.id, explicit: false, language: 'en', credits });
  const second = await sdk.tracks.create({ title: 'Borealis', primary_artists: ['Aurora Vale'], release_id: release.id, explicit: false, language: 'en', credits });
  assert.deepEqual([first.track_number, second.track_number], [1, 2]);
  // One master streamed from a path on disk, one from bytes in memory.
  const fromDisk = await sdk.tracks.uploadAudio(first.id, await openAsBlob(masterPath, { type: 'audio/wav' }));
  assert.equal(fromDisk.audio?.size_bytes, master.length);
  await sdk.tracks.uploadAudio(second.id, new Blob([master], { type: 'audio/wav' }));
  const edited = await sdk.tracks.update(second.id, { explicit: true, metadata: { mix: 'radio' } });
  assert.deepEqual([edited.explicit, edited.metadata], [true, { mix: 'radio' }]);
  assert.equal((await sdk.tracks.get(second.id)).explicit, true);

  const reordered = await sdk.releases.updateTracks(release.id, {
    tracks: [
      { track_id: second.id, track_number: 1 },
      { track_id: first.id, track_number: 2 },
    ],
  });
  assert.deepEqual(reordered.tracks.map((t) => t.id), [second.id, first.id]);
  assert.equal(reordered.explicit, true);

  const covered = await sdk.releases.updateArtwork(release.id, new Blob([cover], { type: 'image/png' }));
  assert.ok(covered.artwork);
  const releaseDate = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const distributed = await sdk.releases.updateDistribution(release.id, { release_date: releaseDate, territories: ['WW'], stores: ['spotify'], price_tier: 'front' });
  assert.equal(distributed.release_date, releaseDate);

  for (const track of [first, second]) assert.equal((await audioReport(sdk, track.id)).status, 'passed');
  const qc = await waitFor(() => sdk.tracks.getQcStatus(first.id), (status) => status.cover != null && status.cover.status !== 'pending');
  assert.equal(qc.cover?.status, 'passed', JSON.stringify(qc.cover?.findings));

  const ready = await sdk.releases.get(release.id);
  assert.ok(Object.values(ready.steps).every((step) => step.complete), JSON.stringify(ready.steps));
  assert.equal(ready.artwork_qc?.status, 'passed');
  assert.equal(ready.duration_ms, 2 * 31_000);

  const submitted = await sdk.releases.submit(release.id);
  assert.equal(submitted.status, 'submitted');
  assert.match(submitted.upc ?? '', /^\d{13}$/);
  assert.ok(submitted.tracks.every((track) => track.isrc));
  assert.deepEqual(await sdk.releases.submit(release.id), submitted, 'a repeated submit changes nothing');

  await assert.rejects(sdk.releases.updateDetails(release.id, { title: 'Other' }), (error: unknown) => {
    assert.ok(error instanceof ConflictError);
    assert.deepEqual([error.status, error.code, error.currentState], [409, 'invalid_state', 'submitted']);
    return true;
  });
  await assert.rejects(sdk.tracks.update(first.id, { title: 'Other' }), (error: unknown) => error instanceof ConflictError && error.currentState === 'submitted');
  assert.deepEqual((await sdk.releases.updateDetails(release.id, { metadata: { crm: 'B-2' } })).metadata, { crm: 'B-2' });
});

test('failed QC comes with findings and blocks the submit', async () => {
  const sdk = await client;
  const release = await draft(sdk, 'Demo Tape');
  const track = await sdk.tracks.create({ title: 'Demo', primary_artists: ['Aurora Vale'], release_id: release.id, language: 'zxx' });
  await sdk.tracks.uploadAudio(track.id, new Blob([wav({ seconds: 5, rate: 22_050, channels: 1 })], { type: 'audio/wav' }));
  await sdk.releases.updateArtwork(release.id, new Blob([png(3000, 1500)], { type: 'image/png' }));

  const report = await audioReport(sdk, track.id);
  assert.equal(report.status, 'failed');
  const codes = report.findings.filter((finding) => finding.severity === 'error').map((finding) => finding.code);
  for (const code of ['duration', 'sample_rate', 'channels'] as const) assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
  const qc = await waitFor(() => sdk.tracks.getQcStatus(track.id), (status) => status.cover != null && status.cover.status !== 'pending');
  assert.equal(qc.cover?.status, 'failed');
  assert.ok(qc.cover?.findings.some((finding) => finding.code === 'not_square'));

  await assert.rejects(sdk.releases.submit(release.id), (error: unknown) => {
    assert.ok(error instanceof UnprocessableEntityError);
    const failed = error.errors.map((e) => `${e.code} ${e.pointer}`);
    assert.ok(failed.includes('audio_qc_failed /tracks/0/qc_status'), failed.join(', '));
    assert.ok(failed.includes('artwork_qc_failed /artwork_qc/status'), failed.join(', '));
    return true;
  });
});

test('releases and tracks are listed across pages', async () => {
  const sdk = await client;
  const drafts: Release[] = [];
  for (let i = 0; i < 3; i++) drafts.push(await draft(sdk, `Page ${i}`));
  const ids = drafts.map((release) => release.id);
  const since = drafts[0]!.created_at; // second precision: other releases of that second are listed too

  const first = await sdk.releases.list({ limit: 2, created_gte: since });
  assert.equal(first.data.length, 2);
  assert.ok(first.hasNextPage());
  const walked: string[] = [];
  for await (const release of sdk.releases.list({ limit: 2, created_gte: since })) walked.push(release.id);
  assert.equal(new Set(walked).size, walked.length, 'a release came twice');
  assert.deepEqual(walked.filter((id) => ids.includes(id)), [...ids].reverse(), 'newest first');
  assert.equal((await first.getNextPage()).data[0]?.id, walked[2]);

  const tracks: string[] = [];
  for (let i = 0; i < 3; i++) tracks.push((await sdk.tracks.create({ title: `Song ${i}`, primary_artists: ['Aurora Vale'], release_id: ids[0]! })).id);
  const onRelease: string[] = [];
  for await (const track of sdk.tracks.list({ limit: 2, release_id: ids[0]! })) onRelease.push(track.id);
  assert.deepEqual(onRelease, tracks, 'a release’s tracks in tracklist order, across pages');
});
