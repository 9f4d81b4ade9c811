package vyomcomm_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"vyomcomm.dev/vyomcomm"
)

// A tenant, a sandbox SMS channel, one message sent by the engine.
func Example() {
	dir, _ := os.MkdirTemp("", "vyomcomm-example")
	defer os.RemoveAll(dir)
	key := make([]byte, 32) // use 32 random bytes, kept by the host

	ctx, err := vyomcomm.Open(vyomcomm.Options{
		StorePath: filepath.Join(dir, "comm.db"),
		MasterKey: key,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()

	acme, err := ctx.NewTenant(vyomcomm.TenantSpec{Slug: "acme", Name: "Acme Traders"})
	if errors.Is(err, vyomcomm.ErrExists) {
		acme, err = ctx.LookupTenant("acme")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer acme.Close()

	ch, err := acme.NewChannel(vyomcomm.ChannelSpec{
		Name: "sms", Provider: "sandbox-sms", Sender: "+15550001111"})
	if err != nil {
		log.Fatal(err)
	}
	ch.Close()

	id, err := acme.Send(vyomcomm.MessageSpec{
		Kind: vyomcomm.SMS, To: "+14155550123",
		Text: "Your order has shipped", IdempotencyKey: "order-42-shipped"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ctx.Run(0); err != nil { // or ctx.Start(2): library threads
		log.Fatal(err)
	}
	m, err := acme.LookupMessage(id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.To, m.Status)

	_, err = acme.Send(vyomcomm.MessageSpec{Kind: vyomcomm.SMS,
		To: "+14155550123", Text: "20% off", Category: vyomcomm.Marketing})
	fmt.Println(errors.Is(err, vyomcomm.ErrConsent))
	// Output:
	// +14155550123 sent
	// true
}

// An agent in a queue, and the figures of the hour (on a fixed clock).
func Example_callCenter() {
	dir, _ := os.MkdirTemp("", "vyomcomm-example")
	defer os.RemoveAll(dir)
	hour := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	ctx, err := vyomcomm.Open(vyomcomm.Options{
		StorePath: filepath.Join(dir, "comm.db"),
		Clock:     func() time.Time { return hour.Add(5 * time.Minute) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	acme, err := ctx.NewTenant(vyomcomm.TenantSpec{Slug: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	defer acme.Close()

	asha, err := acme.NewAgent(vyomcomm.AgentSpec{Name: "asha",
		DisplayName: "Asha Rao", Number: "+14155550111"})
	if err != nil {
		log.Fatal(err)
	}
	defer asha.Close()
	if err := asha.SetState(vyomcomm.AgentAvailable, ""); err != nil {
		log.Fatal(err)
	}
	support, err := acme.NewQueue(vyomcomm.QueueSpec{Name: "support",
		Strategy: vyomcomm.QueueBySkill, MaxWait: 2 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer support.Close()
	if err := support.AddMember("asha", "billing", "hindi"); err != nil {
		log.Fatal(err)
	}
	it, err := support.Members("")
	if err != nil {
		log.Fatal(err)
	}
	for it.Next() {
		m := it.Value()
		fmt.Println(m.Position, m.AgentID == asha.ID(), m.Skills)
	}
	it.Close()

	ch, err := acme.NewChannel(vyomcomm.ChannelSpec{
		Name: "sms", Provider: "sandbox-sms", Sender: "+15550001111"})
	if err != nil {
		log.Fatal(err)
	}
	ch.Close()
	if _, err := acme.Send(vyomcomm.MessageSpec{Kind: vyomcomm.SMS,
		To: "+14155550123", Text: "Your order has shipped"}); err != nil {
		log.Fatal(err)
	}
	if _, err := ctx.Run(0); err != nil {
		log.Fatal(err)
	}
	stats, err := acme.Stats(vyomcomm.StatsQuery{From: hour,
		To: hour.Add(time.Hour), What: vyomcomm.StatsMessages})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(asha.State(), stats.Messages.ByStatus.Queued,
		stats.Messages.ByStatus.Sent)
	// Output:
	// 1 true [billing hindi]
	// available 1 1
}
