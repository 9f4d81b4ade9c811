"""Fixtures of the binding's tests: a context on an SQLite file in a
temporary directory, a tenant, an injected clock, and the provider
simulator (``vyomcomm-sim``) as a child process.

Run against the built library: ``VYOMCOMM_LIBRARY`` points at
``build/src/libvyomcomm.so.1`` and ``VYOMCOMM_SIM`` at
``build/tests/sim/vyomcomm-sim`` (meson sets both).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))               # the package
sys.path.insert(0, str(HERE.parent / "examples"))  # webhook_server

import vyomcomm as vc  # noqa: E402

KEY = bytes(range(32))
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class FakeClock:
    """A settable clock, thread-safe (the engine reads it too)."""

    def __init__(self, now: int = T0) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self) -> int:
        with self._lock:
            self.calls += 1
            return self._now

    def advance(self, ms: int) -> None:
        with self._lock:
            self._now += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[vc.Context]:
    with vc.Context(str(tmp_path / "comm.db"), master_key=KEY) as c:
        yield c


@pytest.fixture
def tenant(ctx: vc.Context) -> Iterator[vc.Tenant]:
    with vc.Tenant.new(ctx, "acme", name="Acme Traders") as t:
        yield t


@pytest.fixture
def sms(tenant: vc.Tenant) -> Iterator[vc.Channel]:
    with vc.Channel.new(tenant, "sms", "sandbox-sms",
                        sender="+15550001111") as ch:
        yield ch


SIM_SID = "AC" + "5a" * 16
SIM_TOKEN = "0f" * 16


class Sim:
    """A running vyomcomm-sim: its base URL and Twilio account."""

    def __init__(self, proc: subprocess.Popen, info: Dict[str, str]):
        self.proc = proc
        self.url = info["url"]
        self.port = int(info["port"])
        self.twilio_sid = SIM_SID
        self.twilio_token = SIM_TOKEN


@pytest.fixture
def sim() -> Iterator[Sim]:
    exe = os.environ.get("VYOMCOMM_SIM")
    if not exe or not os.access(exe, os.X_OK):
        pytest.skip("VYOMCOMM_SIM (the vyomcomm-sim program) is not set")
    proc = subprocess.Popen(
        [exe, "--twilio-sid", SIM_SID, "--twilio-token", SIM_TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info: Dict[str, str] = {}
    lines: List[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.strip() == "ready":
            break
        key, _, value = line.strip().partition(" ")
        info[key] = value
    if "url" not in info:
        proc.kill()
        proc.wait()
        pytest.fail(f"vyomcomm-sim did not start: {lines!r}")
    try:
        yield Sim(proc, info)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sanitized() -> bool:
    """True under an ASan build, where RSS says little about leaks."""
    return os.environ.get("VYOMCOMM_SANITIZED", "") not in ("", "0")


def twilio_signature(token: str, url: str, params: Dict[str, str]) -> str:
    """X-Twilio-Signature of a form POST: HMAC-SHA1 under the auth token
    over the URL and every parameter's name and value in name order,
    base64."""
    data = url + "".join(k + v for k, v in sorted(params.items()))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def twilio_inbound(ctx: vc.Context, channel: vc.Channel, base_url: str,
                   from_: str, text: str, to: str = "+15005550006",
                   token: str = SIM_TOKEN,
                   sid: Optional[str] = None) -> vc.WebhookResponse:
    """An inbound SMS as Twilio posts it to the channel's webhook URL
    (signed for ``base_url`` + the channel's path), handed to the
    library through Context.handle_webhook."""
    sid = sid or "SM" + secrets.token_hex(16)
    params = {"AccountSid": SIM_SID, "ApiVersion": "2010-04-01",
              "Body": text, "From": from_, "MessageSid": sid,
              "NumMedia": "0", "NumSegments": "1", "SmsMessageSid": sid,
              "SmsSid": sid, "SmsStatus": "received", "To": to}
    body = urllib.parse.urlencode(params).encode()
    sig = twilio_signature(token, base_url + channel.webhook_path, params)
    return ctx.handle_webhook(
        "POST", channel.webhook_path,
        {"Content-Type": "application/x-www-form-urlencoded",
         "X-Twilio-Signature": sig}, body)
