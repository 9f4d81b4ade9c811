#!/usr/bin/env python3
"""Receive provider webhooks with the standard library's http.server and
hand them to libvyomcomm (``vc_webhook_handle``), printing the events
they cause.

    VYOMCOMM_MASTER_KEY=<64 hex digits> \\
    python3 webhook_server.py --store comm.db --listen 127.0.0.1:8080 \\
        --public-base-url https://erp.example.com

Providers post to ``{public_base_url}/webhooks/{channel_id}`` (a reverse
proxy forwards them here with the path unchanged: Twilio-style signatures
are checked against the public URL). Each request is verified, applied
once, and answered with the response the library fills (200, 401 for a
bad signature, 404 for an unknown channel, a challenge echo, ...). The
library's engine runs on one library thread and the event callback
prints every event, on that thread.

The module is importable: ``make_server(ctx, host, port)`` returns a
ThreadingHTTPServer serving one context, as the binding's tests use it.
"""

from __future__ import annotations

import argparse
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import vyomcomm as vc

#: Largest body accepted (the library's VC_WEBHOOK_MAX_BODY).
MAX_BODY = 1024 * 1024


class WebhookHandler(BaseHTTPRequestHandler):
    """Hands every GET and POST to the server's context."""

    server: "WebhookServer"
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        ctx = self.server.vc_context
        if ctx is None:
            self.send_error(503)
            return
        # Called on this request's thread: vc_webhook_handle is safe from
        # any thread, concurrently.
        res = ctx.handle_webhook(self.command, self.path,
                                 list(self.headers.items()), body,
                                 remote_addr=self.client_address[0])
        self.server.received += 1
        if res.error is not None and self.server.verbose:
            print(f"webhook {self.path}: {res.status} {res.error}",
                  file=sys.stderr)
        self.send_response(res.status)
        for name, value in res.headers:
            self.send_header(name, value)
        if res.content_type:
            self.send_header("Content-Type", res.content_type)
        self.send_header("Content-Length", str(len(res.body)))
        self.end_headers()
        self.wfile.write(res.body)

    do_POST = _handle
    do_GET = _handle  # verification challenges (WhatsApp)

    def log_message(self, fmt: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(fmt, *args)


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ctx: Optional[vc.Context], host: str, port: int,
                 verbose: bool = False) -> None:
        super().__init__((host, port), WebhookHandler)
        #: The context requests go to; may be set after the server is
        #: made (the context's public_base_url needs the port first).
        self.vc_context = ctx
        self.verbose = verbose
        self.received = 0

    @property
    def port(self) -> int:
        return self.server_address[1]


def make_server(ctx: Optional[vc.Context], host: str = "127.0.0.1",
                port: int = 0, verbose: bool = False) -> WebhookServer:
    """A server for `ctx` on host:port (0: a free port); run it with
    ``serve_forever()`` (e.g. on a thread) and stop it with
    ``shutdown()``."""
    return WebhookServer(ctx, host, port, verbose)


def print_event(ev: vc.Event) -> None:
    # Runs on the engine thread: print and return quickly.
    print(f"event {ev.seq} {ev.type} {ev.subject_id} {ev.payload_json}",
          flush=True)


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True, help="SQLite store path")
    p.add_argument("--listen", default="127.0.0.1:8080",
                   help="host:port to listen on")
    p.add_argument("--public-base-url", required=True,
                   help="where providers reach this server")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)
    key_hex = os.environ.get("VYOMCOMM_MASTER_KEY", "")
    key = bytes.fromhex(key_hex) if key_hex else None
    host, _, port = a.listen.rpartition(":")
    with vc.Context(a.store, master_key=key,
                    public_base_url=a.public_base_url) as ctx:
        ctx.set_event_callback(print_event)
        ctx.start(1)
        server = make_server(ctx, host or "127.0.0.1", int(port), a.verbose)
        print(f"listening on {host}:{server.port}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            ctx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
