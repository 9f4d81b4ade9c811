"""Analytics: a tenant's figures over a window (``vc_stats_query``),
read from the library's hourly rollups and returned as plain records.

The library answers one JSON document (docs/analytics.md describes it);
:func:`stats_query` parses it into the records below. ``Stats.raw``
keeps the whole document, so members a newer library adds stay
reachable."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from . import _lib
from .callcenter import Ref, ref
from .tenant import Tenant
from .types import (CallState, CampaignCounters, CampaignState, ChannelKind,
                    StatsGranularity, StatsSection)

lib = _lib.lib

#: The message statuses a message is counted into, in the library's order.
STATUS_NAMES = ("queued", "sent", "delivered", "read", "failed",
                "undelivered", "bounced", "canceled")


@dataclass(frozen=True)
class StatusCounts:
    """Moves of messages into each status (a message counts in the hour
    of each move; ``read`` is a subset of ``delivered``)."""
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    undelivered: int = 0
    bounced: int = 0
    canceled: int = 0


@dataclass(frozen=True)
class ChannelMessages:
    """Message counts of one channel ("" = not routed yet), with its
    current name and provider."""
    channel_id: str
    name: str
    provider: str
    counts: StatusCounts


@dataclass(frozen=True)
class MessagePoint:
    """One point of the message series: the hour or UTC day starting at
    ``t`` (Unix ms)."""
    t: int
    counts: StatusCounts


@dataclass(frozen=True)
class MessageStats:
    """The messages section."""
    by_status: StatusCounts
    by_kind: Dict[Any, StatusCounts]       # ChannelKind -> counts
    by_channel: List[ChannelMessages]
    by_provider: Dict[str, StatusCounts]
    series: List[MessagePoint]
    by_channel_truncated: bool = False


@dataclass(frozen=True)
class LatencyBucket:
    """Messages delivered within ``le`` ms (None: past the last bound)."""
    le: Optional[int]
    n: int


@dataclass(frozen=True)
class LatencyStats:
    """Queued-to-delivered latency, in milliseconds. The percentiles are
    bucket upper bounds, None when nothing was delivered or past a day;
    the mean is exact."""
    delivered: int
    mean: Optional[float]
    p50: Optional[int]
    p90: Optional[int]
    p99: Optional[int]
    histogram: List[LatencyBucket]


@dataclass(frozen=True)
class ChannelCount:
    """Inbound messages of one channel."""
    channel_id: str
    name: str
    provider: str
    n: int


@dataclass(frozen=True)
class CountPoint:
    """One point of a series of counts."""
    t: int
    n: int


@dataclass(frozen=True)
class InboundStats:
    """The inbound section: messages received, by channel and over
    time."""
    total: int
    by_channel: List[ChannelCount]
    series: List[CountPoint]
    by_channel_truncated: bool = False


@dataclass(frozen=True)
class CampaignStats:
    """A campaign's funnel over its whole life (not the window's)."""
    id: str
    name: str
    state: CampaignState
    created_at: int
    funnel: CampaignCounters
    delivery_rate: Optional[float]


@dataclass(frozen=True)
class CallFigures:
    """Call attempts (calls that ended in the window), answered ones
    (bridged), talk and handle seconds, and their ratios (None when
    there is nothing to divide)."""
    attempts: int
    answered: int
    answer_rate: Optional[float]
    talk_s: int
    handle_s: int
    avg_talk_s: Optional[float]
    avg_handle_s: Optional[float]


@dataclass(frozen=True)
class AgentCalls:
    """One agent's calls ("" agent: calls without one)."""
    agent_id: str
    name: str
    figures: CallFigures


@dataclass(frozen=True)
class CallPoint:
    """One point of the call series."""
    t: int
    attempts: int
    answered: int


@dataclass(frozen=True)
class CallStats:
    """The calls section."""
    figures: CallFigures
    by_outcome: Dict[Any, int]           # final CallState -> calls
    by_agent: List[AgentCalls]
    series: List[CallPoint]
    by_agent_truncated: bool = False

    # The totals, for short access (stats.calls.attempts).
    @property
    def attempts(self) -> int:
        return self.figures.attempts

    @property
    def answered(self) -> int:
        return self.figures.answered


