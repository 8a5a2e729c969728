package dtmf_test

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
)

// Marshal and decode a telephone-event payload.
func ExampleEvent() {
	code, _ := dtmf.DigitCode('#')
	ev := dtmf.Event{Code: code, End: true, Volume: 10, Duration: 800}
	payload := ev.Marshal(nil)
	fmt.Printf("% x\n", payload)

	var got dtmf.Event
	if err := got.Unmarshal(payload); err != nil {
		panic(err)
	}
	fmt.Println(got)
	// Output:
	// 0b 8a 03 20
	// # end vol=10 dur=800
}

// Play a key as audio and find it again with the in-band detector.
func ExampleDetector() {
	det, err := dtmf.NewDetector(dtmf.DetectorConfig{
		SampleRate: 8000,
		OnDigit: func(d dtmf.Detection) {
			fmt.Printf("%s %c at %v\n", d.Kind, d.Digit, d.At.Round(10*time.Millisecond))
		},
	})
	if err != nil {
		panic(err)
	}
	silence := media.Frame{Samples: make([]int16, 160), SampleRate: 8000}
	for range 5 { // 100 ms
		_ = det.WriteFrame(silence)
	}
	tone, err := dtmf.Tone('5', 200*time.Millisecond, 8000, -10)
	if err != nil {
		panic(err)
	}
	for {
		f, err := tone.ReadFrame()
		if err != nil {
			break // io.EOF
		}
		_ = det.WriteFrame(f)
	}
	for range 5 {
		_ = det.WriteFrame(silence)
	}
	// Output:
	// start 5 at 100ms
	// end 5 at 300ms
}

// Send keys as RFC 4733 packets from a pacer loop and receive them.
func ExampleSender() {
	snd, err := dtmf.NewSender(dtmf.SenderConfig{PayloadType: 101, ClockRate: 8000, Ptime: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	rcv, err := dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: 8000})
	if err != nil {
		panic(err)
	}
	if err := snd.SendString("42", 100*time.Millisecond, 10); err != nil {
		panic(err)
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts, seq := uint32(1000), uint16(1)
	var reports []dtmf.Received
	for snd.Busy() { // one iteration per 20 ms tick of the pacer
		if p, ok := snd.Next(ts); ok {
			reports, _ = rcv.Receive(reports[:0], now, seq, p.Timestamp, p.Marker, p.Payload[:])
			for _, r := range reports {
				fmt.Printf("%s %c ts=%d dur=%v\n", r.Kind, r.Digit, r.Timestamp, r.Duration)
			}
		} // else: send an audio packet
		ts, seq, now = ts+160, seq+1, now.Add(20*time.Millisecond)
	}
	// Output:
	// start 4 ts=1000 dur=20ms
	// end 4 ts=1000 dur=100ms
	// start 2 ts=2280 dur=20ms
	// end 2 ts=2280 dur=100ms
}
