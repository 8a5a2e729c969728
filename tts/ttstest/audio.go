package ttstest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Audio is a whole synthesized stream, kept for inspection.
type Audio struct {
	// SampleRate is the reader's declared rate in Hz.
	SampleRate int
	// Samples are all samples, in order.
	Samples []int16
	// Frames holds the length in samples of each frame read.
	Frames []int
}

// ReadAll reads r to io.EOF and returns everything it produced. A frame whose rate
// differs from r.SampleRate() is an error. The error of a failed read is returned with
// what was read before it.
func ReadAll(r media.FrameReader) (Audio, error) {
	a := Audio{SampleRate: r.SampleRate()}
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			return a, err
		}
		if f.SampleRate != a.SampleRate {
			return a, fmt.Errorf("ttstest: frame at %d Hz from a reader declaring %d Hz", f.SampleRate, a.SampleRate)
		}
		a.Samples = append(a.Samples, f.Samples...)
		a.Frames = append(a.Frames, len(f.Samples))
	}
}

// Duration is the length of the audio.
func (a Audio) Duration() time.Duration {
	if a.SampleRate <= 0 {
		return 0
	}
	return time.Duration(len(a.Samples)) * time.Second / time.Duration(a.SampleRate)
}

// Level is the RMS level of all samples in dBFS (0 for a full-scale square wave);
// -Inf for silence.
func (a Audio) Level() float64 { return level(a.Samples) }

func level(s []int16) float64 {
	if len(s) == 0 {
		return math.Inf(-1)
	}
	var e float64
	for _, x := range s {
		e += float64(x) * float64(x)
	}
	return 10 * math.Log10(e/float64(len(s))/(32768.0*32768.0))
}

// ActiveDuration is the total length of the 20 ms windows whose RMS level is above
// threshold dBFS: about the time the voice is sounding (-45 dBFS separates speech from
// the pauses between words in synthetic speech).
func (a Audio) ActiveDuration(threshold float64) time.Duration {
	n := media.SamplesPer(a.SampleRate, 20*time.Millisecond)
	if n <= 0 {
		return 0
	}
	var active int
	for i := 0; i+n <= len(a.Samples); i += n {
		if level(a.Samples[i:i+n]) > threshold {
			active++
		}
	}
	return time.Duration(active) * 20 * time.Millisecond
}

// Pitch estimates the median fundamental frequency in Hz of the voiced parts: for each
// 40 ms window loud enough (above -40 dBFS) and periodic enough (normalized
// autocorrelation peak above 0.5) it takes the shortest lag between 2.5 and 16.7 ms
// (400 to 60 Hz) whose autocorrelation is within 10 % of the best, which avoids
// octave-down errors. It returns 0 when no window is voiced.
func (a Audio) Pitch() float64 {
	rate := a.SampleRate
	win := media.SamplesPer(rate, 40*time.Millisecond)
	minLag, maxLag := rate/400, rate/60
	if win <= 0 || minLag < 1 {
		return 0
	}
	corr := make([]float64, maxLag+1)
	var found []float64
	for off := 0; off+win+maxLag <= len(a.Samples); off += win {
		x := a.Samples[off : off+win+maxLag]
		if level(x[:win]) < -40 {
			continue
		}
		var e0 float64
		for i := range win {
			e0 += float64(x[i]) * float64(x[i])
		}
		best := 0.0
		for lag := minLag; lag <= maxLag; lag++ {
			var c, e1 float64
			for i := range win {
				c += float64(x[i]) * float64(x[i+lag])
				e1 += float64(x[i+lag]) * float64(x[i+lag])
			}
			corr[lag] = c / math.Sqrt(e0*e1+1)
			best = max(best, corr[lag])
		}
		if best < 0.5 {
			continue
		}
		for lag := minLag; lag <= maxLag; lag++ {
			// The first local peak close to the best one.
			if corr[lag] >= 0.9*best && (lag == maxLag || corr[lag] >= corr[lag+1]) {
				found = append(found, float64(rate)/float64(lag))
				break
			}
		}
	}
	if len(found) == 0 {
		return 0
	}
	slices.Sort(found)
	return found[len(found)/2]
}
