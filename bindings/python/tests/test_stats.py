"""Analytics through the binding: the figures of what was sent, received
and called, on an injected clock, in every section's records; filters;
bad windows; another tenant's figures are its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import vyomcomm as vc

from conftest import KEY, SIM_SID, SIM_TOKEN, T0, FakeClock, twilio_inbound

HOUR = 3_600_000
BASE = "https://erp.example.com"


@pytest.fixture
def filled(tmp_path: Path, clock: FakeClock
           ) -> Iterator[Tuple[vc.Context, vc.Tenant, dict]]:
    """A tenant, in the hour starting at T0: 3 SMS sent and 2 refused by
    the provider, 1 email sent; 1 inbound SMS; an agent's 2 answered
    calls and 1 busy one."""
    with vc.Context(str(tmp_path / "s.db"), master_key=KEY, clock=clock,
                    public_base_url=BASE) as ctx:
        t = vc.Tenant.new(ctx, "acme")
        sms = vc.Channel.new(t, "sms", "sandbox-sms", sender="+15550001111",
                             priority=10)
        bad = vc.Channel.new(t, "bad", "sandbox-sms",
                             config={"outcome": "rejected"})
        vc.Channel.new(t, "mail", "sandbox-email",
                       sender="noreply@acme.test").close()
        tw = vc.Channel.new(
            t, "twilio", "twilio-sms",
            config={"account_sid": SIM_SID, "base_url": "http://127.0.0.1:9"},
            credentials={"auth_token": SIM_TOKEN}, sender="+15005550006",
            priority=-10)
        ok = vc.Channel.new(t, "voice-ok", "sandbox-voice",
                            config={"talk_s": 60, "ring_s": 5,
                                    "price_micros": 42000,
                                    "currency": "USD"})
        busy = vc.Channel.new(t, "voice-busy", "sandbox-voice",
                              config={"customer": "busy"})
        vc.Agent.new(t, "asha", "+14155550111", wrap_up_s=10).close()
        for i in range(3):
            vc.Message.send(t, f"+1415555020{i}", "Your order has shipped",
                            channel="sms")
        for i in range(2):
            vc.Message.send(t, f"+1415555030{i}", "Hello", channel="bad")
        vc.Message.send(t, "asha@example.com", "Your invoice",
                        subject="Invoice", kind=vc.ChannelKind.EMAIL)
        res = twilio_inbound(ctx, tw, BASE, "+14155550400", "Hi there")
        assert res.ok
        for channel in ("voice-ok", "voice-ok", "voice-busy"):
            vc.Call.start(t, "+14155550500", agent="asha",
                          channel=channel).close()
            ctx.drain()
        ctx.drain()
        ids = {"sms": sms.id, "bad": bad.id, "tw": tw.id, "ok": ok.id,
               "busy": busy.id}
        yield ctx, t, ids


def test_every_section(filled: Tuple[vc.Context, vc.Tenant, dict]) -> None:
    ctx, t, ids = filled
    s = vc.stats_query(t, T0, T0 + 2 * HOUR)
    assert (s.from_, s.to, s.granularity) == \
        (T0, T0 + 2 * HOUR, vc.StatsGranularity.HOUR)
    assert s.raw["from"] == T0     # the document as the library wrote it

    m = s.messages
    assert m is not None
    assert m.by_status == vc.StatusCounts(queued=6, sent=4, failed=2)
    assert m.by_kind == {
        vc.ChannelKind.EMAIL: vc.StatusCounts(queued=1, sent=1),
        vc.ChannelKind.SMS: vc.StatusCounts(queued=5, sent=3, failed=2)}
    # A message counts under its channel after each move: one sent by
    # kind is queued unrouted ("").
    by_channel = {c.name: c for c in m.by_channel}
    assert set(by_channel) == {"", "sms", "bad", "mail"}
    assert by_channel["sms"].counts == vc.StatusCounts(queued=3, sent=3)
    assert by_channel["sms"].channel_id == ids["sms"]
    assert by_channel["sms"].provider == "sandbox-sms"
    assert by_channel["bad"].counts == vc.StatusCounts(queued=2, failed=2)
    assert by_channel[""].counts == vc.StatusCounts(queued=1)
    assert by_channel["mail"].counts == vc.StatusCounts(sent=1)
    assert m.by_provider["sandbox-sms"].failed == 2
    assert m.by_provider["sandbox-email"].sent == 1
    assert [p.t for p in m.series] == [T0, T0 + HOUR]
    assert m.series[0].counts == m.by_status
    assert m.series[1].counts == vc.StatusCounts()
    assert not m.by_channel_truncated
    assert s.delivery_rate == 0.0          # 0 delivered of 2 known fates

    assert s.latency is not None
    assert s.latency.delivered == 0
    assert s.latency.p50 is None and s.latency.mean is None
    assert s.latency.histogram[-1].le is None
    assert sum(b.n for b in s.latency.histogram) == 0

    assert s.inbound is not None and s.inbound.total == 1
    assert [(c.channel_id, c.provider, c.n)
            for c in s.inbound.by_channel] == [(ids["tw"], "twilio-sms", 1)]
    assert [(p.t, p.n) for p in s.inbound.series] == [(T0, 1),
                                                      (T0 + HOUR, 0)]

    calls = s.calls
    assert calls is not None
    assert (calls.attempts, calls.answered) == (3, 2)
    assert calls.figures.talk_s == 120
    assert calls.figures.answer_rate == pytest.approx(2 / 3, abs=1e-3)
    assert calls.figures.avg_talk_s == 60
    assert calls.figures.handle_s >= calls.figures.talk_s
    assert calls.by_outcome == {
        vc.CallState.COMPLETED: 2, vc.CallState.FAILED: 0,
        vc.CallState.BUSY: 1, vc.CallState.NO_ANSWER: 0,
        vc.CallState.CANCELED: 0}
    assert [(a.name, a.figures.attempts, a.figures.answered)
            for a in calls.by_agent] == [("asha", 3, 2)]
    assert [(p.t, p.attempts, p.answered) for p in calls.series] == \
        [(T0, 3, 2), (T0 + HOUR, 0, 0)]

    assert s.costs is not None
    assert s.costs.by_currency == {"USD": 84000}
    assert {(r.source, r.channel_id, r.provider, r.amount_micros)
            for r in s.costs.rows} == \
        {("call", ids["ok"], "sandbox-voice", 84000)}

    assert s.campaigns == []
    # The JSON as the library wrote it is there too.
    assert json.loads(vc.stats_json(t, T0, T0 + HOUR))["messages"][
        "by_status"]["queued"] == 6


def test_sections_granularity_and_filters(
        filled: Tuple[vc.Context, vc.Tenant, dict]) -> None:
    ctx, t, ids = filled
    s = vc.stats_query(t, T0, T0 + HOUR,
                       what=vc.StatsSection.MESSAGES | vc.StatsSection.CALLS)
    assert s.messages is not None and s.calls is not None
    assert s.latency is None and s.inbound is None and s.costs is None
    assert s.campaigns is None

    day = vc.stats_query(t, T0 - 24 * HOUR, T0 + 24 * HOUR,
                         granularity=vc.StatsGranularity.DAY)
    assert day.granularity == vc.StatsGranularity.DAY
    assert [p.t for p in day.messages.series] == [T0 - 24 * HOUR, T0]
    assert day.messages.series[1].counts.queued == 6

    only = vc.stats_query(t, T0, T0 + HOUR, channel=ids["sms"])
    assert only.channel_id == ids["sms"]
    assert only.messages.by_status == vc.StatusCounts(queued=3, sent=3)
    assert only.inbound.total == 0 and only.calls.attempts == 0

    # The hour before: nothing.
    before = vc.stats_query(t, T0 - HOUR, T0)
    assert before.messages.by_status == vc.StatusCounts()
    assert before.calls.attempts == 0 and before.inbound.total == 0


def test_a_campaign(filled: Tuple[vc.Context, vc.Tenant, dict]) -> None:
    ctx, t, ids = filled
    vc.Template.new(t, "offer", vc.ChannelKind.SMS, text="10% off today",
                    category=vc.Category.TRANSACTIONAL).close()
    contacts = [vc.Contact.upsert(t, phone=f"+1415555060{i}")
                for i in range(4)]
    for cid in contacts[1:]:   # the first has no opt-in: skipped
        t.set_consent(cid, vc.ChannelKind.SMS, vc.ConsentState.OPTED_IN,
                      category=vc.Category.MARKETING)
    with vc.Campaign.new(t, "November offer", "offer", ["sms@sms"],
                         contact_ids=contacts) as c:
        c.start()
        ctx.drain()
        assert c.counters().state == vc.CampaignState.COMPLETED
        s = vc.stats_query(t, T0, T0 + HOUR, campaign=c)
        assert s.campaign_id == c.id
        assert s.calls is None and s.inbound is None  # no campaign's
        assert s.messages.by_status == vc.StatusCounts(queued=3, sent=3)
        [cs] = s.campaigns
        assert (cs.id, cs.name, cs.state) == \
            (c.id, "November offer", vc.CampaignState.COMPLETED)
        assert (cs.funnel.total, cs.funnel.sent,
                cs.funnel.skipped_consent) == (4, 3, 1)
        assert cs.funnel == c.counters()
        assert cs.delivery_rate is None      # no fate known yet
        every = vc.stats_query(t, T0, T0 + HOUR)
        assert [x.id for x in every.campaigns] == [c.id]
        assert every.messages.by_status.queued == 9


def test_bad_queries(filled: Tuple[vc.Context, vc.Tenant, dict]) -> None:
    ctx, t, ids = filled
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0 + 1, T0 + HOUR)          # not a whole hour
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0, T0)                     # empty window
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0, T0 + 745 * HOUR)        # over 31 days hourly
    vc.stats_query(t, T0, T0 + 745 * HOUR,
                   granularity=vc.StatsGranularity.DAY)
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0, T0 + HOUR, granularity=3)
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0, T0 + HOUR, what=1 << 6)
    with pytest.raises(vc.InvalidArgument):
        vc.stats_query(t, T0, T0 + HOUR, channel="sms")   # a name
    with pytest.raises(vc.NotFound):
        vc.stats_query(t, T0, T0 + HOUR,
                       campaign="01HZZZZZZZZZZZZZZZZZZZZZZZ")


def test_another_tenant_sees_its_own_figures(
        filled: Tuple[vc.Context, vc.Tenant, dict]) -> None:
    ctx, t, ids = filled
    with vc.Tenant.new(ctx, "globex") as other:
        s = vc.stats_query(other, T0, T0 + HOUR)
        assert s.messages.by_status == vc.StatusCounts()
        assert s.messages.by_channel == [] and s.messages.by_kind == {}
        assert s.inbound.total == 0 and s.calls.attempts == 0
        assert s.calls.by_agent == [] and s.costs.rows == []
        with pytest.raises(vc.NotFound):   # the first tenant's channel
            vc.stats_query(other, T0, T0 + HOUR, channel=ids["sms"])
