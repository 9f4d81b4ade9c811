package vyomcomm_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	vc "vyomcomm.dev/vyomcomm"
)

const hooksBase = "https://erp.example.com"

func conversationIDs(t *testing.T, ten *vc.Tenant, f vc.ConversationFilter) []string {
	t.Helper()
	it, err := ten.Conversations(f)
	if err != nil {
		t.Fatalf("Conversations(%+v): %v", f, err)
	}
	defer it.Close()
	var ids []string
	for it.Next() {
		ids = append(ids, it.Value().ID)
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return ids
}

func items(t *testing.T, ten *vc.Tenant, f vc.ItemFilter) []vc.ConversationItem {
	t.Helper()
	it, err := ten.ConversationItems(f)
	if err != nil {
		t.Fatalf("ConversationItems: %v", err)
	}
	defer it.Close()
	var out []vc.ConversationItem
	for it.Next() {
		out = append(out, it.Value())
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return out
}

func conversationOf(t *testing.T, ten *vc.Tenant, phone string) vc.Conversation {
	t.Helper()
	k, err := ten.FindContact(vc.AddressPhone, phone)
	if err != nil {
		t.Fatalf("FindContact(%s): %v", phone, err)
	}
	c, err := ten.ContactConversation(k.ID)
	if err != nil {
		t.Fatalf("ContactConversation: %v", err)
	}
	return c
}

// Inbound SMS (signed as Twilio signs them, through HandleWebhook) open
// conversations, which are listed, filtered, assigned, moved and
// replied to.
func TestInbox(t *testing.T) {
	clock := newClock(t0)
	ctx, ten := open(t, vc.Options{Clock: clock.now, PublicBaseURL: hooksBase})
	ch := twilioChannel(t, ten)
	asha, err := ten.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatal(err)
	}
	defer asha.Close()
	if got := conversationIDs(t, ten, vc.ConversationFilter{}); len(got) != 0 {
		t.Fatalf("conversations before any inbound: %v", got)
	}
	for i, in := range []struct{ from, text string }{
		{"+14155550101", "Where is my invoice?"},
		{"+14155550102", "Please call me back"},
		{"+14155550103", "Hello"},
	} {
		if i > 0 {
			clock.advance(time.Second)
		}
		if st := twilioInbound(t, ctx, ch, hooksBase, in.from, in.text); st != http.StatusOK {
			t.Fatalf("inbound: %d", st)
		}
	}
	// A bad signature is refused and opens nothing.
	if st := twilioInbound(t, ctx, ch, "https://other.example.com", "+14155550104", "x"); st != http.StatusUnauthorized {
		t.Fatalf("badly signed inbound: %d", st)
	}
	a := conversationOf(t, ten, "+14155550101")
	b := conversationOf(t, ten, "+14155550102")
	c := conversationOf(t, ten, "+14155550103")
	if a.Status != vc.ConversationOpen || a.Unread != 1 || a.AssigneeID != "" ||
		a.LastChannelID != ch.ID() || a.LastChannelKind != vc.SMS || !a.LastActivityAt.Equal(t0) {
		t.Fatalf("a: %+v", a)
	}

	// Newest activity first, paged with the cursor.
	if got := conversationIDs(t, ten, vc.ConversationFilter{}); strings.Join(got, ",") != c.ID+","+b.ID+","+a.ID {
		t.Fatalf("Conversations: %v", got)
	}
	it, _ := ten.Conversations(vc.ConversationFilter{})
	it.Next()
	cur := it.Cursor()
	it.Close()
	if got := conversationIDs(t, ten, vc.ConversationFilter{After: cur}); strings.Join(got, ",") != b.ID+","+a.ID {
		t.Fatalf("after the cursor: %v", got)
	}

	// Assignment (by name, then by id) and the filters.
	if err := ten.AssignConversation(a.ID, asha.Name()); err != nil {
		t.Fatalf("AssignConversation by name: %v", err)
	}
	if got, _ := ten.LookupConversation(a.ID); got.AssigneeID != asha.ID() {
		t.Fatalf("assignee by name: %q", got.AssigneeID)
	}
	if err := ten.AssignConversation(a.ID, asha.ID()); err != nil {
		t.Fatalf("AssignConversation: %v", err)
	}
	if got, _ := ten.LookupConversation(a.ID); got.AssigneeID != asha.ID() {
		t.Fatalf("assignee: %q", got.AssigneeID)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{AssigneeID: asha.ID()}); strings.Join(got, ",") != a.ID {
		t.Fatalf("assigned to asha: %v", got)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{Unassigned: true}); strings.Join(got, ",") != c.ID+","+b.ID {
		t.Fatalf("unassigned: %v", got)
	}
	if err := ten.MarkConversationRead(b.ID); err != nil {
		t.Fatal(err)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{Unread: true}); strings.Join(got, ",") != c.ID+","+a.ID {
		t.Fatalf("unread: %v", got)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{Text: "INVOICE"}); strings.Join(got, ",") != a.ID {
		t.Fatalf("search: %v", got)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{ChannelKind: vc.Email}); len(got) != 0 {
		t.Fatalf("email conversations: %v", got)
	}

	// Close (resolve) and reopen; snooze until a time on the clock.
	if err := ten.ResolveConversation(c.ID); err != nil {
		t.Fatal(err)
	}
	if got := conversationIDs(t, ten, vc.ConversationFilter{Status: vc.ConversationResolved}); strings.Join(got, ",") != c.ID {
		t.Fatalf("resolved: %v", got)
	}
	if err := ten.ReopenConversation(c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := ten.LookupConversation(c.ID); got.Status != vc.ConversationOpen {
		t.Fatalf("reopened: %v", got.Status)
	}
	until := clock.now().Add(time.Hour)
	if err := ten.SnoozeConversation(b.ID, until); err != nil {
		t.Fatal(err)
	}
	if got, _ := ten.LookupConversation(b.ID); got.Status != vc.ConversationSnoozed || !got.SnoozedUntil.Equal(until) {
		t.Fatalf("snoozed: %v %v", got.Status, got.SnoozedUntil)
	}
	clock.advance(time.Hour + time.Millisecond)
	if got, _ := ten.LookupConversation(b.ID); got.Status != vc.ConversationOpen {
		t.Fatalf("after the snooze: %v", got.Status)
	}

	// A reply goes on the inbound's channel, to its sender; the
	// conversation is then read and pending.
	mid, err := ten.ReplyConversation(a.ID, vc.MessageSpec{Text: "It shipped today."})
	if err != nil {
		t.Fatalf("ReplyConversation: %v", err)
	}
	m, err := ten.LookupMessage(mid)
	if err != nil || m.To != "+14155550101" || m.ChannelID != ch.ID() || m.Status != vc.Queued ||
		m.ContactID != a.ContactID {
		t.Fatalf("the reply: %+v %v", m, err)
	}
	if got, _ := ten.LookupConversation(a.ID); got.Status != vc.ConversationPending || got.Unread != 0 {
		t.Fatalf("after the reply: %v %d", got.Status, got.Unread)
	}
	tl := items(t, ten, vc.ItemFilter{ConversationID: a.ID})
	if len(tl) != 2 || tl[0].Type != vc.ItemInbound || tl[0].Text != "Where is my invoice?" ||
		tl[1].Type != vc.ItemOutbound || tl[1].ID != mid || tl[1].Text != "It shipped today." ||
		vc.MessageStatus(tl[1].Status) != vc.Queued || tl[1].ChannelID != ch.ID() {
		t.Fatalf("timeline: %+v", tl)
	}
	if nf := items(t, ten, vc.ItemFilter{ContactID: a.ContactID, NewestFirst: true}); len(nf) != 2 || nf[0].ID != mid {
		t.Fatalf("by contact, newest first: %+v", nf)
	}
	// The customer writes again: open, unread.
	if st := twilioInbound(t, ctx, ch, hooksBase, "+14155550101", "Thanks!"); st != http.StatusOK {
		t.Fatal(st)
	}
	if got, _ := ten.LookupConversation(a.ID); got.Status != vc.ConversationOpen || got.Unread != 1 {
		t.Fatalf("after the customer's answer: %v %d", got.Status, got.Unread)
	}
	if err := ten.UnassignConversation(a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := ten.LookupConversation(a.ID); got.AssigneeID != "" {
		t.Fatalf("unassigned: %q", got.AssigneeID)
	}

	// Bad input is refused and changes nothing.
	const nobody = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
	before, _ := ten.LookupConversation(a.ID)
	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"assign an unknown name", ten.AssignConversation(a.ID, "nobody"), vc.ErrNotFound},
		{"assign an unknown agent", ten.AssignConversation(a.ID, nobody), vc.ErrNotFound},
		{"status 9", ten.SetConversationStatus(a.ID, 9, time.Time{}), vc.ErrInvalid},
		{"snooze in the past", ten.SnoozeConversation(a.ID, clock.now().Add(-time.Second)), vc.ErrInvalid},
		{"open with a time", ten.SetConversationStatus(a.ID, vc.ConversationOpen, clock.now().Add(time.Hour)), vc.ErrInvalid},
		{"resolve an unknown one", ten.ResolveConversation(nobody), vc.ErrNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Fatalf("%s: %v, want %v", c.what, c.err, c.want)
		}
	}
	if _, err := ten.ReplyConversation(a.ID, vc.MessageSpec{Text: "x", To: "+14155550999"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("a reply with a recipient: %v", err)
	}
	if _, err := ten.ReplyConversation(a.ID, vc.MessageSpec{}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("a reply without a body: %v", err)
	}
	if _, err := ten.LookupConversation("not-an-id"); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("lookup a non-id: %v", err)
	}
	if _, err := ten.Conversations(vc.ConversationFilter{Text: strings.Repeat("x", 101)}); !errors.Is(err, vc.ErrTooBig) {
		t.Fatalf("long search: %v", err)
	}
	if _, err := ten.Conversations(vc.ConversationFilter{AssigneeID: asha.ID(), Unassigned: true}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("assignee and unassigned: %v", err)
	}
	if _, err := ten.ConversationItems(vc.ItemFilter{}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("items of nothing: %v", err)
	}
	// A refused reply (the contact opted out) changes nothing.
	if err := ten.SetConsent(vc.ConsentSpec{ContactID: a.ContactID, Kind: vc.SMS,
		State: vc.ConsentOptedOut}); err != nil {
		t.Fatal(err)
	}
	if _, err := ten.ReplyConversation(a.ID, vc.MessageSpec{Text: "x"}); !errors.Is(err, vc.ErrConsent) {
		t.Fatalf("a reply to an opted-out contact: %v", err)
	}
	after, _ := ten.LookupConversation(a.ID)
	if after != before || len(items(t, ten, vc.ItemFilter{ConversationID: a.ID})) != 3 {
		t.Fatalf("changed by refused calls: %+v -> %+v", before, after)
	}
}

// The figures of what the test sent and received, on an injected
// clock: the sandbox sends 3 messages, refuses 2, one SMS comes in.
func TestStats(t *testing.T) {
	clock := newClock(t0.Add(time.Minute))
	ctx, ten := open(t, vc.Options{Clock: clock.now, PublicBaseURL: hooksBase})
	bad, err := ten.NewChannel(vc.ChannelSpec{Name: "bad", Provider: "sandbox-sms",
		Config: map[string]string{"outcome": "rejected"}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	sms, err := ten.LookupChannel("sms")
	if err != nil {
		t.Fatal(err)
	}
	defer sms.Close()
	tw := twilioChannel(t, ten)
	var ids []string
	for i, to := range []string{"+14155550201", "+14155550202", "+14155550203", "+14155550301", "+14155550302"} {
		channel := "sms"
		if i >= 3 {
			channel = "bad"
		}
		id, err := ten.Send(vc.MessageSpec{Channel: channel, To: to, Text: "Your order has shipped"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	runUntil(t, ctx, "every message to be sent or failed", func() bool {
		for _, id := range ids {
			if s := status(t, ten, id); s != vc.Sent && s != vc.Failed {
				return false
			}
		}
		return true
	})
	if st := twilioInbound(t, ctx, tw, hooksBase, "+14155550400", "Hi there"); st != http.StatusOK {
		t.Fatal(st)
	}

	q := vc.StatsQuery{From: t0, To: t0.Add(time.Hour)}
	s, err := ten.Stats(q)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if s.Messages == nil || s.Latency == nil || s.Inbound == nil || s.Calls == nil ||
		s.Costs == nil || s.Campaigns == nil || len(s.Campaigns) != 0 {
		t.Fatalf("sections: %s", s.Raw)
	}
	want := vc.StatusCounts{Queued: 5, Sent: 3, Failed: 2}
	if s.Messages.ByStatus != want || s.From.Time() != t0 || s.Granularity != "hour" {
		t.Fatalf("by status: %+v (%s)", s.Messages.ByStatus, s.Raw)
	}
	if len(s.Messages.Series) != 1 || s.Messages.Series[0].T.Time() != t0 ||
		s.Messages.Series[0].StatusCounts != want {
		t.Fatalf("series: %+v", s.Messages.Series)
	}
	byChannel := map[string]vc.StatusCounts{}
	for _, c := range s.Messages.ByChannel {
		byChannel[c.Name] = c.StatusCounts
	}
	if byChannel["sms"].Sent != 3 || byChannel["bad"].Failed != 2 {
		t.Fatalf("by channel: %+v", s.Messages.ByChannel)
	}
	if len(s.Messages.ByKind) != 1 || s.Messages.ByKind[0].Kind != "sms" || s.Messages.ByKind[0].Queued != 5 {
		t.Fatalf("by kind: %+v", s.Messages.ByKind)
	}
	if s.Inbound.Total != 1 || len(s.Inbound.ByChannel) != 1 || s.Inbound.ByChannel[0].ChannelID != tw.ID() {
		t.Fatalf("inbound: %+v", s.Inbound)
	}
	if s.Latency.Delivered != 0 || s.Latency.P50 != nil || s.DeliveryRate == nil || *s.DeliveryRate != 0 {
		t.Fatalf("latency and rate: %+v %v", s.Latency, s.DeliveryRate)
	}
	if s.Calls.Attempts != 0 || s.Calls.AnswerRate != nil {
		t.Fatalf("calls: %+v", s.Calls)
	}

	// One section, one channel; the hour before has nothing.
	s, err = ten.Stats(vc.StatsQuery{From: t0, To: t0.Add(time.Hour), What: vc.StatsMessages,
		ChannelID: sms.ID()})
	if err != nil || s.Calls != nil || s.Inbound != nil || s.Messages.ByStatus != (vc.StatusCounts{Queued: 3, Sent: 3}) {
		t.Fatalf("sms only: %v %s", err, s.Raw)
	}
	s, err = ten.Stats(vc.StatsQuery{From: t0.Add(-time.Hour), To: t0, Granularity: vc.StatsDay})
	if err != nil || s.Messages.ByStatus != (vc.StatusCounts{}) || s.Granularity != "day" {
		t.Fatalf("the hour before: %v %s", err, s.Raw)
	}
	doc, err := ten.StatsJSON(q)
	if err != nil || !strings.HasPrefix(doc, `{"from":`) {
		t.Fatalf("StatsJSON: %v %.40s", err, doc)
	}

	// Bad queries: the message names what is wrong.
	for _, c := range []struct {
		q    vc.StatsQuery
		want error
		in   string
	}{
		{vc.StatsQuery{From: t0.Add(time.Minute), To: t0.Add(time.Hour)}, vc.ErrInvalid, "from"},
		{vc.StatsQuery{From: t0, To: t0}, vc.ErrInvalid, "to"},
		{vc.StatsQuery{From: t0, To: t0.Add(32 * 24 * time.Hour)}, vc.ErrInvalid, "744 hours"},
		{vc.StatsQuery{From: t0, To: t0.Add(time.Hour), What: 1 << 9}, vc.ErrInvalid, "what"},
		{vc.StatsQuery{From: t0, To: t0.Add(time.Hour), ChannelID: "sms"}, vc.ErrInvalid, "channel"},
		{vc.StatsQuery{From: t0, To: t0.Add(time.Hour), ChannelID: "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, vc.ErrNotFound, ""},
		{vc.StatsQuery{To: t0}, vc.ErrInvalid, "From"},
	} {
		_, err := ten.Stats(c.q)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.in) {
			t.Fatalf("Stats(%+v): %v, want %v naming %q", c.q, err, c.want, c.in)
		}
	}
}

// Another tenant of the same store sees none of acme's agents, queues,
// numbers, conversations or figures, and cannot change them.
func TestCallCenterTenantIsolation(t *testing.T) {
	clock := newClock(t0)
	ctx, acme := open(t, vc.Options{Clock: clock.now, PublicBaseURL: hooksBase})
	globex, err := ctx.NewTenant(vc.TenantSpec{Slug: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	defer globex.Close()
	voiceChannel(t, acme, "voice", nil)
	ch := twilioChannel(t, acme)
	ag, err := acme.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	q, err := acme.NewQueue(vc.QueueSpec{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.AddMember("asha"); err != nil {
		t.Fatal(err)
	}
	n, err := acme.NewNumber(vc.NumberSpec{Number: "+14155550100", Channel: "voice",
		EntryKind: vc.EntryQueue, Entry: "support"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if st := twilioInbound(t, ctx, ch, hooksBase, "+14155550101", "Hello"); st != http.StatusOK {
		t.Fatal(st)
	}
	conv := conversationOf(t, acme, "+14155550101")
	if _, err := acme.Send(vc.MessageSpec{Channel: "sms", To: "+14155550102", Text: "x"}); err != nil {
		t.Fatal(err)
	}

	// globex has its own voice channel and agent, and sees nothing.
	voiceChannel(t, globex, "voice", nil)
	gag, err := globex.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatalf("the same agent name in another tenant: %v", err)
	}
	defer gag.Close()
	for what, err := range map[string]error{
		"agent by id":   func() error { _, err := globex.LookupAgent(ag.ID()); return err }(),
		"queue by id":   func() error { _, err := globex.LookupQueue(q.ID()); return err }(),
		"queue by name": func() error { _, err := globex.LookupQueue("support"); return err }(),
		"number by id":  func() error { _, err := globex.LookupNumber(n.ID()); return err }(),
		"number found":  func() error { _, err := globex.FindNumber("+14155550100"); return err }(),
		"conversation":  func() error { _, err := globex.LookupConversation(conv.ID); return err }(),
		"contact's conversation": func() error {
			_, err := globex.ContactConversation(conv.ContactID)
			return err
		}(),
		"assign":  globex.AssignConversation(conv.ID, gag.ID()),
		"resolve": globex.ResolveConversation(conv.ID),
		"read":    globex.MarkConversationRead(conv.ID),
		"reply": func() error {
			_, err := globex.ReplyConversation(conv.ID, vc.MessageSpec{Text: "x"})
			return err
		}(),
		"items": func() error {
			_, err := globex.ConversationItems(vc.ItemFilter{ConversationID: conv.ID})
			return err
		}(),
		"stats of acme's channel": func() error {
			_, err := globex.Stats(vc.StatsQuery{From: t0, To: t0.Add(time.Hour), ChannelID: ch.ID()})
			return err
		}(),
	} {
		if !errors.Is(err, vc.ErrNotFound) {
			t.Errorf("globex, %s: %v", what, err)
		}
	}
	if got := agentNames(t, globex, vc.AgentFilter{}); len(got) != 1 {
		t.Fatalf("globex's agents: %v", got)
	}
	if it, err := globex.Queues(""); err != nil || it.Next() {
		t.Fatalf("globex lists a queue: %v", err)
	} else {
		it.Close()
	}
	if it, err := globex.Numbers(vc.NumberFilter{}); err != nil || it.Next() {
		t.Fatalf("globex lists a number: %v", err)
	} else {
		it.Close()
	}
	if got := conversationIDs(t, globex, vc.ConversationFilter{}); len(got) != 0 {
		t.Fatalf("globex lists conversations: %v", got)
	}
	// acme's number cannot be taken; globex's queue cannot hold acme's agent.
	if _, err := globex.NewNumber(vc.NumberSpec{Number: "+14155550100", Channel: "voice",
		EntryKind: vc.EntryAgent, Entry: "asha"}); !errors.Is(err, vc.ErrExists) {
		t.Fatalf("acme's number in globex: %v", err)
	}
	gq, err := globex.NewQueue(vc.QueueSpec{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	defer gq.Close()
	if err := gq.AddMember(ag.ID()); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("acme's agent in globex's queue: %v", err)
	}
	s, err := globex.Stats(vc.StatsQuery{From: t0, To: t0.Add(time.Hour)})
	if err != nil || s.Messages.ByStatus != (vc.StatusCounts{}) || s.Inbound.Total != 0 {
		t.Fatalf("globex's figures: %v %s", err, s.Raw)
	}

	// acme's objects are as they were.
	if got, _ := acme.LookupConversation(conv.ID); got != conv {
		t.Fatalf("acme's conversation changed: %+v", got)
	}
	if got := members(t, q); len(got) != 1 {
		t.Fatalf("acme's members: %v", got)
	}
	s, err = acme.Stats(vc.StatsQuery{From: t0, To: t0.Add(time.Hour)})
	if err != nil || s.Messages.ByStatus.Queued != 1 || s.Inbound.Total != 1 {
		t.Fatalf("acme's figures: %v %s", err, s.Raw)
	}
}
