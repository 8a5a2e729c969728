package media_test

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Encode one 20 ms frame with each default codec and decode it again.
func ExampleCodec() {
	for _, c := range media.DefaultCodecs() {
		pcm := make([]int16, media.SamplesPer(c.SampleRate(), 20*time.Millisecond))
		payload := c.NewEncoder().Encode(nil, pcm)
		out := c.NewDecoder().Decode(nil, payload)
		fmt.Printf("%s/%d: %d samples -> %d bytes -> %d samples\n",
			c.Name(), c.ClockRate(), len(pcm), len(payload), len(out))
	}
	// Output:
	// G722/8000: 320 samples -> 160 bytes -> 320 samples
	// PCMU/8000: 160 samples -> 160 bytes -> 160 samples
	// PCMA/8000: 160 samples -> 160 bytes -> 160 samples
	// L16/16000: 320 samples -> 640 bytes -> 320 samples
	// L16/8000: 160 samples -> 320 bytes -> 160 samples
}

// countingWriter is a sink that counts frames.
type countingWriter struct{ frames, samples int }

func (w *countingWriter) SampleRate() int { return 8000 }
func (w *countingWriter) String() string  { return "counter" }
func (w *countingWriter) WriteFrame(f media.Frame) error {
	w.frames++
	w.samples += len(f.Samples)
	return nil
}

// Build a pipeline once, print it, and push a tone through it.
func ExampleChain() {
	sink := &countingWriter{}
	recorder := &countingWriter{}
	pipeline := media.Chain(media.Tee(sink, recorder), media.Gain(-6))
	fmt.Println(pipeline)

	tone, err := media.NewToneReader(media.Beep(1000, 100*time.Millisecond), 8000, 20*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		f, err := tone.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err := pipeline.WriteFrame(f); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(sink.frames, "frames,", recorder.samples, "samples recorded")
	// Output:
	// gain(-6.0dB) → tee[counter, counter]
	// 5 frames, 800 samples recorded
}

// Turn frames into a little-endian byte stream and back.
func ExampleNewPCMReader() {
	src := media.NewSliceReader([]int16{1, -2, 3}, 8000, 0)
	data, err := io.ReadAll(media.NewPCMReader(src))
	fmt.Printf("% x %v\n", data, err)

	sink := &countingWriter{}
	w := media.NewPCMWriter(sink, 20*time.Millisecond)
	_, _ = w.Write(data[:3]) // half a sample is kept until the rest arrives
	_, _ = w.Write(data[3:])
	fmt.Println(sink.samples, "samples before Close")
	_ = w.Close() // flushes the partial frame
	fmt.Println(sink.samples, "samples after Close")
	// Output:
	// 01 00 fe ff 03 00 <nil>
	// 0 samples before Close
	// 3 samples after Close
}

// A three-way conference: everyone hears the other two.
func ExampleMixer() {
	mixer, err := media.NewMixer(media.MixerConfig{SampleRate: 8000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mixer.Close()

	ears := map[string]*countingWriter{}
	mouths := map[string]*media.MixerInput{}
	for _, name := range []string{"alice", "bob", "carol"} {
		ears[name] = &countingWriter{}
		mouths[name] = mixer.AddInput(name, ears[name])
	}
	frame := media.Frame{Samples: make([]int16, 160), SampleRate: 8000}
	for _, in := range mouths {
		_ = in.WriteFrame(frame)
	}

	// Once per 20 ms, the mixer's clock owner advances the mix.
	mix, err := mixer.ReadFrame()
	fmt.Println(mixer, len(mix.Samples), err, ears["bob"].frames)
	// Output: mixer[alice, bob, carol] 160 <nil> 1
}

// Play the North American ringback tone for the first 6 seconds.
func ExampleRingback() {
	r, err := media.NewToneReader(media.Ringback(media.RegionUS), 8000, 20*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	var on, off int
	for range 300 { // 300 frames of 20 ms
		f, _ := r.ReadFrame()
		if f.Samples[len(f.Samples)/2] == 0 && f.Samples[len(f.Samples)/2+1] == 0 {
			off++
		} else {
			on++
		}
	}
	fmt.Println(on, "frames on,", off, "frames off")
	// Output: 100 frames on, 200 frames off
}
