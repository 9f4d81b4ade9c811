"""Enumerations (the pinned values of the C headers) and plain data
records returned by the high-level classes."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple


class ChannelKind(enum.IntEnum):
    """``vc_channel_kind``."""
    EMAIL = 1
    SMS = 2
    CHAT = 3
    VOICE = 4


class MessageStatus(enum.IntEnum):
    """``vc_msg_status``: ranked; a status only moves forward."""
    QUEUED = 1
    SENDING = 2
    SENT = 3
    DELIVERED = 4
    READ = 5
    FAILED = 6
    UNDELIVERED = 7
    BOUNCED = 8
    CANCELED = 9


class Category(enum.IntEnum):
    """``vc_category``: what a message or call is about."""
    TRANSACTIONAL = 1
    MARKETING = 2
    OTP = 3


class ConsentState(enum.IntEnum):
    """``vc_consent``."""
    UNKNOWN = 0
    OPTED_IN = 1
    OPTED_OUT = 2


class AddressKind(enum.IntEnum):
    """``vc_address_kind``: the kinds of a contact's addresses."""
    PHONE = 1
    EMAIL = 2
    TELEGRAM = 3
    WHATSAPP = 4


class TemplatePart(enum.IntEnum):
    """``vc_template_part``."""
    TEXT = 1
    HTML = 2
    SUBJECT = 3


class CallState(enum.IntEnum):
    """``vc_call_state``."""
    INITIATED = 1
    AGENT_RINGING = 2
    AGENT_ANSWERED = 3
    CUSTOMER_RINGING = 4
    BRIDGED = 5
    COMPLETED = 6
    FAILED = 7
    BUSY = 8
    NO_ANSWER = 9
    CANCELED = 10

    @property
    def final(self) -> bool:
        """True for the terminal states."""
        return self >= CallState.COMPLETED


class CallLeg(enum.IntEnum):
    """``vc_call_leg``."""
    NONE = 0
    AGENT = 1
    CUSTOMER = 2


class CallCause(enum.IntEnum):
    """``vc_call_cause``: why a call ended."""
    NONE = 0
    NORMAL = 1
    BUSY = 2
    NO_ANSWER = 3
    REJECTED = 4
    UNREACHABLE = 5
    CANCELED = 6
    API_HANGUP = 7
    TIME_LIMIT = 8
    PROVIDER_ERROR = 9
    IVR = 10


class RecordMode(enum.IntEnum):
    """``vc_record_mode``."""
    DEFAULT = 0
    OFF = 1
    ALWAYS = 2
    ON_DEMAND = 3


class CampaignState(enum.IntEnum):
    """``vc_campaign_lifecycle``."""
    DRAFT = 1
    RUNNING = 2
    PAUSED = 3
    COMPLETED = 4
    CANCELED = 5


class Audience(enum.IntEnum):
    """``vc_campaign_audience``."""
    LIST = 1
    TAG = 2
    CSV = 3


class AgentState(enum.IntEnum):
    """``vc_agent_state``. The API sets OFFLINE, AVAILABLE and BREAK;
    calls set RINGING, ON_CALL and WRAP_UP."""
    OFFLINE = 1
    AVAILABLE = 2
    RINGING = 3
    ON_CALL = 4
    WRAP_UP = 5
    BREAK = 6


class AgentCause(enum.IntEnum):
    """``vc_agent_cause``: what moved an agent."""
    API = 1
    CALL = 2
    WRAP_UP = 3


class QueueStrategy(enum.IntEnum):
    """``vc_queue_strategy``: how a queue picks the agent for a call."""
    LONGEST_IDLE = 1
    ROUND_ROBIN = 2
    RING_ALL = 3
    BY_SKILL = 4


class QueueOverflow(enum.IntEnum):
    """``vc_queue_overflow``: what happens to a call still waiting at
    the queue's maximum wait."""
    HANGUP = 1
    QUEUE = 2
    VOICEMAIL = 3
    CALLBACK = 4


class NumberEntry(enum.IntEnum):
    """``vc_number_entry``: where a call to an inbound number goes
    first."""
    IVR = 1
    QUEUE = 2
    AGENT = 3


class ConversationStatus(enum.IntEnum):
    """``vc_conversation_status``."""
    OPEN = 1
    PENDING = 2
    RESOLVED = 3
    SNOOZED = 4


class ConversationItemType(enum.IntEnum):
    """``vc_conversation_item_type``: what a timeline item is."""
    INBOUND = 1
    OUTBOUND = 2
    CALL = 3
    VOICEMAIL = 4


