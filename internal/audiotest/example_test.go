package audiotest_test

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/internal/audiotest"
)

// Generate a tone, pass it through a WAV file, and find its frequency and level again.
func Example() {
	tone := audiotest.Sine(8000, 1000, time.Second, -6)
	b := audiotest.EncodeWAV(tone, 8000)
	samples, format, err := audiotest.DecodeWAV(b)
	if err != nil {
		panic(err)
	}
	f := audiotest.DominantFrequency(samples, format.Rate, 100, 4000, 1)
	fmt.Printf("%.0f Hz, peak %.1f dBFS, RMS %.1f dBFS, SFDR > 60 dB: %v\n",
		f, audiotest.PowerDB(audiotest.Goertzel(samples, format.Rate, f)),
		audiotest.RMSdBFS(samples), audiotest.SFDR(samples, format.Rate, f, 20) > 60)
	// Output: 1000 Hz, peak -6.0 dBFS, RMS -9.0 dBFS, SFDR > 60 dB: true
}
