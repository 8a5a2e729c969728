package baresip_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer/baresip"
)

// Bob calls Alice, who answers automatically; Bob sends DTMF and hangs up. Tests use
// baresip.Start(t, ...) instead of Launch, which also stops the peers when the test
// ends.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "baresip-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	alice, err := baresip.Launch(ctx, filepath.Join(dir, "alice"), baresip.Options{User: "alice"})
	if err != nil {
		panic(err)
	}
	defer alice.Stop()
	bob, err := baresip.Launch(ctx, filepath.Join(dir, "bob"), baresip.Options{User: "bob"})
	if err != nil {
		panic(err)
	}
	defer bob.Stop()

	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(bob.Dial(ctx, alice.URI()))
	established, err := alice.WaitEvent(ctx, baresip.EventCallEstablished)
	must(err)
	_, err = bob.WaitEvent(ctx, baresip.EventCallEstablished)
	must(err)
	must(bob.SendDTMF(ctx, "42#"))
	for range 3 {
		_, err = alice.WaitEvent(ctx, baresip.EventCallDTMFEnd)
		must(err)
	}
	must(bob.Hangup(ctx))
	_, err = alice.WaitEvent(ctx, baresip.EventCallClosed)
	must(err)

	fmt.Println("alice answered", established.PeerURI == bob.URI())
	fmt.Println("alice received", alice.ReceivedDTMF())
	// Output:
	// alice answered true
	// alice received 42#
}
