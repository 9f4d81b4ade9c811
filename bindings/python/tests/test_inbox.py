"""The unified inbox through the binding: inbound SMS, posted as Twilio
signs them and handed to Context.handle_webhook, open and move
conversations; the timeline; a reply goes out on the inbound's channel
(to the provider simulator, delivered by its signed callbacks through
the example webhook server); statuses, snooze on the injected clock,
assignment, filters, search and paging; bad input; another tenant sees
nothing."""

from __future__ import annotations

import inspect
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

import vyomcomm as vc
import webhook_server

from conftest import (KEY, SIM_SID, SIM_TOKEN, T0, FakeClock, Sim,
                      twilio_inbound)

BASE = "https://erp.example.com"
OURS = "+15005550006"


def twilio_channel(t: vc.Tenant, base_url: str) -> vc.Channel:
    return vc.Channel.new(
        t, "sms", "twilio-sms",
        config={"account_sid": SIM_SID, "base_url": base_url},
        credentials={"auth_token": SIM_TOKEN}, sender=OURS)


@pytest.fixture
def inbox(tmp_path: Path, clock: FakeClock
          ) -> Iterator[Tuple[vc.Context, vc.Tenant, vc.Channel]]:
    """A tenant with a Twilio SMS channel that sends nowhere (no engine
    runs): for what only inbound messages and the store decide."""
    with vc.Context(str(tmp_path / "inbox.db"), master_key=KEY,
                    clock=clock, public_base_url=BASE) as ctx:
        t = vc.Tenant.new(ctx, "acme")
        yield ctx, t, twilio_channel(t, "http://127.0.0.1:9")


def inbound(ctx: vc.Context, ch: vc.Channel, from_: str, text: str,
            base: str = BASE) -> None:
    res = twilio_inbound(ctx, ch, base, from_, text)
    assert res.ok and res.status == 200, res


def conversation_of(t: vc.Tenant, phone: str) -> vc.Conversation:
    with vc.Contact.find_by_address(t, vc.AddressKind.PHONE, phone) as k:
        return vc.Conversation.of_contact(t, k.id)


def test_inbound_opens_a_conversation_and_a_reply_goes_out(
        tmp_path: Path, sim: Sim) -> None:
    server = webhook_server.make_server(None, "127.0.0.1", 0)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with vc.Context(str(tmp_path / "r.db"), master_key=KEY,
                        public_base_url=base,
                        allow_private_network=True) as ctx:
            server.vc_context = ctx
            t = vc.Tenant.new(ctx, "acme")
            ch = twilio_channel(t, sim.url)
            assert list(vc.Conversation.list(t)) == []

            inbound(ctx, ch, "+14155550101", "Hello, has my order shipped?",
                    base)
            convs = list(vc.Conversation.list(t))
            assert len(convs) == 1
            c = convs[0]
            assert c.status == vc.ConversationStatus.OPEN
            assert c.unread == 1 and c.assignee_id == ""
            assert c.last_channel_id == ch.id
            assert c.last_channel_kind == vc.ChannelKind.SMS
            # The unknown sender became a contact.
            with vc.Contact.lookup(t, c.contact_id) as k:
                assert k.address(vc.AddressKind.PHONE) == "+14155550101"
            assert conversation_of(t, "+14155550101").id == c.id
            items = list(c.items())
            assert [(i.type, i.text) for i in items] == [
                (vc.ConversationItemType.INBOUND,
                 "Hello, has my order shipped?")]
            assert items[0].channel_id == ch.id and items[0].status == 0

            inbound(ctx, ch, "+14155550101", "Order A-42", base)
            c = c.reload()
            assert c.unread == 2

            mid = c.reply("Yes: it left our warehouse today.")
            c = c.reload()
            assert c.status == vc.ConversationStatus.PENDING
            assert c.unread == 0
            items = list(c.items())
            assert [i.type for i in items] == [
                vc.ConversationItemType.INBOUND,
                vc.ConversationItemType.INBOUND,
                vc.ConversationItemType.OUTBOUND]
            assert items[-1].id == mid
            assert items[-1].status == vc.MessageStatus.QUEUED
            assert [i.id for i in c.items(newest_first=True)] == \
                [i.id for i in reversed(items)]

            # The engine sends it to the simulator's Twilio, whose
            # signed status callbacks come back through the example
            # server.
            ctx.start(1)
            status = vc.MessageStatus.QUEUED
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with vc.Message.lookup(t, mid) as m:
                    status = m.status
                if status == vc.MessageStatus.DELIVERED:
                    break
                time.sleep(0.05)
            ctx.stop()
            assert status == vc.MessageStatus.DELIVERED
            with vc.Message.lookup(t, mid) as m:
                assert m.to == "+14155550101" and m.channel_id == ch.id
                assert m.contact_id == c.contact_id
                assert m.provider_id.startswith("SM")
            assert list(c.items())[-1].status == vc.MessageStatus.DELIVERED

            # The customer's next message reopens it.
            inbound(ctx, ch, "+14155550101", "Thanks!", base)
            c = c.reload()
            assert c.status == vc.ConversationStatus.OPEN and c.unread == 1
            assert len(list(c.items())) == 4
    finally:
        server.shutdown()
        server.server_close()


