// Payee invitations against the real server's sandbox: the outbox holds the invitation with its link, a resend
// replaces it, and the sandbox trigger answers a share as the payee.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { liveClient } from './helpers.js';

test('invite, read the sandbox outbox, resend, answer a share', async () => {
  const sdk = liveClient();
  const email = `mara-${randomUUID()}@example.com`;
  const mara = await sdk.persons.create({ name: 'Mara TS', email, invite: true });
  assert.equal(mara.invitation_status, 'pending');
  const label = await sdk.persons.create({ name: 'Label TS', email: `label-${randomUUID()}@example.com` });
  const release = await sdk.releases.create({ title: 'Invited', primary_artists: ['Mara TS'] });
  const split = await sdk.splits.create({
    release_id: release.id,
    shares: [
      { person_id: label.id, role: 'label', share_bps: 8000 },
      { person_id: mara.id, role: 'composer', share_bps: 2000 },
    ],
  });

  const first = (await sdk.sandbox.listOutbox({ person_id: mara.id })).data;
  assert.equal(first.length, 1);
  assert.equal(first[0]?.to, email);
  assert.match(first[0]?.link ?? '', /\/invitations\//);

  const resent = await sdk.persons.invite(mara.id);
  assert.equal(resent.invitation_status, 'pending');
  const both = (await sdk.sandbox.listOutbox({ person_id: mara.id })).data;
  assert.equal(both.length, 2);
  assert.notEqual(both[0]?.link, first[0]?.link);

  const answered = await sdk.sandbox.answerSplitShare(split.id, { person_id: mara.id, role: 'composer', answer: 'accepted' });
  const statuses = Object.fromEntries(answered.shares.map((share) => [share.person_id, share.acceptance_status]));
  assert.deepEqual(statuses, { [label.id]: 'pending', [mara.id]: 'accepted' });
});
