"""Contacts, consent and campaigns."""

from __future__ import annotations

import ctypes
import json
from typing import (Any, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from . import _lib
from ._handle import Handle, ListIter, handle_list
from .tenant import Tenant
from .types import (AddressKind, Audience, CampaignCounters, CampaignState,
                    Category, ConsentInfo, enum_or_int, json_arg)

lib = _lib.lib
Tags = Union[str, Sequence[str], None]


def _tags(tags: Tags) -> Optional[str]:
    if tags is None or isinstance(tags, str):
        return tags
    return ";".join(tags)


def _contact_spec(name: Optional[str], phone: Optional[str],
                  email: Optional[str], telegram: Optional[str],
                  whatsapp: Optional[str], timezone: Optional[str],
                  locale: Optional[str],
                  quiet_hours: Optional[Tuple[int, int]], tags: Tags,
                  fields: Union[str, Mapping[str, Any], None]) -> Any:
    s = _lib.init(_lib.vc_contact_spec, "vc_contact_spec_init",
                  _lib.VC_CONTACT_SPEC_VERSION)
    s.name = _lib.enc(name)
    s.phone = _lib.enc(phone)
    s.email = _lib.enc(email)
    s.telegram = _lib.enc(telegram)
    s.whatsapp = _lib.enc(whatsapp)
    s.timezone = _lib.enc(timezone)
    s.locale = _lib.enc(locale)
    if quiet_hours is not None:
        s.quiet_start_min, s.quiet_end_min = quiet_hours
    s.tags = _lib.enc(_tags(tags))
    s.fields_json = _lib.enc(json_arg(fields))
    return s


class Contact(Handle):
    """A contact: a snapshot of the stored contact, with its addresses,
    tags and custom fields. Contacts are deduplicated on their
    normalized addresses."""

    _free = staticmethod(lib.vc_contact_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def upsert(tenant: Tenant, *, name: Optional[str] = None,
               phone: Optional[str] = None, email: Optional[str] = None,
               telegram: Optional[str] = None,
               whatsapp: Optional[str] = None,
               timezone: Optional[str] = None, locale: Optional[str] = None,
               quiet_hours: Optional[Tuple[int, int]] = None,
               tags: Tags = None,
               fields: Union[str, Mapping[str, Any], None] = None) -> str:
        """Create a contact, or update the one holding one of the given
        addresses (at least one is required); returns its id. Tags are
        added, fields merged. Raises InvalidArgument, TooBig,
        EncodingError, Conflict (addresses of two contacts)."""
        s = _contact_spec(name, phone, email, telegram, whatsapp, timezone,
                          locale, quiet_hours, tags, fields)
        out = ctypes.create_string_buffer(_lib.ID_SIZE)
        lib.vc_contact_upsert(out, tenant._h, ctypes.byref(s))
        return out.value.decode("ascii")

    @staticmethod
    def update(tenant: Tenant, contact_id: str, *,
               name: Optional[str] = None, phone: Optional[str] = None,
               email: Optional[str] = None, telegram: Optional[str] = None,
               whatsapp: Optional[str] = None,
               timezone: Optional[str] = None, locale: Optional[str] = None,
               quiet_hours: Optional[Tuple[int, int]] = None,
               tags: Tags = None,
               fields: Union[str, Mapping[str, Any], None] = None) -> None:
        """Change a contact; None keeps a value, tags are replaced."""
        s = _contact_spec(name, phone, email, telegram, whatsapp, timezone,
                          locale, quiet_hours, tags, fields)
        lib.vc_contact_update(tenant._h, _lib.enc(contact_id),
                              ctypes.byref(s))

    @classmethod
    def lookup(cls, tenant: Tenant, contact_id: str) -> "Contact":
        """Load a contact by id (a merged one loads its survivor)."""
        out = ctypes.c_void_p()
        lib.vc_contact_lookup(ctypes.byref(out), tenant._h,
                              _lib.enc(contact_id))
        return cls(out, tenant)

    @classmethod
    def find_by_address(cls, tenant: Tenant, kind: int,
                        address: str) -> "Contact":
        """Load the contact holding an address of an
        :class:`AddressKind`."""
        out = ctypes.c_void_p()
        lib.vc_contact_find_by_address(ctypes.byref(out), tenant._h,
                                       int(kind), _lib.enc(address))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, tag: Optional[str] = None,
             address_kind: int = 0, name_prefix: Optional[str] = None,
             updated_since: int = 0,
             after: Optional[str] = None) -> ListIter["Contact"]:
        """Live contacts in creation order."""
        f = _lib.init(_lib.vc_contact_filter, "vc_contact_filter_init",
                      _lib.VC_CONTACT_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.tag = _lib.enc(tag)
        f.address_kind = int(address_kind)
        f.name_prefix = _lib.enc(name_prefix)
        f.updated_since = updated_since
        return handle_list(lib.vc_contact_list, lib.vc_contact_next, tenant,
                           f, lambda p: cls(p, tenant))

    @staticmethod
    def tag_add(tenant: Tenant, contact_id: str, tag: str) -> None:
        lib.vc_contact_tag_add(tenant._h, _lib.enc(contact_id),
                               _lib.enc(tag))

    @staticmethod
    def tag_remove(tenant: Tenant, contact_id: str, tag: str) -> None:
        lib.vc_contact_tag_remove(tenant._h, _lib.enc(contact_id),
                                  _lib.enc(tag))

    @staticmethod
    def merge(tenant: Tenant, survivor_id: str, merged_id: str) -> None:
        """Merge a contact into another (the merged id keeps working)."""
        lib.vc_contact_merge(tenant._h, _lib.enc(survivor_id),
                             _lib.enc(merged_id))

    # -- on this contact (the store; the snapshot does not change) --------------

    def add_tag(self, tag: str) -> None:
        Contact.tag_add(self.tenant, self.id, tag)

    def remove_tag(self, tag: str) -> None:
        Contact.tag_remove(self.tenant, self.id, tag)

    def set_consent(self, kind: int, state: int, *, category: int = 0,
                    source: Optional[str] = None,
                    proof: Optional[str] = None) -> None:
        """Record a consent change for a channel kind and category (0 =
        transactional and marketing both): a :class:`ConsentState`."""
        self.tenant.set_consent(self.id, kind, state, category=category,
                                source=source, proof=proof)

    def consent(self, kind: int,
                category: int = Category.MARKETING) -> ConsentInfo:
        """The current consent for a kind and category."""
        return self.tenant.consent(self.id, kind, category)

    # -- getters ---------------------------------------------------------------

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_contact_id(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_contact_name(self._h))

    @property
    def timezone(self) -> str:
        return _lib.dec(lib.vc_contact_timezone(self._h))

    @property
    def locale(self) -> str:
        return _lib.dec(lib.vc_contact_locale(self._h))

    @property
    def fields(self) -> Dict[str, Any]:
        return json.loads(_lib.dec(lib.vc_contact_fields_json(self._h)) or
                          "{}")

    def address(self, kind: int) -> str:
        """The first address of a kind, "" when none."""
        return _lib.dec(lib.vc_contact_address(self._h, int(kind)))

    @property
    def addresses(self) -> List[Tuple[AddressKind, str]]:
        """Every address with its kind, by kind then age."""
        h = self._h
        out = []
        for i in range(lib.vc_contact_address_count(h)):
            k = ctypes.c_int()
            a = lib.vc_contact_address_at(h, i, ctypes.byref(k))
            if a is None:
                break
            out.append((enum_or_int(AddressKind, k.value), _lib.dec(a)))
        return out

    @property
    def tags(self) -> List[str]:
        h = self._h
        return [_lib.dec(lib.vc_contact_tag_at(h, i))
                for i in range(lib.vc_contact_tag_count(h))]

    @property
    def quiet_hours(self) -> Tuple[int, int]:
        a, b = ctypes.c_int(), ctypes.c_int()
        lib.vc_contact_quiet_hours(self._h, ctypes.byref(a), ctypes.byref(b))
        return a.value, b.value

    @property
    def created_at(self) -> int:
        return int(lib.vc_contact_created_at(self._h))

    @property
    def updated_at(self) -> int:
        return int(lib.vc_contact_updated_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Contact closed>"
        return f"<Contact {self.id} {self.name!r}>"


class Campaign(Handle):
    """A campaign: one template sent to an audience over a chain of
    channels. A snapshot; :meth:`counters` reads progress from the
    store."""

    _free = staticmethod(lib.vc_campaign_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @classmethod
    def new(cls, tenant: Tenant, name: str, template: str,
            chain: Sequence[str], *, audience: Optional[int] = None,
            contact_ids: Sequence[str] = (),
            contact_vars: Optional[Sequence[Union[str, Mapping[str, Any],
                                                  None]]] = None,
            tag: Optional[str] = None,
            vars: Union[str, Mapping[str, Any], None] = None,
            locale: Optional[str] = None, start_at: int = 0,
            end_at: int = 0, window: Tuple[int, int] = (0, 0),
            rate: float = 0.0, category: int = 0) -> "Campaign":
        """Create a draft campaign. `chain` links are "sms", "email",
        "whatsapp", "telegram", optionally "@channel" pinned; the
        audience is a list of contact ids (with optional per-recipient
        variables) or a tag (`audience` defaults to TAG when `tag` is
        given, else LIST). Raises InvalidArgument, TooBig, NotFound."""
        if audience is None:
            audience = Audience.TAG if tag is not None else Audience.LIST
        s = _lib.init(_lib.vc_campaign_spec, "vc_campaign_spec_init",
                      _lib.VC_CAMPAIGN_SPEC_VERSION)
        chain_arr = _lib.c_strings(list(chain))
        ids_arr = _lib.c_strings(list(contact_ids))
        vars_arr = None
        s.name = _lib.enc(name)
        s.template_name = _lib.enc(template)
        s.locale = _lib.enc(locale)
        s.vars_json = _lib.enc(json_arg(vars))
        s.chain = chain_arr
        s.nchain = len(chain)
        s.audience = int(audience)
        if contact_ids:
            s.contact_ids = ids_arr
            s.ncontacts = len(contact_ids)
            if contact_vars is not None:
                if len(contact_vars) != len(contact_ids):
                    raise ValueError("contact_vars must be parallel to "
                                     "contact_ids")
                vars_arr = _lib.c_strings([json_arg(v)
                                           for v in contact_vars])
                s.contact_vars = vars_arr
        s.tag = _lib.enc(tag)
        s.start_at = start_at
        s.end_at = end_at
        s.window_start_min, s.window_end_min = window
        s.rate = rate
        s.category = int(category)
        out = ctypes.c_void_p()
        lib.vc_campaign_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, campaign_id: str) -> "Campaign":
        out = ctypes.c_void_p()
        lib.vc_campaign_lookup(ctypes.byref(out), tenant._h,
                               _lib.enc(campaign_id))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, state: int = 0,
             after: Optional[str] = None) -> ListIter["Campaign"]:
        """Campaigns, newest first."""
        f = _lib.init(_lib.vc_campaign_filter, "vc_campaign_filter_init",
                      _lib.VC_CAMPAIGN_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.state = int(state)
        return handle_list(lib.vc_campaign_list, lib.vc_campaign_next,
                           tenant, f, lambda p: cls(p, tenant))

    def start(self) -> None:
        """Start a draft (InvalidState otherwise)."""
        lib.vc_campaign_start(self._h)

    def pause(self) -> None:
        lib.vc_campaign_pause(self._h)

    def resume(self) -> None:
        lib.vc_campaign_resume(self._h)

    def cancel(self) -> None:
        """Cancel: no new messages, queued ones canceled."""
        lib.vc_campaign_cancel(self._h)

    def counters(self) -> CampaignCounters:
        """Progress, read from the store."""
        k = _lib.init(_lib.vc_campaign_counters, "vc_campaign_counters_init",
                      _lib.VC_CAMPAIGN_COUNTERS_VERSION)
        lib.vc_campaign_counters_get(ctypes.byref(k), self._h)
        return CampaignCounters(
            enum_or_int(CampaignState, k.state),
            *[int(getattr(k, n)) for n in _lib.COUNTER_FIELDS])

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_campaign_id(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_campaign_name(self._h))

    @property
    def state(self) -> CampaignState:
        """The state in the handle's snapshot (counters().state is
        current)."""
        return enum_or_int(CampaignState, lib.vc_campaign_state(self._h))

    @property
    def audience(self) -> Audience:
        return enum_or_int(Audience, lib.vc_campaign_audience_kind(self._h))

    @property
    def category(self) -> Category:
        return enum_or_int(Category, lib.vc_campaign_category(self._h))

    @property
    def template_id(self) -> str:
        return _lib.dec(lib.vc_campaign_template_id(self._h))

    @property
    def rate(self) -> float:
        return float(lib.vc_campaign_rate(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_campaign_created_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Campaign closed>"
        return f"<Campaign {self.id} {self.name!r}>"


__all__ = ["Contact", "Campaign"]
