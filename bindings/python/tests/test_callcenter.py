"""The call center through the binding: agents and their states, queues
with members, inbound numbers; bad input, and another tenant seeing
nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import vyomcomm as vc

from conftest import KEY, T0, FakeClock


@pytest.fixture
def cctx(tmp_path: Path, clock: FakeClock) -> Iterator[vc.Context]:
    with vc.Context(str(tmp_path / "cc.db"), master_key=KEY,
                    clock=clock) as c:
        yield c


@pytest.fixture
def t(cctx: vc.Context) -> Iterator[vc.Tenant]:
    with vc.Tenant.new(cctx, "acme") as tenant:
        yield tenant


def test_agents(cctx: vc.Context, t: vc.Tenant, clock: FakeClock) -> None:
    a = vc.Agent.new(t, "asha", "+14155550111", display_name="Asha Rao",
                     metadata={"team": "billing"})
    assert a.name == "asha" and a.number == "+14155550111"
    assert a.display_name == "Asha Rao"
    assert a.metadata == {"team": "billing"}
    assert a.state == vc.AgentState.OFFLINE
    assert a.wrap_up_seconds == 30            # the library's default
    assert a.created_at == T0 and a.state_since == T0
    assert a.call_id == "" and a.reason == ""
    b = vc.Agent.new(t, "bala", "sip:bala@pbx.example.com", wrap_up_s=0)
    c = vc.Agent.new(t, "chen", "+14155550113")

    # Lookup by id and by name, list in creation order, paged.
    assert vc.Agent.lookup(t, a.id).name == "asha"
    assert vc.Agent.lookup(t, "bala").id == b.id
    assert [x.name for x in vc.Agent.list(t)] == ["asha", "bala", "chen"]
    it = vc.Agent.list(t)
    assert next(it).name == "asha"
    rest = vc.Agent.list(t, after=it.cursor)
    assert [x.name for x in rest] == ["bala", "chen"]
    it.close()

    # Update: the object shows the new values; None keeps a value.
    clock.advance(1000)
    c.update(display_name="Chen Li", wrap_up_s=120)
    assert c.display_name == "Chen Li" and c.wrap_up_seconds == 120
    assert c.number == "+14155550113" and c.updated_at == T0 + 1000
    assert vc.Agent.lookup(t, "chen").display_name == "Chen Li"

    # States the API moves, with the activity log and the figures.
    a.set_state(vc.AgentState.AVAILABLE)
    assert a.state == vc.AgentState.AVAILABLE
    assert [x.name for x in vc.Agent.list(
        t, state=vc.AgentState.AVAILABLE)] == ["asha"]
    clock.advance(60_000)
    a.set_state(vc.AgentState.BREAK, "lunch")
    assert a.state == vc.AgentState.BREAK and a.reason == "lunch"
    assert a.state_since == T0 + 61_000
    clock.advance(30_000)
    a.set_state(vc.AgentState.OFFLINE)
    log = list(a.activity())
    assert [(e.from_state, e.to_state, e.reason) for e in log] == [
        (0, vc.AgentState.OFFLINE, ""),
        (vc.AgentState.OFFLINE, vc.AgentState.AVAILABLE, ""),
        (vc.AgentState.AVAILABLE, vc.AgentState.BREAK, "lunch"),
        (vc.AgentState.BREAK, vc.AgentState.OFFLINE, "")]
    assert [e.seq for e in log] == [1, 2, 3, 4]
    assert all(e.cause == vc.AgentCause.API and e.call_id == ""
               for e in log)
    assert [e.at for e in a.activity(since=T0 + 61_000)] == [
        T0 + 61_000, T0 + 91_000]
    clock.advance(9_000)
    totals = a.stats(T0)
    assert totals == vc.AgentTotals(
        calls=0, answered_calls=0, talk_ms=0, wrap_up_ms=0,
        idle_ms=60_000, break_ms=30_000, on_call_ms=0,
        offline_ms=1_000 + 9_000)

    # Bad input raises the exception of its code and changes nothing.
    with pytest.raises(vc.AlreadyExists):
        vc.Agent.new(t, "asha", "+14155550199")
    with pytest.raises(vc.AlreadyExists):
        b.update(name="asha")
    assert b.name == "bala"
    with pytest.raises(vc.InvalidArgument):
        vc.Agent.new(t, "Bad Name", "+14155550199")
    with pytest.raises(vc.InvalidArgument):
        vc.Agent.new(t, "dev", "4155550199")       # not E.164
    with pytest.raises(vc.InvalidArgument):
        vc.Agent.new(t, "dev", "+14155550199", wrap_up_s=3601)
    with pytest.raises(vc.InvalidArgument):
        b.set_state(vc.AgentState.ON_CALL)          # only calls set it
    with pytest.raises(vc.InvalidArgument):
        b.set_state(vc.AgentState.BREAK)            # a break needs a reason
    with pytest.raises(vc.InvalidArgument):
        a.stats(T0 + 10, T0)
    with pytest.raises(vc.NotFound):
        vc.Agent.lookup(t, "nobody")
    with pytest.raises(TypeError):
        vc.Agent.lookup(t, 42)  # type: ignore[arg-type]
    assert len(list(vc.Agent.list(t))) == 3


def test_an_agent_on_a_call(cctx: vc.Context, t: vc.Tenant,
                            clock: FakeClock) -> None:
    """Calls move the agent: on_call while bridged (the API cannot move
    it, a second call is Busy), wrap-up after, available once the
    wrap-up time ran out on the injected clock."""
    vc.Channel.new(t, "voice", "sandbox-voice", sender="+14155550000",
                   config={"talk_s": -1}).close()
    a = vc.Agent.new(t, "asha", "+14155550111", wrap_up_s=20)
    a.set_state(vc.AgentState.AVAILABLE)
    call = vc.Call.start(t, "+14155550123", agent="asha")
    cctx.drain()
    call.refresh()
    assert call.state == vc.CallState.BRIDGED
    assert call.agent_id == a.id
    a.refresh()
    assert a.state == vc.AgentState.ON_CALL and a.call_id == call.id
    with pytest.raises(vc.InvalidState):
        a.set_state(vc.AgentState.OFFLINE)
    with pytest.raises(vc.Busy):
        vc.Call.start(t, "+14155550124", agent=a.id)
    call.hangup()
    cctx.drain()
    a.refresh()
    assert a.state == vc.AgentState.WRAP_UP and a.call_id == ""
    # The wrap-up runs 20 s from the call's end (the sandbox's times).
    assert a.wrap_up_until == a.state_since + 20_000
    clock.advance(a.wrap_up_until - T0 - 1)
    assert a.refresh().state == vc.AgentState.WRAP_UP
    clock.advance(1)
    assert a.refresh().state == vc.AgentState.AVAILABLE
    causes = [e.cause for e in a.activity()]
    assert vc.AgentCause.CALL in causes
    assert any(e.call_id == call.id for e in a.activity())
    assert a.stats(T0).calls == 1
    call.close()


def test_queues_and_members(t: vc.Tenant) -> None:
    asha = vc.Agent.new(t, "asha", "+14155550111")
    bala = vc.Agent.new(t, "bala", "+14155550112")
    spill = vc.Queue.new(t, "spill")
    q = vc.Queue.new(t, "support", strategy=vc.QueueStrategy.BY_SKILL,
                     max_wait_s=120, announce_position=True,
                     overflow=vc.QueueOverflow.QUEUE, overflow_target=spill,
                     moh_url="https://cdn.example.com/moh.mp3")
    assert q.name == "support" and q.strategy == vc.QueueStrategy.BY_SKILL
    assert q.max_wait_seconds == 120 and q.announce_position
    assert q.overflow == vc.QueueOverflow.QUEUE
    assert q.overflow_target == spill.id
    assert q.moh_url == "https://cdn.example.com/moh.mp3"
    assert spill.strategy == vc.QueueStrategy.LONGEST_IDLE  # defaults
    assert spill.max_wait_seconds == 300
    assert spill.overflow == vc.QueueOverflow.HANGUP
    assert not spill.announce_position

    q.add_member(asha, ["billing", "hindi"])
    q.add_member("bala", "sales")
    ms = list(q.members())
    assert [(m.agent_id, m.skills, m.position) for m in ms] == [
        (asha.id, ["billing", "hindi"], 1), (bala.id, ["sales"], 2)]
    q.add_member(asha.id, "tamil")   # again: new tags, same place
    assert [(m.agent_id, m.skills, m.position) for m in q.members()] == [
        (asha.id, ["tamil"], 1), (bala.id, ["sales"], 2)]
    q.remove_member(bala)
    assert [m.agent_id for m in q.members()] == [asha.id]

    # An agent who leaves: only once offline; out of every queue.
    spill.add_member(bala)
    bala.set_state(vc.AgentState.AVAILABLE)
    with pytest.raises(vc.InvalidState):
        bala.delete()
    assert [m.agent_id for m in spill.members()] == [bala.id]
    bala.set_state(vc.AgentState.OFFLINE)
    bala.delete()
    assert list(spill.members()) == []
    assert bala.name == "bala"            # the snapshot stays readable
    with pytest.raises(vc.NotFound):
        vc.Agent.lookup(t, "bala")
    with pytest.raises(vc.NotFound):
        bala.delete()
    bala = vc.Agent.new(t, "bala", "+14155550112")   # the name is free

    q.update(strategy=vc.QueueStrategy.ROUND_ROBIN, max_wait_s=0)
    assert q.strategy == vc.QueueStrategy.ROUND_ROBIN
    assert q.max_wait_seconds == 0 and q.overflow_target == spill.id
    with vc.Queue.lookup(t, "support") as again:
        assert again.id == q.id and again.max_wait_seconds == 0
    assert vc.Queue.lookup(t, q.id).name == "support"
    assert [x.name for x in vc.Queue.list(t)] == ["spill", "support"]

    # Bad input.
    with pytest.raises(vc.AlreadyExists):
        vc.Queue.new(t, "support")
    with pytest.raises(vc.NotFound):
        q.add_member("nobody")
    with pytest.raises(vc.NotFound):
        q.remove_member(bala)             # not a member any more
    with pytest.raises(vc.InvalidArgument):
        q.add_member(bala, "Not A Tag")
    with pytest.raises(vc.InvalidArgument):
        vc.Queue.new(t, "x", strategy=9)
    with pytest.raises(vc.InvalidArgument):
        vc.Queue.new(t, "x", max_wait_s=86401)
    with pytest.raises(vc.NotFound):
        vc.Queue.new(t, "x", overflow=vc.QueueOverflow.QUEUE,
                     overflow_target="nowhere")
    with pytest.raises(vc.InvalidArgument):
        # Overflowing must not lead back to the queue.
        spill.update(overflow=vc.QueueOverflow.QUEUE, overflow_target=q)
    with pytest.raises(vc.InvalidState):
        spill.delete()                    # support overflows to it
    assert [x.name for x in vc.Queue.list(t)] == ["spill", "support"]

    q.delete()
    with pytest.raises(vc.NotFound):
        vc.Queue.lookup(t, "support")
    with pytest.raises(vc.NotFound):
        q.delete()
    spill.delete()
    assert list(vc.Queue.list(t)) == []


def test_numbers(t: vc.Tenant) -> None:
    voice = vc.Channel.new(t, "voice", "sandbox-voice",
                           sender="+14155550000")
    sms = vc.Channel.new(t, "sms", "sandbox-sms")
    agent = vc.Agent.new(t, "asha", "+14155550111")
    q = vc.Queue.new(t, "support")
    n1 = vc.Number.new(t, "+91 44 1234 5678", channel=voice, entry=q,
                       label="Support line")
    assert n1.number == "+914412345678"
    assert n1.channel_id == voice.id
    assert n1.entry_kind == vc.NumberEntry.QUEUE and n1.entry_id == q.id
    assert n1.label == "Support line"
    n2 = vc.Number.new(t, "sip:Desk@PBX.example.com:5060;transport=udp",
                       channel="voice", entry="asha",
                       entry_kind=vc.NumberEntry.AGENT)
    assert n2.number == "sip:Desk@pbx.example.com"
    assert n2.entry_id == agent.id

    # Found in the forms providers write it in.
    for written in ("+91-44-12345678", "0091 44 12345678", "914412345678"):
        assert vc.Number.find(t, written).id == n1.id
    assert vc.Number.lookup(t, n2.id).number == n2.number
    assert [x.id for x in vc.Number.list(t)] == [n1.id, n2.id]
    assert [x.id for x in vc.Number.list(
        t, entry_kind=vc.NumberEntry.AGENT)] == [n2.id]
    assert [x.id for x in vc.Number.list(t, entry=q)] == [n1.id]
    assert [x.id for x in vc.Number.list(t, channel=voice)] == \
        [n1.id, n2.id]

    n2.update(label="Asha's desk", entry=q)
    assert n2.label == "Asha's desk"
    assert n2.entry_kind == vc.NumberEntry.QUEUE and n2.entry_id == q.id

    # Bad input.
    with pytest.raises(vc.AlreadyExists):
        vc.Number.new(t, "+914412345678", channel=voice, entry=q)
    with pytest.raises(vc.InvalidArgument):
        vc.Number.new(t, "044 1234 5678", channel=voice, entry=q)  # national
    with pytest.raises(vc.InvalidArgument):
        vc.Number.new(t, "+14155550100", channel=sms, entry=q)  # not voice
    with pytest.raises(vc.NotFound):
        vc.Number.new(t, "+14155550100", channel="nowhere", entry=q)
    with pytest.raises(vc.NotFound):
        vc.Number.new(t, "+14155550100", channel=voice, entry="nobody",
                      entry_kind=vc.NumberEntry.AGENT)
    with pytest.raises(vc.InvalidArgument):
        vc.Number.new(t, "+14155550100", channel=voice, entry="support")
    with pytest.raises(vc.NotFound):
        vc.Number.find(t, "+14155550100")
    with pytest.raises(vc.InvalidState):
        q.delete()                          # numbers route to it

    n1.delete()
    assert n1.number == "+914412345678"     # the snapshot still answers
    with pytest.raises(vc.NotFound):
        vc.Number.lookup(t, n1.id)
    with pytest.raises(vc.NotFound):
        n1.delete()
    assert [x.id for x in vc.Number.list(t)] == [n2.id]


def test_another_tenant_sees_nothing(cctx: vc.Context, t: vc.Tenant) -> None:
    voice = vc.Channel.new(t, "voice", "sandbox-voice")
    agent = vc.Agent.new(t, "asha", "+14155550111")
    q = vc.Queue.new(t, "support")
    q.add_member(agent)
    n = vc.Number.new(t, "+14155550100", channel=voice, entry=q)
    with vc.Tenant.new(cctx, "globex") as other:
        other_voice = vc.Channel.new(other, "voice", "sandbox-voice")
        assert list(vc.Agent.list(other)) == []
        assert list(vc.Queue.list(other)) == []
        assert list(vc.Number.list(other)) == []
        for key in (agent.id, "asha"):
            with pytest.raises(vc.NotFound):
                vc.Agent.lookup(other, key)
        for key in (q.id, "support"):
            with pytest.raises(vc.NotFound):
                vc.Queue.lookup(other, key)
        with pytest.raises(vc.NotFound):
            vc.Number.lookup(other, n.id)
        with pytest.raises(vc.NotFound):
            vc.Number.find(other, "+14155550100")
        # Names are per tenant; numbers are unique across tenants.
        theirs = vc.Agent.new(other, "asha", "+14155550999")
        oq = vc.Queue.new(other, "support")
        with pytest.raises(vc.AlreadyExists):
            vc.Number.new(other, "+14155550100", channel=other_voice,
                          entry=oq)
        # Another tenant's objects cannot be referenced.
        with pytest.raises(vc.NotFound):
            oq.add_member(agent.id)
        with pytest.raises(vc.NotFound):
            vc.Number.new(other, "+14155550101", channel=voice.id, entry=oq)
        with pytest.raises(vc.NotFound):
            vc.Number.new(other, "+14155550101", channel=other_voice,
                          entry=q.id, entry_kind=vc.NumberEntry.QUEUE)
        assert [m.agent_id for m in q.members()] == [agent.id]
        assert theirs.id != agent.id
        assert vc.Agent.lookup(t, "asha").number == "+14155550111"


def test_closing_the_tenant_closes_its_objects(cctx: vc.Context) -> None:
    t = vc.Tenant.new(cctx, "acme")
    a = vc.Agent.new(t, "asha", "+14155550111")
    q = vc.Queue.new(t, "support")
    q.add_member(a)
    members = q.members()
    agents = vc.Agent.list(t)
    t.close()
    assert a.closed and q.closed
    assert list(members) == [] and list(agents) == []
    with pytest.raises(ValueError):
        a.name
