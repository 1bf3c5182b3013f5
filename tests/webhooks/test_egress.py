"""The SSRF guard: which addresses deliveries may reach, checked where the connection is made."""

import asyncio
import ipaddress

import httpx
import pytest

from server.webhooks.egress import GuardedTransport, address_allowed, error_code
from tests.webhooks.receiver import running_receiver


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped private address
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("127.0.0.1", False),
        ("::1", False),
    ],
)
def test_only_public_addresses_are_reachable(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False) is allowed


def test_loopback_needs_the_explicit_setting_and_nothing_else_opens() -> None:
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert address_allowed(ipaddress.ip_address("::1"), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


def _post(url: str, *, allow_loopback: bool) -> httpx.Response | BaseException:
    async def run() -> httpx.Response | BaseException:
        async with httpx.AsyncClient(transport=GuardedTransport(allow_loopback=allow_loopback)) as client:
            try:
                return await client.post(url, content=b"{}")
            except httpx.HTTPError as exc:
                return exc

    return asyncio.run(run())


def test_the_transport_checks_the_resolved_address_at_connect_time() -> None:
    with running_receiver() as receiver:
        # `localhost` is a name: only resolving it shows it is loopback.
        by_name = receiver.url.replace("127.0.0.1", "localhost")
        refused = _post(by_name, allow_loopback=False)
        assert isinstance(refused, BaseException)
        assert error_code(refused) == "address_not_allowed"
        assert receiver.requests == []
        accepted = _post(by_name, allow_loopback=True)
        assert isinstance(accepted, httpx.Response)
        assert accepted.status_code == 200
        assert len(receiver.requests) == 1


def test_environment_proxies_cannot_route_around_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with running_receiver() as receiver:
        response = _post(receiver.url, allow_loopback=True)
        assert isinstance(response, httpx.Response)
        assert len(receiver.requests) == 1
