"""Click-to-call: the library rings the agent, then the customer, and
bridges them."""

from __future__ import annotations

import ctypes
from typing import Any, List, Mapping, Optional, Union

from . import _lib
from ._handle import Handle, ListIter, handle_list
from .tenant import Tenant
from .types import (CallCause, CallEntry, CallLeg, CallState, Category,
                    RecordMode, enum_or_int, json_arg)

lib = _lib.lib


class Call(Handle):
    """A call: a snapshot of the stored call; :meth:`refresh` reloads
    it. Placed by the engine after :meth:`start` returns."""

    _free = staticmethod(lib.vc_call_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @classmethod
    def start(cls, tenant: Tenant, customer_number: str, *,
              agent: Optional[str] = None,
              agent_number: Optional[str] = None,
              caller_id: Optional[str] = None, channel: Optional[str] = None,
              record: int = RecordMode.DEFAULT,
              ivr_menu: Optional[str] = None,
              metadata: Union[str, Mapping[str, Any], None] = None,
              idempotency_key: Optional[str] = None,
              ring_timeout_s: int = 0, time_limit_s: int = 0,
              category: int = 0,
              contact_id: Optional[str] = None) -> "Call":
        """Store a call as initiated and return it; nothing is dialled
        before this returns. Give `agent` (an agent's id or name) and/or
        `agent_number` (E.164 or sip: URI). Raises InvalidArgument,
        NotFound (agent, channel, IVR menu, contact, no voice channel),
        Busy (the agent is on another call), Conflict, ConsentRequired
        (do-not-call list, opted out, no opt-in where needed)."""
        s = _lib.init(_lib.vc_call_spec, "vc_call_spec_init",
                      _lib.VC_CALL_SPEC_VERSION)
        s.agent = _lib.enc(agent)
        s.agent_number = _lib.enc(agent_number)
        s.customer_number = _lib.enc(customer_number)
        s.caller_id = _lib.enc(caller_id)
        s.channel = _lib.enc(channel)
        s.record = int(record)
        s.ivr_menu = _lib.enc(ivr_menu)
        s.metadata_json = _lib.enc(json_arg(metadata))
        s.idempotency_key = _lib.enc(idempotency_key)
        s.ring_timeout_s = ring_timeout_s
        s.time_limit_s = time_limit_s
        s.category = int(category)
        s.contact_id = _lib.enc(contact_id)
        out = ctypes.c_void_p()
        lib.vc_call_start(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, call_id: str) -> "Call":
        """Load a call by id; NotFound otherwise."""
        out = ctypes.c_void_p()
        lib.vc_call_lookup(ctypes.byref(out), tenant._h, _lib.enc(call_id))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, state: int = 0,
             agent: Optional[str] = None, channel: Optional[str] = None,
             customer_number: Optional[str] = None, since: int = 0,
             until: int = 0,
             after: Optional[str] = None) -> ListIter["Call"]:
        """Calls, newest first."""
        f = _lib.init(_lib.vc_call_filter, "vc_call_filter_init",
                      _lib.VC_CALL_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.state = int(state)
        f.agent = _lib.enc(agent)
        f.channel = _lib.enc(channel)
        f.customer_number = _lib.enc(customer_number)
        f.since = since
        f.until = until
        return handle_list(lib.vc_call_list, lib.vc_call_next, tenant, f,
                           lambda p: cls(p, tenant))

    def hangup(self) -> None:
        """End the call (or cancel it before it is placed). Raises
        InvalidState when it already ended."""
        lib.vc_call_hangup(self._h)

    def hold(self, on: bool = True) -> None:
        """Hold (or resume) the customer of a bridged call."""
        lib.vc_call_hold(self._h, int(on))

    def transfer(self, to: str) -> None:
        """Blind transfer of the customer to a number, URI or agent."""
        lib.vc_call_transfer(self._h, _lib.enc(to))

    def record(self, on: bool = True) -> None:
        """Start or stop recording (on-demand mode)."""
        lib.vc_call_record(self._h, int(on))

    def refresh(self) -> "Call":
        """Reload the snapshot from the store; returns self."""
        lib.vc_call_refresh(self._h)
        return self

    def timeline(self) -> List[CallEntry]:
        """The call's timeline, oldest first."""
        it = ctypes.c_void_p()
        lib.vc_call_timeline(ctypes.byref(it), self.tenant._h,
                             _lib.enc(self.id))
        out: List[CallEntry] = []
        try:
            while True:
                e = ctypes.c_void_p()
                if lib.vc_call_entry_next(ctypes.byref(e),
                                          it) == _lib.VC_ITEROVER:
                    break
                try:
                    out.append(CallEntry(
                        int(lib.vc_call_entry_seq(e)),
                        _lib.dec(lib.vc_call_entry_type(e)),
                        enum_or_int(CallLeg, lib.vc_call_entry_leg(e)),
                        enum_or_int(CallState, lib.vc_call_entry_state(e)),
                        _lib.dec(lib.vc_call_entry_detail_json(e)),
                        int(lib.vc_call_entry_at(e))))
                finally:
                    lib.vc_call_entry_free(e)
        finally:
            lib.vc_iter_free(it)
        return out

    # -- getters ---------------------------------------------------------------

    def _s(self, name: str) -> str:
        return _lib.dec(getattr(lib, "vc_call_" + name)(self._h))

    def _i(self, name: str) -> int:
        return int(getattr(lib, "vc_call_" + name)(self._h))

    @property
    def id(self) -> str:
        return self._s("id")

    @property
    def agent_id(self) -> str:
        """The agent's id, "" when none."""
        return self._s("agent_id")

    @property
    def agent_number(self) -> str:
        return self._s("agent_number")

    @property
    def customer_number(self) -> str:
        return self._s("customer_number")

    @property
    def caller_id(self) -> str:
        return self._s("caller_id")

    @property
    def channel_id(self) -> str:
        """The channel that placed it, "" before routing."""
        return self._s("channel_id")

    @property
    def provider_id(self) -> str:
        """The provider's id of the call, "" until placed."""
        return self._s("provider_id")

    @property
    def metadata_json(self) -> str:
        """The caller's metadata, a JSON object."""
        return self._s("metadata_json")

    @property
    def provider_code(self) -> str:
        return self._s("provider_code")

    @property
    def error_message(self) -> str:
        return self._s("error_message")

    @property
    def currency(self) -> str:
        return self._s("currency")

    @property
    def contact_id(self) -> str:
        return self._s("contact_id")

    @property
    def on_hold(self) -> bool:
        """True while the customer is on hold."""
        return bool(self._i("on_hold"))

    @property
    def error(self) -> int:
        """The normalized error of a failure to place it, 0 otherwise."""
        return self._i("error")

    @property
    def attempts(self) -> int:
        """Attempts to place it, over all channels."""
        return self._i("attempts")

    @property
    def talk_seconds(self) -> int:
        """Seconds the agent and customer talked (0 until it ends)."""
        return self._i("talk_seconds")

    @property
    def cost_micros(self) -> int:
        """Its cost in micro-units of currency, once known."""
        return self._i("cost_micros")

    @property
    def cost_reported(self) -> bool:
        """True when the cost is the provider's own price."""
        return bool(self._i("cost_reported"))

    @property
    def created_at(self) -> int:
        """Unix milliseconds."""
        return self._i("created_at")

    @property
    def updated_at(self) -> int:
        """Unix milliseconds."""
        return self._i("updated_at")

    @property
    def state(self) -> CallState:
        return enum_or_int(CallState, self._i("state_of"))

    @property
    def cause(self) -> CallCause:
        return enum_or_int(CallCause, self._i("cause_of"))

    @property
    def failed_leg(self) -> CallLeg:
        return enum_or_int(CallLeg, self._i("failed_leg"))

    @property
    def record_mode(self) -> RecordMode:
        return enum_or_int(RecordMode, self._i("record_mode"))

    @property
    def category(self) -> Category:
        return enum_or_int(Category, self._i("category"))

    def state_at(self, state: int) -> int:
        """When the call entered `state` (Unix ms), 0 if it never did."""
        return int(lib.vc_call_state_at(self._h, int(state)))

    def __repr__(self) -> str:
        if self.closed:
            return "<Call closed>"
        return f"<Call {self.id} {self.state!s}>"


__all__ = ["Call"]
