// IVR is a phone menu: press 1 to hear the time, 2 to leave a message, 3 to hang up.
//
// This example shows how to:
//  1. serve inbound calls with a handler that answers and speaks;
//  2. gather one digit with a spoken prompt, retrying on invalid input or silence;
//  3. branch: speak the time, take a voicemail message (examples/internal/voicemail),
//     or hang up with a cause.
//
// Usage: go run ./examples/ivr -listen 0.0.0.0:5060 -dir ./messages
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
	"github.com/switchboard-go/switchboard/sip"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "SIP address (UDP and TCP)")
	dir := flag.String("dir", "messages", "where voicemail messages are saved")
	flag.Parse()
	sb, err := switchboard.New(switchboard.Config{ListenAddr: *listen, Handler: Menu{Box: voicemail.Box{Dir: *dir}}})
	if err == nil {
		fmt.Printf("IVR listening on %s (UDP and TCP), messages to %s\n", *listen, *dir)
		err = sb.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, "ivr:", err)
	os.Exit(1)
}

// Menu is the IVR's call handler.
type Menu struct {
	Box voicemail.Box
	// Now tells the time (time.Now if nil).
	Now func() time.Time
}

// ServeCall answers and runs the menu.
func (m Menu) ServeCall(ctx context.Context, c *call.Call) error {
	if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
		return err
	}
	res, err := c.Gather(ctx, call.GatherOptions{
		Prompt:        call.Prompt{Text: "Welcome. Press 1 to hear the time. Press 2 to leave a message. Press 3 to hang up."},
		InvalidPrompt: call.Prompt{Text: "Sorry, that is not an option."},
		MaxDigits:     1,
		ValidDigits:   "123",
		MaxAttempts:   3,
	})
	if err != nil {
		return err
	}
	if res.Status != call.GatherValid {
		_ = c.Speak(ctx, "Goodbye.", call.SpeakOptions{})
		return c.Hangup(ctx, sip.CauseNormalClearing)
	}
	switch res.Digits {
	case "1":
		now := time.Now
		if m.Now != nil {
			now = m.Now
		}
		if err := c.Speak(ctx, "The time is "+now().Format("3:04 PM")+". Goodbye.", call.SpeakOptions{}); err != nil {
			return err
		}
	case "2":
		if _, err := m.Box.Take(ctx, c); err != nil {
			return err
		}
	case "3":
		_ = c.Speak(ctx, "Goodbye.", call.SpeakOptions{})
	}
	return c.Hangup(ctx, sip.CauseNormalClearing)
}