@dataclass(frozen=True)
class CostRow:
    """Ledger amounts, net of reversals, for one source, channel,
    provider, campaign and currency."""
    source: str
    channel_id: str
    provider: str
    campaign_id: str
    currency: str
    amount_micros: int


@dataclass(frozen=True)
class CostStats:
    """The costs section: amounts in micro-units per currency (never
    added across currencies), and every row."""
    by_currency: Dict[str, int]
    rows: List[CostRow]
    rows_truncated: bool = False


@dataclass(frozen=True)
class Stats:
    """A tenant's figures over [from_, to). A section not asked for (or
    left out by a campaign filter) is None."""
    from_: int
    to: int
    granularity: StatsGranularity
    channel_id: str
    campaign_id: str
    messages: Optional[MessageStats]
    delivery_rate: Optional[float]
    latency: Optional[LatencyStats]
    inbound: Optional[InboundStats]
    campaigns: Optional[List[CampaignStats]]
    calls: Optional[CallStats]
    costs: Optional[CostStats]
    campaigns_truncated: bool = False
    raw: Dict[str, Any] = field(default_factory=dict, repr=False,
                                compare=False)


# ---- parsing -----------------------------------------------------------------


def _int(v: Any) -> int:
    return int(v) if v is not None else 0


def _opt_int(v: Any) -> Optional[int]:
    return None if v is None else int(v)


def _opt_float(v: Any) -> Optional[float]:
    return None if v is None else float(v)


def _named(cls: Any, name: str) -> Any:
    """The enum member named `name` ("sms" -> ChannelKind.SMS), or the
    name itself when this package does not know it."""
    try:
        return cls[name.upper()]
    except KeyError:
        return name


def _counts(o: Mapping[str, Any]) -> StatusCounts:
    return StatusCounts(*(_int(o.get(n)) for n in STATUS_NAMES))


def _messages(m: Mapping[str, Any]) -> MessageStats:
    return MessageStats(
        by_status=_counts(m.get("by_status", {})),
        by_kind={_named(ChannelKind, o.get("kind", "")): _counts(o)
                 for o in m.get("by_kind", [])},
        by_channel=[ChannelMessages(o.get("channel_id", ""),
                                    o.get("name", ""), o.get("provider", ""),
                                    _counts(o))
                    for o in m.get("by_channel", [])],
        by_provider={o.get("provider", ""): _counts(o)
                     for o in m.get("by_provider", [])},
        series=[MessagePoint(_int(o.get("t")), _counts(o))
                for o in m.get("series", [])],
        by_channel_truncated=bool(m.get("by_channel_truncated", False)))


def _latency(m: Mapping[str, Any]) -> LatencyStats:
    return LatencyStats(
        delivered=_int(m.get("delivered")), mean=_opt_float(m.get("mean")),
        p50=_opt_int(m.get("p50")), p90=_opt_int(m.get("p90")),
        p99=_opt_int(m.get("p99")),
        histogram=[LatencyBucket(_opt_int(o.get("le")), _int(o.get("n")))
                   for o in m.get("histogram", [])])


def _inbound(m: Mapping[str, Any]) -> InboundStats:
    return InboundStats(
        total=_int(m.get("total")),
        by_channel=[ChannelCount(o.get("channel_id", ""), o.get("name", ""),
                                 o.get("provider", ""), _int(o.get("n")))
                    for o in m.get("by_channel", [])],
        series=[CountPoint(_int(o.get("t")), _int(o.get("n")))
                for o in m.get("series", [])],
        by_channel_truncated=bool(m.get("by_channel_truncated", False)))


def _campaign(o: Mapping[str, Any]) -> CampaignStats:
    state = _named(CampaignState, o.get("state", ""))
    f = o.get("funnel", {})
    funnel = CampaignCounters(state, *(_int(f.get(n))
                                       for n in _lib.COUNTER_FIELDS))
    return CampaignStats(o.get("id", ""), o.get("name", ""), state,
                         _int(o.get("created_at")), funnel,
                         _opt_float(o.get("delivery_rate")))


def _figures(o: Mapping[str, Any]) -> CallFigures:
    return CallFigures(
        _int(o.get("attempts")), _int(o.get("answered")),
        _opt_float(o.get("answer_rate")), _int(o.get("talk_s")),
        _int(o.get("handle_s")), _opt_float(o.get("avg_talk_s")),
        _opt_float(o.get("avg_handle_s")))


