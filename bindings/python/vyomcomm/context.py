"""The library context: a store, a master key, a clock, the engine."""

from __future__ import annotations

import atexit
import ctypes
import sys
import traceback
import weakref
from typing import (Any, Callable, Iterable, List, Mapping, Optional,
                    Tuple, Union)

from . import _lib
from ._handle import Handle
from .errors import error_for
from .types import Event, LogLevel, WebhookResponse

lib = _lib.lib

#: A clock: returns the current time in Unix milliseconds (UTC).
Clock = Callable[[], int]
#: A log callback: (level, message).
LogCallback = Callable[[int, str], None]
#: An event callback: return None or True once handled, False to have
#: the event offered again on a later iteration.
EventCallback = Callable[[Event], Optional[bool]]

_live: "weakref.WeakSet[Context]" = weakref.WeakSet()
# Contexts whose engine threads run are kept alive until stop() or
# close(): a collection on an engine thread would free the context there.
_running: "set[Context]" = set()


def _close_all() -> None:
    # Engine threads must not call back into an interpreter that is
    # going away: stop and free what the program left open.
    for ctx in list(_live):
        try:
            ctx.close()
        except Exception:
            pass


atexit.register(_close_all)


def _unraisable(what: str) -> None:
    print(f"vyomcomm: exception in the {what} callback (ignored):",
          file=sys.stderr)
    traceback.print_exc()


