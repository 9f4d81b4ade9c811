"""The call center: agents, call queues and inbound numbers."""

from __future__ import annotations

import ctypes
import json
from typing import Any, Dict, Optional, Sequence, Union

from . import _lib
from ._handle import Handle, ListIter, handle_list, record_list
from .tenant import Tenant
from .types import (AgentCause, AgentChange, AgentState, AgentTotals,
                    NumberEntry, QueueMember, QueueOverflow, QueueStrategy,
                    enum_or_int, json_arg)

lib = _lib.lib
JsonArg = Union[str, Dict[str, Any], None]
#: An object named by its id: a handle (Agent, Queue, Channel, ...) or a
#: str (an id, or a name where the library takes one).
Ref = Union[str, Handle, None]


def ref(x: Ref) -> Optional[str]:
    """A handle's id, or the str as is (None stays None)."""
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, Handle):
        return str(getattr(x, "id"))
    raise TypeError(f"expected str or a vyomcomm object, got "
                    f"{type(x).__name__}")


class Agent(Handle):
    """An agent: a person who places and takes calls, with a number the
    library rings first, a state (:class:`AgentState`), an activity log
    and figures. A snapshot of the stored agent: :meth:`refresh`
    reloads it; :meth:`update` and :meth:`set_state` refresh it."""

    _free = staticmethod(lib.vc_agent_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def _spec(name: Optional[str], number: Optional[str],
              display_name: Optional[str], wrap_up_s: Optional[int],
              metadata: JsonArg) -> Any:
        s = _lib.init(_lib.vc_agent_spec, "vc_agent_spec_init",
                      _lib.VC_AGENT_SPEC_VERSION)
        s.name = _lib.enc(name)
        s.number = _lib.enc(number)
        s.display_name = _lib.enc(display_name)
        if wrap_up_s is not None:
            s.wrap_up_s = wrap_up_s
        s.metadata_json = _lib.enc(json_arg(metadata))
        return s

    @classmethod
    def new(cls, tenant: Tenant, name: str, number: str, *,
            display_name: Optional[str] = None,
            wrap_up_s: Optional[int] = None,
            metadata: JsonArg = None) -> "Agent":
        """Create an agent, offline. `name` is unique in the tenant
        (``[a-z0-9][a-z0-9_.-]{0,63}``); `number` is E.164 or a sip: URI;
        `wrap_up_s` (0..3600, default 30) the seconds of wrap-up after an
        answered call. Raises InvalidArgument, AlreadyExists (name
        taken)."""
        s = cls._spec(name, number, display_name, wrap_up_s, metadata)
        out = ctypes.c_void_p()
        lib.vc_agent_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, id_or_name: str) -> "Agent":
        """Load an agent by id or name (an id match wins); NotFound
        otherwise."""
        out = ctypes.c_void_p()
        lib.vc_agent_lookup(ctypes.byref(out), tenant._h,
                            _lib.enc(id_or_name))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, state: int = 0,
             after: Optional[str] = None) -> ListIter["Agent"]:
        """The tenant's agents in creation order, optionally in one
        :class:`AgentState` (a finished wrap-up reads as available)."""
        f = _lib.init(_lib.vc_agent_filter, "vc_agent_filter_init",
                      _lib.VC_AGENT_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.state = int(state)
        return handle_list(lib.vc_agent_list, lib.vc_agent_next, tenant, f,
                           lambda p: cls(p, tenant))

    def update(self, *, name: Optional[str] = None,
               number: Optional[str] = None,
               display_name: Optional[str] = None,
               wrap_up_s: Optional[int] = None,
               metadata: JsonArg = None) -> None:
        """Change settings (not the state); None keeps a value. The
        object shows the new values. Raises InvalidArgument,
        AlreadyExists (name taken)."""
        s = self._spec(name, number, display_name, wrap_up_s, metadata)
        lib.vc_agent_update(self._h, ctypes.byref(s))

    def set_state(self, state: int, reason: Optional[str] = None) -> None:
        """Move the agent to OFFLINE, AVAILABLE or BREAK (a break needs
        a `reason`); the object is refreshed. Raises InvalidArgument (a
        state only calls set, a break without a reason), InvalidState
        (the agent has a live call)."""
        lib.vc_agent_set_state(self._h, int(state), _lib.enc(reason))

    def refresh(self) -> "Agent":
        """Reload the snapshot from the store; returns self."""
        lib.vc_agent_refresh(self._h)
        return self

    def delete(self) -> None:
        """Delete an offline agent: it leaves every queue, its
        conversations become unassigned, its activity log goes; calls
        keep its id. InvalidState unless offline; NotFound when already
        deleted. The snapshot stays readable."""
        lib.vc_agent_delete(self._h)

    def activity(self, *, since: int = 0, until: int = 0,
                 after: Optional[str] = None) -> ListIter[AgentChange]:
        """The agent's state changes, oldest first, within [since,
        until) when given (Unix ms)."""
        f = _lib.init(_lib.vc_agent_activity_filter,
                      "vc_agent_activity_filter_init",
                      _lib.VC_AGENT_ACTIVITY_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.since = since
        f.until = until

        def convert(c: int) -> AgentChange:
            return AgentChange(
                int(lib.vc_agent_change_seq(c)),
                enum_or_int(AgentState, lib.vc_agent_change_from(c)),
                enum_or_int(AgentState, lib.vc_agent_change_to(c)),
                _lib.dec(lib.vc_agent_change_reason(c)),
                enum_or_int(AgentCause, lib.vc_agent_change_cause(c)),
                _lib.dec(lib.vc_agent_change_call_id(c)),
                int(lib.vc_agent_change_at(c)))

        return record_list(lib.vc_agent_activity, lib.vc_agent_change_next,
                           lib.vc_agent_change_free, self._h, self, f,
                           convert)

    def stats(self, since: int, until: int = 0) -> AgentTotals:
        """The agent's figures for [since, until) (Unix ms; `until` 0 =
        now). Raises InvalidArgument (since >= until)."""
        t = _lib.init(_lib.vc_agent_totals, "vc_agent_totals_init",
                      _lib.VC_AGENT_TOTALS_VERSION)
        lib.vc_agent_stats(ctypes.byref(t), self._h, since, until)
        return AgentTotals(*(int(getattr(t, n))
                             for n in _lib.AGENT_TOTAL_FIELDS))

    # -- getters ---------------------------------------------------------------

    def _s(self, name: str) -> str:
        return _lib.dec(getattr(lib, "vc_agent_" + name)(self._h))

    def _i(self, name: str) -> int:
        return int(getattr(lib, "vc_agent_" + name)(self._h))

    @property
    def id(self) -> str:
        return self._s("id")

    @property
    def name(self) -> str:
        return self._s("name")

    @property
    def display_name(self) -> str:
        return self._s("display_name")

    @property
    def number(self) -> str:
        """The E.164 number or sip: URI the library rings."""
        return self._s("number")

    @property
    def wrap_up_seconds(self) -> int:
        return self._i("wrap_up_seconds")

    @property
    def metadata_json(self) -> str:
        """The JSON object kept with the agent, "" when none."""
        return self._s("metadata_json")

    @property
    def metadata(self) -> Dict[str, Any]:
        """The metadata, parsed ({} when none)."""
        return json.loads(self.metadata_json or "{}")

    @property
    def state(self) -> AgentState:
        """The state in the snapshot (a finished wrap-up reads as
        available)."""
        return enum_or_int(AgentState, self._i("state_of"))

    @property
    def reason(self) -> str:
        """The reason given with the current state, "" when none."""
        return self._s("reason")

    @property
    def state_since(self) -> int:
        """When the agent entered its state (Unix ms)."""
        return self._i("state_since")

    @property
    def call_id(self) -> str:
        """The live call the agent holds, "" when none."""
        return self._s("call_id")

    @property
    def wrap_up_until(self) -> int:
        """During wrap-up, when it ends (Unix ms); else 0."""
        return self._i("wrap_up_until")

    @property
    def created_at(self) -> int:
        return self._i("created_at")

    @property
    def updated_at(self) -> int:
        return self._i("updated_at")

    def __repr__(self) -> str:
        if self.closed:
            return "<Agent closed>"
        state = getattr(self.state, "name", self.state)
        return f"<Agent {self.name} {str(state).lower()} {self.id}>"


def _skills(skills: Union[str, Sequence[str], None]) -> Optional[str]:
    if skills is None or isinstance(skills, str):
        return skills
    return ",".join(skills)


class Queue(Handle):
    """A call queue: where inbound calls wait for an agent, with the
    strategy that picks the agent, a maximum wait and what happens after
    it (overflow). Members are agents, each with skill tags for this
    queue."""

    _free = staticmethod(lib.vc_queue_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def _spec(name: Optional[str], strategy: int, max_wait_s: Optional[int],
              announce_position: Optional[bool], overflow: int,
              overflow_target: Ref, moh_url: Optional[str]) -> Any:
        s = _lib.init(_lib.vc_queue_spec, "vc_queue_spec_init",
                      _lib.VC_QUEUE_SPEC_VERSION)
        s.name = _lib.enc(name)
        s.strategy = int(strategy)
        if max_wait_s is not None:
            s.max_wait_s = max_wait_s
        if announce_position is not None:
            s.announce_position = int(announce_position)
        s.overflow_kind = int(overflow)
        s.overflow_target = _lib.enc(ref(overflow_target))
        s.moh_url = _lib.enc(moh_url)
        return s

    @classmethod
    def new(cls, tenant: Tenant, name: str, *, strategy: int = 0,
            max_wait_s: Optional[int] = None,
            announce_position: Optional[bool] = None, overflow: int = 0,
            overflow_target: Ref = None,
            moh_url: Optional[str] = None) -> "Queue":
        """Create a queue without members. `strategy` is a
        :class:`QueueStrategy` (0: longest idle); `max_wait_s` 0..86400
        (0: no limit; default 300); `overflow` a :class:`QueueOverflow`
        (0: hang up) with its `overflow_target` (a queue, or an agent,
        as object, id or name); `moh_url` music on hold. Raises
        InvalidArgument, NotFound (overflow target), AlreadyExists."""
        s = cls._spec(name, strategy, max_wait_s, announce_position,
                      overflow, overflow_target, moh_url)
        out = ctypes.c_void_p()
        lib.vc_queue_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, id_or_name: str) -> "Queue":
        """Load a queue by id or name (an id match wins)."""
        out = ctypes.c_void_p()
        lib.vc_queue_lookup(ctypes.byref(out), tenant._h,
                            _lib.enc(id_or_name))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *,
             after: Optional[str] = None) -> ListIter["Queue"]:
        """The tenant's queues in creation order."""
        f = _lib.init(_lib.vc_queue_filter, "vc_queue_filter_init",
                      _lib.VC_QUEUE_FILTER_VERSION)
        f.after = _lib.enc(after)
        return handle_list(lib.vc_queue_list, lib.vc_queue_next, tenant, f,
                           lambda p: cls(p, tenant))

    def update(self, *, name: Optional[str] = None, strategy: int = 0,
               max_wait_s: Optional[int] = None,
               announce_position: Optional[bool] = None, overflow: int = 0,
               overflow_target: Ref = None,
               moh_url: Optional[str] = None) -> None:
        """Change settings; None (and 0 for the enums) keeps a value.
        The object shows the new values."""
        s = self._spec(name, strategy, max_wait_s, announce_position,
                       overflow, overflow_target, moh_url)
        lib.vc_queue_update(self._h, ctypes.byref(s))

    def delete(self) -> None:
        """Delete the queue and its memberships. Raises InvalidState
        while a number routes to it, another queue overflows to it, or
        calls wait in it; NotFound when already deleted."""
        lib.vc_queue_delete(self._h)

    # -- members ---------------------------------------------------------------

    def add_member(self, agent: Ref,
                   skills: Union[str, Sequence[str], None] = None) -> None:
        """Add an agent (object, id or name) with its skill tags in this
        queue (``"billing,hindi"`` or a list). Adding it again replaces
        its tags. Raises NotFound (no such agent), InvalidArgument (bad
        tags), TooBig (500 members)."""
        lib.vc_queue_member_add(self._h, _lib.enc(ref(agent)),
                                _lib.enc(_skills(skills)))

    def remove_member(self, agent: Ref) -> None:
        """Remove an agent (object, id or name); NotFound when it is not
        a member."""
        lib.vc_queue_member_remove(self._h, _lib.enc(ref(agent)))

    def members(self, *,
                after: Optional[str] = None) -> ListIter[QueueMember]:
        """The members in the order they were added."""
        f = _lib.init(_lib.vc_queue_member_filter,
                      "vc_queue_member_filter_init",
                      _lib.VC_QUEUE_MEMBER_FILTER_VERSION)
        f.after = _lib.enc(after)

        def convert(m: int) -> QueueMember:
            sk = _lib.dec(lib.vc_queue_member_skills(m))
            return QueueMember(_lib.dec(lib.vc_queue_member_agent_id(m)),
                               sk.split(",") if sk else [],
                               int(lib.vc_queue_member_position(m)),
                               int(lib.vc_queue_member_added_at(m)))

        return record_list(lib.vc_queue_members, lib.vc_queue_member_next,
                           lib.vc_queue_member_free, self._h, self, f,
                           convert)

    # -- getters ---------------------------------------------------------------

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_queue_id(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_queue_name(self._h))

    @property
    def strategy(self) -> QueueStrategy:
        return enum_or_int(QueueStrategy, lib.vc_queue_strategy_of(self._h))

    @property
    def max_wait_seconds(self) -> int:
        """Seconds a call may wait; 0 = no limit."""
        return int(lib.vc_queue_max_wait_seconds(self._h))

    @property
    def announce_position(self) -> bool:
        return bool(lib.vc_queue_announce_position(self._h))

    @property
    def overflow(self) -> QueueOverflow:
        return enum_or_int(QueueOverflow, lib.vc_queue_overflow_kind(self._h))

    @property
    def overflow_target(self) -> str:
        """The overflow queue's or agent's id, "" when none."""
        return _lib.dec(lib.vc_queue_overflow_target(self._h))

    @property
    def moh_url(self) -> str:
        return _lib.dec(lib.vc_queue_moh_url(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_queue_created_at(self._h))

    @property
    def updated_at(self) -> int:
        return int(lib.vc_queue_updated_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Queue closed>"
        return f"<Queue {self.name} {self.id}>"


class Number(Handle):
    """An inbound number (a DID or SIP URI) of the tenant: the voice
    channel calls to it arrive on, and where they go first (an IVR menu,
    a queue or an agent). Stored normalized; unique across tenants."""

    _free = staticmethod(lib.vc_number_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def _spec(number: Optional[str], channel: Ref, entry: Ref,
              entry_kind: int, label: Optional[str]) -> Any:
        if not entry_kind and entry is not None:
            # An Agent or Queue object says what it is.
            if isinstance(entry, Agent):
                entry_kind = NumberEntry.AGENT
            elif isinstance(entry, Queue):
                entry_kind = NumberEntry.QUEUE
        s = _lib.init(_lib.vc_number_spec, "vc_number_spec_init",
                      _lib.VC_NUMBER_SPEC_VERSION)
        s.number = _lib.enc(number)
        s.channel = _lib.enc(ref(channel))
        s.entry_kind = int(entry_kind)
        s.entry = _lib.enc(ref(entry))
        s.label = _lib.enc(label)
        return s

    @classmethod
    def new(cls, tenant: Tenant, number: str, *, channel: Ref,
            entry: Ref, entry_kind: int = 0,
            label: Optional[str] = None) -> "Number":
        """Store an inbound number: E.164 (separators and "00" accepted)
        or a sip:/sips: URI, arriving on the voice `channel` (object, id
        or name), going first to `entry`: an :class:`Agent` or
        :class:`Queue` object, or an id or name with its `entry_kind`
        (:class:`NumberEntry`; IVR menus by id or name). Raises
        InvalidArgument (malformed or national number, not a voice
        channel), NotFound (channel or entry), AlreadyExists (the number
        is taken, by this or another tenant)."""
        s = cls._spec(number, channel, entry, entry_kind, label)
        out = ctypes.c_void_p()
        lib.vc_number_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, number_id: str) -> "Number":
        """Load a number by id."""
        out = ctypes.c_void_p()
        lib.vc_number_lookup(ctypes.byref(out), tenant._h,
                             _lib.enc(number_id))
        return cls(out, tenant)

    @classmethod
    def find(cls, tenant: Tenant, number: str) -> "Number":
        """Load the tenant's number that `number` denotes, written as a
        provider writes it ("+91 44 1234 5678", "914412345678", a
        national form). Raises NotFound, InvalidArgument (malformed, or
        a national number of two countries)."""
        out = ctypes.c_void_p()
        lib.vc_number_find(ctypes.byref(out), tenant._h, _lib.enc(number))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, entry_kind: int = 0,
             entry: Ref = None, channel: Ref = None,
             after: Optional[str] = None) -> ListIter["Number"]:
        """The tenant's numbers in creation order; `entry` and `channel`
        filter by object or id."""
        f = _lib.init(_lib.vc_number_filter, "vc_number_filter_init",
                      _lib.VC_NUMBER_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.entry_kind = int(entry_kind)
        f.entry_id = _lib.enc(ref(entry))
        f.channel_id = _lib.enc(ref(channel))
        return handle_list(lib.vc_number_list, lib.vc_number_next, tenant,
                           f, lambda p: cls(p, tenant))

    def update(self, *, number: Optional[str] = None, channel: Ref = None,
               entry: Ref = None, entry_kind: int = 0,
               label: Optional[str] = None) -> None:
        """Change settings; None (entry_kind 0) keeps a value. The
        object shows the new values."""
        s = self._spec(number, channel, entry, entry_kind, label)
        lib.vc_number_update(self._h, ctypes.byref(s))

    def delete(self) -> None:
        """Delete the number: calls to it are refused from now on.
        NotFound when already deleted."""
        lib.vc_number_delete(self._h)

    # -- getters ---------------------------------------------------------------

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_number_id(self._h))

    @property
    def number(self) -> str:
        """The normalized number or URI."""
        return _lib.dec(lib.vc_number_number(self._h))

    @property
    def channel_id(self) -> str:
        return _lib.dec(lib.vc_number_channel_id(self._h))

    @property
    def entry_kind(self) -> NumberEntry:
        return enum_or_int(NumberEntry, lib.vc_number_entry_kind(self._h))

    @property
    def entry_id(self) -> str:
        """The IVR menu's, queue's or agent's id."""
        return _lib.dec(lib.vc_number_entry_id(self._h))

    @property
    def label(self) -> str:
        return _lib.dec(lib.vc_number_label(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_number_created_at(self._h))

    @property
    def updated_at(self) -> int:
        return int(lib.vc_number_updated_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Number closed>"
        return f"<Number {self.number} {self.id}>"


__all__ = ["Agent", "Queue", "Number"]
