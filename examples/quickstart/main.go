// Quickstart places a real SIP call between two Switchboards on this machine.
//
// This example shows how to:
//  1. start two Switchboards on loopback, one of them serving inbound calls to a handler;
//  2. dial from one to the other and answer with negotiated media (G.722 wideband here);
//  3. play a tone into the call and measure, on the far side, what arrived over RTP;
//  4. send DTMF digits (RFC 4733) and receive them as typed events;
//  5. hang up and print both sides' event streams as they happen.
//
// Run it with `make demo` (or `go run ./examples/quickstart`). Speech, gathering and
// recording arrive with the call verbs; this demo uses only what exists today.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
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
	say := func(side, format string, args ...any) {
		fmt.Printf("%7.3fs  %-6s %s\n", time.Since(start).Seconds(), side, fmt.Sprintf(format, args...))
	}

	// The callee answers, plays a 1 kHz tone for a second and reports the digits it gets.
	callee, err := switchboard.New(switchboard.Config{Logger: quiet, Handler: call.HandlerFunc(
		func(ctx context.Context, c *call.Call) error {
			go printEvents(say, "callee", c)
			if err := c.Ring(ctx); err != nil {
				return err
			}
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			n := c.Negotiated()
			say("callee", "answered: %s/%d, ptime %v, telephone-event PT %d", n.Codec.Name(), n.Codec.SampleRate(), n.PTime, n.DTMFPayloadType)
			w, err := c.AudioWriter()
			if err != nil {
				return err
			}
			for _, f := range toneFrames(w.SampleRate(), 1000, time.Second) {
				if err := w.WriteFrame(f); err != nil {
					return err
				}
			}
			<-ctx.Done() // until the caller hangs up
			return nil
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
	say("", "callee listening at %s, caller at %s", callee.URI("demo"), caller.URI(""))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, callee.URI("demo"), call.DialOptions{DisplayName: "Quickstart"})
	if err != nil {
		return err
	}
	events := make(chan struct{})
	go func() { printEvents(say, "caller", c); close(events) }()

	// What the caller hears: find the tone by frequency.
	r, err := c.AudioReader(0)
	if err != nil {
		return err
	}
	defer r.Close()
	var heard []int16
	for len(heard) < media.SamplesPer(r.SampleRate(), 800*time.Millisecond) {
		f, err := r.ReadFrame()
		if err != nil {
			return err
		}
		heard = append(heard, f.Samples...)
	}
	freq, level := strongest(heard[len(heard)/4:], r.SampleRate())
	say("caller", "heard a %.0f Hz tone at %.1f dBFS over RTP", freq, level)

	if err := c.SendDTMF(ctx, "42#", 100*time.Millisecond); err != nil {
		return err
	}
	say("caller", "sent DTMF 42#")
	time.Sleep(300 * time.Millisecond) // let the last digit's events arrive before hanging up
	if err := c.Hangup(ctx, sip.CauseNormalClearing); err != nil {
		return err
	}
	<-events
	st := mustStats(c)
	say("caller", "RTP: %d packets sent, %d received, %d lost", st[0], st[1], st[2])
	return nil
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

func mustStats(c *call.Call) [3]uint64 {
	m, err := c.Media()
	if err != nil {
		return [3]uint64{}
	}
	s := m.Stats()
	return [3]uint64{s.PacketsSent, s.PacketsReceived, uint64(max(s.Lost, 0))}
}

// toneFrames makes d of a sine at freq, -12 dBFS, in 20 ms frames.
func toneFrames(rate int, freq float64, d time.Duration) []media.Frame {
	n := media.SamplesPer(rate, 20*time.Millisecond)
	total := media.SamplesPer(rate, d)
	all := make([]int16, total)
	for i := range all {
		all[i] = int16(8192 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	var frames []media.Frame
	for off := 0; off+n <= total; off += n {
		frames = append(frames, media.Frame{Samples: all[off : off+n], SampleRate: rate})
	}
	return frames
}

// strongest finds the strongest frequency between 100 and 3500 Hz (Goertzel, 10 Hz steps)
// and the signal's RMS level.
func strongest(x []int16, rate int) (freq, dBFS float64) {
	best := 0.0
	for f := 100.0; f <= 3500; f += 10 {
		k := 2 * math.Cos(2*math.Pi*f/float64(rate))
		var s1, s2 float64
		for _, v := range x {
			s1, s2 = float64(v)+k*s1-s2, s1
		}
		if p := s1*s1 + s2*s2 - k*s1*s2; p > best {
			best, freq = p, f
		}
	}
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return freq, 10 * math.Log10(sum/float64(len(x))/(32768*32768))
}
