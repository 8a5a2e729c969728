package pocketsphinx

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// speechEnd is the end of the last 10 ms window of pcm louder than -40 dBFS.
func speechEnd(pcm []int16, rate int) time.Duration {
	w := media.SamplesPer(rate, 10*time.Millisecond)
	thr := math.Pow(10, -40.0/20) * 32768
	end := 0
	for i := 0; i+w <= len(pcm); i += w {
		var sum float64
		for _, x := range pcm[i : i+w] {
			sum += float64(x) * float64(x)
		}
		if math.Sqrt(sum/float64(w)) >= thr {
			end = i + w
		}
	}
	return time.Duration(end) * time.Second / time.Duration(rate)
}

// TestEndOfSpeechDelay measures how long after the end of speech the final result
// arrives. The audio is written one 20 ms frame at a time and decoded after each
// frame, as a session fed in real time would be; the audio delay is how much audio had
// been written past the end of speech when the final result appeared, and the
// processing delay is the wall time of decoding that last frame (end of utterance,
// second pass, posteriors). In real time the caller waits for both.
func TestEndOfSpeechDelay(t *testing.T) {
	r := newTestRecognizer(t, Config{})
	for _, tc := range []struct {
		name       string
		rate       int
		cfg        stt.Config
		text       string
		endSilence time.Duration
	}{
		{"16kHz LM", 16000, stt.Config{}, "please transfer me to the sales department", stt.DefaultEndSilence},
		{"16kHz LM short", 16000, stt.Config{EndSilence: 300 * time.Millisecond}, "please transfer me to the sales department", 300 * time.Millisecond},
		{"8kHz digits", 8000, stt.Config{Grammar: stt.DigitsGrammar()}, "four one five two", stt.DefaultEndSilence},
		{"8kHz digits short", 8000, stt.Config{Grammar: stt.DigitsGrammar(), EndSilence: 300 * time.Millisecond}, "four one five two", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			utt := synth(t, "slt", tc.text, 16000)
			audio := slices.Concat(silence(16000, 0.5), utt, silence(16000, 2))
			if tc.rate == 8000 {
				audio = telephone(t, audio)
			}
			end := speechEnd(audio, tc.rate)
			cfg := tc.cfg
			cfg.SampleRate = tc.rate
			ss, err := r.Start(t.Context(), cfg)
			require.NoError(t, err)
			s := ss.(*session)
			var (
				final     stt.Result
				written   time.Duration
				processed time.Duration
				found     bool
			)
			for _, f := range stttest.Frames(audio, tc.rate) {
				require.NoError(t, s.WriteFrame(f))
				written += f.Duration()
				began := time.Now()
				s.work.Lock()
				s.decodeAll()
				s.work.Unlock()
				took := time.Since(began)
				s.mu.Lock()
				for _, res := range s.queue[s.qhead:] {
					if res.Final && !found {
						final, found, processed = res, true, took
					}
				}
				s.mu.Unlock()
				if found {
					break
				}
			}
			require.NoError(t, s.Close())
			require.True(t, found, "no final result before the end of the audio")
			audioDelay := written - end
			t.Logf("%-18s final %q: speech ends at %v, word end %v; final after %v more audio (end silence %v) + %v processing",
				tc.name, final.Text, end, final.End, audioDelay, tc.endSilence, processed.Round(100*time.Microsecond))
			e, _ := stttest.WordErrors(tc.text, final.Text)
			assert.LessOrEqual(t, e, 2, "transcript %q", final.Text)
			// Audio time, not wall time: the endpointer waits for the end silence and
			// decides within a few blocks of it.
			assert.GreaterOrEqual(t, audioDelay, tc.endSilence-50*time.Millisecond)
			assert.LessOrEqual(t, audioDelay, tc.endSilence+250*time.Millisecond)
		})
	}
}
