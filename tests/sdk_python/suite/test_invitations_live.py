"""Payee invitations through the SDK against the live server's sandbox: the outbox holds the invitation with its
link, a resend replaces it, and the sandbox trigger answers a share as the payee."""

from og_records import OGRecords
from og_records.models import PersonCreate, ReleaseCreate, SplitCreate, SplitShareAnswer, SplitShareCreate


def test_invite_read_the_outbox_and_answer_a_share(client: OGRecords) -> None:
    mara = client.persons.create(body=PersonCreate(name="Mara Sdk", email="mara@sdk.example.com", invite=True))
    assert mara.invitation_status == "pending"
    label = client.persons.create(body=PersonCreate(name="Label Sdk", email="label@sdk.example.com"))
    release = client.releases.create(body=ReleaseCreate(title="Invited", primary_artists=["Mara Sdk"]))
    split = client.splits.create(
        body=SplitCreate(
            release_id=release.id,
            shares=[
                SplitShareCreate(person_id=label.id, role="label", share_bps=8000),
                SplitShareCreate(person_id=mara.id, role="composer", share_bps=2000),
            ],
        )
    )

    [first] = list(client.sandbox.list_outbox(person_id=mara.id))
    assert first.kind == "invitation"
    assert first.to == "mara@sdk.example.com"
    assert isinstance(first.link, str)
    assert "/invitations/" in first.link

    resent = client.persons.invite(mara.id)
    assert resent.invitation_status == "pending"
    newest = list(client.sandbox.list_outbox(person_id=mara.id))
    assert len(newest) == 2
    assert newest[0].link != first.link

    answered = client.sandbox.answer_split_share(
        split.id, body=SplitShareAnswer(person_id=mara.id, role="composer", answer="accepted")
    )
    shares = {share.person_id: share.acceptance_status for share in answered.shares}
    assert shares == {label.id: "pending", mara.id: "accepted"}
