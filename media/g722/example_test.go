package g722_test

import (
	"fmt"
	"math"

	"github.com/switchboard-go/switchboard/media/g722"
)

// Encode a 20 ms frame of a 1 kHz tone and decode it again.
func Example() {
	pcm := make([]int16, 320) // 20 ms at 16 kHz
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}

	var enc g722.Encoder
	payload := enc.Encode(nil, pcm)

	var dec g722.Decoder
	out := dec.Decode(nil, payload)

	fmt.Println(len(payload), "octets,", len(out), "samples")
	// Output: 160 octets, 320 samples
}

// Decode a 64 kbit/s stream at 48 kbit/s, as a receiver that uses the two low bits
// of each octet for auxiliary data would.
func ExampleNewDecoder() {
	var enc g722.Encoder
	payload := enc.Encode(nil, make([]int16, 8))

	dec, err := g722.NewDecoder(g722.Mode3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x -> %d samples in mode %d\n", payload, len(dec.Decode(nil, payload)), dec.Mode())
	// Output: fa fa fa fa -> 8 samples in mode 3
}
