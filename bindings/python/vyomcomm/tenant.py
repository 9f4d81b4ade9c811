"""Tenants: the security boundary; every other object belongs to one."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Optional, Tuple

from . import _lib
from ._handle import Handle, ListIter, handle_list
from .types import (ChannelKind, Category, ConsentInfo, ConsentState, Event,
                    enum_or_int)

if TYPE_CHECKING:
    from .context import Context

lib = _lib.lib


class Tenant(Handle):
    """A tenant handle. Made by :meth:`new`, :meth:`lookup`,
    :meth:`lookup_id` or :meth:`list`; closed with :meth:`close` (which
    first closes the channels, templates, messages, calls, campaigns and
    contacts loaded through it that are still open). May be shared
    between threads."""

    _free = staticmethod(lib.vc_tenant_free)

    def __init__(self, ptr: ctypes.c_void_p, ctx: "Context") -> None:
        super().__init__(ptr, ctx)
        self.context = ctx

    @classmethod
    def new(cls, ctx: "Context", slug: str, *, name: Optional[str] = None,
            timezone: Optional[str] = None, locale: Optional[str] = None,
            currency: Optional[str] = None,
            quiet_hours: Optional[Tuple[int, int]] = None) -> "Tenant":
        """Create a tenant. `slug` is ``[a-z0-9][a-z0-9_-]{0,62}``;
        `quiet_hours` is (start, end) in minutes after local midnight.
        Raises AlreadyExists for a slug in use, InvalidArgument."""
        s = _lib.init(_lib.vc_tenant_spec, "vc_tenant_spec_init",
                      _lib.VC_TENANT_SPEC_VERSION)
        s.slug = _lib.enc(slug)
        s.name = _lib.enc(name)
        s.timezone = _lib.enc(timezone)
        s.locale = _lib.enc(locale)
        s.currency = _lib.enc(currency)
        if quiet_hours is not None:
            s.quiet_start_min, s.quiet_end_min = quiet_hours
        out = ctypes.c_void_p()
        lib.vc_tenant_new(ctypes.byref(out), ctx._h, ctypes.byref(s))
        return cls(out, ctx)

    @classmethod
    def lookup(cls, ctx: "Context", slug: str) -> "Tenant":
        """Load a live tenant by slug; NotFound otherwise."""
        out = ctypes.c_void_p()
        lib.vc_tenant_lookup(ctypes.byref(out), ctx._h, _lib.enc(slug))
        return cls(out, ctx)

    @classmethod
    def lookup_id(cls, ctx: "Context", tenant_id: str) -> "Tenant":
        """Load a live tenant by id; NotFound otherwise."""
        out = ctypes.c_void_p()
        lib.vc_tenant_lookup_id(ctypes.byref(out), ctx._h,
                                _lib.enc(tenant_id))
        return cls(out, ctx)

    @classmethod
    def list(cls, ctx: "Context", *, after: Optional[str] = None,
             include_deleted: bool = False) -> ListIter["Tenant"]:
        """Tenants in creation order; each item is a new handle."""
        f = _lib.init(_lib.vc_tenant_filter, "vc_tenant_filter_init",
                      _lib.VC_TENANT_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.include_deleted = int(include_deleted)
        return handle_list(lib.vc_tenant_list, lib.vc_tenant_next, ctx, f,
                           lambda p: cls(p, ctx))

    def delete(self) -> None:
        """Soft-delete the tenant (its rows stay until purged)."""
        lib.vc_tenant_delete(self._h)

    # -- getters ---------------------------------------------------------------

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_tenant_id(self._h))

    @property
    def slug(self) -> str:
        return _lib.dec(lib.vc_tenant_slug(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_tenant_name(self._h))

    @property
    def timezone(self) -> str:
        return _lib.dec(lib.vc_tenant_timezone(self._h))

    @property
    def locale(self) -> str:
        return _lib.dec(lib.vc_tenant_locale(self._h))

    @property
    def currency(self) -> str:
        return _lib.dec(lib.vc_tenant_currency(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_tenant_created_at(self._h))

    @property
    def quiet_hours(self) -> Tuple[int, int]:
        """(start, end) minutes; (-1, -1) when none."""
        a, b = ctypes.c_int(), ctypes.c_int()
        lib.vc_tenant_quiet_hours(self._h, ctypes.byref(a), ctypes.byref(b))
        return a.value, b.value

    # -- events ----------------------------------------------------------------

    def events(self, cursor: int = 0) -> ListIter[Event]:
        """The tenant's events with ``seq`` > `cursor`, in order."""
        it = ctypes.c_void_p()
        lib.vc_events_since(ctypes.byref(it), self._h, cursor)

        def next_item(raw: int) -> Optional[Event]:
            ev = ctypes.POINTER(_lib.vc_event)()
            if lib.vc_event_next(ctypes.byref(ev), raw) == _lib.VC_ITEROVER:
                return None
            e = ev.contents
            return Event(int(e.seq), _lib.dec(e.tenant_id), _lib.dec(e.type),
                         _lib.dec(e.subject_id), _lib.dec(e.payload_json),
                         int(e.created_at))

        return ListIter(it, next_item, self)

    # -- consent (by contact id; see also Contact) --------------------------------

    def set_consent(self, contact_id: str, kind: int, state: int, *,
                    category: int = 0, source: Optional[str] = None,
                    proof: Optional[str] = None) -> None:
        """Record a consent change for a contact, channel kind and
        category (0 = transactional and marketing both)."""
        s = _lib.init(_lib.vc_consent_spec, "vc_consent_spec_init",
                      _lib.VC_CONSENT_SPEC_VERSION)
        s.contact_id = _lib.enc(contact_id)
        s.kind = int(kind)
        s.category = int(category)
        s.state = int(state)
        s.source = _lib.enc(source)
        s.proof = _lib.enc(proof)
        lib.vc_consent_set(self._h, ctypes.byref(s))

    def consent(self, contact_id: str, kind: int,
                category: int = Category.MARKETING) -> ConsentInfo:
        """A contact's current consent for a kind and category."""
        info = _lib.init(_lib.vc_consent_info, "vc_consent_info_init",
                         _lib.VC_CONSENT_INFO_VERSION)
        lib.vc_consent_get(ctypes.byref(info), self._h, _lib.enc(contact_id),
                           int(kind), int(category))
        return ConsentInfo(enum_or_int(ConsentState, info.state),
                           int(info.changed_at), _lib.dec(info.source),
                           bool(info.requires_opt_in), bool(info.allowed))

    def set_consent_policy(self, kind: int, category: int,
                           requires_opt_in: bool) -> None:
        """Whether a kind and category needs an opt-in in this tenant."""
        lib.vc_consent_policy_set(self._h, int(kind), int(category),
                                  int(requires_opt_in))

    def consent_policy(self, kind: int, category: int) -> bool:
        """True when the kind and category needs an opt-in."""
        v = ctypes.c_int()
        lib.vc_consent_policy_get(ctypes.byref(v), self._h, int(kind),
                                  int(category))
        return bool(v.value)

    def __repr__(self) -> str:
        if self.closed:
            return "<Tenant closed>"
        return f"<Tenant {self.slug} {self.id}>"


__all__ = ["Tenant", "ChannelKind"]