class Context(Handle):
    """A library context over an SQLite store.

    Args:
        store_path: the SQLite file (created when missing).
        master_key: 32 raw bytes that encrypt credentials at rest; or
        passphrase: a passphrase stretched with PBKDF2 instead. With
            neither, channels with credentials cannot be created.
        clock: a function returning Unix milliseconds, for tests; None =
            the system clock. Called from any thread, the engine's
            included; it must be quick and must not call the library.
        log: receives (level, message) log lines, from any thread.
        log_level: the most verbose level passed to ``log``.
        public_base_url: where providers reach the host's webhooks.
        allow_private_network: let provider requests reach loopback and
            private addresses (a local simulator).
        random_seed: seed for ids and jitter (0 = OS randomness).
        event_consumer: name of this context's event-delivery cursor.
        full_sync: SQLite synchronous=FULL instead of NORMAL.

    Use as a context manager, or call :meth:`close`, which stops the
    engine, closes every tenant (and what was made from it) still open,
    and frees the context.
    """

    _free = staticmethod(lib.vc_ctx_free)

    def __init__(self, store_path: str, *,
                 master_key: Optional[bytes] = None,
                 passphrase: Optional[str] = None,
                 clock: Optional[Clock] = None,
                 log: Optional[LogCallback] = None,
                 log_level: int = LogLevel.INFO,
                 public_base_url: Optional[str] = None,
                 allow_private_network: bool = False,
                 random_seed: int = 0,
                 event_consumer: Optional[str] = None,
                 full_sync: bool = False) -> None:
        self._callbacks: List[Any] = []  # ctypes callbacks, kept alive
        self._started = False
        so = _lib.init(_lib.vc_sqlite_options, "vc_sqlite_options_init",
                       _lib.VC_SQLITE_OPTIONS_VERSION)
        if full_sync:
            so.synchronous = 2
        o = _lib.init(_lib.vc_ctx_options, "vc_ctx_options_init",
                      _lib.VC_CTX_OPTIONS_VERSION)
        if master_key is not None or passphrase is not None:
            mk = _lib.init(_lib.vc_master_key, "vc_master_key_init",
                           _lib.VC_MASTER_KEY_VERSION)
            if master_key is not None:
                key = bytes(master_key)
                mk.key = key
                mk.key_len = len(key)
            mk.passphrase = _lib.enc(passphrase)
            o.master_key = ctypes.pointer(mk)
        if clock is not None:
            o.clock_cb = self._keep(_lib.CLOCK_CB(self._clock_thunk(clock)))
        if log is not None:
            o.log_cb = self._keep(_lib.LOG_CB(self._log_thunk(log)))
            o.log_level = int(log_level)
        o.public_base_url = _lib.enc(public_base_url)
        o.allow_private_network = 1 if allow_private_network else 0
        o.random_seed = random_seed
        o.event_consumer = _lib.enc(event_consumer)
        store = ctypes.c_void_p()
        lib.vc_store_open_sqlite(ctypes.byref(store), _lib.enc(store_path),
                                 ctypes.byref(so))
        o.store = store
        ctx = ctypes.c_void_p()
        try:
            lib.vc_ctx_new(ctypes.byref(ctx), ctypes.byref(o))
        except BaseException:
            lib.vc_store_free(store)  # still ours when vc_ctx_new fails
            raise
        super().__init__(ctx)
        _live.add(self)

    # -- callbacks -------------------------------------------------------------

    def _keep(self, cb: Any) -> Any:
        self._callbacks.append(cb)
        return cb

    @staticmethod
    def _clock_thunk(clock: Clock) -> Callable[[Any], int]:
        import time

        def thunk(_payload: Any) -> int:
            try:
                return int(clock())
            except BaseException:
                _unraisable("clock")
                return int(time.time() * 1000)
        return thunk

    @staticmethod
    def _log_thunk(log: LogCallback) -> Callable[[int, bytes, Any], None]:
        def thunk(level: int, message: bytes, _payload: Any) -> None:
            try:
                log(level, _lib.dec(message))
            except BaseException:
                _unraisable("log")
        return thunk

    def set_event_callback(self, cb: Optional[EventCallback]) -> None:
        """Receive every event in sequence order, at least once, on an
        engine thread (or the thread in :meth:`run`). The callback must
        return quickly; it may call the library but must not close the
        context. Returning False, or raising (the traceback is printed),
        leaves the event undelivered: it is offered again on a later
        iteration. None stops delivery."""
        if cb is None:
            lib.vc_ctx_set_event_cb(self._h, _lib.EVENT_CB(), None)
            return

        def thunk(ev: Any, _payload: Any) -> int:
            try:
                e = ev.contents
                handled = cb(Event(int(e.seq), _lib.dec(e.tenant_id),
                                   _lib.dec(e.type), _lib.dec(e.subject_id),
                                   _lib.dec(e.payload_json),
                                   int(e.created_at)))
                return 1 if handled is False else 0
            except BaseException:
                _unraisable("event")
                return 1
        # Every callback ever set stays referenced until the context is
        # freed: an engine thread may still be inside the previous one.
        lib.vc_ctx_set_event_cb(self._h, self._keep(_lib.EVENT_CB(thunk)),
                                None)

    # -- the engine -------------------------------------------------------------

    def run(self, timeout_ms: int = 0) -> int:
        """One engine iteration on this thread: run due jobs and deliver
        events; wait up to `timeout_ms` when nothing is due (0: do not
        wait; < 0: until woken). Returns the number of jobs and events
        handled."""
        return lib.vc_ctx_run(self._h, timeout_ms)

    def drain(self, limit: int = 100000) -> int:
        """Run iterations until nothing is due now; the total handled."""
        total = 0
        for _ in range(limit):
            n = self.run(0)
            if n <= 0:
                break
            total += n
        return total

    def start(self, nthreads: int = 1) -> None:
        """Run the engine on `nthreads` library threads until
        :meth:`stop`."""
        lib.vc_ctx_start(self._h, nthreads)
        self._started = True
        _running.add(self)

    def stop(self) -> None:
        """Stop and join the engine threads (not from a callback)."""
        lib.vc_ctx_stop(self._h)
        self._started = False
        _running.discard(self)

    def wakeup(self) -> None:
        """Wake the engine threads and any :meth:`run` waiting."""
        lib.vc_ctx_wakeup(self._h)

    def now(self) -> int:
        """The context's clock, in Unix milliseconds."""
        return int(lib.vc_ctx_now(self._h))

    # -- webhooks ---------------------------------------------------------------

    def handle_webhook(self, method: str, target: str,
                       headers: Union[Mapping[str, str],
                                      Iterable[Tuple[str, str]]] = (),
                       body: bytes = b"",
                       remote_addr: Optional[str] = None
                       ) -> WebhookResponse:
        """Hand one webhook request to ``vc_webhook_handle``: `target` is
        the path and query as received (``/webhooks/{channel_id}``),
        `body` the raw bytes. Returns the response to send back, also
        when the webhook was refused (then ``.error`` says why). Safe
        from any thread, concurrently."""
        pairs = list(headers.items() if isinstance(headers, Mapping)
                     else headers)
        hdrs = (_lib.vc_http_header * max(len(pairs), 1))()
        for i, (k, v) in enumerate(pairs):
            hdrs[i].name = _lib.enc(str(k))
            hdrs[i].value = _lib.enc(str(v))
        req = _lib.init(_lib.vc_http_request, "vc_http_request_init",
                        _lib.VC_HTTP_REQUEST_VERSION)
        body = bytes(body)
        req.method = _lib.enc(method)
        req.target = _lib.enc(target)
        req.headers = hdrs
        req.nheaders = len(pairs)
        req.body = body
        req.body_len = len(body)
        req.remote_addr = _lib.enc(remote_addr)
        res = _lib.init(_lib.vc_http_response, "vc_http_response_init",
                        _lib.VC_HTTP_RESPONSE_VERSION)
        rc = lib.vc_webhook_handle(ctypes.byref(res), self._h,
                                   ctypes.byref(req))
        err = error_for(rc, _lib.last_error()) if rc < 0 else None
        try:
            out = WebhookResponse(
                status=res.status,
                content_type=(_lib.dec(res.content_type)
                              if res.content_type else None),
                headers=[(_lib.dec(res.headers[i].name),
                          _lib.dec(res.headers[i].value))
                         for i in range(res.nheaders)],
                body=(ctypes.string_at(res.body.ptr, res.body.size)
                      if res.body.ptr else b""),
                error=err)
        finally:
            lib.vc_http_response_dispose(ctypes.byref(res))
        return out

    def listen_webhooks(self, addr: str = "127.0.0.1:0") -> int:
        """Serve webhooks on a built-in listener on a library thread;
        returns the port (port 0 picks a free one)."""
        return lib.vc_webhook_listen(self._h, _lib.enc(addr))

    # -- tenants ----------------------------------------------------------------

    def tenant(self, slug: str) -> "Tenant":
        """Load a live tenant by slug (NotFound otherwise)."""
        from .tenant import Tenant
        return Tenant.lookup(self, slug)

    def create_tenant(self, slug: str, **settings: Any) -> "Tenant":
        """Create a tenant; see :meth:`Tenant.new`."""
        from .tenant import Tenant
        return Tenant.new(self, slug, **settings)

    def close(self) -> None:
        """Stop the engine, close every tenant still open (and what was
        made from it), then free the context and its store. Not from an
        engine thread (a callback)."""
        super().close()

    def _release(self, p: int) -> None:
        _live.discard(self)
        _running.discard(self)
        lib.vc_ctx_free(p)  # stops and joins the engine threads first
        self._callbacks = []


from .tenant import Tenant  # noqa: E402  (cycle: Tenant needs Context)

__all__ = ["Context", "Clock", "LogCallback", "EventCallback"]
