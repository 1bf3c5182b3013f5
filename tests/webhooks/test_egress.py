"""The SSRF guard: which addresses deliveries may reach, checked where the connection is made."""

import asyncio
import ipaddress
import ssl
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server import clock
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


class _KeepAliveServer:
    """A bare HTTP/1.1 server on loopback that answers every request with 200 and keeps the connection open, or,
    with `close_idle`, closes it right after answering without saying so (as receivers behind proxies with short
    idle timeouts do). Optionally over TLS."""

    def __init__(self, *, close_idle: bool, ssl_context: ssl.SSLContext | None = None) -> None:
        self.close_idle = close_idle
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests = 0

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}/hook"

    async def __aexit__(self, *_exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                if self.close_idle:
                    if self.ssl_context:
                        # TLS's orderly close waits for the client's close_notify before the TCP FIN, which an idle
                        # pooled client never sends: hang up as a proxy or a process that exits does.
                        await asyncio.sleep(0.01)
                        writer.transport.abort()
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _post_in_turn(url: str, count: int, ssl_context: ssl.SSLContext | None = None) -> list[int]:
    statuses = []
    transport = GuardedTransport(allow_loopback=True, ssl_context=ssl_context)
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(count):
            statuses.append((await client.post(url, content=b"{}")).status_code)
            await asyncio.sleep(0.05)  # the server's close arrives while the connection sits idle in the pool
    return statuses


def _tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client context trusting only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    issued = clock.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - timedelta(days=1))
        .not_valid_after(issued + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_deliveries_reuse_an_open_connection_and_never_one_the_receiver_closed(tls: bool, tmp_path: Path) -> None:
    # The pool asks every idle connection whether its socket is readable (for an idle HTTP connection: the peer
    # closed it) before reusing it; egress keeps that answer cheap. Were it wrong, the second delivery would be
    # written into a closed connection and fail.
    server_context, client_context = _tls_contexts(tmp_path) if tls else (None, None)

    async def run(close_idle: bool) -> tuple[list[int], int, int]:
        server = _KeepAliveServer(close_idle=close_idle, ssl_context=server_context)
        async with server as url:
            statuses = await _post_in_turn(url, 3, client_context)
        return statuses, server.connections, server.requests

    assert asyncio.run(run(close_idle=False)) == ([200, 200, 200], 1, 3)  # one connection, kept alive
    assert asyncio.run(run(close_idle=True)) == ([200, 200, 200], 3, 3)  # a fresh one after each close
