"""The embedded AWS emulator for test sessions: moto in server mode, in a thread of the test process.

``start_moto()`` serves moto on a free loopback port and waits until it answers. Running it in-process lets
the behaviour suite patch moto (``tools.devstack.moto_patches.patch_moto_sqs_esm_invocation``) and read its state.
Terraform (a subprocess) talks to it over HTTP like any client.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

from moto.server import ThreadedMotoServer

from tools.devstack.moto_patches import patch_moto

__all__ = ["ThreadedMotoServer", "free_port", "is_healthy", "reset_moto", "start_moto"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_healthy(endpoint_url: str, timeout: float = 1.0) -> bool:
    """True when a moto server answers on ``endpoint_url``."""
    try:
        with urllib.request.urlopen(endpoint_url.rstrip("/") + "/moto-api/", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_moto(
    host: str = "127.0.0.1", port: int | None = None, timeout: float = 30.0
) -> tuple[ThreadedMotoServer, str]:
    """Start moto server on ``host`` (a free port unless given); returns the server and its endpoint URL.

    Stop it with ``server.stop()``.
    """
    # moto would otherwise try (and fail, without Docker) to run Lambda behind SQS mappings on every send (each
    # phantom receive counts towards maxReceiveCount), interleave transactions, send every event to a schedule
    # rule and return RedrivePolicy with spaces: every suite gets the patched moto (tools/devstack/moto_patches.py).
    patch_moto()
    server = ThreadedMotoServer(ip_address=host, port=port if port is not None else free_port(host), verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint_url = f"http://{bound_host}:{bound_port}"
    deadline = time.monotonic() + timeout
    while not is_healthy(endpoint_url):
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"moto server at {endpoint_url} did not answer within {timeout:.0f} s")
        time.sleep(0.05)
    return server, endpoint_url


def reset_moto(endpoint_url: str) -> None:
    """Clear every service's state (POST /moto-api/reset)."""
    request = urllib.request.Request(endpoint_url.rstrip("/") + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
