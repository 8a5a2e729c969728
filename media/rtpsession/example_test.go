package rtpsession_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
)

// Two sessions on 127.0.0.1 (as two ends of a call would negotiate them in SDP): one
// plays a tone and dials digits, the other hears the tone and receives the digits.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Even RTP ports with rtcp-mux, as for a=rtcp-mux in SDP.
	aConn, _, err := rtpsession.Listen(netip.Addr{}, rtpsession.PortRange{}, true)
	if err != nil {
		panic(err)
	}
	bConn, _, err := rtpsession.Listen(netip.Addr{}, rtpsession.PortRange{}, true)
	if err != nil {
		panic(err)
	}
	// One Clock paces every session of the process from one goroutine.
	clock := rtpsession.NewClock(0)
	defer clock.Close()
	cfg := rtpsession.Config{
		Codec:            media.PCMU(),
		TelephoneEventPT: 101, // from a=rtpmap:101 telephone-event/8000
		RTCPMux:          true,
		OwnConns:         true,
		Clock:            clock,
	}
	cfg.RemoteAddr = bConn.LocalAddr()
	a, err := rtpsession.New(aConn, cfg)
	if err != nil {
		panic(err)
	}
	defer a.Close()
	cfg.RemoteAddr = aConn.LocalAddr()
	b, err := rtpsession.New(bConn, cfg)
	if err != nil {
		panic(err)
	}
	defer b.Close()

	// a queues half a second of 1 kHz tone at once; the pacer plays it out in
	// real time, one 20 ms packet per tick.
	tone := make([]int16, 4000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	if err := a.WriteFrame(media.Frame{Samples: tone, SampleRate: 8000}); err != nil {
		panic(err)
	}
	// b reads one frame per 20 ms until it hears the tone.
	for {
		f, err := b.ReadFrame()
		if err != nil {
			panic(err)
		}
		if f.Has(media.FlagRTP) && energyAt(f.Samples, 1000, 8000) > 0.9 {
			fmt.Println("b hears 1000 Hz")
			break
		}
	}
	fmt.Println("played out:", a.WaitPlayout(ctx))

	// Digits go as RFC 4733 events, and arrive once each.
	if err := a.SendDTMF(ctx, "42#", 0, 0); err != nil {
		panic(err)
	}
	digits := ""
	for len(digits) < 3 {
		d, err := b.ReadDTMF(ctx)
		if err != nil {
			panic(err)
		}
		digits += string(d.Digit)
	}
	fmt.Println("b got digits", digits)
	fmt.Println("b latched a's SSRC:", b.Stats().RemoteSSRC == a.SSRC())
	// Output:
	// b hears 1000 Hz
	// played out: <nil>
	// b got digits 42#
	// b latched a's SSRC: true
}

// energyAt is the share of x's energy at hz (Goertzel).
func energyAt(x []int16, hz float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2, e float64
	for _, v := range x {
		f := float64(v)
		s1, s2 = f+k*s1-s2, s1
		e += f * f
	}
	if e == 0 {
		return 0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / (e * float64(len(x)) / 2)
}
