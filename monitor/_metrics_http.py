"""Serving ``/metrics`` over HTTP (prometheus_client's server, in a thread of its own)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from prometheus_client import CollectorRegistry, start_http_server

from ._errors import ConfigError

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def serving_metrics(registry: CollectorRegistry, host: str, port: int) -> Iterator[str]:
    """Serve ``registry`` while the block runs; yields the URL of ``/metrics`` (port 0: a
    free port is chosen, and the URL names it)."""
    try:
        server, thread = start_http_server(port, host, registry=registry)
    except OSError as error:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {error.strerror}") from error
    address = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{address}:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM arrives; the previous handlers are restored after."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, handler) for number in _STOP_SIGNALS}
    try:
        stop.wait()
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