class StatsGranularity(enum.IntEnum):
    """``vc_stats_granularity``: the buckets of a series (UTC)."""
    HOUR = 1
    DAY = 2


class StatsSection(enum.IntFlag):
    """``vc_stats_section``: the sections a stats query answers."""
    MESSAGES = 1 << 0
    LATENCY = 1 << 1
    CAMPAIGNS = 1 << 2
    CALLS = 1 << 3
    COSTS = 1 << 4
    INBOUND = 1 << 5
    ALL = (1 << 6) - 1


class LogLevel(enum.IntEnum):
    """``vc_log_level``, most severe first."""
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4
    TRACE = 5


class ErrorClass(enum.IntEnum):
    """``vc_error_class``: where an error came from."""
    NONE = 0
    NOMEMORY = 1
    OS = 2
    INVALID = 3
    STORAGE = 4
    CRYPTO = 5
    ADAPTER = 6
    NET = 7
    TLS = 8
    SIP = 9
    TEMPLATE = 10
    CALLBACK = 11
    INTERNAL = 12


def enum_or_int(cls: Any, value: int) -> Any:
    """`value` as a member of `cls`, or the plain int when a newer
    library returns a value this package does not know yet."""
    try:
        return cls(value)
    except ValueError:
        return value


def json_arg(value: Any) -> Optional[str]:
    """A JSON argument: a str is passed as is, anything else (dict, list)
    is serialised; None stays None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Event:
    """One event of the event log (a copy; safe to keep)."""
    seq: int
    tenant_id: str
    type: str
    subject_id: str
    payload_json: str
    created_at: int

    @property
    def payload(self) -> Dict[str, Any]:
        """The payload, parsed."""
        return json.loads(self.payload_json or "{}")


@dataclass(frozen=True)
class ConsentInfo:
    """A contact's consent for one channel kind and category."""
    state: ConsentState
    changed_at: int
    source: str
    requires_opt_in: bool
    allowed: bool


@dataclass(frozen=True)
class CampaignCounters:
    """A campaign's progress, read from the store."""
    state: CampaignState
    total: int
    queued: int
    sent: int
    delivered: int
    failed: int
    canceled: int
    skipped_consent: int
    skipped_address: int
    deferred_quiet: int
    expired: int
    open: int


@dataclass(frozen=True)
class CallEntry:
    """One entry of a call's timeline."""
    seq: int
    type: str
    leg: CallLeg
    state: CallState
    detail_json: str
    at: int


@dataclass(frozen=True)
class Attachment:
    """An attachment of a message: bytes, or a URL the provider fetches."""
    filename: str
    content_type: str
    data: Optional[bytes] = None
    url: Optional[str] = None


@dataclass(frozen=True)
class SendResult:
    """The outcome of one message of :meth:`Message.send_many`: its id
    when stored, else the error (with the generic text of its code: the
    library keeps no per-message detail)."""
    id: Optional[str]
    error: Optional[Exception] = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class WebhookResponse:
    """What to answer a provider's webhook with. ``error`` is the
    exception the handling raised (None when it was applied or was a
    duplicate); the response is to be sent either way."""
    status: int
    content_type: Optional[str]
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: Optional[Exception] = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class AgentChange:
    """One entry of an agent's activity log: a state change."""
    seq: int
    from_state: int        # an AgentState; 0 for the agent's first entry
    to_state: AgentState
    reason: str
    cause: AgentCause
    call_id: str           # "" when the API moved the agent
    at: int


@dataclass(frozen=True)
class AgentTotals:
    """An agent's figures over a period (``vc_agent_stats``); times in
    milliseconds within the period."""
    calls: int
    answered_calls: int
    talk_ms: int
    wrap_up_ms: int
    idle_ms: int
    break_ms: int
    on_call_ms: int
    offline_ms: int


@dataclass(frozen=True)
class QueueMember:
    """A member of a queue: an agent and its skill tags there."""
    agent_id: str
    skills: List[str]
    position: int          # 1, 2, ...: the round-robin order
    added_at: int


@dataclass(frozen=True)
class ConversationItem:
    """One entry of a conversation's timeline. ``status`` is a
    :class:`MessageStatus` for an outbound message, a :class:`CallState`
    for a call or voicemail, 0 for an inbound message; ``id`` names the
    inbound message, the message (``Message.lookup``) or the call
    (``Call.lookup``)."""
    type: ConversationItemType
    id: str
    at: int
    channel_kind: ChannelKind
    channel_id: str
    text: str
    status: int
    recording_url: str = ""
    duration: int = 0