def test_status_assignment_filters(
        inbox: Tuple[vc.Context, vc.Tenant, vc.Channel],
        clock: FakeClock) -> None:
    ctx, t, ch = inbox
    asha = vc.Agent.new(t, "asha", "+14155550111")
    inbound(ctx, ch, "+14155550101", "Where is my invoice?")
    clock.advance(1000)
    inbound(ctx, ch, "+14155550102", "Please call me back")
    clock.advance(1000)
    inbound(ctx, ch, "+14155550103", "Hello")
    a = conversation_of(t, "+14155550101")
    b = conversation_of(t, "+14155550102")
    c = conversation_of(t, "+14155550103")

    # Newest activity first, paged with a cursor.
    assert [x.id for x in vc.Conversation.list(t)] == [c.id, b.id, a.id]
    it = vc.Conversation.list(t)
    assert next(it).id == c.id
    assert [x.id for x in vc.Conversation.list(t, after=it.cursor)] == \
        [b.id, a.id]
    it.close()

    a.assign(asha)
    assert a.reload().assignee_id == asha.id
    assert [x.id for x in vc.Conversation.list(t, assignee=asha)] == [a.id]
    assert [x.id for x in vc.Conversation.list(t, unassigned=True)] == \
        [c.id, b.id]
    b.mark_read()
    assert b.reload().unread == 0
    assert [x.id for x in vc.Conversation.list(t, unread=True)] == \
        [c.id, a.id]
    c.resolve()
    assert [x.id for x in vc.Conversation.list(
        t, status=vc.ConversationStatus.RESOLVED)] == [c.id]
    assert [x.id for x in vc.Conversation.list(
        t, status=vc.ConversationStatus.OPEN)] == [b.id, a.id]
    c.reopen()
    assert c.reload().status == vc.ConversationStatus.OPEN
    assert [x.id for x in vc.Conversation.list(t, text="INVOICE")] == [a.id]
    assert [x.id for x in vc.Conversation.list(
        t, channel_kind=vc.ChannelKind.SMS)] == [c.id, b.id, a.id]
    assert list(vc.Conversation.list(
        t, channel_kind=vc.ChannelKind.EMAIL)) == []
    a.unassign()
    assert a.reload().assignee_id == ""
    a.assign("asha")                      # by name
    assert a.reload().assignee_id == asha.id
    a.unassign()

    # Snoozed until a time; open again once the clock passes it.
    b.snooze(ctx.now() + 3_600_000)
    b = b.reload()
    assert b.status == vc.ConversationStatus.SNOOZED
    assert b.snoozed_until == T0 + 2000 + 3_600_000
    clock.advance(3_600_001)
    assert b.reload().status == vc.ConversationStatus.OPEN

    # Bad input changes nothing.
    with pytest.raises(vc.InvalidArgument):
        b.snooze(ctx.now() - 1)
    with pytest.raises(vc.InvalidArgument):
        b.set_status(9)
    with pytest.raises(vc.InvalidArgument):
        b.set_status(vc.ConversationStatus.OPEN, ctx.now() + 1000)
    with pytest.raises(vc.NotFound):
        a.assign("01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(vc.NotFound):
        a.assign("nobody")                # no agent of that name
    with pytest.raises(vc.InvalidArgument):
        list(vc.Conversation.list(t, assignee=asha, unassigned=True))
    with pytest.raises(vc.TooBig):
        vc.Conversation.list(t, text="x" * 101)
    with pytest.raises(vc.InvalidArgument):
        vc.Conversation.lookup(t, "not-an-id")
    with pytest.raises(vc.NotFound):
        vc.Conversation.lookup(t, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(vc.InvalidArgument):
        a.reply()                         # no body
    assert a.reload().assignee_id == ""

    # A refused reply (the contact opted out) changes nothing.
    t.set_consent(a.contact_id, vc.ChannelKind.SMS,
                  vc.ConsentState.OPTED_OUT, source="phone")
    before = a.reload()
    with pytest.raises(vc.ConsentRequired):
        a.reply("We have sent it again.")
    after = a.reload()
    assert (after.status, after.unread) == (before.status, before.unread)
    assert len(list(a.items())) == 1


def test_timeline_of_a_contact_without_a_conversation(
        inbox: Tuple[vc.Context, vc.Tenant, vc.Channel],
        clock: FakeClock) -> None:
    ctx, t, ch = inbox
    cid = vc.Contact.upsert(t, phone="+14155550150", name="Ravi")
    ids: List[str] = []
    for text in ("Your order has shipped", "It arrives tomorrow"):
        ids.append(vc.Message.send(t, "+14155550150", text, channel="sms",
                                   contact_id=cid))
        clock.advance(1000)
    with pytest.raises(vc.NotFound):
        vc.Conversation.of_contact(t, cid)   # outbound opens none
    items = list(vc.Conversation.contact_timeline(t, cid))
    assert [(i.type, i.id, i.text) for i in items] == [
        (vc.ConversationItemType.OUTBOUND, ids[0], "Your order has shipped"),
        (vc.ConversationItemType.OUTBOUND, ids[1], "It arrives tomorrow")]
    assert [i.at for i in items] == [T0, T0 + 1000]
    assert all(i.status == vc.MessageStatus.QUEUED for i in items)
    assert [i.id for i in vc.Conversation.contact_timeline(
        t, cid, newest_first=True)] == ids[::-1]


def test_another_tenant_sees_nothing(
        inbox: Tuple[vc.Context, vc.Tenant, vc.Channel]) -> None:
    ctx, t, ch = inbox
    inbound(ctx, ch, "+14155550101", "Hello")
    c = conversation_of(t, "+14155550101")
    with vc.Tenant.new(ctx, "globex") as other:
        theirs = vc.Agent.new(other, "asha", "+14155550111")
        assert list(vc.Conversation.list(other)) == []
        assert list(vc.Conversation.list(other, text="Hello")) == []
        with pytest.raises(vc.NotFound):
            vc.Conversation.lookup(other, c.id)
        with pytest.raises(vc.NotFound):
            vc.Conversation.of_contact(other, c.contact_id)
        with pytest.raises(vc.NotFound):
            vc.Conversation.contact_timeline(other, c.contact_id)
        # Nor can one tenant's agent be assigned the other's.
        with pytest.raises(vc.NotFound):
            c.assign(theirs)
    assert c.reload().assignee_id == ""


def readme_call_center(db_path: str, key: bytes) -> None:
    # --- from bindings/python/README.md -----------------------------------
    with vc.Context(db_path, master_key=key) as ctx:
        t = vc.Tenant.lookup(ctx, "acme")
        vc.Channel.new(t, "voice", "sandbox-voice", sender="+14155550000")
        asha = vc.Agent.new(t, "asha", "+14155550111", display_name="Asha")
        asha.set_state(vc.AgentState.AVAILABLE)
        support = vc.Queue.new(t, "support")
        support.add_member(asha, ["billing", "hindi"])
        vc.Number.new(t, "+91 44 1234 5678", channel="voice", entry=support,
                      label="Support line")

        for conv in vc.Conversation.list(t, unread=True, unassigned=True):
            for item in conv.items():    # inbound, outbound, calls, voicemail
                print(item.type.name, item.text)
            conv.assign(asha)
            conv.reply("Thanks, we are looking into it.")

        hour = 3_600_000
        now = ctx.now() // hour * hour
        s = vc.stats_query(t, now - 23 * hour, now + hour)   # the last 24 h
        print(s.messages.by_status.sent, s.delivery_rate, s.calls.answered)
    # ----------------------------------------------------------------------


def test_the_readme_call_center_example(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "comm.db")
    with vc.Context(db, master_key=KEY, public_base_url=BASE) as ctx:
        t = vc.Tenant.new(ctx, "acme")
        inbound(ctx, twilio_channel(t, "http://127.0.0.1:9"),
                "+14155550101", "My invoice is wrong")
    readme_call_center(db, KEY)
    assert capsys.readouterr().out.splitlines() == [
        "INBOUND My invoice is wrong", "0 None 0"]
    with vc.Context(db, master_key=KEY) as ctx, \
            vc.Tenant.lookup(ctx, "acme") as t:
        [c] = list(vc.Conversation.list(t))
        assert c.assignee_id == vc.Agent.lookup(t, "asha").id
        assert c.status == vc.ConversationStatus.PENDING
        assert [i.type for i in c.items()] == [
            vc.ConversationItemType.INBOUND,
            vc.ConversationItemType.OUTBOUND]
        assert [m.agent_id for m in vc.Queue.lookup(t, "support").members()
                ] == [vc.Agent.lookup(t, "asha").id]
        assert vc.Number.find(t, "+914412345678").label == "Support line"


def test_the_readme_prints_that_example() -> None:
    """The README shows the code the test above runs."""
    src = inspect.getsource(readme_call_center)
    body = src[src.index("README.md"):].split("\n", 1)[1]
    body = body[:body.index("    # -----")]
    code = textwrap.dedent(body).replace("db_path", '"comm.db"')
    readme = (Path(__file__).resolve().parent.parent / "README.md")
    assert code in readme.read_text()
