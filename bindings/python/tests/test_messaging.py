"""Messages: send, send_many, lookup, list; delivery through the provider
simulator with webhooks received by the example's http.server."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import List

import pytest

import vyomcomm as vc

from conftest import KEY, Sim

import webhook_server


def test_send_run_the_engine_lookup_list(ctx: vc.Context, tenant: vc.Tenant,
                                         sms: vc.Channel) -> None:
    vc.Template.new(tenant, "otp", vc.ChannelKind.SMS,
                    text="Your code is {{code}}", variables=["code"],
                    category=vc.Category.OTP).close()
    a = vc.Message.send(tenant, "+14155550123", "Your order has shipped",
                        kind=vc.ChannelKind.SMS,
                        idempotency_key="order-42-shipped",
                        metadata={"order": 42})
    b = vc.Message.send(tenant, "+14155550124", template="otp",
                        vars={"code": "123456"}, channel="sms")
    # A retry with the same key sends nothing twice...
    assert vc.Message.send(tenant, "+14155550123", "Your order has shipped",
                           kind=vc.ChannelKind.SMS,
                           idempotency_key="order-42-shipped",
                           metadata={"order": 42}) == a
    # ...and the same key with other content is a conflict.
    with pytest.raises(vc.Conflict):
        vc.Message.send(tenant, "+14155550123", "Something else",
                        kind=vc.ChannelKind.SMS,
                        idempotency_key="order-42-shipped")
    with vc.Message.lookup(tenant, a) as m:
        assert m.status == vc.MessageStatus.QUEUED and m.to == "+14155550123"
        assert m.category == vc.Category.TRANSACTIONAL
    assert ctx.drain() >= 2
    with vc.Message.lookup(tenant, b) as m:
        assert m.status == vc.MessageStatus.SENT
        assert m.provider_id == "sandbox-" + b
        assert m.channel_id == sms.id and m.template_version == 1
        assert m.category == vc.Category.OTP and m.segments == 1
    listed = vc.Message.list(tenant)
    ids = [m.id for m in listed]
    assert ids == [b, a]  # newest first
    assert listed.cursor == a
    assert [m.id for m in vc.Message.list(tenant, after=b)] == [a]
    assert [m.id for m in vc.Message.list(
        tenant, status=vc.MessageStatus.QUEUED)] == []
    types = [e.type for e in tenant.events()]
    assert types.count("message.sent") == 2


def test_send_many_keeps_going_past_a_bad_one(ctx: vc.Context,
                                              tenant: vc.Tenant,
                                              sms: vc.Channel) -> None:
    specs = [{"to": f"+1415555{i:04d}", "text": f"hello {i}",
              "kind": vc.ChannelKind.SMS} for i in range(5)]
    specs[2] = {"to": "not a number", "text": "x",
                "kind": vc.ChannelKind.SMS}
    res = vc.Message.send_many(tenant, specs)
    assert [r.ok for r in res] == [True, True, False, True, True]
    assert isinstance(res[2].error, vc.InvalidArgument)
    assert res[2].id is None and len(res[0].id or "") == 26
    assert ctx.drain() >= 4
    for r in res:
        if r.id:
            with vc.Message.lookup(tenant, r.id) as m:
                assert m.status == vc.MessageStatus.SENT
    with pytest.raises(vc.InvalidArgument):
        vc.Message.send_many(tenant, [specs[0]] * (vc.SEND_MANY_MAX + 1))


def test_cancel_a_queued_message(ctx: vc.Context, tenant: vc.Tenant,
                                 sms: vc.Channel) -> None:
    mid = vc.Message.send(tenant, "+14155550123", "later",
                          kind=vc.ChannelKind.SMS)
    vc.Message.cancel(tenant, mid)
    with vc.Message.lookup(tenant, mid) as m:
        assert m.status == vc.MessageStatus.CANCELED
    with pytest.raises(vc.InvalidState):
        vc.Message.cancel(tenant, mid)


def test_delivered_through_the_simulator(tmp_path: Path, sim: Sim) -> None:
    """Twilio SMS on the simulator: sent by engine threads, delivered by
    the simulator's signed status callbacks, which reach the library
    through the example's http.server and Context.handle_webhook."""
    server = webhook_server.make_server(None, "127.0.0.1", 0)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    events: List[vc.Event] = []
    try:
        with vc.Context(str(tmp_path / "d.db"), master_key=KEY,
                        public_base_url=f"http://127.0.0.1:{server.port}",
                        allow_private_network=True) as ctx:
            server.vc_context = ctx
            ctx.set_event_callback(events.append)
            t = vc.Tenant.new(ctx, "acme")
            ch = vc.Channel.new(
                t, "sms-twilio", "twilio-sms",
                config={"account_sid": sim.twilio_sid, "base_url": sim.url},
                credentials={"auth_token": sim.twilio_token},
                sender="+15005550006")
            assert ch.webhook_url() == \
                f"http://127.0.0.1:{server.port}/webhooks/{ch.id}"
            ids = [vc.Message.send(t, to, "Your order has shipped",
                                   channel="sms-twilio")
                   for to in ("+14155550123", "+14155550124")]
            ctx.start(2)
            deadline = time.monotonic() + 30
            statuses: List[vc.MessageStatus] = []
            while time.monotonic() < deadline:
                statuses = []
                for mid in ids:
                    with vc.Message.lookup(t, mid) as m:
                        statuses.append(m.status)
                if all(s == vc.MessageStatus.DELIVERED for s in statuses):
                    break
                time.sleep(0.05)
            ctx.stop()
            assert statuses == [vc.MessageStatus.DELIVERED] * 2
            with vc.Message.lookup(t, ids[0]) as m:
                assert m.provider_id.startswith("SM")
            assert server.received >= 2
            ctx.drain()  # the events left to deliver
            delivered = [e.subject_id for e in events
                         if e.type == "message.delivered"]
            assert sorted(delivered) == sorted(ids)
            seqs = [e.seq for e in events]
            assert seqs == sorted(seqs)
            # A forged webhook is refused, with the response to send.
            res = ctx.handle_webhook("POST", ch.webhook_path,
                                     {"Content-Type":
                                      "application/x-www-form-urlencoded",
                                      "X-Twilio-Signature": "forged"},
                                     b"MessageSid=SMx&MessageStatus=read")
            assert res.status == 401 and isinstance(res.error, vc.AuthError)
            res = ctx.handle_webhook("POST", "/webhooks/01HZZZZZZZZZZZZZZZ"
                                     "ZZZZZZZZ", {}, b"")
            assert res.status == 404 and isinstance(res.error, vc.NotFound)
    finally:
        server.shutdown()
        server.server_close()
