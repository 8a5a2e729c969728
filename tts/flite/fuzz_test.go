package flite

import (
	"testing"

	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// FuzzSynthesize feeds arbitrary text (which may come from callers, users or language
// models) to flite: synthesis must end with audio or an error, never a crash or a
// hang, and the frames must keep the contract.
func FuzzSynthesize(f *testing.F) {
	f.Add("Hello, world.", uint8(0))
	f.Add("Call 555-0199 at 3:45pm on 12/31/2025, ext. 42; cost $19.99 (approx.)!", uint8(1))
	f.Add("\x00\xff\xfe weird \u00e9\u00e8 bytes \u2603 ... ?!?! ----", uint8(2))
	f.Add("ABCDEFGHIJKLMNOPQRSTUVWXYZ http://example.com/a?b=c#d e.g. i.e. Dr. St.", uint8(3))
	f.Add("''''''''\"\"\"\"(((((]]]]]", uint8(4))
	s, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	voices := []string{"kal", "kal16", "slt"}
	f.Fuzz(func(t *testing.T, text string, v uint8) {
		if len(text) > 300 {
			text = text[:300]
		}
		r, err := s.Synthesize(t.Context(), text, tts.Options{Voice: voices[int(v)%len(voices)], SampleRate: 8000})
		if err != nil {
			t.Fatalf("Synthesize: %v", err) // only options can make it fail
		}
		defer r.Close()
		a, err := ttstest.ReadAll(r)
		if err != nil {
			t.Logf("synthesis error (allowed): %v", err)
			return
		}
		for i, n := range a.Frames {
			if n != 160 && i != len(a.Frames)-1 {
				t.Fatalf("frame %d has %d samples", i, n)
			}
		}
	})
}
