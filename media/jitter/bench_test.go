package jitter

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Budget: zero allocations per packet and per frame in steady state.

// BenchmarkPushPop measures one Push and one Pop per 20 ms packet of 160 bytes.
func BenchmarkPushPop(b *testing.B) {
	for _, bc := range []struct {
		name   string
		jitter bool
	}{{"in-order", false}, {"jitter-50±20ms", true}} {
		b.Run(bc.name, func(b *testing.B) {
			buf, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			delays := make([]time.Duration, 1024)
			for i := range delays {
				delays[i] = 30 * time.Millisecond
				if bc.jitter {
					delays[i] += time.Duration(r.Int64N(int64(40 * time.Millisecond)))
				}
			}
			payload := make([]byte, 160)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sent := epoch.Add(time.Duration(i) * 20 * time.Millisecond)
				_ = buf.Push(uint16(i), uint32(i*160), false, payload, sent.Add(delays[i%len(delays)]))
				buf.Pop(sent.Add(5 * time.Millisecond))
			}
		})
	}
}

// BenchmarkConceal measures one concealed frame: "first" includes the pitch
// search at the start of a loss (a good frame is fed before each), "continued"
// is a later frame of the same loss.
func BenchmarkConceal(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate int
		c    func(int) Concealer
	}{
		{"pitch-8k", 8000, func(r int) Concealer { return NewPitchConcealer(r) }},
		{"pitch-16k", 16000, func(r int) Concealer { return NewPitchConcealer(r) }},
		{"fade-48k", 48000, func(r int) Concealer { return NewFadeConcealer(r) }},
	} {
		x := voiced(bc.rate, 1)
		frame := bc.rate / 50
		b.Run(bc.name+"/first", func(b *testing.B) {
			c := bc.c(bc.rate)
			good := make([]int16, frame)
			dst := make([]int16, frame)
			for f := range 10 {
				copy(good, x[f*frame:])
				c.Good(good)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				copy(good, x[(i%40)*frame:])
				c.Good(good)
				c.Conceal(dst)
			}
		})
		b.Run(bc.name+"/continued", func(b *testing.B) {
			c := bc.c(bc.rate)
			good := make([]int16, frame)
			dst := make([]int16, frame)
			for f := range 10 {
				copy(good, x[f*frame:])
				c.Good(good)
			}
			c.Conceal(dst)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.Conceal(dst)
			}
		})
	}
}

// BenchmarkReceiver measures Push and Pop of one PCMU packet with decoding and 5%
// loss concealed.
func BenchmarkReceiver(b *testing.B) {
	codec := media.PCMU()
	r, err := NewReceiver(ReceiverConfig{Codec: codec})
	if err != nil {
		b.Fatal(err)
	}
	payloads := sendTone(codec, 50)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		sent := epoch.Add(time.Duration(i) * 20 * time.Millisecond)
		if i%20 != 7 {
			_ = r.Push(uint16(i), uint32(i*160), false, payloads[i%50], sent.Add(30*time.Millisecond))
		}
		r.Pop(sent.Add(5 * time.Millisecond))
	}
}
