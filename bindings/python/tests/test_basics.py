"""Loading, errors, tenants, channels and templates, handle ownership."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vyomcomm as vc
from vyomcomm import errors

from conftest import HERE, KEY

ERRORS_H = HERE.parents[2] / "include" / "vyomcomm" / "errors.h"


def test_every_error_code_of_the_header_has_its_exception() -> None:
    text = ERRORS_H.read_text()
    codes = dict((int(v), n) for n, v in
                 re.findall(r"^\s*(VC_[A-Z]+)\s*=\s*(-\d+)", text, re.M))
    assert len(codes) >= 26
    for code, name in codes.items():
        assert errors.CODE_NAMES[code] == name
        exc = vc.error_for(code)
        assert type(exc) is errors.BY_CODE[code]
        assert isinstance(exc, vc.VyomcommError)
        assert exc.code == code and exc.name == name
        # Without a detail, the message is the library's static text.
        assert exc.message == vc.strerror(code)
    assert set(errors.BY_CODE) == set(codes)
    for cls in errors.BY_CODE.values():  # each exported by the package
        assert getattr(vc, cls.__name__) is cls
    assert all(hasattr(vc, n) for n in vc.__all__)
    # A code a newer library might add still raises the base class.
    assert type(vc.error_for(-99)) is vc.VyomcommError


def test_load_failure_names_what_was_tried(tmp_path: Path) -> None:
    env = dict(os.environ, VYOMCOMM_LIBRARY=str(tmp_path / "nope.so"))
    r = subprocess.run([sys.executable, "-c", "import vyomcomm"], env=env,
                       cwd=str(HERE.parent), capture_output=True, text=True)
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert "VYOMCOMM_LIBRARY" in r.stderr and "nope.so" in r.stderr


def test_tenant_channel_template(ctx: vc.Context) -> None:
    with vc.Tenant.new(ctx, "acme", name="Acme Traders",
                       timezone="Asia/Kolkata", currency="INR") as t:
        assert t.slug == "acme" and t.name == "Acme Traders"
        assert t.timezone == "Asia/Kolkata" and t.currency == "INR"
        assert len(t.id) == 26
        with vc.Tenant.lookup(ctx, "acme") as again:
            assert again.id == t.id
        with vc.Tenant.lookup_id(ctx, t.id) as again:
            assert again.slug == "acme"
        assert [x.slug for x in vc.Tenant.list(ctx)] == ["acme"]

        ch = vc.Channel.new(t, "sms-main", "sandbox-sms",
                            sender="+15550001111", priority=10,
                            config={"outcome": "accepted"})
        assert ch.kind == vc.ChannelKind.SMS and ch.provider == "sandbox-sms"
        assert ch.priority == 10 and ch.enabled
        assert ch.config == {"outcome": "accepted"}
        assert ch.webhook_path == "/webhooks/" + ch.id
        with pytest.raises(vc.InvalidState):  # no public_base_url
            ch.webhook_url()
        with vc.Channel.lookup(t, "sms-main") as by_name:
            assert by_name.id == ch.id
        ch.disable()
        assert [c.name for c in vc.Channel.list(t)] == []
        assert [c.name for c in vc.Channel.list(t, include_disabled=True)] \
            == ["sms-main"]

        tpl = vc.Template.new(t, "order-shipped", vc.ChannelKind.SMS,
                              text="Hi {{name}}, order {{order}} shipped."
                                   "{{#coupon}} Code: {{coupon}}{{/coupon}}",
                              variables=["name", "order", "coupon?"])
        assert tpl.version == 1 and tpl.kind == vc.ChannelKind.SMS
        assert tpl.render({"name": "Asha", "order": "A-1"}) == \
            "Hi Asha, order A-1 shipped."
        assert tpl.render('{"name":"Ravi","order":"B-2","coupon":"X9"}') == \
            "Hi Ravi, order B-2 shipped. Code: X9"
        v2 = tpl.add_variant(vc.ChannelKind.EMAIL, subject="Order {{order}}",
                             html="<p>Hi {{name}} &amp; co</p>",
                             variables=["name", "order"])
        assert v2 == 2
        assert tpl.render({"name": "<R&D>", "order": "7"},
                          kind=vc.ChannelKind.EMAIL,
                          part=vc.TemplatePart.HTML) == \
            "<p>Hi &lt;R&amp;D&gt; &amp; co</p>"
        assert tpl.render({"order": "7"}, kind=vc.ChannelKind.EMAIL,
                          part=vc.TemplatePart.SUBJECT) == "Order 7"
        # Strings in and out are UTF-8.
        assert tpl.render({"name": "आशा", "order": "९"}) == \
            "Hi आशा, order ९ shipped."
        with pytest.raises(vc.InvalidArgument) as ei:
            tpl.render({"name": "Asha"})  # order is required
        assert "order" in ei.value.message
        with pytest.raises(vc.AlreadyExists):
            vc.Template.new(t, "order-shipped", vc.ChannelKind.SMS, text="x")
        with pytest.raises(vc.InvalidArgument):  # undeclared variable
            vc.Template.new(t, "bad", vc.ChannelKind.SMS, text="{{who}}",
                            variables=["name"])
        assert [x.name for x in vc.Template.list(t)] == ["order-shipped"]


def test_errors_carry_code_name_and_message(tenant: vc.Tenant) -> None:
    with pytest.raises(vc.InvalidArgument) as ei:
        vc.Tenant.new(tenant.context, "Not A Slug")
    e = ei.value
    assert e.code == -5 and e.name == "VC_EINVALID"
    assert e.message and e.message != vc.strerror(-5)
    assert str(e).startswith("VC_EINVALID: ")
    assert isinstance(e, ValueError) and isinstance(e, vc.VyomcommError)

    with pytest.raises(vc.NotFound) as nf:
        vc.Channel.lookup(tenant, "missing")
    assert nf.value.code == -3 and "missing" in nf.value.message
    assert isinstance(nf.value, LookupError)

    with pytest.raises(vc.AlreadyExists):
        vc.Tenant.new(tenant.context, "acme")
    with pytest.raises(vc.NotFound):
        vc.Channel.new(tenant, "x", "no-such-provider")
    with pytest.raises(vc.InvalidArgument):
        vc.Message.send(tenant, "+14155550123", "hi")  # no kind, no channel
    with pytest.raises(TypeError):
        vc.Channel.lookup(tenant, b"bytes")  # type: ignore[arg-type]


def test_the_error_detail_is_per_thread(tenant: vc.Tenant) -> None:
    # Failures on two threads at once: each exception carries its own
    # call's message, read on its own thread.
    import threading
    got = {}

    def fail(name: str) -> None:
        for _ in range(200):
            try:
                vc.Channel.lookup(tenant, name)
            except vc.NotFound as e:
                if name not in e.message:
                    got[name] = e.message
                    return
        got.setdefault(name, "ok")

    ts = [threading.Thread(target=fail, args=(n,))
          for n in ("first-missing", "second-missing")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert got == {"first-missing": "ok", "second-missing": "ok"}


def test_closing_a_parent_closes_its_children(tmp_path: Path) -> None:
    ctx = vc.Context(str(tmp_path / "c.db"), master_key=KEY)
    t = vc.Tenant.new(ctx, "acme")
    ch = vc.Channel.new(t, "sms", "sandbox-sms")
    it = vc.Channel.list(t)
    ctx.close()
    assert ctx.closed and t.closed and ch.closed
    with pytest.raises(ValueError):
        ch.name
    assert list(it) == []
    ctx.close()  # twice is harmless


def test_another_tenant_sees_nothing(ctx: vc.Context, tenant: vc.Tenant,
                                     sms: vc.Channel) -> None:
    mid = vc.Message.send(tenant, "+14155550123", "hello",
                          kind=vc.ChannelKind.SMS)
    cid = vc.Contact.upsert(tenant, phone="+14155550123")
    with vc.Tenant.new(ctx, "other") as other:
        with pytest.raises(vc.NotFound):
            vc.Message.lookup(other, mid)
        with pytest.raises(vc.NotFound):
            vc.Channel.lookup(other, sms.id)
        with pytest.raises(vc.NotFound):
            vc.Contact.lookup(other, cid)
        with pytest.raises(vc.NotFound):
            vc.Message.cancel(other, mid)
        assert list(vc.Message.list(other)) == []
    with vc.Message.lookup(tenant, mid) as m:
        assert m.status == vc.MessageStatus.QUEUED


def test_master_key_is_checked(tmp_path: Path) -> None:
    path = str(tmp_path / "k.db")
    vc.Context(path, master_key=KEY).close()
    with pytest.raises(vc.MasterKeyError):
        vc.Context(path, master_key=bytes(32))
    with pytest.raises(vc.InvalidArgument):
        vc.Context(path, master_key=b"short")


def test_the_built_in_listener(ctx: vc.Context) -> None:
    port = ctx.listen_webhooks("127.0.0.1:0")
    assert 0 < port < 65536
    with pytest.raises(vc.InvalidState):  # already listening
        ctx.listen_webhooks("127.0.0.1:0")
