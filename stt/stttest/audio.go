package stttest

import (
	"math"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Layout of Synthetic's audio.
const (
	synthLead   = 300 * time.Millisecond
	synthBurst  = 700 * time.Millisecond
	synthGap    = 1000 * time.Millisecond
	synthBursts = 3
)

// Synthetic returns about 5.4 s of audio at rate Hz with three speech-like bursts: 0.3 s
// of silence, then three times 0.7 s of a voiced sound (a 140 Hz harmonic series up to
// 3.4 kHz, amplitude-modulated at syllable rate, peaking near -12 dBFS) followed by 1 s
// of silence. Fakes that react to sound, such as a BySpeech Script, find three
// utterances in it; real speech engines usually find none, so give them real speech.
func Synthetic(rate int) []int16 {
	n := media.SamplesPer(rate, synthLead+synthBursts*(synthBurst+synthGap))
	out := make([]int16, n)
	burst := media.SamplesPer(rate, synthBurst)
	for b := range synthBursts {
		from := media.SamplesPer(rate, synthLead+time.Duration(b)*(synthBurst+synthGap))
		for i := range burst {
			t := float64(i) / float64(rate)
			// Syllable envelope: a raised sine over the burst with a 4 Hz ripple.
			env := math.Sin(math.Pi*float64(i)/float64(burst)) * (0.75 + 0.25*math.Cos(2*math.Pi*4*t))
			var v float64
			for k := 1; 140*k <= 3400 && 140*k < rate/2; k++ {
				v += math.Sin(2*math.Pi*140*float64(k)*t) / float64(k)
			}
			out[from+i] = int16(v * env * 0.25 * 32767 / 1.6)
		}
	}
	return out
}

// Frames cuts samples into 20 ms frames at rate Hz (the last one may be shorter). The
// frames share samples' backing array.
func Frames(samples []int16, rate int) []media.Frame {
	n := media.SamplesPer(rate, media.DefaultFrameDuration)
	frames := make([]media.Frame, 0, (len(samples)+n-1)/n)
	for i := 0; i < len(samples); i += n {
		frames = append(frames, media.Frame{Samples: samples[i:min(i+n, len(samples))], SampleRate: rate})
	}
	return frames
}
