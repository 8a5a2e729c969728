package resample_test

import (
	"fmt"

	"github.com/switchboard-go/switchboard/media/resample"
)

// Convert 20 ms frames of 8 kHz audio (as decoded from G.711) to 16 kHz for a
// wideband speech recogniser.
func Example() {
	r, err := resample.New(8000, 16000)
	if err != nil {
		panic(err)
	}
	frame := make([]int16, 160) // 20 ms at 8 kHz
	var out []int16
	for range 3 {
		out = r.Process(out[:0], frame) // reuses out: no allocation after the first frame
		fmt.Println(r, len(frame), "→", len(out))
	}
	fmt.Printf("delay %.1f samples (%.2f ms)\n", r.Delay(), r.Delay()/16)
	// Output:
	// resample(8k→16k) 160 → 320
	// resample(8k→16k) 160 → 320
	// resample(8k→16k) 160 → 320
	// delay 100.5 samples (6.28 ms)
}
