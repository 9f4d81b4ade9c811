"""Click-to-call through the sandbox voice provider, on an injected
clock."""

from __future__ import annotations

from pathlib import Path

import pytest

import vyomcomm as vc

from conftest import KEY, T0, FakeClock


def test_call_through_the_sandbox_voice_provider(tmp_path: Path,
                                                 clock: FakeClock) -> None:
    with vc.Context(str(tmp_path / "v.db"), master_key=KEY,
                    clock=clock) as ctx, vc.Tenant.new(ctx, "acme") as t:
        assert ctx.now() == T0
        vc.Channel.new(t, "voice", "sandbox-voice", sender="+14155550000",
                       config={"ring_s": 5, "talk_s": 60,
                               "price_micros": 42000,
                               "currency": "USD"}).close()
        with vc.Call.start(t, "+14155550123", agent_number="+14155550111",
                           metadata={"ticket": 42}) as c:
            assert c.state == vc.CallState.INITIATED
            assert c.state_at(vc.CallState.INITIATED) == T0
            assert c.customer_number == "+14155550123"
            assert c.metadata_json == '{"ticket":42}'
            assert c.channel_id == ""
            assert ctx.run(0) == 1  # the engine places it
            c.refresh()
            assert c.state == vc.CallState.COMPLETED and c.state.final
            assert c.cause == vc.CallCause.NORMAL
            assert c.talk_seconds == 60
            assert c.provider_id.startswith("sandbox-")
            assert c.caller_id == "+14155550000"
            assert c.state_at(vc.CallState.BRIDGED) == T0 + 10000
            assert c.state_at(vc.CallState.COMPLETED) == T0 + 70000
            types = [e.type for e in c.timeline()]
            assert types[0] == "state" and "bridged" in types
            assert "hangup" in types and types[-1] == "price"
            assert c.cost_micros == 42000 and c.cost_reported
            assert c.currency == "USD"
            with pytest.raises(vc.InvalidState):
                c.hangup()
            call_id = c.id
        with vc.Call.lookup(t, call_id) as again:
            assert again.state == vc.CallState.COMPLETED
        assert [x.id for x in vc.Call.list(t)] == [call_id]
        assert clock.calls > 0  # the library read the injected clock


def test_hangup_a_live_call(ctx: vc.Context, tenant: vc.Tenant) -> None:
    vc.Channel.new(tenant, "voice", "sandbox-voice", sender="+14155550000",
                   config={"talk_s": -1}).close()
    c = vc.Call.start(tenant, "+14155550123", agent_number="+14155550111")
    ctx.drain()
    c.refresh()
    assert c.state == vc.CallState.BRIDGED
    c.hangup()
    ctx.drain()
    c.refresh()
    assert c.state == vc.CallState.COMPLETED
    assert c.cause == vc.CallCause.API_HANGUP
    c.close()


def test_call_errors(ctx: vc.Context, tenant: vc.Tenant) -> None:
    with pytest.raises(vc.NotFound):  # no voice channel
        vc.Call.start(tenant, "+14155550123", agent_number="+14155550111")
    vc.Channel.new(tenant, "voice", "sandbox-voice").close()
    with pytest.raises(vc.InvalidArgument):
        vc.Call.start(tenant, "4155550123", agent_number="+14155550111")
    with pytest.raises(vc.NotFound):
        vc.Call.lookup(tenant, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    tenant_dnc = "+14155550199"
    from vyomcomm import _lib
    _lib.lib.vc_dnc_add(tenant._h, tenant_dnc.encode(), None)
    with pytest.raises(vc.ConsentRequired):
        vc.Call.start(tenant, tenant_dnc, agent_number="+14155550111")
    # Not yet placed: a hangup cancels it at once.
    c = vc.Call.start(tenant, "+14155550123", agent_number="+14155550111")
    c.hangup()
    c.refresh()
    assert c.state == vc.CallState.CANCELED
    c.close()
