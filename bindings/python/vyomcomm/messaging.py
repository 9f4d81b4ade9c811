"""Channels, templates and messages."""

from __future__ import annotations

import ctypes
import json
from typing import (Any, Dict, List, Mapping, Optional, Sequence, Union)

from . import _lib
from ._handle import Handle, ListIter, handle_list
from .errors import error_for
from .tenant import Tenant
from .types import (Attachment, Category, ChannelKind, MessageStatus,
                    SendResult, TemplatePart, enum_or_int, json_arg)

lib = _lib.lib
JsonArg = Union[str, Mapping[str, Any], Sequence[Any], None]

#: At most this many messages in one :meth:`Message.send_many`.
SEND_MANY_MAX = 1000


class Channel(Handle):
    """A tenant's provider instance (a Twilio number, a SendGrid
    account, a sandbox). Credentials are encrypted at rest and there is
    no way to read them back."""

    _free = staticmethod(lib.vc_channel_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def _spec(name: Optional[str], provider: Optional[str],
              config: JsonArg, credentials: JsonArg, sender: Optional[str],
              priority: Optional[int], rate_per_second: Optional[float],
              kind: Optional[int]) -> Any:
        s = _lib.init(_lib.vc_channel_spec, "vc_channel_spec_init",
                      _lib.VC_CHANNEL_SPEC_VERSION)
        s.name = _lib.enc(name)
        s.provider = _lib.enc(provider)
        s.config_json = _lib.enc(json_arg(config))
        s.credentials_json = _lib.enc(json_arg(credentials))
        s.sender = _lib.enc(sender)
        if priority is not None:
            s.priority = priority
        if rate_per_second is not None:
            s.rate_per_second = rate_per_second
        if kind is not None:
            s.kind = int(kind)
        return s

    @classmethod
    def new(cls, tenant: Tenant, name: str, provider: str, *,
            config: JsonArg = None, credentials: JsonArg = None,
            sender: Optional[str] = None, priority: Optional[int] = None,
            rate_per_second: Optional[float] = None,
            kind: Optional[int] = None) -> "Channel":
        """Create a channel. `provider` is an adapter name
        ("sandbox-sms", "twilio-sms", "sendgrid", ...); `config` and
        `credentials` are JSON objects (a dict or a JSON string). Raises
        InvalidArgument, NotFound (no such adapter), AlreadyExists,
        MasterKeyError (credentials without a master key)."""
        s = cls._spec(name, provider, config, credentials, sender, priority,
                      rate_per_second, kind)
        out = ctypes.c_void_p()
        lib.vc_channel_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, id_or_name: str) -> "Channel":
        """Load a channel by id or name (an id match wins)."""
        out = ctypes.c_void_p()
        lib.vc_channel_lookup(ctypes.byref(out), tenant._h,
                              _lib.enc(id_or_name))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, kind: int = 0,
             include_disabled: bool = False,
             after: Optional[str] = None) -> ListIter["Channel"]:
        """The tenant's channels in creation order."""
        f = _lib.init(_lib.vc_channel_filter, "vc_channel_filter_init",
                      _lib.VC_CHANNEL_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.kind = int(kind)
        f.include_disabled = int(include_disabled)
        return handle_list(lib.vc_channel_list, lib.vc_channel_next, tenant,
                           f, lambda p: cls(p, tenant))

    def update(self, *, name: Optional[str] = None,
               provider: Optional[str] = None, config: JsonArg = None,
               credentials: JsonArg = None, sender: Optional[str] = None,
               priority: Optional[int] = None,
               rate_per_second: Optional[float] = None) -> None:
        """Change settings; None keeps the current value."""
        s = self._spec(name, provider, config, credentials, sender, priority,
                       rate_per_second, None)
        lib.vc_channel_update(self._h, ctypes.byref(s))

    def disable(self) -> None:
        """Stop routing messages through the channel."""
        lib.vc_channel_disable(self._h)

    def enable(self) -> None:
        lib.vc_channel_enable(self._h)

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_channel_id(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_channel_name(self._h))

    @property
    def kind(self) -> ChannelKind:
        return enum_or_int(ChannelKind, lib.vc_channel_kind_of(self._h))

    @property
    def provider(self) -> str:
        return _lib.dec(lib.vc_channel_provider(self._h))

    @property
    def sender(self) -> str:
        return _lib.dec(lib.vc_channel_sender(self._h))

    @property
    def priority(self) -> int:
        return int(lib.vc_channel_priority(self._h))

    @property
    def rate_per_second(self) -> float:
        return float(lib.vc_channel_rate_per_second(self._h))

    @property
    def enabled(self) -> bool:
        return bool(lib.vc_channel_enabled(self._h))

    @property
    def config(self) -> Dict[str, Any]:
        """The provider settings as stored (never the credentials)."""
        return json.loads(_lib.dec(lib.vc_channel_config_json(self._h)) or
                          "{}")

    @property
    def webhook_path(self) -> str:
        """``/webhooks/{channel_id}``."""
        return _lib.dec(lib.vc_channel_webhook_path(self._h))

    def webhook_url(self) -> str:
        """The full webhook URL (InvalidState without public_base_url)."""
        b = _lib.vc_buf()
        lib.vc_channel_webhook_url(ctypes.byref(b), self._h)
        return _lib.buf_take(b).decode("utf-8")

    @property
    def created_at(self) -> int:
        return int(lib.vc_channel_created_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Channel closed>"
        return f"<Channel {self.name} {self.provider} {self.id}>"


class Template(Handle):
    """A message template: Mustache bodies per channel kind and locale,
    in immutable versions."""

    _free = staticmethod(lib.vc_template_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def _spec(name: Optional[str], kind: int, text: Optional[str],
              subject: Optional[str], html: Optional[str],
              locale: Optional[str], variables: Union[str, Sequence[str],
                                                      None],
              category: int) -> Any:
        s = _lib.init(_lib.vc_template_spec, "vc_template_spec_init",
                      _lib.VC_TEMPLATE_SPEC_VERSION)
        s.name = _lib.enc(name)
        s.kind = int(kind)
        s.locale = _lib.enc(locale)
        s.subject = _lib.enc(subject)
        s.text_body = _lib.enc(text)
        s.html_body = _lib.enc(html)
        s.variables_json = _lib.enc(json_arg(variables))
        s.category = int(category)
        return s

    @classmethod
    def new(cls, tenant: Tenant, name: str, kind: int, *,
            text: Optional[str] = None, subject: Optional[str] = None,
            html: Optional[str] = None, locale: Optional[str] = None,
            variables: Union[str, Sequence[str], None] = None,
            category: int = 0) -> "Template":
        """Create a template with its first variant (version 1).
        `variables` declares the names the bodies use (a list such as
        ``["name", "coupon?"]``). Raises InvalidArgument (syntax, an
        undeclared variable), TooBig, EncodingError, AlreadyExists."""
        s = cls._spec(name, kind, text, subject, html, locale, variables,
                      category)
        out = ctypes.c_void_p()
        lib.vc_template_new(ctypes.byref(out), tenant._h, ctypes.byref(s))
        return cls(out, tenant)

    @classmethod
    def lookup(cls, tenant: Tenant, id_or_name: str) -> "Template":
        out = ctypes.c_void_p()
        lib.vc_template_lookup(ctypes.byref(out), tenant._h,
                               _lib.enc(id_or_name))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, kind: int = 0,
             after: Optional[str] = None) -> ListIter["Template"]:
        f = _lib.init(_lib.vc_template_filter, "vc_template_filter_init",
                      _lib.VC_TEMPLATE_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.kind = int(kind)
        return handle_list(lib.vc_template_list, lib.vc_template_next,
                           tenant, f, lambda p: cls(p, tenant))

    def add_variant(self, kind: int, *, text: Optional[str] = None,
                    subject: Optional[str] = None, html: Optional[str] = None,
                    locale: Optional[str] = None,
                    variables: Union[str, Sequence[str], None] = None,
                    category: int = 0) -> int:
        """Add or replace the variant of a kind and locale; returns the
        new version."""
        s = self._spec(None, kind, text, subject, html, locale, variables,
                       category)
        lib.vc_template_add_variant(self._h, ctypes.byref(s))
        return self.version

    def render(self, vars: JsonArg = None, *, kind: int = 0,
               locale: Optional[str] = None, part: int = 0,
               version: int = 0) -> str:
        """Render one part (a preview; nothing is stored). `part` is a
        :class:`TemplatePart` (0: the text body, or HTML when there is
        none). Raises InvalidArgument (a missing variable), NotFound (no
        variant for the kind and locale), TooBig."""
        s = _lib.init(_lib.vc_template_render_spec,
                      "vc_template_render_spec_init",
                      _lib.VC_TEMPLATE_RENDER_SPEC_VERSION)
        s.kind = int(kind)
        s.locale = _lib.enc(locale)
        s.vars_json = _lib.enc(json_arg(vars))
        s.part = int(part)
        s.template_version = version
        b = _lib.vc_buf()
        lib.vc_template_render(ctypes.byref(b), self._h, ctypes.byref(s))
        return _lib.buf_take(b).decode("utf-8")

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_template_id(self._h))

    @property
    def name(self) -> str:
        return _lib.dec(lib.vc_template_name(self._h))

    @property
    def kind(self) -> ChannelKind:
        return enum_or_int(ChannelKind, lib.vc_template_kind(self._h))

    @property
    def version(self) -> int:
        return int(lib.vc_template_version(self._h))

    @property
    def category(self) -> Category:
        return enum_or_int(Category, lib.vc_template_category(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_template_created_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Template closed>"
        return f"<Template {self.name} v{self.version}>"


def _message_spec(s: Any, keep: List[Any], *, to: Optional[str] = None,
                  text: Optional[str] = None, kind: int = 0,
                  channel: Optional[str] = None, from_: Optional[str] = None,
                  subject: Optional[str] = None, html: Optional[str] = None,
                  template: Optional[str] = None,
                  locale: Optional[str] = None, vars: JsonArg = None,
                  attachments: Sequence[Attachment] = (),
                  metadata: JsonArg = None,
                  idempotency_key: Optional[str] = None, send_at: int = 0,
                  category: int = 0,
                  contact_id: Optional[str] = None) -> None:
    """Fill a vc_message_spec (already initialised); what must outlive
    the call is appended to `keep`."""
    s.kind = int(kind)
    s.channel = _lib.enc(channel)
    s.to = _lib.enc(to)
    s.from_ = _lib.enc(from_)
    s.subject = _lib.enc(subject)
    s.text = _lib.enc(text)
    s.html = _lib.enc(html)
    s.template_name = _lib.enc(template)
    s.locale = _lib.enc(locale)
    s.vars_json = _lib.enc(json_arg(vars))
    s.metadata_json = _lib.enc(json_arg(metadata))
    s.idempotency_key = _lib.enc(idempotency_key)
    s.send_at = send_at
    s.category = int(category)
    s.contact_id = _lib.enc(contact_id)
    if attachments:
        arr = (_lib.vc_attachment * len(attachments))()
        for i, a in enumerate(attachments):
            arr[i].filename = _lib.enc(a.filename)
            arr[i].content_type = _lib.enc(a.content_type)
            if a.data is not None:
                arr[i].data = bytes(a.data)
                arr[i].len = len(a.data)
            arr[i].url = _lib.enc(a.url)
        keep.append(arr)
        s.attachments = arr
        s.nattachments = len(attachments)


class Message(Handle):
    """A message: a snapshot of the stored row (look it up again to see
    a newer status). Sent with :meth:`send` or :meth:`send_many`."""

    _free = staticmethod(lib.vc_message_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @staticmethod
    def send(tenant: Tenant, to: str, text: Optional[str] = None, *,
             kind: int = 0, channel: Optional[str] = None,
             from_: Optional[str] = None, subject: Optional[str] = None,
             html: Optional[str] = None, template: Optional[str] = None,
             locale: Optional[str] = None, vars: JsonArg = None,
             attachments: Sequence[Attachment] = (),
             metadata: JsonArg = None, idempotency_key: Optional[str] = None,
             send_at: int = 0, category: int = 0,
             contact_id: Optional[str] = None) -> str:
        """Validate, render and store a message as queued, and return its
        id; the engine sends it. Give `kind` (routing over the tenant's
        channels of that kind) or `channel` (an id or name); a raw body
        (`text`, `subject`, `html`) or a `template` with `vars`.

        Raises InvalidArgument (bad address, missing body, unknown
        variable), NotFound (channel, template or contact), TooBig,
        Conflict (idempotency key reused with other content),
        ConsentRequired (opted out, or no opt-in where needed)."""
        s = _lib.init(_lib.vc_message_spec, "vc_message_spec_init",
                      _lib.VC_MESSAGE_SPEC_VERSION)
        keep: List[Any] = []
        _message_spec(s, keep, to=to, text=text, kind=kind, channel=channel,
                      from_=from_, subject=subject, html=html,
                      template=template, locale=locale, vars=vars,
                      attachments=attachments, metadata=metadata,
                      idempotency_key=idempotency_key, send_at=send_at,
                      category=category, contact_id=contact_id)
        out = ctypes.create_string_buffer(_lib.ID_SIZE)
        lib.vc_message_send(out, tenant._h, ctypes.byref(s))
        return out.value.decode("ascii")

    @staticmethod
    def send_many(tenant: Tenant,
                  specs: Sequence[Mapping[str, Any]]) -> List[SendResult]:
        """Enqueue up to 1000 messages in one transaction. Each spec is a
        dict of :meth:`send`'s keyword arguments (``to`` included). One
        message refused does not stop the others: the result of each is
        its id or its error. Raises only when the call fails as a whole
        (InvalidArgument: too many; a storage error: none stored)."""
        n = len(specs)
        arr = (_lib.vc_message_spec * max(n, 1))()
        keep: List[Any] = []
        for i, sp in enumerate(specs):
            lib.vc_message_spec_init(ctypes.byref(arr[i]),
                                     _lib.VC_MESSAGE_SPEC_VERSION)
            _message_spec(arr[i], keep, **sp)
        ids = (_lib.IdBuf * max(n, 1))()
        results = (ctypes.c_int * max(n, 1))()
        lib.vc_message_send_many(tenant._h, arr, n, ids, results)
        out: List[SendResult] = []
        for i in range(n):
            if results[i] == 0:
                out.append(SendResult(ids[i].value.decode("ascii")))
            else:
                out.append(SendResult(None, error_for(results[i])))
        return out

    @classmethod
    def lookup(cls, tenant: Tenant, message_id: str) -> "Message":
        """Load a message by id; NotFound otherwise."""
        out = ctypes.c_void_p()
        lib.vc_message_lookup(ctypes.byref(out), tenant._h,
                              _lib.enc(message_id))
        return cls(out, tenant)

    @staticmethod
    def cancel(tenant: Tenant, message_id: str) -> None:
        """Cancel a message still queued (InvalidState otherwise)."""
        lib.vc_message_cancel(tenant._h, _lib.enc(message_id))

    @classmethod
    def list(cls, tenant: Tenant, *, status: int = 0,
             channel: Optional[str] = None, since: int = 0, until: int = 0,
             after: Optional[str] = None) -> ListIter["Message"]:
        """Messages, newest first, read from the store a page at a time;
        each item is a new handle (close it, or let it be collected)."""
        f = _lib.init(_lib.vc_message_filter, "vc_message_filter_init",
                      _lib.VC_MESSAGE_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.status = int(status)
        f.channel = _lib.enc(channel)
        f.since = since
        f.until = until
        return handle_list(lib.vc_message_list, lib.vc_message_next, tenant,
                           f, lambda p: cls(p, tenant))

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_message_id(self._h))

    @property
    def status(self) -> MessageStatus:
        return enum_or_int(MessageStatus, lib.vc_message_status(self._h))

    @property
    def kind(self) -> ChannelKind:
        return enum_or_int(ChannelKind, lib.vc_message_kind(self._h))

    @property
    def channel_id(self) -> str:
        return _lib.dec(lib.vc_message_channel_id(self._h))

    @property
    def to(self) -> str:
        return _lib.dec(lib.vc_message_to(self._h))

    @property
    def provider_id(self) -> str:
        return _lib.dec(lib.vc_message_provider_id(self._h))

    @property
    def error(self) -> int:
        """The normalized error code of a failure, 0 otherwise."""
        return int(lib.vc_message_error(self._h))

    @property
    def provider_code(self) -> str:
        return _lib.dec(lib.vc_message_provider_code(self._h))

    @property
    def error_message(self) -> str:
        return _lib.dec(lib.vc_message_error_message(self._h))

    @property
    def segments(self) -> int:
        return int(lib.vc_message_segments(self._h))

    @property
    def attempts(self) -> int:
        return int(lib.vc_message_attempts(self._h))

    @property
    def template_version(self) -> int:
        return int(lib.vc_message_template_version(self._h))

    @property
    def category(self) -> Category:
        return enum_or_int(Category, lib.vc_message_category(self._h))

    @property
    def contact_id(self) -> str:
        return _lib.dec(lib.vc_message_contact_id(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_message_created_at(self._h))

    @property
    def updated_at(self) -> int:
        return int(lib.vc_message_updated_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Message closed>"
        return f"<Message {self.id} {self.status.name.lower()}>"


__all__ = ["Channel", "Template", "Message", "TemplatePart",
           "SEND_MANY_MAX"]
