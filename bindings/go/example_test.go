package vyomcomm_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

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
