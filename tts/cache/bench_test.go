package cache_test

import (
	"testing"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/cache"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// BenchmarkHit measures a cache hit: Synthesize and reading all frames of a 3.4 s
// prompt (170 frames); budget: one reader allocation per hit, none per frame.
func BenchmarkHit(b *testing.B) {
	c := newCache(b, &ttstest.Tone{}, cache.Options{})
	r, err := c.Synthesize(b.Context(), sentence, tts.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ttstest.ReadAll(r); err != nil {
		b.Fatal(err)
	}
	_ = r.Close()
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.Synthesize(b.Context(), sentence, tts.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.ReadFrame(); err != nil {
				break
			}
		}
		_ = r.Close()
	}
}

// BenchmarkMiss measures the shared-synthesis path (a fresh Cache each time, so every
// request misses) over the Tone fake, against BenchmarkDirect without the cache.
func BenchmarkMiss(b *testing.B) {
	tone := &ttstest.Tone{}
	b.ReportAllocs()
	for b.Loop() {
		c, _ := cache.New(tone, cache.Options{})
		r, err := c.Synthesize(b.Context(), sentence, tts.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.ReadFrame(); err != nil {
				break
			}
		}
		_ = r.Close()
	}
}

func BenchmarkDirect(b *testing.B) {
	tone := &ttstest.Tone{}
	b.ReportAllocs()
	for b.Loop() {
		r, err := tone.Synthesize(b.Context(), sentence, tts.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.ReadFrame(); err != nil {
				break
			}
		}
		_ = r.Close()
	}
}
