package vyomcomm_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vc "vyomcomm.dev/vyomcomm"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// open gives a context over an SQLite file in a temporary directory
// and a tenant "acme" with a sandbox SMS channel.
func open(t *testing.T, opts vc.Options) (*vc.Context, *vc.Tenant) {
	t.Helper()
	if opts.StorePath == "" {
		opts.StorePath = filepath.Join(t.TempDir(), "comm.db")
	}
	if opts.MasterKey == nil {
		opts.MasterKey = testKey
	}
	ctx, err := vc.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { ctx.Close() })
	ten, err := ctx.NewTenant(vc.TenantSpec{Slug: "acme", Name: "Acme Traders"})
	if err != nil {
		t.Fatalf("NewTenant: %v", err)
	}
	t.Cleanup(func() { ten.Close() })
	ch, err := ten.NewChannel(vc.ChannelSpec{Name: "sms", Provider: "sandbox-sms",
		Sender: "+15550001111"})
	if err != nil {
		t.Fatalf("NewChannel: %v", err)
	}
	ch.Close()
	return ctx, ten
}

// runUntil runs the engine until cond holds, or fails after 20 s.
func runUntil(t *testing.T, ctx *vc.Context, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := ctx.Run(10 * time.Millisecond); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

func status(t *testing.T, ten *vc.Tenant, id string) vc.MessageStatus {
	t.Helper()
	m, err := ten.LookupMessage(id)
	if err != nil {
		t.Fatalf("LookupMessage: %v", err)
	}
	return m.Status
}

func TestTenantsChannelsTemplates(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	if ten.Slug() != "acme" || ten.Name() != "Acme Traders" ||
		ten.Timezone() != "UTC" || ten.Currency() != "USD" || len(ten.ID()) != 26 {
		t.Fatalf("tenant: %q %q %q %q %q", ten.Slug(), ten.Name(),
			ten.Timezone(), ten.Currency(), ten.ID())
	}
	if _, err := ctx.NewTenant(vc.TenantSpec{Slug: "acme"}); !errors.Is(err, vc.ErrExists) {
		t.Fatalf("same slug again: %v", err)
	}
	if _, err := ctx.NewTenant(vc.TenantSpec{Slug: "Bad Slug"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad slug: %v", err)
	}
	again, err := ctx.LookupTenant("acme")
	if err != nil || again.ID() != ten.ID() {
		t.Fatalf("LookupTenant: %v", err)
	}
	again.Close()
	if _, err := ctx.LookupTenant("nobody"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	it, err := ctx.Tenants("")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if it.Value().Slug() != "acme" {
			t.Fatalf("listed %q", it.Value().Slug())
		}
		it.Value().Close()
		n++
	}
	if it.Err() != nil || n != 1 {
		t.Fatalf("Tenants: %d, %v", n, it.Err())
	}
	it.Close()

	ch, err := ten.LookupChannel("sms")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Provider() != "sandbox-sms" || ch.Kind() != vc.SMS || !ch.Enabled() ||
		ch.Sender() != "+15550001111" || ch.WebhookPath() != "/webhooks/"+ch.ID() {
		t.Fatalf("channel: %s %v %v %s", ch.Provider(), ch.Kind(), ch.Enabled(), ch.WebhookPath())
	}
	if err := ch.Disable(); err != nil || ch.Enabled() {
		t.Fatalf("Disable: %v", err)
	}
	if err := ch.Enable(); err != nil || !ch.Enabled() {
		t.Fatalf("Enable: %v", err)
	}
	ch.Close()
	if _, err := ten.NewChannel(vc.ChannelSpec{Name: "x", Provider: "no-such"}); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("unknown provider: %v", err)
	}
	// Config as a Go value, marshalled; the sandbox refuses a bad outcome.
	_, err = ten.NewChannel(vc.ChannelSpec{Name: "bad", Provider: "sandbox-sms",
		Config: map[string]string{"outcome": "sideways"}})
	if !errors.Is(err, vc.ErrInvalid) || !strings.Contains(err.Error(), "outcome") {
		t.Fatalf("bad sandbox config: %v", err)
	}

	tpl, err := ten.NewTemplate(vc.TemplateSpec{Name: "shipped", Kind: vc.SMS,
		Text:      "Hi {{name}}, order {{order}} has shipped.{{#coupon}} Code: {{coupon}}{{/coupon}}",
		Variables: []string{"name", "order", "coupon?"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	out, err := tpl.Render(vc.RenderSpec{Vars: map[string]any{"name": "Asha", "order": 42}})
	if err != nil || out != "Hi Asha, order 42 has shipped." {
		t.Fatalf("Render: %q %v", out, err)
	}
	out, err = tpl.Render(vc.RenderSpec{Vars: `{"name":"Ravi","order":"A-7","coupon":"SAVE5"}`})
	if err != nil || out != "Hi Ravi, order A-7 has shipped. Code: SAVE5" {
		t.Fatalf("Render with coupon: %q %v", out, err)
	}
	_, err = tpl.Render(vc.RenderSpec{Vars: map[string]any{"name": "Asha"}})
	if !errors.Is(err, vc.ErrInvalid) || !strings.Contains(err.Error(), "order") {
		t.Fatalf("missing variable: %v", err)
	}
	if err := tpl.AddVariant(vc.TemplateSpec{Kind: vc.SMS, Locale: "hi",
		Text: "Namaste {{name}}, order {{order}}"}); err != nil || tpl.Version() != 2 {
		t.Fatalf("AddVariant: %v, version %d", err, tpl.Version())
	}
	out, err = tpl.Render(vc.RenderSpec{Locale: "hi-IN", Vars: `{"name":"Asha","order":1}`})
	if err != nil || out != "Namaste Asha, order 1" {
		t.Fatalf("Render hi: %q %v", out, err)
	}
	if _, err := ten.NewTemplate(vc.TemplateSpec{Name: "broken", Kind: vc.SMS,
		Text: "{{#open}} never closed"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("template syntax: %v", err)
	}
	if _, err := ten.LookupTemplate("shipped"); err != nil {
		t.Fatalf("LookupTemplate: %v", err)
	}
}

func TestSendRunsToSent(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixMilli())
	ctx, ten := open(t, vc.Options{Clock: func() time.Time {
		return time.UnixMilli(now.Load())
	}})
	if got := ctx.Now().UnixMilli(); got != now.Load() {
		t.Fatalf("Now: %d", got)
	}
	id, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123",
		Text: "Your order has shipped", IdempotencyKey: "order-42",
		Metadata: map[string]int{"order": 42}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m, err := ten.LookupMessage(id)
	if err != nil || m.Status != vc.Queued || m.To != "+14155550123" ||
		m.Kind != vc.SMS || m.Segments != 1 || m.CreatedAt.UnixMilli() != now.Load() {
		t.Fatalf("queued: %+v %v", m, err)
	}
	// A retry with the same key is the same message; other content is a
	// conflict.
	if again, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123",
		Text: "Your order has shipped", IdempotencyKey: "order-42",
		Metadata: map[string]int{"order": 42}}); err != nil || again != id {
		t.Fatalf("idempotent retry: %s %v", again, err)
	}
	if _, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123",
		Text: "Something else", IdempotencyKey: "order-42"}); !errors.Is(err, vc.ErrConflict) {
		t.Fatalf("conflict: %v", err)
	}
	n, err := ctx.Run(0)
	if err != nil || n < 1 {
		t.Fatalf("Run: %d %v", n, err)
	}
	m, _ = ten.LookupMessage(id)
	if m.Status != vc.Sent || m.ProviderID != "sandbox-"+id || m.Attempts != 1 {
		t.Fatalf("after Run: %+v", m)
	}

	// From a template; and a queued message can be canceled.
	tpl, err := ten.NewTemplate(vc.TemplateSpec{Name: "otp", Kind: vc.SMS,
		Text: "Code {{code}}", Category: vc.OTP})
	if err != nil {
		t.Fatal(err)
	}
	tpl.Close()
	id2, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550124",
		Template: "otp", Vars: map[string]string{"code": "9182"}})
	if err != nil {
		t.Fatal(err)
	}
	later, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550125",
		Text: "later", SendAt: time.UnixMilli(now.Load() + 3600_000)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ten.CancelMessage(later); err != nil {
		t.Fatalf("CancelMessage: %v", err)
	}
	if err := ten.CancelMessage(id); !errors.Is(err, vc.ErrState) {
		t.Fatalf("cancel a sent message: %v", err)
	}
	runUntil(t, ctx, "the template message", func() bool { return status(t, ten, id2) == vc.Sent })
	if m, _ := ten.LookupMessage(id2); m.TemplateVersion != 1 || m.Category != vc.OTP {
		t.Fatalf("template message: %+v", m)
	}

	// The list, newest first, and by status.
	it, err := ten.Messages(vc.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for it.Next() {
		ids = append(ids, it.Value().ID)
	}
	it.Close()
	if it.Err() != nil || strings.Join(ids, ",") != later+","+id2+","+id {
		t.Fatalf("Messages: %v %v", ids, it.Err())
	}
	it, _ = ten.Messages(vc.MessageFilter{Status: vc.Canceled})
	ids = nil
	for it.Next() {
		ids = append(ids, it.Value().ID)
	}
	it.Close()
	if len(ids) != 1 || ids[0] != later {
		t.Fatalf("canceled: %v", ids)
	}

	// The event log, read by polling.
	ev, err := ten.Events(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	var types []string
	for ev.Next() {
		if ev.Value().SubjectID == id {
			types = append(types, ev.Value().Type)
		}
	}
	if got := strings.Join(types, " "); got != "message.queued message.sending message.sent" &&
		got != "message.queued message.sent" {
		t.Fatalf("events of the message: %q", got)
	}
}

// The event handler runs on the thread inside Run (here) or on an
// engine thread, through a cgo.Handle.
func TestEventHandler(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	var mu sync.Mutex
	var seen []string
	fail := true
	err := ctx.SetEventHandler(func(e vc.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if e.Type == "message.queued" && fail {
			fail = false
			return errors.New("not yet") // offered again later
		}
		if e.TenantID == ten.ID() {
			seen = append(seen, e.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, ctx, "message.sent delivered to the handler", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0 && seen[len(seen)-1] == "message.sent"
	})
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	if !strings.Contains(got, "tenant.created") || !strings.Contains(got, "message.queued") {
		t.Fatalf("events: %s", got)
	}
	if status(t, ten, id) != vc.Sent {
		t.Fatal("not sent")
	}
	// A panicking handler does not crash the process.
	ctx.SetEventHandler(func(e vc.Event) error { panic("boom") })
	if _, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123", Text: "again"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.Run(0); err != nil {
		t.Fatal(err)
	}
	if err := ctx.SetEventHandler(nil); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	_, ten := open(t, vc.Options{})
	_, err := ten.LookupMessage("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	var ve *vc.Error
	if !errors.As(err, &ve) || ve.Code != -3 || ve.Name != "VC_ENOTFOUND" || ve.Message == "" {
		t.Fatalf("not found: %#v", err)
	}
	if !errors.Is(err, vc.ErrNotFound) || errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("errors.Is: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "vyomcomm: ") || !strings.Contains(err.Error(), "VC_ENOTFOUND") {
		t.Fatalf("Error(): %s", err)
	}
	_, err = ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "not a number", Text: "x"})
	if !errors.As(err, &ve) || ve.Code != -5 || !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad address: %v", err)
	}
	// The binding refuses what C could not see: a NUL inside a string.
	if _, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123",
		Text: "a\x00b"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("NUL: %v", err)
	}
	// Every sentinel has its own code and name.
	codes := map[int]bool{}
	for _, s := range []*vc.Error{vc.ErrGeneric, vc.ErrNoMem, vc.ErrNotFound,
		vc.ErrExists, vc.ErrInvalid, vc.ErrBusy, vc.ErrTimeout, vc.ErrAuth,
		vc.ErrNotSupported, vc.ErrCanceled, vc.ErrRateLimit, vc.ErrProvider,
		vc.ErrStorage, vc.ErrVersion, vc.ErrCrypto, vc.ErrKey, vc.ErrConflict,
		vc.ErrTooBig, vc.ErrEncoding, vc.ErrCorrupt, vc.ErrState, vc.ErrNet,
		vc.ErrConsent, vc.ErrUser} {
		if codes[s.Code] || !strings.HasPrefix(s.Name, "VC_E") || s.Message == "" {
			t.Fatalf("sentinel %#v", s)
		}
		codes[s.Code] = true
	}
	if len(codes) != 24 {
		t.Fatalf("%d sentinels", len(codes))
	}
	// A store that is not a database, and a wrong master key.
	bad := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(bad, []byte(strings.Repeat("not sqlite ", 1000)), 0o600)
	if _, err := vc.Open(vc.Options{StorePath: bad}); !errors.Is(err, vc.ErrCorrupt) {
		t.Fatalf("junk store: %v", err)
	}
	path := filepath.Join(t.TempDir(), "k.db")
	c1, err := vc.Open(vc.Options{StorePath: path, MasterKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	c1.Close()
	other := []byte("ffffffffffffffffffffffffffffffff")
	if _, err := vc.Open(vc.Options{StorePath: path, MasterKey: other}); !errors.Is(err, vc.ErrKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := vc.Open(vc.Options{StorePath: path, MasterKey: []byte("short")}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
}

// Many goroutines fail differently at once: each gets its own error,
// since the thread-local detail is read in the same C call.
func TestErrorsPerGoroutine(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if g%2 == 0 {
					_, err := ctx.LookupTenant(fmt.Sprintf("missing-%d-%d", g, i))
					if !errors.Is(err, vc.ErrNotFound) {
						errs <- fmt.Errorf("lookup: %v", err)
						return
					}
				} else {
					_, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "bogus", Text: "x"})
					if !errors.Is(err, vc.ErrInvalid) {
						errs <- fmt.Errorf("send: %v", err)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestContactsAndConsent(t *testing.T) {
	_, ten := open(t, vc.Options{})
	id, err := ten.UpsertContact(vc.ContactSpec{Name: "Asha Rao",
		Phone: "+91 98450 12345", Email: "Asha@Example.COM",
		Tags: []string{"vip", "blr"}, Fields: map[string]string{"city": "Bengaluru"}})
	if err != nil {
		t.Fatalf("UpsertContact: %v", err)
	}
	c, err := ten.LookupContact(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Asha Rao" || c.Address(vc.AddressPhone) != "+919845012345" ||
		c.Address(vc.AddressEmail) != "Asha@example.com" ||
		strings.Join(c.Tags, ",") != "blr,vip" || !strings.Contains(c.FieldsJSON, "Bengaluru") {
		t.Fatalf("contact: %+v", c)
	}
	// The same phone finds the same contact.
	again, err := ten.UpsertContact(vc.ContactSpec{Phone: "+919845012345", Telegram: "12345"})
	if err != nil || again != id {
		t.Fatalf("dedup: %s %v", again, err)
	}
	if f, err := ten.FindContact(vc.AddressTelegram, "12345"); err != nil || f.ID != id {
		t.Fatalf("FindContact: %v", err)
	}
	if err := ten.TagContact(id, "gold"); err != nil {
		t.Fatal(err)
	}
	if err := ten.UntagContact(id, "blr"); err != nil {
		t.Fatal(err)
	}
	c, _ = ten.LookupContact(id)
	if strings.Join(c.Tags, ",") != "gold,vip" {
		t.Fatalf("tags: %v", c.Tags)
	}
	if _, err := ten.UpsertContact(vc.ContactSpec{Name: "no address"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("no address: %v", err)
	}
	it, err := ten.Contacts(vc.ContactFilter{Tag: "vip"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	it.Close()
	if n != 1 {
		t.Fatalf("contacts tagged vip: %d", n)
	}

	// Marketing SMS needs an opt-in by default.
	info, err := ten.Consent(id, vc.SMS, vc.Marketing)
	if err != nil || info.State != vc.ConsentUnknown || !info.RequiresOptIn || info.Allowed {
		t.Fatalf("consent before: %+v %v", info, err)
	}
	promo := vc.MessageSpec{Kind: vc.SMS, To: "+919845012345", Text: "20% off",
		Category: vc.Marketing}
	_, err = ten.Send(promo)
	if !errors.Is(err, vc.ErrConsent) {
		t.Fatalf("marketing without opt-in: %v", err)
	}
	var ve *vc.Error
	if errors.As(err, &ve); ve.Code != -23 || strings.Contains(ve.Message, "9845012345") {
		t.Fatalf("consent error names the rule, not the address: %+v", ve)
	}
	// Transactional still goes.
	if _, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+919845012345",
		Text: "Your order shipped"}); err != nil {
		t.Fatalf("transactional: %v", err)
	}
	if err := ten.SetConsent(vc.ConsentSpec{ContactID: id, Kind: vc.SMS,
		Category: vc.Marketing, State: vc.ConsentOptedIn, Source: "web-form",
		Proof: "ip 203.0.113.9"}); err != nil {
		t.Fatalf("SetConsent: %v", err)
	}
	info, _ = ten.Consent(id, vc.SMS, vc.Marketing)
	if info.State != vc.ConsentOptedIn || info.Source != "web-form" || !info.Allowed {
		t.Fatalf("consent after: %+v", info)
	}
	if _, err := ten.Send(promo); err != nil {
		t.Fatalf("marketing after opt-in: %v", err)
	}
	// An opt-out wins.
	ten.SetConsent(vc.ConsentSpec{ContactID: id, Kind: vc.SMS, State: vc.ConsentOptedOut})
	if _, err := ten.Send(promo); !errors.Is(err, vc.ErrConsent) {
		t.Fatalf("after opt-out: %v", err)
	}
	if err := ten.SetConsent(vc.ConsentSpec{ContactID: id, Kind: vc.SMS,
		State: vc.ConsentOptedIn, Source: "Not Valid!"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad source: %v", err)
	}
}

// Another tenant sees none of acme's objects.
func TestTenantIsolation(t *testing.T) {
	ctx, acme := open(t, vc.Options{})
	globex, err := ctx.NewTenant(vc.TenantSpec{Slug: "globex"})
	if err != nil {
		t.Fatal(err)
	}
	defer globex.Close()
	mid, err := acme.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	cid, _ := acme.UpsertContact(vc.ContactSpec{Phone: "+14155550123"})
	if _, err := globex.LookupMessage(mid); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("message across tenants: %v", err)
	}
	if err := globex.CancelMessage(mid); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("cancel across tenants: %v", err)
	}
	if _, err := globex.LookupContact(cid); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("contact across tenants: %v", err)
	}
	if _, err := globex.LookupChannel("sms"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("channel across tenants: %v", err)
	}
	if status(t, acme, mid) != vc.Queued {
		t.Fatal("acme's message changed")
	}
}

func TestCampaignToCompletion(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	tpl, err := ten.NewTemplate(vc.TemplateSpec{Name: "offer", Kind: vc.SMS,
		Text: "Hi {{contact.name}}, {{offer}} off today", Category: vc.Marketing})
	if err != nil {
		t.Fatal(err)
	}
	tpl.Close()
	names := []string{"Asha", "Ravi", "Meera", "Kiran"}
	for i, name := range names {
		id, err := ten.UpsertContact(vc.ContactSpec{Name: name,
			Phone: fmt.Sprintf("+1415555010%d", i), Tags: []string{"vip"}})
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 { // Kiran never opted in
			if err := ten.SetConsent(vc.ConsentSpec{ContactID: id, Kind: vc.SMS,
				Category: vc.Marketing, State: vc.ConsentOptedIn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cp, err := ten.NewCampaign(vc.CampaignSpec{Name: "Diwali", Template: "offer",
		Vars: map[string]string{"offer": "10%"}, Chain: []string{"sms"},
		Audience: vc.AudienceTag, Tag: "vip"})
	if err != nil {
		t.Fatalf("NewCampaign: %v", err)
	}
	defer cp.Close()
	if cp.State() != vc.CampaignDraft || cp.Name() != "Diwali" {
		t.Fatalf("draft: %v %q", cp.State(), cp.Name())
	}
	if err := cp.Pause(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("pause a draft: %v", err)
	}
	if err := cp.Start(); err != nil || cp.State() != vc.CampaignRunning {
		t.Fatalf("Start: %v %v", err, cp.State())
	}
	var k vc.CampaignCounters
	runUntil(t, ctx, "the campaign to complete", func() bool {
		k, err = cp.Counters()
		return err == nil && k.State == vc.CampaignCompleted
	})
	if k.Total != 4 || k.Sent != 3 || k.SkippedConsent != 1 || k.Open != 0 || k.Failed != 0 {
		t.Fatalf("counters: %+v", k)
	}
	it, _ := ten.Messages(vc.MessageFilter{Status: vc.Sent})
	n := 0
	for it.Next() {
		if it.Value().Category != vc.Marketing {
			t.Fatalf("campaign message: %+v", it.Value())
		}
		n++
	}
	it.Close()
	if n != 3 {
		t.Fatalf("%d messages sent", n)
	}
	again, err := ten.LookupCampaign(cp.ID())
	if err != nil || again.State() != vc.CampaignCompleted {
		t.Fatalf("LookupCampaign: %v", err)
	}
	again.Close()
	if err := cp.Cancel(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("cancel a completed campaign: %v", err)
	}
	if _, err := ten.NewCampaign(vc.CampaignSpec{Name: "x", Template: "offer",
		Chain: []string{"pigeon"}, Audience: vc.AudienceTag, Tag: "vip"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad chain link: %v", err)
	}
	// A list audience, paused and canceled before it runs.
	c, _ := ten.FindContact(vc.AddressPhone, "+14155550100")
	cp2, err := ten.NewCampaign(vc.CampaignSpec{Name: "list", Template: "offer",
		Chain: []string{"sms"}, Audience: vc.AudienceList, ContactIDs: []string{c.ID},
		ContactVars: []string{`{"offer":"50%"}`}, StartAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer cp2.Close()
	if err := cp2.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cp2.Pause(); err != nil || cp2.State() != vc.CampaignPaused {
		t.Fatalf("Pause: %v", err)
	}
	if err := cp2.Resume(); err != nil || cp2.State() != vc.CampaignRunning {
		t.Fatalf("Resume: %v", err)
	}
	if err := cp2.Cancel(); err != nil || cp2.State() != vc.CampaignCanceled {
		t.Fatalf("Cancel: %v", err)
	}
}

func TestCallThroughSandboxVoice(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	for _, ch := range []vc.ChannelSpec{
		{Name: "voice", Provider: "sandbox-voice", Sender: "+14155550000",
			Config: `{"ring_s":5,"talk_s":60}`, Priority: 10},
		{Name: "long", Provider: "sandbox-voice", Sender: "+14155550001",
			Config: map[string]int{"talk_s": -1}, Priority: 20},
	} {
		c, err := ten.NewChannel(ch)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	call, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111",
		CustomerNumber: "+14155550123", Metadata: map[string]int{"ticket": 42}})
	if err != nil {
		t.Fatalf("StartCall: %v", err)
	}
	defer call.Close()
	if call.State() != vc.CallInitiated || call.CustomerNumber() != "+14155550123" {
		t.Fatalf("initiated: %v", call.State())
	}
	runUntil(t, ctx, "the call to end", func() bool {
		if err := call.Refresh(); err != nil {
			t.Fatal(err)
		}
		return call.State().Final()
	})
	if call.State() != vc.CallCompleted || call.CauseName() != "normal" ||
		call.TalkTime() != time.Minute || call.CallerID() != "+14155550000" ||
		!strings.HasPrefix(call.ProviderID(), "sandbox-") {
		t.Fatalf("completed: %v %s %v %s", call.State(), call.CauseName(), call.TalkTime(), call.CallerID())
	}
	if d := call.StateAt(vc.CallBridged).Sub(call.StateAt(vc.CallAgentRinging)); d != 10*time.Second {
		t.Fatalf("ringing to bridged: %v", d)
	}
	if err := call.Hangup(); !errors.Is(err, vc.ErrState) {
		t.Fatalf("hang up an ended call: %v", err)
	}

	// A call that stays bridged until hung up.
	live, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111",
		CustomerNumber: "+14155550124", Channel: "long"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	runUntil(t, ctx, "the call to be bridged", func() bool {
		live.Refresh()
		return live.State() == vc.CallBridged
	})
	if err := live.Hangup(); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	runUntil(t, ctx, "the hangup", func() bool {
		live.Refresh()
		return live.State().Final()
	})
	if live.State() != vc.CallCompleted || live.CauseName() != "api_hangup" {
		t.Fatalf("after Hangup: %v %s", live.State(), live.CauseName())
	}
	looked, err := ten.LookupCall(live.ID())
	if err != nil || looked.State() != vc.CallCompleted {
		t.Fatalf("LookupCall: %v", err)
	}
	looked.Close()
	if _, err := ten.StartCall(vc.CallSpec{CustomerNumber: "+14155550123",
		AgentNumber: "+14155550111", Channel: "nope"}); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	if _, err := ten.StartCall(vc.CallSpec{CustomerNumber: "12"}); !errors.Is(err, vc.ErrInvalid) {
		t.Fatalf("bad number: %v", err)
	}

	// The timeline of the first call, and the list, newest first.
	tl, err := ten.CallTimeline(call.ID())
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for tl.Next() {
		if e := tl.Value(); e.Type == "state" {
			steps = append(steps, e.State.String())
		}
	}
	tl.Close()
	if got := strings.Join(steps, " "); got != "initiated agent_ringing agent_answered customer_ringing bridged completed" {
		t.Fatalf("timeline: %s", got)
	}
	cs, err := ten.Calls(vc.CallFilter{State: vc.CallCompleted})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for cs.Next() {
		listed = append(listed, cs.Value().ID())
		cs.Value().Close()
	}
	cs.Close()
	if strings.Join(listed, ",") != live.ID()+","+call.ID() {
		t.Fatalf("Calls: %v", listed)
	}

	// The do-not-call list refuses a marketing call, not an OTP one.
	if err := ten.AddDNC("+1 415 555 0199", "web-form"); err != nil {
		t.Fatal(err)
	}
	if on, err := ten.OnDNC("+14155550199"); err != nil || !on {
		t.Fatalf("OnDNC: %v %v", on, err)
	}
	if _, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111",
		CustomerNumber: "+14155550199"}); !errors.Is(err, vc.ErrConsent) {
		t.Fatalf("call to a DNC number: %v", err)
	}
	otp, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111",
		CustomerNumber: "+14155550199", Category: vc.OTP})
	if err != nil {
		t.Fatalf("OTP call to a DNC number: %v", err)
	}
	otp.Close()
	if err := ten.RemoveDNC("+14155550199"); err != nil {
		t.Fatal(err)
	}
	if err := ten.RemoveDNC("+14155550199"); !errors.Is(err, vc.ErrNotFound) {
		t.Fatalf("RemoveDNC twice: %v", err)
	}
	if on, _ := ten.OnDNC("+14155550199"); on {
		t.Fatal("still on the list")
	}
}

// Webhooks through the host's own HTTP server (net/http): a sandbox
// call bridged until a webhook ends it.
func TestHandleWebhook(t *testing.T) {
	ctx, ten := open(t, vc.Options{PublicBaseURL: "https://hooks.example.com"})
	ch, err := ten.NewChannel(vc.ChannelSpec{Name: "voice", Provider: "sandbox-voice",
		Config: `{"talk_s":-1}`})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	srv := httptest.NewServer(http.HandlerFunc(ctx.HandleWebhook))
	defer srv.Close()
	call, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111",
		CustomerNumber: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	runUntil(t, ctx, "the call to be bridged", func() bool {
		call.Refresh()
		return call.State() == vc.CallBridged
	})
	post := func(channel, body string) int {
		url := srv.URL + "/webhooks/" + channel + "?vc_call=" + call.ID() + "&vc_step=agent"
		res, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := post(ch.ID(), `{"type":"bogus"}`); st != 400 {
		t.Fatalf("malformed: %d", st)
	}
	if st := post("01ARZ3NDEKTSV4RRFFQ69G5FAV", `{"type":"hold"}`); st != 404 {
		t.Fatalf("unknown channel: %d", st)
	}
	if st := post(ch.ID(), strings.Repeat(" ", vc.WebhookMaxBody+1)); st != 413 {
		t.Fatalf("oversized: %d", st)
	}
	if st := post(ch.ID(), `{"type":"ended","leg":"none","cause":"normal","duration_s":30}`); st != 200 {
		t.Fatalf("ended: %d", st)
	}
	call.Refresh()
	if call.State() != vc.CallCompleted || call.TalkTime() != 30*time.Second {
		t.Fatalf("after the webhook: %v %v", call.State(), call.TalkTime())
	}
}

// Goroutines share one tenant handle and send at once while engine
// threads drain the outbox.
func TestConcurrentSends(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	if err := ctx.Start(2); err != nil {
		t.Fatal(err)
	}
	if err := ctx.Start(1); !errors.Is(err, vc.ErrState) {
		t.Fatalf("second Start: %v", err)
	}
	const goroutines, each = 8, 40
	var wg sync.WaitGroup
	ids := make(chan string, goroutines*each+goroutines*10)
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id, err := ten.Send(vc.MessageSpec{Kind: vc.SMS,
					To: fmt.Sprintf("+1415556%02d%03d", g, i), Text: "hello",
					IdempotencyKey: fmt.Sprintf("g%d-%d", g, i)})
				if err != nil {
					errs <- err
					return
				}
				ids <- id
			}
			batch := make([]vc.MessageSpec, 10)
			for i := range batch {
				batch[i] = vc.MessageSpec{Kind: vc.SMS,
					To: fmt.Sprintf("+1415557%02d%03d", g, i), Text: "bulk"}
			}
			batch[3].To = "invalid"
			res, err := ten.SendMany(batch)
			if err != nil {
				errs <- err
				return
			}
			for i, r := range res {
				if i == 3 {
					if !errors.Is(r.Err, vc.ErrInvalid) || r.ID != "" {
						errs <- fmt.Errorf("bad entry: %+v", r)
					}
					continue
				}
				if r.Err != nil {
					errs <- r.Err
					return
				}
				ids <- r.ID
			}
		}(g)
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []string
	for id := range ids {
		all = append(all, id)
	}
	if len(all) != goroutines*(each+9) {
		t.Fatalf("%d ids", len(all))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range all {
		for status(t, ten, id) != vc.Sent {
			if time.Now().After(deadline) {
				t.Fatalf("message %s not sent", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := ctx.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseTwice(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	ch, _ := ten.LookupChannel("sms")
	tpl, _ := ten.NewTemplate(vc.TemplateSpec{Name: "t", Kind: vc.SMS, Text: "x"})
	cid, _ := ten.UpsertContact(vc.ContactSpec{Phone: "+14155550123", Tags: []string{"a"}})
	cp, err := ten.NewCampaign(vc.CampaignSpec{Name: "c", Template: "t",
		Chain: []string{"sms"}, Audience: vc.AudienceList, ContactIDs: []string{cid}})
	if err != nil {
		t.Fatal(err)
	}
	vch, _ := ten.NewChannel(vc.ChannelSpec{Name: "v", Provider: "sandbox-voice"})
	call, err := ten.StartCall(vc.CallSpec{AgentNumber: "+14155550111", CustomerNumber: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := ten.Messages(vc.MessageFilter{})
	for _, c := range []interface{ Close() error }{ch, tpl, cp, vch, call, it} {
		if c.Close() != nil || c.Close() != nil {
			t.Fatal("Close")
		}
	}
	if ch.Name() != "" || tpl.Version() != 0 {
		t.Fatal("getters after Close")
	}
	if err := ch.Disable(); !errors.Is(err, vc.ErrClosed) || !errors.Is(err, vc.ErrState) {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := tpl.Render(vc.RenderSpec{}); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("render after Close: %v", err)
	}
	if it.Next() || it.Err() != nil { // as database/sql: no error
		t.Fatalf("iterator after Close: %v", it.Err())
	}
	// A campaign needs its tenant's handle.
	cp2, _ := ten.LookupCampaign(cp.ID())
	other, _ := ctx.LookupTenant("acme")
	ten.Close()
	ten.Close()
	if err := cp2.Start(); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("campaign after its tenant closed: %v", err)
	}
	if _, err := ten.Send(vc.MessageSpec{}); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("tenant after Close: %v", err)
	}
	// Context.Close frees what is still open (cp2, other); their
	// methods then say closed, and Close on them is harmless.
	it2, _ := other.Messages(vc.MessageFilter{})
	if err := ctx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ctx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.LookupMessage("x"); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("tenant after Context.Close: %v", err)
	}
	if it2.Next() {
		t.Fatal("iterator after Context.Close")
	}
	if _, err := ctx.Run(0); !errors.Is(err, vc.ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
	for _, c := range []interface{ Close() error }{cp2, other, it2} {
		if c.Close() != nil {
			t.Fatal("Close after Context.Close")
		}
	}
}

// A goroutine driving the engine with Run stops when the context closes.
func TestCloseWhileRunning(t *testing.T) {
	ctx, ten := open(t, vc.Options{})
	done := make(chan error)
	go func() {
		for {
			if _, err := ctx.Run(-1); err != nil {
				done <- err
				return
			}
		}
	}()
	id, err := ten.Send(vc.MessageSpec{Kind: vc.SMS, To: "+14155550123", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for status(t, ten, id) != vc.Sent {
		time.Sleep(5 * time.Millisecond)
	}
	ctx.Close()
	select {
	case err := <-done:
		if !errors.Is(err, vc.ErrClosed) {
			t.Fatalf("Run after Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still waiting after Close")
	}
}

// Handles dropped without Close are freed by their finalizers.
func TestFinalizers(t *testing.T) {
	_, ten := open(t, vc.Options{})
	for i := 0; i < 200; i++ {
		ch, err := ten.LookupChannel("sms")
		if err != nil {
			t.Fatal(err)
		}
		_ = ch.ID()
	}
	for i := 0; i < 5; i++ {
		runtimeGC()
	}
}

// A message delivered end to end: the Twilio adapter against the
// provider simulator (vyomcomm-sim, named by VC_SIM_PROGRAM), whose
// signed status callbacks reach the library's own webhook listener.
func TestDeliveredThroughSimulator(t *testing.T) {
	prog := os.Getenv("VC_SIM_PROGRAM")
	if prog == "" {
		t.Skip("VC_SIM_PROGRAM is not set (meson test sets it)")
	}
	sim := exec.Command(prog)
	out, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sim.Process.Signal(os.Interrupt)
		sim.Wait()
	}()
	var base string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "url ") {
			base = strings.TrimPrefix(line, "url ")
		}
		if line == "ready" {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if base == "" {
		t.Fatal("the simulator printed no url")
	}
	port := freePort(t)
	var logMu sync.Mutex
	var logs []string
	ctx, ten := open(t, vc.Options{
		PublicBaseURL:       fmt.Sprintf("http://127.0.0.1:%d", port),
		AllowPrivateNetwork: true,
		// Called on the library's network thread, among others.
		Log: func(level int, msg string) {
			logMu.Lock()
			logs = append(logs, msg)
			logMu.Unlock()
		},
		LogLevel: vc.LogDebug,
	})
	if got, err := ctx.ListenWebhooks(fmt.Sprintf("127.0.0.1:%d", port)); err != nil || got != port {
		t.Fatalf("ListenWebhooks: %d %v", got, err)
	}
	ch, err := ten.NewChannel(vc.ChannelSpec{Name: "twilio", Provider: "twilio-sms",
		Sender:      "+15005550006",
		Config:      map[string]string{"account_sid": simTwilioSID, "base_url": base},
		Credentials: map[string]string{"auth_token": simTwilioToken}})
	if err != nil {
		t.Fatalf("twilio channel: %v", err)
	}
	ch.Close()
	id, err := ten.Send(vc.MessageSpec{Channel: "twilio", To: "+14155550123", Text: "delivered?"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Start(1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for status(t, ten, id) != vc.Delivered {
		if time.Now().After(deadline) {
			t.Fatalf("status %v", status(t, ten, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
	m, _ := ten.LookupMessage(id)
	if !strings.HasPrefix(m.ProviderID, "SM") {
		t.Fatalf("provider id %q", m.ProviderID)
	}
	ctx.Stop()
	logMu.Lock()
	all := strings.Join(logs, "\n")
	logMu.Unlock()
	if !strings.Contains(all, "webhook for channel") {
		t.Fatalf("log lines: %q", all)
	}
}
