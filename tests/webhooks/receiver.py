"""A local webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that records every request."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Receiver:
    url: str
    requests: list[Received]
    reply: Callable[[Received], Reply]
    # Requests that arrived while another request with the same webhook-id was still being answered.
    overlapping: list[str]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)


@contextmanager
def running_receiver(reply: Callable[[Received], Reply] | None = None) -> Iterator[Receiver]:
    requests: list[Received] = []
    overlapping: list[str] = []
    in_flight: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            received = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length), time.monotonic()
            )
            message_id = received.headers.get("webhook-id", "")
            with lock:
                if message_id in in_flight:
                    overlapping.append(message_id)
                in_flight.add(message_id)
                requests.append(received)
            try:
                answer = receiver.reply(received)
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            finally:
                with lock:
                    in_flight.discard(message_id)

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # workers open dozens of connections at once; the default backlog (5) drops some

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(
        f"http://127.0.0.1:{server.server_port}/hooks", requests, reply or (lambda _r: Reply()), overlapping
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
