package vyomcomm_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vc "vyomcomm.dev/vyomcomm"
)

// t0 is 2026-01-01T00:00:00Z, a whole UTC hour.
var t0 = time.UnixMilli(1_767_225_600_000)

// fakeClock is a settable clock; the engine reads it from its threads.
type fakeClock struct{ ms atomic.Int64 }

func newClock(at time.Time) *fakeClock {
	c := &fakeClock{}
	c.ms.Store(at.UnixMilli())
	return c
}
func (c *fakeClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

var inboundSeq atomic.Int64

// twilioInbound posts an inbound SMS to the channel's webhook as Twilio
// signs it (HMAC-SHA1 over base+path and the sorted parameters) through
// Context.HandleWebhook, and returns the HTTP status.
func twilioInbound(t *testing.T, ctx *vc.Context, ch *vc.Channel, base,
	from, text string) int {
	t.Helper()
	sid := fmt.Sprintf("SM%032d", inboundSeq.Add(1))
	params := url.Values{"AccountSid": {simTwilioSID}, "ApiVersion": {"2010-04-01"},
		"Body": {text}, "From": {from}, "MessageSid": {sid}, "NumMedia": {"0"},
		"NumSegments": {"1"}, "SmsMessageSid": {sid}, "SmsSid": {sid},
		"SmsStatus": {"received"}, "To": {"+15005550006"}}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	data := base + ch.WebhookPath()
	for _, k := range keys {
		data += k + params.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(simTwilioToken))
	mac.Write([]byte(data))
	req := httptest.NewRequest("POST", ch.WebhookPath(), strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	ctx.HandleWebhook(rec, req)
	return rec.Code
}

// twilioChannel adds a Twilio SMS channel that sends nowhere (no test
// runs the engine on it): for inbound messages.
func twilioChannel(t *testing.T, ten *vc.Tenant) *vc.Channel {
	t.Helper()
	ch, err := ten.NewChannel(vc.ChannelSpec{Name: "twilio", Provider: "twilio-sms",
		Sender:      "+15005550006",
		Config:      map[string]string{"account_sid": simTwilioSID, "base_url": "http://127.0.0.1:9"},
		Credentials: map[string]string{"auth_token": simTwilioToken}})
	if err != nil {
		t.Fatalf("twilio channel: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	return ch
}

func voiceChannel(t *testing.T, ten *vc.Tenant, name string, cfg any) *vc.Channel {
	t.Helper()
	ch, err := ten.NewChannel(vc.ChannelSpec{Name: name, Provider: "sandbox-voice",
		Sender: "+14155550000", Config: cfg})
	if err != nil {
		t.Fatalf("voice channel: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	return ch
}

func agentNames(t *testing.T, ten *vc.Tenant, f vc.AgentFilter) []string {
	t.Helper()
	it, err := ten.Agents(f)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var ids []string
	for it.Next() {
		ids = append(ids, it.Value().Name())
		it.Value().Close()
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return ids
}

func TestAgents(t *testing.T) {
	clock := newClock(t0)
	_, ten := open(t, vc.Options{Clock: clock.now})
	asha, err := ten.NewAgent(vc.AgentSpec{Name: "asha", DisplayName: "Asha Rao",
		Number: "+14155550111", Metadata: map[string]string{"team": "sales"}})
	if err != nil {
		t.Fatalf("NewAgent: %v", err)
	}
	defer asha.Close()
	if asha.Name() != "asha" || asha.DisplayName() != "Asha Rao" ||
		asha.Number() != "+14155550111" || asha.WrapUp() != 30*time.Second ||
		asha.State() != vc.AgentOffline || asha.MetadataJSON() != `{"team":"sales"}` ||
		!asha.CreatedAt().Equal(t0) || len(asha.ID()) != 26 {
		t.Fatalf("new agent: %s %q %s %v %v %s %v", asha.Name(), asha.DisplayName(),
			asha.Number(), asha.WrapUp(), asha.State(), asha.MetadataJSON(), asha.CreatedAt())
	}
	ravi, err := ten.NewAgent(vc.AgentSpec{Name: "ravi", Number: "sip:ravi@pbx.example.com",
		WrapUp: vc.NoWrapUp})
	if err != nil {
		t.Fatal(err)
	}
	defer ravi.Close()
	if ravi.WrapUp() != 0 || ravi.DisplayName() != "" {
		t.Fatalf("ravi: %v %q", ravi.WrapUp(), ravi.DisplayName())
	}

	// Bad input is refused with the library's code and message.
	for _, c := range []struct {
		spec vc.AgentSpec
		want error
	}{
		{vc.AgentSpec{Name: "asha", Number: "+14155550112"}, vc.ErrExists},
		{vc.AgentSpec{Name: "Bad Name", Number: "+14155550112"}, vc.ErrInvalid},
		{vc.AgentSpec{Name: "nonum"}, vc.ErrInvalid},
		{vc.AgentSpec{Name: "badnum", Number: "12"}, vc.ErrInvalid},
		{vc.AgentSpec{Name: "long", Number: "+14155550112", WrapUp: 2 * time.Hour}, vc.ErrInvalid},
		{vc.AgentSpec{Name: "half", Number: "+14155550112", WrapUp: 1500 * time.Millisecond}, vc.ErrInvalid},
		{vc.AgentSpec{Name: "meta", Number: "+14155550112", Metadata: "[1]"}, vc.ErrInvalid},
	} {
		if _, err := ten.NewAgent(c.spec); !errors.Is(err, c.want) {
			t.Fatalf("NewAgent(%+v): %v, want %v", c.spec, err, c.want)
		}
	}
	var verr *vc.Error
	if _, err := ten.NewAgent(vc.AgentSpec{Name: "Bad Name", Number: "+1415"}); !errors.As(err, &verr) ||
		verr.Name != "VC_EINVALID" || verr.Message == "" {
		t.Fatalf("error detail: %#v", err)
	}

	// Lookup by id and by name; the list in creation order, by state.
	for _, key := range []string{asha.ID(), "asha"} {
		a, err := ten.LookupAgent(key)
		if err != nil || a.ID() != asha.ID() {
			t.Fatalf("LookupAgent(%s): %v", key, err)
		}
		a.Close()
	}
	if _, err := ten.LookupAgent("nobody"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("unknown agent: %v", err)
	}
	if got := agentNames(t, ten, vc.AgentFilter{}); strings.Join(got, ",") != "asha,ravi" {
		t.Fatalf("Agents: %v", got)
	}

	// Update keeps what the spec leaves empty.
	clock.advance(time.Minute)
	if err := asha.Update(vc.AgentSpec{DisplayName: "Asha R.", WrapUp: 10 * time.Second}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if asha.DisplayName() != "Asha R." || asha.WrapUp() != 10*time.Second ||
		asha.Number() != "+14155550111" || asha.Name() != "asha" ||
		!asha.UpdatedAt().Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Update: %q %v %s", asha.DisplayName(), asha.WrapUp(), asha.Number())
	}
	if err := asha.Update(vc.AgentSpec{Name: "ravi"}); !errors.Is(err, vc.ErrExists) {
		t.Fatalf("rename onto ravi: %v", err)
	}
	// Clear empties a string that "" would keep, and only that one.
	if err := asha.Update(vc.AgentSpec{DisplayName: "Asha", Clear: vc.AgentDisplayName}); !errors.Is(err, vc.ErrInvalid) ||
		asha.DisplayName() != "Asha R." {
		t.Fatalf("set and clear the display name: %v %q", err, asha.DisplayName())
	}
	if err := asha.Update(vc.AgentSpec{Clear: vc.AgentDisplayName}); err != nil {
		t.Fatalf("Update clearing: %v", err)
	}
	if asha.DisplayName() != "" || asha.WrapUp() != 10*time.Second || asha.Number() != "+14155550111" {
		t.Fatalf("after clearing: %q %v %s", asha.DisplayName(), asha.WrapUp(), asha.Number())
	}

	// States: available, a break needs a reason, calls' states are refused.
	if err := asha.SetState(vc.AgentAvailable, ""); err != nil || asha.State() != vc.AgentAvailable {
		t.Fatalf("available: %v %v", err, asha.State())
	}
	if got := agentNames(t, ten, vc.AgentFilter{State: vc.AgentAvailable}); strings.Join(got, ",") != "asha" {
		t.Fatalf("available agents: %v", got)
	}
	clock.advance(time.Minute)
	if err := asha.SetState(vc.AgentBreak, ""); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("break without a reason: %v", err)
	}
	if err := asha.SetState(vc.AgentOnCall, ""); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("on_call by the API: %v", err)
	}
	if err := asha.SetState(vc.AgentBreak, "lunch"); err != nil ||
		asha.State() != vc.AgentBreak || asha.Reason() != "lunch" ||
		!asha.StateSince().Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("break: %v %v %q", err, asha.State(), asha.Reason())
	}
	clock.advance(time.Minute)
	if err := asha.SetState(vc.AgentOffline, ""); err != nil {
		t.Fatal(err)
	}

	// The activity log, oldest first.
	it, err := asha.Activity(vc.ActivityFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for it.Next() {
		c := it.Value()
		log = append(log, fmt.Sprintf("%d:%v>%v:%s:%v", c.Seq, c.From, c.To, c.Reason, c.Cause))
	}
	it.Close()
	if want := "1:unknown>offline::api 2:offline>available::api " +
		"3:available>break:lunch:api 4:break>offline::api"; strings.Join(log, " ") != want {
		t.Fatalf("activity: %s", strings.Join(log, " "))
	}

	// Figures over the three minutes.
	tot, err := asha.Stats(t0, t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Offline for the first minute, available for the second, on break for the third.
	if tot.Idle != time.Minute || tot.Break != time.Minute || tot.Offline != time.Minute || tot.Calls != 0 {
		t.Fatalf("Stats: %+v", tot)
	}
	if _, err := asha.Stats(t0.Add(time.Hour), t0); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("Stats with since after until: %v", err)
	}

	// Delete: only offline agents; then it is gone, the handle still reads.
	if err := ravi.SetState(vc.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if err := ravi.Delete(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("delete an available agent: %v", err)
	}
	if err := asha.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if asha.Name() != "asha" {
		t.Fatal("the deleted agent's snapshot is gone")
	}
	if err := asha.Delete(); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	if err := asha.Refresh(); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("Refresh a deleted agent: %v", err)
	}
	if _, err := ten.LookupAgent("asha"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("lookup a deleted agent: %v", err)
	}
	if got := agentNames(t, ten, vc.AgentFilter{}); strings.Join(got, ",") != "ravi" {
		t.Fatalf("Agents after delete: %v", got)
	}
	asha.Close()
	if err := asha.Refresh(); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("a closed handle: %v", err)
	}
}

// An agent placing a call is on it: the API cannot move or delete it,
// and it is back (in wrap-up) once the call ends.
func TestAgentOnACall(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	voiceChannel(t, ten, "voice", map[string]int{"talk_s": -1})
	ag, err := ten.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	if err := ag.SetState(vc.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	call, err := ten.StartCall(vc.CallSpec{Agent: "asha", CustomerNumber: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	runUntil(t, ctx, "the call to be bridged", func() bool {
		call.Refresh()
		return call.State() == vc.CallBridged
	})
	if err := ag.Refresh(); err != nil || ag.State() != vc.AgentOnCall || ag.CallID() != call.ID() {
		t.Fatalf("on the call: %v %v %q", err, ag.State(), ag.CallID())
	}
	if _, err := ten.StartCall(vc.CallSpec{Agent: "asha", CustomerNumber: "+14155550124"}); !errors.Is(err, vc.ErrBusy) {
		t.Fatalf("a second call: %v", err)
	}
	if err := ag.SetState(vc.AgentOffline, ""); !errors.Is(err, vc.ErrState) {
		t.Fatalf("offline during a call: %v", err)
	}
	if err := ag.Delete(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("delete during a call: %v", err)
	}
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	runUntil(t, ctx, "the call to end", func() bool {
		call.Refresh()
		return call.State().Final()
	})
	if err := ag.Refresh(); err != nil || ag.State() != vc.AgentWrapUp || ag.CallID() != "" ||
		ag.WrapUpUntil().IsZero() {
		t.Fatalf("after the call: %v %v %q", err, ag.State(), ag.CallID())
	}
	tot, err := ag.Stats(time.Now().Add(-time.Hour), time.Time{})
	if err != nil || tot.Calls != 1 || tot.AnsweredCalls != 1 {
		t.Fatalf("Stats: %+v %v", tot, err)
	}
	it, _ := ag.Activity(vc.ActivityFilter{})
	causes := map[vc.AgentCause]bool{}
	for it.Next() {
		if c := it.Value(); c.Cause == vc.AgentCauseCall && c.CallID != call.ID() {
			t.Fatalf("change %d names call %q", c.Seq, c.CallID)
		}
		causes[it.Value().Cause] = true
	}
	it.Close()
	if !causes[vc.AgentCauseAPI] || !causes[vc.AgentCauseCall] {
		t.Fatalf("causes: %v", causes)
	}
}

func members(t *testing.T, q *vc.Queue) []string {
	t.Helper()
	it, err := q.Members("")
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for it.Next() {
		m := it.Value()
		out = append(out, fmt.Sprintf("%d:%s:%s", m.Position, m.AgentID, strings.Join(m.Skills, "+")))
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return out
}

func TestQueuesAndMembers(t *testing.T) {
	_, ten := open(t, vc.Options{})
	var ags []*vc.Agent
	for _, n := range []string{"asha", "ravi", "meena"} {
		a, err := ten.NewAgent(vc.AgentSpec{Name: n, Number: "+14155550111"})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ags = append(ags, a)
	}
	asha, ravi, meena := ags[0], ags[1], ags[2]

	later, err := ten.NewQueue(vc.QueueSpec{Name: "later"})
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	defer later.Close()
	if later.Strategy() != vc.QueueLongestIdle || later.MaxWait() != 300*time.Second ||
		later.AnnouncePosition() || later.Overflow() != vc.OverflowHangup || later.MOHURL() != "" {
		t.Fatalf("defaults: %v %v %v %v", later.Strategy(), later.MaxWait(),
			later.AnnouncePosition(), later.Overflow())
	}
	yes := true
	sales, err := ten.NewQueue(vc.QueueSpec{Name: "sales", Strategy: vc.QueueBySkill,
		MaxWait: 2 * time.Minute, AnnouncePosition: &yes, Overflow: vc.OverflowQueue,
		OverflowTarget: "later", MOHURL: "https://cdn.example.com/moh.mp3"})
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	defer sales.Close()
	if sales.Strategy() != vc.QueueBySkill || sales.Strategy().String() != "by_skill" ||
		sales.MaxWait() != 2*time.Minute || !sales.AnnouncePosition() ||
		sales.Overflow() != vc.OverflowQueue || sales.OverflowTarget() != later.ID() ||
		sales.MOHURL() != "https://cdn.example.com/moh.mp3" {
		t.Fatalf("sales: %v %v %v %v %q", sales.Strategy(), sales.MaxWait(),
			sales.AnnouncePosition(), sales.Overflow(), sales.OverflowTarget())
	}
	for _, c := range []struct {
		spec vc.QueueSpec
		want error
	}{
		{vc.QueueSpec{Name: "sales"}, vc.ErrExists},
		{vc.QueueSpec{Name: "BAD"}, vc.ErrInvalid},
		{vc.QueueSpec{Name: "s9", Strategy: 9}, vc.ErrInvalid},
		{vc.QueueSpec{Name: "s9", MaxWait: 48 * time.Hour}, vc.ErrInvalid},
		{vc.QueueSpec{Name: "s9", MOHURL: "ftp://x"}, vc.ErrInvalid},
		{vc.QueueSpec{Name: "s9", Overflow: vc.OverflowQueue, OverflowTarget: "nowhere"}, vc.ErrNotFound},
	} {
		if _, err := ten.NewQueue(c.spec); !errors.Is(err, c.want) {
			t.Fatalf("NewQueue(%+v): %v, want %v", c.spec, err, c.want)
		}
	}
	for _, key := range []string{"sales", sales.ID()} {
		q, err := ten.LookupQueue(key)
		if err != nil || q.ID() != sales.ID() {
			t.Fatalf("LookupQueue(%s): %v", key, err)
		}
		q.Close()
	}
	it, err := ten.Queues("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for it.Next() {
		names = append(names, it.Value().Name())
		it.Value().Close()
	}
	it.Close()
	if strings.Join(names, ",") != "later,sales" {
		t.Fatalf("Queues: %v", names)
	}

	// Update: a zero spec member keeps the setting.
	if err := sales.Update(vc.QueueSpec{MaxWait: vc.NoMaxWait, Strategy: vc.QueueRoundRobin}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if sales.MaxWait() != 0 || sales.Strategy() != vc.QueueRoundRobin || !sales.AnnouncePosition() ||
		sales.OverflowTarget() != later.ID() {
		t.Fatalf("after Update: %v %v", sales.MaxWait(), sales.Strategy())
	}
	// Clear: the provider's music on hold again; a voicemail overflow
	// without a target goes to the queue's. A queue overflow needs one.
	if err := sales.Update(vc.QueueSpec{Clear: vc.QueueOverflowTarget}); !errors.Is(err, vc.ErrInvalid) ||
		sales.OverflowTarget() != later.ID() {
		t.Fatalf("queue overflow without a target: %v %q", err, sales.OverflowTarget())
	}
	if err := sales.Update(vc.QueueSpec{MOHURL: "https://cdn.example.com/b.mp3", Clear: vc.QueueMOHURL}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("set and clear the music: %v", err)
	}
	if err := sales.Update(vc.QueueSpec{Overflow: vc.OverflowVoicemail, Clear: vc.QueueOverflowTarget | vc.QueueMOHURL}); err != nil {
		t.Fatalf("Update clearing: %v", err)
	}
	if sales.MOHURL() != "" || sales.OverflowTarget() != "" || sales.Overflow() != vc.OverflowVoicemail ||
		sales.Strategy() != vc.QueueRoundRobin {
		t.Fatalf("after clearing: %q %q %v", sales.MOHURL(), sales.OverflowTarget(), sales.Overflow())
	}
	if err := sales.Update(vc.QueueSpec{Overflow: vc.OverflowQueue, OverflowTarget: "later"}); err != nil ||
		sales.OverflowTarget() != later.ID() {
		t.Fatalf("overflow to later again: %v", err)
	}

	// Members, by name or id, with their skills in this queue.
	if err := sales.AddMember("asha", "hindi", "billing"); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if err := sales.AddMember(ravi.ID()); err != nil {
		t.Fatal(err)
	}
	if err := sales.AddMember("meena", "sales"); err != nil {
		t.Fatal(err)
	}
	want := []string{"1:" + asha.ID() + ":billing+hindi", "2:" + ravi.ID() + ":",
		"3:" + meena.ID() + ":sales"}
	if got := members(t, sales); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("members: %v", got)
	}
	// Adding again replaces the tags and keeps the place.
	if err := sales.AddMember("asha", "sales"); err != nil {
		t.Fatal(err)
	}
	if got := members(t, sales); got[0] != "1:"+asha.ID()+":sales" {
		t.Fatalf("re-added: %v", got)
	}
	if err := sales.AddMember("asha", "Bad Tag"); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad skill: %v", err)
	}
	if err := sales.AddMember("nobody"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("unknown agent: %v", err)
	}
	// Paged with the cursor.
	mi, _ := sales.Members("")
	mi.Next()
	cur := mi.Cursor()
	mi.Close()
	mi, err = sales.Members(cur)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for mi.Next() {
		n++
	}
	mi.Close()
	if n != 2 {
		t.Fatalf("members after the cursor: %d", n)
	}

	if err := sales.RemoveMember("ravi"); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if err := sales.RemoveMember("ravi"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	// Deleting an agent takes it out of every queue.
	if err := meena.Delete(); err != nil {
		t.Fatal(err)
	}
	if got := members(t, sales); len(got) != 1 || got[0] != "1:"+asha.ID()+":sales" {
		t.Fatalf("after deleting meena: %v", got)
	}

	// A queue another overflows to cannot go; the other one can.
	if err := later.Delete(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("delete an overflow target: %v", err)
	}
	if err := sales.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := sales.Delete(); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	if err := later.Delete(); err != nil {
		t.Fatalf("Delete later: %v", err)
	}
	if _, err := ten.LookupQueue("sales"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("lookup a deleted queue: %v", err)
	}
}

func TestNumbers(t *testing.T) {
	_, ten := open(t, vc.Options{})
	voice := voiceChannel(t, ten, "voice", nil)
	q, err := ten.NewQueue(vc.QueueSpec{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ag, err := ten.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()

	n, err := ten.NewNumber(vc.NumberSpec{Number: "+1 (415) 555-0100", Channel: "voice",
		EntryKind: vc.EntryQueue, Entry: "support", Label: "Support line"})
	if err != nil {
		t.Fatalf("NewNumber: %v", err)
	}
	defer n.Close()
	if n.Number() != "+14155550100" || n.ChannelID() != voice.ID() ||
		n.EntryKind() != vc.EntryQueue || n.EntryKind().String() != "queue" ||
		n.EntryID() != q.ID() || n.Label() != "Support line" {
		t.Fatalf("number: %s %s %v %s %q", n.Number(), n.ChannelID(), n.EntryKind(), n.EntryID(), n.Label())
	}
	sip, err := ten.NewNumber(vc.NumberSpec{Number: "sip:Sales@PBX.example.com:5060;transport=tcp",
		Channel: voice.ID(), EntryKind: vc.EntryAgent, Entry: "asha"})
	if err != nil {
		t.Fatal(err)
	}
	defer sip.Close()
	if sip.Number() != "sip:Sales@pbx.example.com" || sip.EntryID() != ag.ID() {
		t.Fatalf("sip: %s %s", sip.Number(), sip.EntryID())
	}
	for _, c := range []struct {
		spec vc.NumberSpec
		want error
	}{
		{vc.NumberSpec{Number: "+14155550100", Channel: "voice", EntryKind: vc.EntryQueue, Entry: "support"}, vc.ErrExists},
		{vc.NumberSpec{Number: "415 555 0101", Channel: "voice", EntryKind: vc.EntryQueue, Entry: "support"}, vc.ErrInvalid},
		{vc.NumberSpec{Number: "+14155550101", Channel: "sms", EntryKind: vc.EntryQueue, Entry: "support"}, vc.ErrInvalid},
		{vc.NumberSpec{Number: "+14155550101", Channel: "voice", EntryKind: vc.EntryQueue, Entry: "nowhere"}, vc.ErrNotFound},
		{vc.NumberSpec{Number: "+14155550101", Channel: "voice", EntryKind: 9, Entry: "support"}, vc.ErrInvalid},
	} {
		if _, err := ten.NewNumber(c.spec); !errors.Is(err, c.want) {
			t.Fatalf("NewNumber(%+v): %v, want %v", c.spec, err, c.want)
		}
	}

	// Found as a provider writes it.
	for _, s := range []string{"+1-415-555-0100", "14155550100", "(415) 555-0100", "001 415 555 0100"} {
		f, err := ten.FindNumber(s)
		if err != nil || f.ID() != n.ID() {
			t.Fatalf("FindNumber(%s): %v", s, err)
		}
		f.Close()
	}
	if _, err := ten.FindNumber("+14155550199"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("FindNumber of another: %v", err)
	}
	l, err := ten.LookupNumber(sip.ID())
	if err != nil || l.Number() != sip.Number() {
		t.Fatalf("LookupNumber: %v", err)
	}
	l.Close()

	list := func(f vc.NumberFilter) []string {
		it, err := ten.Numbers(f)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var out []string
		for it.Next() {
			out = append(out, it.Value().Number())
			it.Value().Close()
		}
		return out
	}
	if got := list(vc.NumberFilter{}); strings.Join(got, ",") != "+14155550100,sip:Sales@pbx.example.com" {
		t.Fatalf("Numbers: %v", got)
	}
	if got := list(vc.NumberFilter{EntryKind: vc.EntryAgent}); len(got) != 1 || got[0] != sip.Number() {
		t.Fatalf("Numbers to agents: %v", got)
	}
	if got := list(vc.NumberFilter{EntryID: q.ID(), ChannelID: voice.ID()}); len(got) != 1 || got[0] != n.Number() {
		t.Fatalf("Numbers to the queue: %v", got)
	}
	if _, err := ten.Numbers(vc.NumberFilter{EntryID: "support"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("a name as entry id: %v", err)
	}

	// A queue a number routes to cannot be deleted; update moves it.
	if err := q.Delete(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("delete a routed queue: %v", err)
	}
	if err := n.Update(vc.NumberSpec{EntryKind: vc.EntryAgent, Entry: "asha"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if n.EntryKind() != vc.EntryAgent || n.EntryID() != ag.ID() || n.Label() != "Support line" ||
		n.Number() != "+14155550100" {
		t.Fatalf("after Update: %v %s %q", n.EntryKind(), n.EntryID(), n.Label())
	}
	if err := n.Update(vc.NumberSpec{Clear: vc.NumberLabel}); err != nil {
		t.Fatalf("Update clearing: %v", err)
	}
	if n.Label() != "" || n.EntryID() != ag.ID() {
		t.Fatalf("after clearing: %q %s", n.Label(), n.EntryID())
	}
	if err := q.Delete(); err != nil {
		t.Fatalf("delete the queue: %v", err)
	}
	if err := n.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := n.Delete(); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	if n.Number() != "+14155550100" {
		t.Fatal("the deleted number's snapshot is gone")
	}
	if _, err := ten.FindNumber("+14155550100"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("find a deleted number: %v", err)
	}
}

// Goroutines share agent, queue and number handles (the race detector
// watches); closing the tenant leaves them usable; Context.Close frees
// the ones still open, whose methods then say closed.
func TestCallCenterHandlesShared(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	voiceChannel(t, ten, "voice", nil)
	ag, err := ten.NewAgent(vc.AgentSpec{Name: "asha", Number: "+14155550111"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := ten.NewQueue(vc.QueueSpec{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ten.NewNumber(vc.NumberSpec{Number: "+14155550100", Channel: "voice",
		EntryKind: vc.EntryQueue, Entry: "support"})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 20; i++ {
				st := vc.AgentAvailable
				if (g+i)%2 == 0 {
					st = vc.AgentOffline
				}
				if err := ag.SetState(st, ""); err != nil {
					errs <- err
				}
				if ag.Name() != "asha" || n.EntryID() != q.ID() {
					errs <- errors.New("a getter read a wrong value")
				}
				if err := q.AddMember("asha", fmt.Sprintf("s%d", g)); err != nil {
					errs <- err
				}
				if it, err := q.Members(""); err != nil {
					errs <- err
				} else {
					it.Close()
				}
				if err := ag.Refresh(); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := members(t, q); len(got) != 1 {
		t.Fatalf("members: %v", got)
	}

	// They do not depend on the tenant's handle.
	ten.Close()
	if err := ag.SetState(vc.AgentBreak, "lunch"); err != nil {
		t.Fatalf("agent after its tenant closed: %v", err)
	}
	for _, c := range []interface{ Close() error }{n, n} {
		if c.Close() != nil {
			t.Fatal("Close")
		}
	}
	if n.Number() != "" {
		t.Fatal("getter after Close")
	}
	if err := n.Delete(); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("number after Close: %v", err)
	}
	it, err := q.Members("")
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ag.Refresh(); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("agent after Context.Close: %v", err)
	}
	if err := q.AddMember("asha"); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("queue after Context.Close: %v", err)
	}
	if it.Next() {
		t.Fatal("iterator after Context.Close")
	}
	for _, c := range []interface{ Close() error }{ag, q, it} {
		if c.Close() != nil {
			t.Fatal("Close after Context.Close")
		}
	}
}
