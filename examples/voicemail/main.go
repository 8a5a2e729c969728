// Voicemail answers every call with a greeting, a beep and a recording.
//
// This example shows how to:
//  1. answer inbound calls with a handler;
//  2. speak a greeting and play a beep;
//  3. record until silence or '#', as a WAV file that is valid at every moment;
//  4. save a JSON sidecar (caller, duration, time) next to it.
//
// Usage: go run ./examples/voicemail -listen 0.0.0.0:5060 -dir ./messages
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "SIP address (UDP and TCP)")
	dir := flag.String("dir", "messages", "where messages are saved")
	flag.Parse()
	box := voicemail.Box{Dir: *dir}
	sb, err := switchboard.New(switchboard.Config{ListenAddr: *listen, Handler: call.HandlerFunc(
		func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			m, err := box.Take(ctx, c)
			if err == nil {
				slog.Info("message saved", "from", m.Caller, "wav", m.WAV, "duration_ms", m.DurationMS)
			}
			return err
		})})
	if err == nil {
		fmt.Printf("voicemail listening on %s, saving to %s\n", *listen, *dir)
		err = sb.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, "voicemail:", err)
	os.Exit(1)
}
