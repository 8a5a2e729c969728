package amd

import (
	"fmt"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Beep describes a tone found in the stream. Offsets are audio time from the first
// frame written.
type Beep struct {
	// Start and End are where the tone began and ended, each placed where its level
	// crossed half of its steady amplitude (within about 10 ms).
	Start, End time.Duration
	// Detected is when the end was known: End plus a few tens of milliseconds.
	Detected time.Duration
	// Frequency in Hz and Level in dBFS (of a sine) of the steady part.
	Frequency float64
	Level     float64
}

// Duration is End − Start.
func (b Beep) Duration() time.Duration { return b.End - b.Start }

func (b Beep) String() string {
	return fmt.Sprintf("beep %.0f Hz %.1f dBFS %v..%v", b.Frequency, b.Level, b.Start, b.End)
}

// Beep tracking parameters.
const (
	levelSpread = 6.0 // dB below the run's strongest hop that still counts as steady
	edgeDB      = 6.0 // half amplitude: where a windowed tone's edge is placed
	maxTailHops = 4   // hops after a run breaks in which the edge is looked for
	maxRunHops  = 300 // hops of a run kept for the checks (3 s; a longer tone is judged on its start)
	plateauDB   = 2.0 // a beep's steady part stays this close to its peak level
	// plateauTonality is how much more tonal than Tonality the plateau must be on
	// average: a beep 4 dB above the noise in the band still scores 0.72.
	plateauTonality = 0.1
)

// beepTracker follows runs of tonal hops and turns those that are long, steady in
// frequency and level into Beeps.
type beepTracker struct {
	cfg      BeepConfig
	rate     int
	halfWin  int64 // samples
	hopLen   int64
	minLevel float64 // mean square
	minDur   int64   // samples

	run      int // hops in the current run
	bin      int
	freqSum  float64
	maxPow   float64
	lv       [maxRunHops]float64 // tone level (dB) of the run's hops
	fr       [maxRunHops]float64 // and their frequencies
	ra       [maxRunHops]float64 // and tonality
	firstEnd int64               // end of the run's first hop
	lastEnd  int64
	lastPow  float64
	tail     int // >0 while looking for the falling edge after a run broke
	tailEnd  int64
	tailPow  float64
	freq     float64
	startAt  int64
	endAt    int64

	found bool
	beep  Beep
}

func newBeepTracker(rate int, cfg BeepConfig, win int) beepTracker {
	return beepTracker{
		cfg:      cfg,
		rate:     rate,
		halfWin:  int64(win / 2),
		hopLen:   int64(rate / 100),
		minLevel: fromDB(cfg.MinLevel),
		minDur:   int64(media.SamplesPer(rate, cfg.MinDuration)),
	}
}

func (t *beepTracker) reset() {
	*t = beepTracker{cfg: t.cfg, rate: t.rate, halfWin: t.halfWin, hopLen: t.hopLen,
		minLevel: t.minLevel, minDur: t.minDur}
}

// tonal says whether hop h could belong to a beep on its own.
func (t *beepTracker) tonal(h *hop) bool {
	return h.ratio >= t.cfg.Tonality && h.tone >= t.minLevel &&
		h.freq >= t.cfg.MinFrequency && h.freq <= t.cfg.MaxFrequency
}

// step takes the next hop and reports whether a beep ended and was confirmed with it.
// a supplies the hop's spectrum for the edge search.
func (t *beepTracker) step(h *hop, a *analyser) bool {
	if t.tail > 0 {
		if t.edge(h.end, a.powerAround(t.bin)) {
			return t.confirm()
		}
		return false
	}
	if t.run > 0 {
		f := t.freqSum / float64(t.run)
		// Edges smear the frequency a little; the strict Stability test is on the
		// plateau, in confirm.
		if t.tonal(h) && math.Abs(h.freq-f) <= 3*t.cfg.Stability*f &&
			dB(h.tone) >= dB(t.maxPow)-levelSpread && abs(h.peakBin-t.bin) <= 1 {
			t.extend(h)
			return false
		}
		if t.run < t.needHops() && t.tonal(h) {
			// Too short to be a beep anyway: start over from this hop.
			t.begin(h)
			return false
		}
		// The run broke: find where the tone fell to half amplitude, in this hop or
		// the next few (a tone ending in silence stays tonal, only weaker).
		t.freq = f
		t.tail = maxTailHops
		if t.edge(h.end, a.powerAround(t.bin)) {
			return t.confirm()
		}
		return false
	}
	if t.tonal(h) {
		t.begin(h)
	}
	return false
}

func (t *beepTracker) begin(h *hop) {
	t.run, t.bin, t.freqSum, t.maxPow = 1, h.peakBin, h.freq, h.tone
	t.lv[0], t.fr[0], t.ra[0] = dB(h.tone), h.freq, h.ratio
	t.firstEnd, t.lastEnd, t.lastPow = h.end, h.end, h.tone
}

func (t *beepTracker) extend(h *hop) {
	if t.run < maxRunHops {
		t.lv[t.run], t.fr[t.run], t.ra[t.run] = dB(h.tone), h.freq, h.ratio
	}
	t.run++
	t.freqSum += h.freq
	if h.tone > t.maxPow {
		t.maxPow = h.tone
	}
	t.lastEnd, t.lastPow = h.end, h.tone
}

// edge looks for the falling edge of the run's tone between the last hop seen and the
// hop ending at end, whose power at the run's bins is p. It reports true when the edge
// is placed (or given up on, at the end of the tail).
func (t *beepTracker) edge(end int64, p float64) bool {
	thr := dB(t.maxPow) - edgeDB
	prevEnd, prevDB := t.lastEnd, dB(t.lastPow)
	if t.tail < maxTailHops {
		prevEnd, prevDB = t.tailEnd, dB(t.tailPow)
	}
	cur := dB(p)
	t.tail--
	if cur <= thr {
		// Linear in dB between the two hops; the window's centre is half a window
		// before its end.
		frac := 1.0
		if prevDB > cur {
			frac = min(1, max(0, (prevDB-thr)/(prevDB-cur)))
		}
		at := prevEnd + int64(frac*float64(end-prevEnd))
		t.endAt = at - t.halfWin
		return true
	}
	t.tailEnd, t.tailPow = end, p
	if t.tail == 0 {
		// Still loud: the tone went on under another sound. Its end is unknown;
		// take where the run broke.
		t.endAt = t.lastEnd - t.halfWin
		return true
	}
	return false
}

// confirm decides whether the run that just ended was a beep.
func (t *beepTracker) confirm() bool {
	run := t.run
	t.run, t.tail = 0, 0
	thr := dB(t.maxPow) - edgeDB
	// Rising edge: the first of the run's hops to reach half amplitude, interpolated
	// with the one before it (or with silence before the run).
	start := t.firstEnd - t.halfWin
	prev := math.Inf(-1)
	kept := min(run, maxRunHops)
	for i := range kept {
		cur := t.lv[i]
		if cur >= thr {
			end := t.firstEnd + int64(i)*t.hopLen
			frac := 1.0
			if !math.IsInf(prev, -1) && cur > prev {
				frac = (thr - prev) / (cur - prev)
			} else if i == 0 {
				frac = 0.5 // the tone began somewhere in the first hop's reach
			}
			start = end - t.hopLen + int64(frac*float64(t.hopLen)) - t.halfWin
			break
		}
		prev = cur
	}
	t.startAt = start
	dur := t.endAt - start
	if dur+t.hopLen/2 < t.minDur || !t.steady(kept) {
		return false
	}
	t.beep.Start = t.dur(start)
	t.beep.Frequency = t.freq
	t.beep.Level = dB(t.maxPow)
	t.beep.End = t.dur(t.endAt)
	t.found = true
	return true
}

// steady checks the run's plateau, the hops within plateauDB of its peak: it must be
// long enough for a MinDuration tone seen through the window, and its frequency must
// neither scatter nor drift by more than Stability. A beep is flat in both; a held
// vowel or a liquid consonant, which can be as pure as a tone for a while, glides in
// pitch and swells in level. Noise makes the estimate scatter but not drift, so drift
// is measured between the means of the plateau's first and last thirds.
func (t *beepTracker) steady(kept int) bool {
	peak := math.Inf(-1)
	for _, v := range t.lv[:kept] {
		peak = max(peak, v)
	}
	var (
		n            int
		sum, sq, rat float64
		first        = -1
		last         int
	)
	for i, v := range t.lv[:kept] {
		if v >= peak-plateauDB {
			n++
			sum += t.fr[i]
			sq += t.fr[i] * t.fr[i]
			rat += t.ra[i]
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if n < t.needHops() {
		return false
	}
	mean := sum / float64(n)
	sd := math.Sqrt(max(0, sq/float64(n)-mean*mean))
	third := max(1, (last-first+1)/3)
	drift := math.Abs(meanOf(t.fr[last-third+1:last+1]) - meanOf(t.fr[first:first+third]))
	return sd <= t.cfg.Stability*mean && drift <= t.cfg.Stability*mean &&
		rat/float64(n) >= t.cfg.Tonality+plateauTonality
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// needHops is the least number of hops a MinDuration tone fills entirely.
func (t *beepTracker) needHops() int {
	return max(3, int((t.minDur-2*t.halfWin)/t.hopLen))
}

func (t *beepTracker) dur(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(t.rate))
}

// active reports whether a tonal run (a possible beep) is under way.
func (t *beepTracker) active() bool { return t.run > 0 || t.tail > 0 }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// BeepDetector finds beeps, steady tones of MinFrequency to MaxFrequency lasting at
// least MinDuration, in a stream of frames. It runs on its own when the verdict is
// known from elsewhere; a [Detector] in a beep mode runs one internally. It is not
// safe for concurrent use.
type BeepDetector struct {
	a    analyser
	t    beepTracker
	beep Beep
	n    int
}

var _ media.FrameWriter = (*BeepDetector)(nil)

// NewBeepDetector returns a beep detector for frames at sampleRate (8000 or 16000 Hz).
func NewBeepDetector(sampleRate int, cfg BeepConfig) (*BeepDetector, error) {
	cfg = cfg.WithDefaults()
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &BeepDetector{a: newAnalyser(sampleRate, cfg)}
	b.t = newBeepTracker(sampleRate, cfg, b.a.n)
	return b, nil
}

// WriteFrame analyses one frame. Frames at another rate fail with an error wrapping
// media.ErrRateMismatch.
func (b *BeepDetector) WriteFrame(f media.Frame) error {
	if f.SampleRate != b.a.rate {
		return fmt.Errorf("amd: frame at %d Hz, beep detector at %d Hz: %w", f.SampleRate, b.a.rate, media.ErrRateMismatch)
	}
	s := f.Samples
	for len(s) > 0 {
		n, done := b.a.feed(s)
		s = s[n:]
		if done && b.t.step(&b.a.h, &b.a) {
			b.t.beep.Detected = b.t.dur(b.a.pos)
			b.beep = b.t.beep
			b.n++
		}
	}
	return nil
}

// Last returns the most recent beep and how many have been found.
func (b *BeepDetector) Last() (Beep, int) { return b.beep, b.n }

// Offset is the audio time analysed so far.
func (b *BeepDetector) Offset() time.Duration { return b.t.dur(b.a.pos) }

// SampleRate is the rate the detector was made for.
func (b *BeepDetector) SampleRate() int { return b.a.rate }

// Reset forgets the stream.
func (b *BeepDetector) Reset() {
	b.a.reset()
	b.t.reset()
	b.beep, b.n = Beep{}, 0
}

// String names the stage.
func (b *BeepDetector) String() string { return "amd-beep" }

func checkRate(rate int) error {
	if rate != 8000 && rate != 16000 {
		return fmt.Errorf("%w: sample rate %d Hz (want 8000 or 16000)", ErrConfig, rate)
	}
	return nil
}
