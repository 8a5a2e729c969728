// Quickstart places a real SIP call between two Switchboards on this machine and runs a
// small IVR on it.
//
// This example shows how to:
//  1. start two Switchboards on loopback, one serving inbound calls to a handler;
//  2. dial from one to the other (G.722 wideband negotiated);
//  3. speak a greeting with text-to-speech (espeak-ng) and gather two digits, which the
//     caller sends as RFC 4733 DTMF;
//  4. record the caller reading a sentence (spoken by TTS on the caller's side) until
//     they stop talking, into a WAV file;
//  5. print both sides' event streams as they happen, and where the recording is.
//
// Run it with `make demo` (or `go run ./examples/quickstart`).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Now()
	var printMu sync.Mutex
	say := func(side, format string, args ...any) {
		printMu.Lock()
		defer printMu.Unlock()
		fmt.Printf("%7.3fs  %-6s %s\n", time.Since(start).Seconds(), side, fmt.Sprintf(format, args...))
	}
	dir, err := os.MkdirTemp("", "switchboard-quickstart-")
	if err != nil {
		return err
	}
	recording := filepath.Join(dir, "caller.wav")

	handlerDone := make(chan error, 1)
	callee, err := switchboard.New(switchboard.Config{Logger: quiet, Handler: call.HandlerFunc(
		func(ctx context.Context, c *call.Call) error {
			err := serve(ctx, c, say, recording)
			handlerDone <- err
			return err
		})})
	if err != nil {
		return err
	}
	caller, err := switchboard.New(switchboard.Config{Logger: quiet})
	if err != nil {
		return err
	}
	for _, sb := range []*switchboard.Switchboard{callee, caller} {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		if err := sb.Start(conn); err != nil {
			return err
		}
	}
	defer caller.Close()
	defer callee.Close()
	say("", "callee listening at %s", callee.URI("demo"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := caller.Dial(ctx, callee.URI("demo"), call.DialOptions{DisplayName: "Quickstart"})
	if err != nil {
		return err
	}
	events := make(chan struct{})
	go func() { printEvents(say, "caller", c); close(events) }()

	// The caller: wait for the greeting, key in 42, then read a sentence.
	time.Sleep(3 * time.Second)
	if err := c.SendDTMF(ctx, "42", 120*time.Millisecond); err != nil {
		return err
	}
	say("caller", "sent DTMF 42")
	time.Sleep(4 * time.Second) // the callee's "please read" prompt and its beep
	sentence := "Switchboard turns any Go program into a phone system."
	say("caller", "reading: %q", sentence)
	if err := c.Speak(ctx, sentence, call.SpeakOptions{}); err != nil {
		return err
	}
	<-events // the callee hangs up once the caller has gone quiet
	if err := <-handlerDone; err != nil {
		return err
	}
	say("", "the recording of the caller is at %s", recording)
	return nil
}

// serve is the callee's handler: greet, gather two digits, record the caller.
func serve(ctx context.Context, c *call.Call, say func(string, string, ...any), path string) error {
	go printEvents(say, "callee", c)
	if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
		return err
	}
	n := c.Negotiated()
	say("callee", "answered: %s at %d Hz, ptime %v", n.Codec.Name(), n.Codec.SampleRate(), n.PTime)
	res, err := c.Gather(ctx, call.GatherOptions{
		Prompt:    call.Prompt{Text: "Hello from Switchboard. Please enter two digits."},
		MinDigits: 2, MaxDigits: 2,
	})
	if err != nil {
		return err
	}
	say("callee", "gathered %q (%s)", res.Digits, res.Status)
	if err := c.Speak(ctx, "Thank you. Please read a sentence after the tone.", call.SpeakOptions{}); err != nil {
		return err
	}
	rec, err := c.Record(ctx, call.RecordOptions{Path: path, PlayBeep: true, SilenceTimeout: 1500 * time.Millisecond,
		TrimSilence: true, MaxLength: 20 * time.Second})
	if err != nil {
		return err
	}
	r, err := rec.Wait(ctx)
	if err != nil {
		return err
	}
	say("callee", "recorded %v of the caller (%d bytes, ended by %s)", r.Duration.Round(10*time.Millisecond), r.Size, r.Reason)
	return c.Hangup(ctx, sip.CauseNormalClearing)
}

func printEvents(say func(string, string, ...any), side string, c *call.Call) {
	for ev := range c.Events() {
		switch e := ev.(type) {
		case call.DTMF:
			say(side, "event %s digit %q (%s)", e.Name(), e.Digit, e.Source)
		case call.Hangup:
			say(side, "event %s: %s by %s", e.Name(), e.Cause.Name, e.Cause.By)
		default:
			say(side, "event %s", ev.Name())
		}
	}
}
