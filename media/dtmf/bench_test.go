package dtmf

import (
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Budget for every benchmark here: zero allocations per operation.

func BenchmarkEventMarshal(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, PayloadSize)
	ev := Event{Code: 5, End: true, Volume: 10, Duration: 800}
	for i := 0; b.Loop(); i++ {
		ev.Duration = uint16(i)
		buf = ev.Marshal(buf[:0])
	}
}

func BenchmarkEventUnmarshal(b *testing.B) {
	b.ReportAllocs()
	payload := Event{Code: 5, End: true, Volume: 10, Duration: 800}.Marshal(nil)
	var ev Event
	for b.Loop() {
		if err := ev.Unmarshal(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSenderNext is one packet interval of a long key press.
func BenchmarkSenderNext(b *testing.B) {
	b.ReportAllocs()
	s, err := NewSender(SenderConfig{PayloadType: 101})
	if err != nil {
		b.Fatal(err)
	}
	var ts uint32
	for b.Loop() {
		if !s.Busy() {
			_ = s.Send('5', time.Hour, 10)
		}
		s.Next(ts)
		ts += 160
	}
}

// BenchmarkReceiver is one received packet, cycling through the seven packets
// of 100 ms key presses (start, updates, end copies).
func BenchmarkReceiver(b *testing.B) {
	b.ReportAllocs()
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		b.Fatal(err)
	}
	var payloads [7][]byte
	for k := range payloads {
		payloads[k] = Event{Code: 5, End: k >= 4, Volume: 10, Duration: uint16(min(k+1, 5) * 160)}.Marshal(nil)
	}
	dst := make([]Received, 0, 3)
	now := epoch
	for i := 0; b.Loop(); i++ {
		k := i % 7
		now = now.Add(20 * time.Millisecond)
		out, err := r.Receive(dst[:0], now, uint16(i), uint32(i/7)*1600, k == 0, payloads[k])
		if err != nil {
			b.Fatal(err)
		}
		_ = out
	}
}

// BenchmarkDetector is the in-band detector on one 20 ms frame, cycling through
// audio that is half keys, half silence.
func BenchmarkDetector(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8kHz", 16000: "16kHz"}[rate], func(b *testing.B) {
			g, err := NewGenerator(rate)
			if err != nil {
				b.Fatal(err)
			}
			frame := rate / 50
			pcm := make([]int16, 0, 50*frame)
			buf := make([]int16, 5*frame)
			for _, k := range "1590" {
				if err := g.SetDigit(k, -10); err != nil {
					b.Fatal(err)
				}
				g.Generate(buf)
				pcm = append(pcm, buf...)
				pcm = append(pcm, make([]int16, len(buf))...)
			}
			d, err := NewDetector(DetectorConfig{SampleRate: rate, OnDigit: func(Detection) {}})
			if err != nil {
				b.Fatal(err)
			}
			frames := len(pcm) / frame
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := (i % frames) * frame
				if err := d.WriteFrame(media.Frame{Samples: pcm[p : p+frame], SampleRate: rate}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

// BenchmarkTone is one 20 ms frame of a key at 8 kHz.
func BenchmarkTone(b *testing.B) {
	b.ReportAllocs()
	g, err := NewGenerator(8000)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.SetDigit('8', -10); err != nil {
		b.Fatal(err)
	}
	buf := make([]int16, 160)
	for b.Loop() {
		g.Generate(buf)
	}
}