def _calls(m: Mapping[str, Any]) -> CallStats:
    return CallStats(
        figures=_figures(m),
        by_outcome={_named(CallState, k): _int(v)
                    for k, v in m.get("by_outcome", {}).items()},
        by_agent=[AgentCalls(o.get("agent_id", ""), o.get("name", ""),
                             _figures(o))
                  for o in m.get("by_agent", [])],
        series=[CallPoint(_int(o.get("t")), _int(o.get("attempts")),
                          _int(o.get("answered")))
                for o in m.get("series", [])],
        by_agent_truncated=bool(m.get("by_agent_truncated", False)))


def _costs(m: Mapping[str, Any]) -> CostStats:
    return CostStats(
        by_currency={o.get("currency", ""): _int(o.get("amount_micros"))
                     for o in m.get("by_currency", [])},
        rows=[CostRow(o.get("source", ""), o.get("channel_id", ""),
                      o.get("provider", ""), o.get("campaign_id", ""),
                      o.get("currency", ""), _int(o.get("amount_micros")))
              for o in m.get("rows", [])],
        rows_truncated=bool(m.get("rows_truncated", False)))


def parse(doc: Mapping[str, Any]) -> Stats:
    """A :class:`Stats` from the library's JSON document (parsed)."""
    def section(key: str, fn: Any) -> Any:
        v = doc.get(key)
        return None if v is None else fn(v)

    return Stats(
        from_=_int(doc.get("from")), to=_int(doc.get("to")),
        granularity=_named(StatsGranularity, doc.get("granularity", "")),
        channel_id=doc.get("channel_id", ""),
        campaign_id=doc.get("campaign_id", ""),
        messages=section("messages", _messages),
        delivery_rate=_opt_float(doc.get("delivery_rate")),
        latency=section("latency_ms", _latency),
        inbound=section("inbound", _inbound),
        campaigns=section("campaigns",
                          lambda v: [_campaign(o) for o in v]),
        calls=section("calls", _calls),
        costs=section("costs", _costs),
        campaigns_truncated=bool(doc.get("campaigns_truncated", False)),
        raw=dict(doc))


def stats_json(tenant: Tenant, from_: int, to: int, *,
               granularity: int = StatsGranularity.HOUR,
               what: int = StatsSection.ALL, channel: Ref = None,
               campaign: Ref = None) -> str:
    """The library's JSON document as is (see :func:`stats_query`)."""
    q = _lib.init(_lib.vc_stats_spec, "vc_stats_spec_init",
                  _lib.VC_STATS_SPEC_VERSION)
    q.from_ = from_
    q.to = to
    q.granularity = int(granularity)
    q.what = int(what)
    q.channel_id = _lib.enc(ref(channel))
    q.campaign_id = _lib.enc(ref(campaign))
    b = _lib.vc_buf()
    lib.vc_stats_query(ctypes.byref(b), tenant._h, ctypes.byref(q))
    return _lib.buf_take(b).decode("utf-8")


def stats_query(tenant: Tenant, from_: int, to: int, *,
                granularity: int = StatsGranularity.HOUR,
                what: int = StatsSection.ALL, channel: Ref = None,
                campaign: Ref = None) -> Stats:
    """A tenant's figures over [from_, to) (Unix ms, whole UTC hours):
    the :class:`StatsSection` sections in `what`, series by
    :class:`StatsGranularity` (at most 31 days hourly, 400 days daily),
    optionally for one `channel` or `campaign` (object or id). Raises
    InvalidArgument (the message names the member out of range),
    NotFound (a channel or campaign not the tenant's)."""
    doc = json.loads(stats_json(tenant, from_, to, granularity=granularity,
                                what=what, channel=channel,
                                campaign=campaign))
    return parse(doc)


__all__ = ["stats_query", "stats_json", "Stats", "StatusCounts",
           "ChannelMessages", "MessagePoint", "MessageStats",
           "LatencyBucket", "LatencyStats", "ChannelCount", "CountPoint",
           "InboundStats", "CampaignStats", "CallFigures", "AgentCalls",
           "CallPoint", "CallStats", "CostRow", "CostStats"]
