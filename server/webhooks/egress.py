"""Server-side request forgery guard: deliveries reach only public addresses.

The check runs where the connection is made, on the address actually dialled: the host is resolved once, every
address it resolves to is checked, and the socket connects to a checked address (so DNS rebinding between a check
and the connect cannot slip through). Loopback is allowed only with `OG_WEBHOOKS_ALLOW_LOOPBACK=1`, for local
development and tests; private, link-local (cloud metadata), multicast and reserved ranges never are.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from functools import cache
from typing import Any

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend
from httpcore._utils import is_socket_readable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressNotAllowedError(httpcore.ConnectError):
    """The host resolves to an address deliveries may not reach."""


class DnsFailureError(httpcore.ConnectError):
    """The host name did not resolve."""


def address_allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast


def is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback
        self._inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        refused = [a for a in addresses if not address_allowed(a, allow_loopback=self._allow_loopback)]
        if refused:
            raise AddressNotAllowedError(f"{host} resolves to {refused[0]}, which deliveries may not reach")
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
                continue
            return _SocketKeepingStream(stream)
        raise last_error or httpcore.ConnectError(f"could not connect to {host}")

    async def _resolve(self, host: str, port: int, limit_seconds: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit_seconds):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise DnsFailureError(f"{host} did not resolve: {exc}") from exc
        unique: dict[str, IPAddress] = {}
        for *_, sockaddr in infos:
            unique.setdefault(str(sockaddr[0]), ipaddress.ip_address(sockaddr[0]))
        if not unique:
            raise DnsFailureError(f"{host} did not resolve")
        return list(unique.values())

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SocketKeepingStream(httpcore.AsyncNetworkStream):
    """The backend's stream, with the answer to the pool's "is this idle connection readable?" made cheap.

    httpcore asks it of every pooled connection each time a request is added or finishes (about 80 times per
    delivery with 16 connections to a receiver). The anyio stream finds its socket by building its whole table of
    typed attributes each time (a getpeername and a dozen lambdas, ≈ 25 µs); the socket of a connection never
    changes, so it is looked up once here and only the poll is done per question. Everything else is passed on.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 - httpcore's
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 - interface
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        # The TLS stream reads and writes through the same socket, whose readability still means what it meant.
        return _SocketKeepingStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return is_socket_readable(self._socket)
        if info == "socket" and self._socket is not None:
            return self._socket
        return self._inner.get_extra_info(info)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the connection pool dialling through `GuardedBackend`.

    httpx 0.28 has no public hook for the network backend, so the pool it built is replaced by an identical one
    that uses ours (httpx is pinned; tests/webhooks/test_egress.py fails if this stops taking effect).
    """

    def __init__(
        self, *, allow_loopback: bool, max_connections: int = 100, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(trust_env=False, limits=httpx.Limits(max_connections=max_connections))
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or _ssl_context(),  # another only where a test trusts its own certificate
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow_loopback=allow_loopback),
        )


@cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; the test action builds a transport per request.
    return ssl.create_default_context()


def error_code(exc: BaseException) -> str:
    """The attempt's `error` for a request that got no usable response."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, AddressNotAllowedError) for e in chain):
        return "address_not_allowed"
    if any(isinstance(e, DnsFailureError) for e in chain):
        return "dns_failure"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "tls_error"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in str(exc).lower():
        return "connection_refused"
    if isinstance(exc, httpx.ConnectError):
        return "connection_error"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "protocol_error"
    return "request_error"
