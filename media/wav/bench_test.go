package wav

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"testing"

	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
)

// Budget: zero allocations per frame in steady state. Each op is one 20 ms frame.
func BenchmarkReadFrame(b *testing.B) {
	const secs = 10
	pcm := func(rate, ch int) []byte {
		var d []byte
		for _, v := range tone(rate*secs, rate, 440, 8000) {
			for range ch {
				d = binary.LittleEndian.AppendUint16(d, uint16(v))
			}
		}
		return riff(fmtChunk(FormatPCM, ch, rate, 16), chunk{id: "data", data: d})
	}
	var ulaw []byte
	for _, v := range tone(8000*secs, 8000, 440, 8000) {
		ulaw = append(ulaw, g711.EncodeUlawFrame(v))
	}
	cases := []struct {
		name string
		file []byte
		rate int
	}{
		{"pcm16-8k", pcm(8000, 1), 0},
		{"mulaw-8k", riff(fmtChunk(FormatMuLaw, 1, 8000, 8), chunk{id: "data", data: ulaw}), 0},
		{"pcm16-stereo-48k-to-8k", pcm(48000, 2), 8000},
		{"pcm16-8k-to-16k", pcm(8000, 1), 16000},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			src := bytes.NewReader(c.file)
			r, err := NewReader(src, Options{SampleRate: c.rate})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.ReadFrame(); err == io.EOF {
					b.StopTimer()
					src.Reset(c.file)
					if r, err = NewReader(src, Options{SampleRate: c.rate}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				} else if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	for _, enc := range []Encoding{PCM16, MuLaw} {
		b.Run(enc.String(), func(b *testing.B) {
			w, err := Create(filepath.Join(b.TempDir(), "bench.wav"), WriterOptions{SampleRate: 8000, Encoding: enc})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			f := media.Frame{Samples: tone(160, 8000, 440, 8000), SampleRate: 8000}
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteFrame(f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}
