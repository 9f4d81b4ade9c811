"""The unified inbox: one conversation per contact across every channel,
its timeline, statuses, assignment, unread counts and replies."""

from __future__ import annotations

import ctypes
from typing import Any, List, Optional, Sequence

from . import _lib
from ._handle import Handle, ListIter, handle_list, record_list
from .callcenter import Ref, ref
from .messaging import JsonArg, _message_spec
from .tenant import Tenant
from .types import (Attachment, CallState, ChannelKind, ConversationItem,
                    ConversationItemType, ConversationStatus, MessageStatus,
                    enum_or_int)

lib = _lib.lib


def _item(i: int) -> ConversationItem:
    kind = enum_or_int(ConversationItemType,
                       lib.vc_conversation_item_type_of(i))
    status = int(lib.vc_conversation_item_status(i))
    if kind == ConversationItemType.OUTBOUND:
        status = enum_or_int(MessageStatus, status)
    elif kind in (ConversationItemType.CALL, ConversationItemType.VOICEMAIL):
        status = enum_or_int(CallState, status)
    return ConversationItem(
        kind, _lib.dec(lib.vc_conversation_item_id(i)),
        int(lib.vc_conversation_item_at(i)),
        enum_or_int(ChannelKind, lib.vc_conversation_item_channel_kind(i)),
        _lib.dec(lib.vc_conversation_item_channel_id(i)),
        _lib.dec(lib.vc_conversation_item_text(i)), status,
        _lib.dec(lib.vc_conversation_item_recording_url(i)),
        int(lib.vc_conversation_item_duration(i)))


def _items(tenant: Tenant, conversation_id: Optional[str],
           contact_id: Optional[str], newest_first: bool,
           after: Optional[str]) -> ListIter[ConversationItem]:
    f = _lib.init(_lib.vc_conversation_item_filter,
                  "vc_conversation_item_filter_init",
                  _lib.VC_CONVERSATION_ITEM_FILTER_VERSION)
    f.conversation_id = _lib.enc(conversation_id)
    f.contact_id = _lib.enc(contact_id)
    f.after = _lib.enc(after)
    f.newest_first = int(newest_first)
    return record_list(lib.vc_conversation_items,
                       lib.vc_conversation_item_next,
                       lib.vc_conversation_item_free, tenant._h, tenant, f,
                       _item)


