"""Handles are freed; threads; callbacks from engine threads."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path
from typing import List

import pytest

import vyomcomm as vc

from conftest import KEY, sanitized


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_leak_in_10000_lookups(ctx: vc.Context, tenant: vc.Tenant,
                                  sms: vc.Channel) -> None:
    mid = vc.Message.send(tenant, "+14155550123", "x" * 300,
                          kind=vc.ChannelKind.SMS)
    cid = vc.Contact.upsert(tenant, phone="+14155550123", name="Asha",
                            tags="a;b;c", fields={"k": "v" * 200})

    def loop(n: int) -> None:
        for i in range(n):
            # Half closed explicitly, half left to the collector.
            m = vc.Message.lookup(tenant, mid)
            assert m.to == "+14155550123"
            c = vc.Contact.lookup(tenant, cid)
            assert c.tags == ["a", "b", "c"]
            if i % 2:
                m.close()
                c.close()
            try:
                vc.Message.lookup(tenant, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
            except vc.NotFound:
                pass

    loop(1000)  # warm up: caches, statements, allocator arenas
    gc.collect()
    before = rss_kib()
    loop(10000)
    gc.collect()
    grown = rss_kib() - before
    print(f"RSS growth over 10,000 lookups: {grown} KiB")
    if not sanitized():  # ASan's quarantine holds freed memory
        # A leaked message handle is at least ~400 bytes: 10,000 of
        # them (and of contacts) would pass 8 MiB.
        assert grown < 4096, f"RSS grew {grown} KiB"
    # Every handle the loop made was freed: only the fixtures' remain.
    assert len(tenant._children) <= 1


def test_two_threads_sending_at_once(ctx: vc.Context, tenant: vc.Tenant,
                                     sms: vc.Channel) -> None:
    ids: List[List[str]] = [[], []]
    errors: List[BaseException] = []
    barrier = threading.Barrier(2)

    def send(k: int) -> None:
        try:
            barrier.wait()
            for i in range(200):
                ids[k].append(vc.Message.send(
                    tenant, f"+1415{k}55{i:04d}", f"thread {k} msg {i}",
                    kind=vc.ChannelKind.SMS))
        except BaseException as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=send, args=(k,)) for k in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert len(set(ids[0] + ids[1])) == 400
    ctx.drain()
    statuses = {m.status for m in vc.Message.list(tenant)}
    assert statuses == {vc.MessageStatus.SENT}


def test_engine_threads_call_back(tmp_path: Path) -> None:
    lines: List[str] = []
    seen: List[vc.Event] = []
    done = threading.Event()

    def on_event(ev: vc.Event) -> None:
        seen.append(ev)
        if ev.type == "message.sent":
            done.set()

    with vc.Context(str(tmp_path / "e.db"), master_key=KEY,
                    log=lambda lvl, msg: lines.append(msg),
                    log_level=vc.LogLevel.DEBUG) as ctx:
        ctx.set_event_callback(on_event)
        t = vc.Tenant.new(ctx, "acme")
        vc.Channel.new(t, "sms", "sandbox-sms").close()
        ctx.start(2)
        mid = vc.Message.send(t, "+14155550123", "hi",
                              kind=vc.ChannelKind.SMS)
        ctx.wakeup()
        assert done.wait(20)
        ctx.stop()
        assert mid in {e.subject_id for e in seen}
        # A callback that raises leaves the event undelivered: offered
        # again later, not lost.
        calls = []

        def failing(ev: vc.Event) -> None:
            calls.append(ev.seq)
            raise RuntimeError("boom")

        ctx.set_event_callback(failing)
        vc.Message.send(t, "+14155550124", "again", kind=vc.ChannelKind.SMS)
        ctx.drain(limit=5)
        ctx.set_event_callback(None)
        assert calls and calls[0] == calls[-1]
    assert lines  # the log callback was called


def test_handles_are_context_managers(ctx: vc.Context,
                                      tenant: vc.Tenant) -> None:
    with vc.Channel.new(tenant, "sms", "sandbox-sms") as ch:
        assert not ch.closed
    assert ch.closed
    with pytest.raises(ValueError):
        ch.id
    it = vc.Channel.list(tenant)
    with it:
        pass
    assert list(it) == []
