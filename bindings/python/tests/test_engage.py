"""Contacts, consent and campaigns."""

from __future__ import annotations

import pytest

import vyomcomm as vc


def test_contacts_upsert_lookup_tags(tenant: vc.Tenant) -> None:
    a = vc.Contact.upsert(tenant, name="Asha", phone="+91 98123 45601",
                          email="Asha@Example.COM", tags=["vip", "north"],
                          fields={"plan": "gold"})
    # The same address finds the same contact (deduplication).
    again = vc.Contact.upsert(tenant, phone="+919812345601", tags="new",
                              fields={"city": "Pune"})
    assert again == a
    with vc.Contact.lookup(tenant, a) as c:
        assert c.name == "Asha"
        assert c.address(vc.AddressKind.PHONE) == "+919812345601"
        assert c.address(vc.AddressKind.EMAIL) == "Asha@example.com"
        assert (vc.AddressKind.EMAIL, "Asha@example.com") in c.addresses
        assert c.tags == ["new", "north", "vip"]
        assert c.fields == {"plan": "gold", "city": "Pune"}
    c2 = vc.Contact.find_by_address(tenant, vc.AddressKind.EMAIL,
                                    "Asha@EXAMPLE.com")
    assert c2.id == a
    c2.remove_tag("north")
    c2.add_tag("दिल्ली")
    with vc.Contact.lookup(tenant, a) as c:
        assert set(c.tags) == {"new", "vip", "दिल्ली"}
    b = vc.Contact.upsert(tenant, name="Ravi", phone="+919812345602",
                          tags="vip")
    assert [c.id for c in vc.Contact.list(tenant, tag="vip")] == [a, b]
    assert [c.name for c in vc.Contact.list(tenant, name_prefix="ra")] == \
        ["Ravi"]
    with pytest.raises(vc.InvalidArgument):
        vc.Contact.upsert(tenant, name="No address")
    with pytest.raises(vc.InvalidArgument):
        vc.Contact.upsert(tenant, phone="12")
    with pytest.raises(vc.NotFound):
        vc.Contact.lookup(tenant, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(vc.TooBig):
        vc.Contact.upsert(tenant, phone="+919812345603", name="x" * 201)


def test_marketing_without_opt_in_raises_the_consent_error(
        ctx: vc.Context, tenant: vc.Tenant, sms: vc.Channel) -> None:
    cid = vc.Contact.upsert(tenant, name="Asha", phone="+919812345601")
    assert tenant.consent_policy(vc.ChannelKind.SMS, vc.Category.MARKETING)
    info = tenant.consent(cid, vc.ChannelKind.SMS, vc.Category.MARKETING)
    assert info.state == vc.ConsentState.UNKNOWN
    assert info.requires_opt_in and not info.allowed
    with pytest.raises(vc.ConsentRequired) as ei:
        vc.Message.send(tenant, "+919812345601", "50% off today",
                        kind=vc.ChannelKind.SMS,
                        category=vc.Category.MARKETING)
    assert ei.value.code == -23 and ei.value.name == "VC_ECONSENT"
    assert "+919812345601" not in ei.value.message  # names the rule only
    assert list(vc.Message.list(tenant)) == []  # nothing was stored
    # Transactional messages need no opt-in.
    vc.Message.send(tenant, "+919812345601", "Your order shipped",
                    kind=vc.ChannelKind.SMS)

    with vc.Contact.lookup(tenant, cid) as c:
        c.set_consent(vc.ChannelKind.SMS, vc.ConsentState.OPTED_IN,
                      category=vc.Category.MARKETING, source="web-form",
                      proof="form 7 at 10:02")
        info = c.consent(vc.ChannelKind.SMS)
    assert info.state == vc.ConsentState.OPTED_IN and info.allowed
    assert info.source == "web-form" and info.changed_at > 0
    mid = vc.Message.send(tenant, "+919812345601", "50% off today",
                          kind=vc.ChannelKind.SMS,
                          category=vc.Category.MARKETING)
    # An opt-out always wins.
    tenant.set_consent(cid, vc.ChannelKind.SMS, vc.ConsentState.OPTED_OUT)
    with pytest.raises(vc.ConsentRequired):
        vc.Message.send(tenant, "+919812345601", "Another offer",
                        kind=vc.ChannelKind.SMS,
                        category=vc.Category.MARKETING)
    with pytest.raises(vc.InvalidArgument):
        tenant.set_consent(cid, vc.ChannelKind.SMS, 7)
    with pytest.raises(vc.NotFound):
        tenant.set_consent("01HZZZZZZZZZZZZZZZZZZZZZZZ", vc.ChannelKind.SMS,
                           vc.ConsentState.OPTED_IN)
    assert mid


def test_campaign_to_completion(ctx: vc.Context, tenant: vc.Tenant,
                                sms: vc.Channel) -> None:
    vc.Template.new(tenant, "offer", vc.ChannelKind.SMS,
                    text="Hi {{name}}, {{offer}} off today",
                    variables=["name", "offer"]).close()
    ids = []
    for i in range(25):
        cid = vc.Contact.upsert(tenant, name=f"c{i}",
                                phone=f"+1415555{i:04d}", tags="vip")
        if i != 3:  # one recipient without opt-in is skipped
            tenant.set_consent(cid, vc.ChannelKind.SMS,
                               vc.ConsentState.OPTED_IN,
                               category=vc.Category.MARKETING)
        ids.append(cid)
    with vc.Campaign.new(tenant, "November offer", "offer", ["sms"],
                         tag="vip",
                         vars={"name": "friend", "offer": "10%"}) as c:
        assert c.state == vc.CampaignState.DRAFT
        assert c.category == vc.Category.MARKETING
        assert c.audience == vc.Audience.TAG
        k = c.counters()
        assert k.total == 0 and k.state == vc.CampaignState.DRAFT
        c.start()
        assert c.state == vc.CampaignState.RUNNING
        with pytest.raises(vc.InvalidState):
            c.start()
        ctx.drain()
        k = c.counters()
        assert k.state == vc.CampaignState.COMPLETED
        assert (k.total, k.queued, k.sent) == (25, 24, 24)
        assert k.skipped_consent == 1 and k.failed == 0 and k.open == 0
        with pytest.raises(vc.InvalidState):
            c.cancel()
        cid = c.id
    with vc.Campaign.lookup(tenant, cid) as again:
        assert again.name == "November offer"
        assert again.state == vc.CampaignState.COMPLETED
    sent = [m for m in vc.Message.list(tenant)]
    assert len(sent) == 24
    assert {m.status for m in sent} == {vc.MessageStatus.SENT}
    types = [e.type for e in tenant.events()]
    assert types.count("campaign.completed") == 1


def test_campaign_pause_resume_cancel(ctx: vc.Context, tenant: vc.Tenant,
                                      sms: vc.Channel) -> None:
    vc.Template.new(tenant, "offer", vc.ChannelKind.SMS,
                    text="Hi {{name}}", variables=["name"]).close()
    ids = [vc.Contact.upsert(tenant, phone=f"+1415666{i:04d}")
           for i in range(3)]
    tenant.set_consent_policy(vc.ChannelKind.SMS, vc.Category.MARKETING,
                              False)
    c = vc.Campaign.new(tenant, "list", "offer", ["sms"], contact_ids=ids,
                        contact_vars=[{"name": "A"}, None, '{"name":"C"}'],
                        vars={"name": "friend"})
    c.start()
    c.pause()
    assert c.counters().state == vc.CampaignState.PAUSED
    with pytest.raises(vc.InvalidState):
        c.pause()
    c.resume()
    c.cancel()
    k = c.counters()
    assert k.state == vc.CampaignState.CANCELED
    with pytest.raises(vc.InvalidArgument):
        vc.Campaign.new(tenant, "bad", "offer", ["pigeon"], contact_ids=ids)
    with pytest.raises(vc.NotFound):
        vc.Campaign.new(tenant, "bad", "no-template", ["sms"],
                        contact_ids=ids)
    assert [x.id for x in vc.Campaign.list(tenant)] == [c.id]
    c.close()
