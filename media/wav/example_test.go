package wav_test

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
)

// Record 8 kHz frames to a μ-law WAV file, then play it back as 16 kHz frames.
func Example() {
	dir, err := os.MkdirTemp("", "wav-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeting.wav")

	w, err := wav.Create(path, wav.WriterOptions{SampleRate: 8000, Encoding: wav.MuLaw})
	if err != nil {
		panic(err)
	}
	frame := make([]int16, 160) // 20 ms at 8 kHz
	for n := range 50 {         // one second of a 440 Hz tone
		for i := range frame {
			frame[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n*160+i)/8000))
		}
		if err := w.WriteFrame(media.Frame{Samples: frame, SampleRate: 8000}); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	r, err := wav.Open(path, wav.Options{SampleRate: 16000})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	fmt.Println(r.Header(), r.Header().Duration())
	frames, samples := 0, 0
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		frames++
		samples += len(f.Samples)
	}
	fmt.Println(frames, "frames,", samples, "samples at", r.SampleRate(), "Hz")
	// Output:
	// wav(8k μ-law mono) 1s
	// 50 frames, 16000 samples at 16000 Hz
}