class Conversation(Handle):
    """A conversation with one contact: a snapshot of the stored row
    (:meth:`reload` reads it again). The first inbound message of a
    contact opens it; each later one adds to its unread count and
    reopens it. The methods that change it (:meth:`set_status`,
    :meth:`assign`, :meth:`reply`, ...) act on the store and leave this
    snapshot as it was."""

    _free = staticmethod(lib.vc_conversation_free)

    def __init__(self, ptr: ctypes.c_void_p, tenant: Tenant) -> None:
        super().__init__(ptr, tenant)
        self.tenant = tenant

    @classmethod
    def lookup(cls, tenant: Tenant, conversation_id: str) -> "Conversation":
        """Load a conversation by id. Raises NotFound, InvalidArgument
        (not an id)."""
        out = ctypes.c_void_p()
        lib.vc_conversation_lookup(ctypes.byref(out), tenant._h,
                                   _lib.enc(conversation_id))
        return cls(out, tenant)

    @classmethod
    def of_contact(cls, tenant: Tenant, contact_id: str) -> "Conversation":
        """Load a contact's conversation (a merged contact's id names
        the survivor's). NotFound when the contact has none yet."""
        out = ctypes.c_void_p()
        lib.vc_conversation_lookup_contact(ctypes.byref(out), tenant._h,
                                           _lib.enc(contact_id))
        return cls(out, tenant)

    @classmethod
    def list(cls, tenant: Tenant, *, status: int = 0,
             assignee: Ref = None, unassigned: bool = False,
             unread: bool = False, channel_kind: int = 0,
             updated_since: int = 0, text: Optional[str] = None,
             after: Optional[str] = None) -> ListIter["Conversation"]:
        """Conversations, newest activity first; every condition given
        must hold: a :class:`ConversationStatus`, an `assignee` (agent
        object or id) or `unassigned`, `unread` only, the last inbound's
        :class:`ChannelKind`, changed since (Unix ms), and `text` found
        in the contact's name, an address or a message (at most 100
        bytes; TooBig beyond). Raises InvalidArgument (e.g. `assignee`
        with `unassigned`)."""
        f = _lib.init(_lib.vc_conversation_filter,
                      "vc_conversation_filter_init",
                      _lib.VC_CONVERSATION_FILTER_VERSION)
        f.after = _lib.enc(after)
        f.status = int(status)
        f.assignee_id = _lib.enc(ref(assignee))
        f.unassigned = int(unassigned)
        f.unread = int(unread)
        f.channel_kind = int(channel_kind)
        f.updated_since = updated_since
        f.text = _lib.enc(text)
        return handle_list(lib.vc_conversation_list, lib.vc_conversation_next,
                           tenant, f, lambda p: cls(p, tenant))

    @staticmethod
    def contact_timeline(tenant: Tenant, contact_id: str, *,
                         newest_first: bool = False,
                         after: Optional[str] = None
                         ) -> ListIter[ConversationItem]:
        """A contact's timeline, also when it has no conversation yet
        (what was sent to it)."""
        return _items(tenant, None, contact_id, newest_first, after)

    def reload(self) -> "Conversation":
        """A new snapshot of this conversation from the store."""
        return Conversation.lookup(self.tenant, self.id)

    # -- the timeline and changes (on the store) -------------------------------

    def items(self, *, newest_first: bool = False,
              after: Optional[str] = None) -> ListIter[ConversationItem]:
        """The timeline: inbound and outbound messages, calls and
        voicemails of the contact (and of contacts merged into it), in
        time order (oldest first unless `newest_first`)."""
        return _items(self.tenant, self.id, None, newest_first, after)

    def set_status(self, status: int, snoozed_until: int = 0) -> None:
        """Set the :class:`ConversationStatus`; SNOOZED needs
        `snoozed_until` (Unix ms, in the future). Raises
        InvalidArgument."""
        lib.vc_conversation_set_status(self.tenant._h, _lib.enc(self.id),
                                       int(status), snoozed_until)

    def resolve(self) -> None:
        """Close the conversation (RESOLVED) until the customer writes
        again."""
        self.set_status(ConversationStatus.RESOLVED)

    def reopen(self) -> None:
        """Open it again."""
        self.set_status(ConversationStatus.OPEN)

    def snooze(self, until: int) -> None:
        """Set it aside until `until` (Unix ms); it reads as open from
        then on."""
        self.set_status(ConversationStatus.SNOOZED, until)

    def assign(self, agent: Ref) -> None:
        """Assign it to an agent (object, id or name), replacing any
        earlier assignee. Raises NotFound (no such agent)."""
        lib.vc_conversation_assign(self.tenant._h, _lib.enc(self.id),
                                   _lib.enc(ref(agent)))

    def unassign(self) -> None:
        lib.vc_conversation_unassign(self.tenant._h, _lib.enc(self.id))

    def mark_read(self) -> None:
        """Set the unread count to 0."""
        lib.vc_conversation_mark_read(self.tenant._h, _lib.enc(self.id))

    def reply(self, text: Optional[str] = None, *,
              subject: Optional[str] = None, html: Optional[str] = None,
              template: Optional[str] = None, locale: Optional[str] = None,
              vars: JsonArg = None, attachments: Sequence[Attachment] = (),
              metadata: JsonArg = None,
              idempotency_key: Optional[str] = None, send_at: int = 0,
              category: int = 0) -> str:
        """Reply to the customer on the channel and address of their
        latest inbound message, under every rule of that channel, and
        return the message id (the engine sends it). The conversation
        becomes read and PENDING. Raises NotFound (no inbound message to
        answer yet) and every error of :meth:`Message.send`
        (ConsentRequired, ...)."""
        s = _lib.init(_lib.vc_message_spec, "vc_message_spec_init",
                      _lib.VC_MESSAGE_SPEC_VERSION)
        keep: List[Any] = []
        _message_spec(s, keep, text=text, subject=subject, html=html,
                      template=template, locale=locale, vars=vars,
                      attachments=attachments, metadata=metadata,
                      idempotency_key=idempotency_key, send_at=send_at,
                      category=category)
        out = ctypes.create_string_buffer(_lib.ID_SIZE)
        lib.vc_conversation_reply(out, self.tenant._h, _lib.enc(self.id),
                                  ctypes.byref(s))
        return out.value.decode("ascii")

    # -- getters (the snapshot) ------------------------------------------------

    @property
    def id(self) -> str:
        return _lib.dec(lib.vc_conversation_id(self._h))

    @property
    def contact_id(self) -> str:
        return _lib.dec(lib.vc_conversation_contact_id(self._h))

    @property
    def status(self) -> ConversationStatus:
        """As of the lookup: a snooze that ended reads as OPEN."""
        return enum_or_int(ConversationStatus,
                           lib.vc_conversation_status_of(self._h))

    @property
    def snoozed_until(self) -> int:
        """Unix ms; 0 when not snoozed."""
        return int(lib.vc_conversation_snoozed_until(self._h))

    @property
    def assignee_id(self) -> str:
        """The assigned agent's id, "" when nobody is."""
        return _lib.dec(lib.vc_conversation_assignee_id(self._h))

    @property
    def unread(self) -> int:
        """Inbound messages since it was last read or answered."""
        return int(lib.vc_conversation_unread(self._h))

    @property
    def last_channel_id(self) -> str:
        """The channel of the latest inbound message."""
        return _lib.dec(lib.vc_conversation_last_channel_id(self._h))

    @property
    def last_channel_kind(self) -> ChannelKind:
        return enum_or_int(ChannelKind,
                           lib.vc_conversation_last_channel_kind(self._h))

    @property
    def last_activity_at(self) -> int:
        """The latest inbound message or reply (Unix ms)."""
        return int(lib.vc_conversation_last_activity_at(self._h))

    @property
    def created_at(self) -> int:
        return int(lib.vc_conversation_created_at(self._h))

    @property
    def updated_at(self) -> int:
        return int(lib.vc_conversation_updated_at(self._h))

    def __repr__(self) -> str:
        if self.closed:
            return "<Conversation closed>"
        status = getattr(self.status, "name", self.status)
        return (f"<Conversation {self.id} {str(status).lower()} "
                f"unread={self.unread}>")


__all__ = ["Conversation"]
