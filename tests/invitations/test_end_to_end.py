"""Issue 18's "done when", in the sandbox: a person invited with `invite: true` and a split naming them; the outbox
holds one invitation with a link; the link's page shows the share; accepting it makes the share `accepted` in
getSplit, a signed `split.share_accepted` webhook arrives, the balance no longer holds that part; a reused link is
refused."""

import json
from datetime import timedelta
from decimal import Decimal

from standardwebhooks import Webhook
from starlette.testclient import TestClient

from server.clock import now, shifted
from server.config import Settings
from tests.conftest import Tenant
from tests.invitations.helpers import csrf_field, invited_person, link_path, next_month, outbox, share_field, split_for
from tests.server.money_helpers import catalogue, line, report, send_dsp
from tests.server.releases_helpers import ok
from tests.webhooks.conftest import drain, endpoint_payload_errors
from tests.webhooks.receiver import running_receiver


def test_a_payee_accepts_a_share_through_the_invitation_link(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver() as receiver:
        endpoint = ok(
            client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["split.share_accepted"]},
                headers=tenant.headers,
            ),
            201,
        )
        cat = catalogue(client, tenant, tracks=1)
        person = invited_person(client, tenant, name="Mara Lindqvist", email="mara@example.com")
        assert person["invitation_status"] == "pending"
        split = split_for(client, tenant, person, release=cat["release"])

        # Earnings of next month's sale period, reported 35 days before a moment 75 days from now: settled then.
        _, month = next_month()
        with shifted(timedelta(days=75)):
            payload = report([line(cat["tracks"][0]["isrc"], "10.00", sale_period=month)], at=now() - timedelta(35))
            assert send_dsp(client, payload).status_code == 200
            held = ok(client.get("/api/v1/balance", headers=tenant.headers))
        # The label's part and the composer's part are both held: neither share is accepted yet.
        assert Decimal(held["available"]) == 0
        assert Decimal(held["pending"]) == Decimal("10")

        messages = outbox(client, tenant, person_id=person["id"])
        assert len(messages) == 1
        invitation = messages[0]
        assert (invitation["kind"], invitation["channel"], invitation["to"]) == (
            "invitation",
            "email",
            "mara@example.com",
        )
        assert invitation["status"] == "sandbox"
        assert "Test Label" in invitation["subject"]
        path = link_path(invitation)

        page = client.get(path)
        assert page.status_code == 200
        assert f"Release “{cat['release']['title']}”" in page.text
        assert "composer" in page.text
        assert "50 %" in page.text
        answered = client.post(
            path, data={"csrf_token": csrf_field(page.text), "share": share_field(page.text), "answer": "accept"}
        )
        assert answered.status_code == 200
        assert "cannot be used again" in answered.text  # the only share is answered: the link is spent

        fetched = ok(client.get(f"/api/v1/splits/{split['id']}", headers=tenant.headers))
        shares = {share["person_id"]: share["acceptance_status"] for share in fetched["shares"]}
        assert shares[person["id"]] == "accepted"
        assert ok(client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers))["invitation_status"] == (
            "accepted"
        )

        assert drain(settings) >= 1
        [delivery] = receiver.wait_for(1)
        body = Webhook(endpoint["secret"]).verify(delivery.body, delivery.headers)
        assert body["type"] == "split.share_accepted"
        assert body["data"]["object"]["id"] == split["id"]
        assert body["data"]["share"] == {
            "person_id": person["id"],
            "role": "composer",
            "share_bps": 5000,
            "acceptance_status": "accepted",
        }
        assert endpoint_payload_errors(json.loads(delivery.body)) == []

        with shifted(timedelta(days=75)):
            released = ok(client.get("/api/v1/balance", headers=tenant.headers))
        # The composer's half is available at once; the label's share is still held.
        assert Decimal(released["available"]) == Decimal("5")
        assert Decimal(released["pending"]) == Decimal("5")

        reused = client.get(path)
        assert reused.status_code == 410
        assert "already used" in reused.text
        again = client.post(path, data={"csrf_token": csrf_field(page.text), "share": "1", "answer": "decline"})
        assert again.status_code == 410
