// Dialer places an outbound call, finds out whether a person or an answering machine
// picked up, and acts on it.
//
// This example shows how to:
//  1. dial with answering machine detection (call.DialOptions.AMD, mode DetectBeep);
//  2. on a person: speak a message and gather a digit (1 to confirm);
//  3. on a machine: wait for the end of its greeting (the beep) and leave a message;
//  4. print the verdict and its timings.
//
// Usage: dialer -target sip:+15551230000@pbx.example.com [-listen 0.0.0.0:5062]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

func main() {
	target := flag.String("target", "", "SIP URI to call")
	listen := flag.String("listen", "127.0.0.1:0", "local SIP address (UDP)")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "usage: dialer -target sip:user@host[:port] [-listen host:port]")
		os.Exit(2)
	}
	sb, err := switchboard.New(switchboard.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dialer:", err)
		os.Exit(1)
	}
	defer sb.Close()
	conn, err := net.ListenPacket("udp", *listen)
	if err == nil {
		err = sb.Start(conn)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var out Outcome
		out, err = Run(ctx, sb, *target, os.Stdout)
		if err == nil {
			fmt.Printf("outcome: %s\n", out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dialer:", err)
		os.Exit(1)
	}
}

// Outcome is what happened on the call.
type Outcome string

// Outcomes.
const (
	Confirmed     Outcome = "person confirmed"
	NotConfirmed  Outcome = "person did not confirm"
	MessageLeft   Outcome = "message left on the machine"
	NoDecision    Outcome = "could not tell who answered"
	NobodyAnswers Outcome = "nobody said anything"
)

// Run dials target and handles whoever answers, printing what it learns to w.
func Run(ctx context.Context, sb *switchboard.Switchboard, target string, w io.Writer) (Outcome, error) {
	start := time.Now()
	c, err := sb.Dial(ctx, target, call.DialOptions{AMD: &call.AMDOptions{Config: amd.Config{Mode: amd.DetectBeep}}})
	if err != nil {
		return "", err
	}
	defer c.Close()
	fmt.Fprintf(w, "answered after %v\n", time.Since(start).Round(time.Millisecond))
	for ev := range c.Events() {
		switch e := ev.(type) {
		case call.MachineDetectionEnded:
			fmt.Fprintf(w, "verdict: %s after %v of audio (%s)\n", e.Result.Verdict, e.Result.At, e.Result.Reason)
			switch e.Result.Verdict {
			case amd.Human:
				return talkToPerson(ctx, c, w)
			case amd.Silence:
				_ = c.Hangup(ctx, sip.CauseNormalClearing)
				return NobodyAnswers, nil
			case amd.NotSure:
				_ = c.Hangup(ctx, sip.CauseNormalClearing)
				return NoDecision, nil
			}
			// Machine: wait for the end of its greeting.
		case call.MachineGreetingEnded:
			fmt.Fprintf(w, "greeting ended (%s) at %v of audio\n", e.Result.Result, e.Result.At)
			err := c.Speak(ctx, "Hello, this is a reminder of your appointment tomorrow at ten. Goodbye.", call.SpeakOptions{})
			_ = c.Hangup(ctx, sip.CauseNormalClearing)
			return MessageLeft, err
		}
	}
	return "", fmt.Errorf("the call ended before a verdict: %v", context.Cause(c.Context()))
}

func talkToPerson(ctx context.Context, c *call.Call, w io.Writer) (Outcome, error) {
	res, err := c.Gather(ctx, call.GatherOptions{
		Prompt:      call.Prompt{Text: "Hello, this is a reminder of your appointment tomorrow at ten. Press 1 to confirm."},
		MaxDigits:   1,
		ValidDigits: "0123456789",
		MaxAttempts: 2,
	})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "gathered %q (%s)\n", res.Digits, res.Status)
	_ = c.Speak(ctx, "Thank you. Goodbye.", call.SpeakOptions{})
	_ = c.Hangup(ctx, sip.CauseNormalClearing)
	if res.Digits == "1" {
		return Confirmed, nil
	}
	return NotConfirmed, nil
}
