package jitter_test

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/media/jitter"
)

// Packets 1 and 2 arrive swapped; the buffer plays them in order once it holds
// 40 ms of audio, then reports the gap left by packet 4, which never arrives.
func Example() {
	b, err := jitter.New(jitter.Config{Mode: jitter.Fixed, Depth: 40 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	// Sequence numbers and arrival times (ms) of 20 ms packets at 8 kHz.
	arrivals := []struct{ seq, at int }{{0, 0}, {2, 41}, {1, 45}, {3, 60}, {5, 100}, {6, 120}}
	next := 0
	for now := 5; now <= 165; now += 20 {
		for ; next < len(arrivals) && arrivals[next].at <= now; next++ {
			a := arrivals[next]
			_ = b.Push(uint16(a.seq), uint32(a.seq*160), a.seq == 0, []byte{byte(a.seq)}, ms(a.at))
		}
		pkt, st := b.Pop(ms(now))
		if st == jitter.Ready {
			fmt.Printf("%3d ms: %v seq %d\n", now, st, pkt.Sequence)
		} else {
			fmt.Printf("%3d ms: %v\n", now, st)
		}
	}
	s := b.Stats()
	fmt.Println("played", s.Played, "lost", s.Lost)
	// Output:
	//   5 ms: buffering
	//  25 ms: buffering
	//  45 ms: ready seq 0
	//  65 ms: ready seq 1
	//  85 ms: ready seq 2
	// 105 ms: ready seq 3
	// 125 ms: missing
	// 145 ms: ready seq 5
	// 165 ms: ready seq 6
	// played 6 lost 1
}
