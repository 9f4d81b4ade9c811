"""vyomcomm: Python binding of libvyomcomm over ctypes.

Multi-tenant messaging and click-to-call on a durable store::

    import vyomcomm as vc

    with vc.Context("comm.db", master_key=key) as ctx:
        t = vc.Tenant.new(ctx, "acme", name="Acme Traders")
        vc.Channel.new(t, "sms", "sandbox-sms", sender="+15550001111")
        mid = vc.Message.send(t, "+14155550123", "Your order has shipped",
                              kind=vc.ChannelKind.SMS)
        ctx.drain()                     # the engine sends it
        print(vc.Message.lookup(t, mid).status)

The library is found through ``VYOMCOMM_LIBRARY`` (a path), then
``ctypes.util.find_library("vyomcomm")``, then ``libvyomcomm.so.1`` on
the loader's path. Every failure raises a :class:`VyomcommError`
subclass (``NotFound``, ``InvalidArgument``, ``ConsentRequired``, ...)
carrying ``.code``, ``.name`` and the library's message.
"""

from __future__ import annotations

from . import _lib
from .errors import (VyomcommError, error_for, GenericError, NoMemory,
                     NotFound, AlreadyExists, InvalidArgument, Busy, Timeout,
                     AuthError, NotSupported, Canceled, RateLimited,
                     ProviderError, StorageError, VersionMismatch,
                     CryptoError, MasterKeyError, Conflict, TooBig,
                     EncodingError, CorruptStore, InvalidState, NetworkError,
                     ConsentRequired, RulesWouldLoop, UserAbort, Passthrough,
                     IterationOver)
from .types import (AddressKind, AgentCause, AgentChange, AgentState,
                    AgentTotals, Attachment, Audience, CallCause, CallEntry,
                    CallLeg, CallState, CampaignCounters, CampaignState,
                    Category, ChannelKind, ConsentInfo, ConsentState,
                    ConversationItem, ConversationItemType,
                    ConversationStatus, ErrorClass, Event, LogLevel,
                    MessageStatus, NumberEntry, QueueMember, QueueOverflow,
                    QueueStrategy, RecordMode, SendResult, StatsGranularity,
                    StatsSection, TemplatePart, WebhookResponse)
from ._handle import ListIter
from .context import Context
from .tenant import Tenant
from .messaging import Channel, Message, Template, SEND_MANY_MAX
from .call import Call
from .engage import Campaign, Contact
from .callcenter import Agent, Number, Queue
from .inbox import Conversation
from .stats import (AgentCalls, CallFigures, CallPoint, CallStats,
                    CampaignStats, ChannelCount, ChannelMessages, CostRow,
                    CostStats, CountPoint, InboundStats, LatencyBucket,
                    LatencyStats, MessagePoint, MessageStats, Stats,
                    StatusCounts, stats_json, stats_query)


def library_version() -> str:
    """The loaded library's version string, e.g. "0.2.0"."""
    return _lib.dec(_lib.lib.vc_version_string())


def strerror(code: int) -> str:
    """The library's static text for an error code."""
    return _lib.dec(_lib.lib.vc_strerror(code))


__version__ = "0.3.0"

__all__ = [
    "Context", "Tenant", "Channel", "Template", "Message", "Call",
    "Campaign", "Contact", "Agent", "Queue", "Number", "Conversation",
    "ListIter", "VyomcommError", "error_for",
    "AddressKind", "Attachment", "Audience", "CallCause", "CallEntry",
    "CallLeg", "CallState", "CampaignCounters", "CampaignState", "Category",
    "ChannelKind", "ConsentInfo", "ConsentState", "ErrorClass", "Event",
    "LogLevel", "MessageStatus", "RecordMode", "SendResult", "TemplatePart",
    "WebhookResponse", "SEND_MANY_MAX", "library_version", "strerror",
    "AgentCause", "AgentChange", "AgentState", "AgentTotals",
    "ConversationItem", "ConversationItemType", "ConversationStatus",
    "NumberEntry", "QueueMember", "QueueOverflow", "QueueStrategy",
    "StatsGranularity", "StatsSection", "stats_query", "stats_json",
    "Stats", "StatusCounts", "ChannelMessages", "MessagePoint",
    "MessageStats", "LatencyBucket", "LatencyStats", "ChannelCount",
    "CountPoint", "InboundStats", "CampaignStats", "CallFigures",
    "AgentCalls", "CallPoint", "CallStats", "CostRow", "CostStats",
    "GenericError", "NoMemory", "NotFound", "AlreadyExists",
    "InvalidArgument", "Busy", "Timeout", "AuthError", "NotSupported",
    "Canceled", "RateLimited", "ProviderError", "StorageError",
    "VersionMismatch", "CryptoError", "MasterKeyError", "Conflict", "TooBig",
    "EncodingError", "CorruptStore", "InvalidState", "NetworkError",
    "ConsentRequired", "RulesWouldLoop", "UserAbort", "Passthrough",
    "IterationOver",
]
