"""The Python program of docs/getting-started.md, run as it is printed
there (only the database path comes from the test)."""

from __future__ import annotations

from pathlib import Path

import vyomcomm as vc


def getting_started(db_path: str) -> str:
    # --- from docs/getting-started.md -------------------------------------
    key = bytes(32)  # a real host keeps 32 random bytes in its secret store

    with vc.Context(db_path, master_key=key) as ctx:
        try:
            acme = vc.Tenant.new(ctx, "acme", name="Acme Traders")
        except vc.AlreadyExists:
            acme = vc.Tenant.lookup(ctx, "acme")

        try:
            vc.Channel.new(acme, "sms", "sandbox-sms",
                           sender="+15550001111").close()
        except vc.AlreadyExists:
            pass

        mid = vc.Message.send(acme, "+14155550123", "Your order has shipped",
                              kind=vc.ChannelKind.SMS,
                              idempotency_key="order-42-shipped")
        ctx.run(0)  # one engine iteration here; or ctx.start(2)

        with vc.Message.lookup(acme, mid) as m:
            print(m.id, m.to, m.status.name, m.provider_id)
            status = m.status.name

        for ev in acme.events(0):  # keep the last seq as the next cursor
            print(ev.seq, ev.type, ev.subject_id)
    # ----------------------------------------------------------------------
    return status


def test_getting_started_sends_and_runs_twice(tmp_path: Path) -> None:
    db = str(tmp_path / "comm.db")
    assert getting_started(db) == "SENT"
    # A second run finds the tenant and channel; the idempotency key
    # returns the message already sent.
    assert getting_started(db) == "SENT"
