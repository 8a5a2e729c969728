// Quickstart shows Switchboard's media engine at work on this machine.
//
// This example shows how to:
//  1. build the default codec set;
//  2. push a 1 kHz tone through each G.711 codec, frame by frame, as a call would;
//  3. measure what the codec did to the audio (signal-to-noise ratio).
//
// Run it with `make demo` (or `go run ./examples/quickstart`).
package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	const rate = 8000
	n := media.SamplesPer(rate, media.DefaultFrameDuration)
	tone := make([]int16, rate) // one second of 1 kHz at -6 dBFS
	for i := range tone {
		tone[i] = int16(16384 * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	for _, c := range []media.Codec{media.PCMU(), media.PCMA()} {
		enc, dec := c.NewEncoder(), c.NewDecoder()
		var payload []byte
		var out []int16
		var sig, noise float64
		frames := 0
		start := time.Now()
		for off := 0; off+n <= len(tone); off += n {
			payload = enc.Encode(payload[:0], tone[off:off+n])
			out = dec.Decode(out[:0], payload)
			for i, s := range out {
				d := float64(s) - float64(tone[off+i])
				sig += float64(tone[off+i]) * float64(tone[off+i])
				noise += d * d
			}
			frames++
		}
		elapsed := time.Since(start)
		fmt.Printf("%-5s payload type %d: %d frames of %v, %d bytes each, SNR %.1f dB, %v per frame\n",
			c.Name(), c.StaticPayloadType(), frames, media.DefaultFrameDuration, len(payload),
			10*math.Log10(sig/noise), elapsed/time.Duration(frames))
	}
	log.Info("quickstart finished")
}
