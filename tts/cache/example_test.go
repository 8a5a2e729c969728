package cache_test

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/cache"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

func Example() {
	engine := &ttstest.Tone{} // any tts.Synthesizer: espeak, flite, a cloud engine
	c, err := cache.New(engine, cache.Options{MaxBytes: 8 << 20})
	if err != nil {
		panic(err)
	}
	for range 3 {
		r, err := c.Synthesize(context.Background(), "Press one for sales.", tts.Options{SampleRate: 8000})
		if err != nil {
			panic(err)
		}
		a, err := ttstest.ReadAll(r)
		r.Close()
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Duration())
	}
	st := c.Stats()
	fmt.Println("engine calls:", engine.Calls(), "misses:", st.Misses, "hits:", st.Hits)
	// Output:
	// 640ms
	// 640ms
	// 640ms
	// engine calls: 1 misses: 1 hits: 2
}
