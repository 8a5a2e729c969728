package dtmf

import (
	"fmt"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Detection thresholds. Levels are in dB; "energy" is the squared magnitude of a
// Goertzel filter's output over one analysis block.
const (
	// blockSeconds is the analysis block: 102 samples at 8 kHz. Its spectral
	// resolution (78 Hz between nulls) puts the neighbours of each DTMF frequency
	// close to a null of its filter; blocks overlap by half, so the detector
	// judges the signal every 6.4 ms and measures durations to about that.
	blockSeconds = 0.01275

	// minLevelDBFS is the weakest component accepted (about -33 dBm0 in G.711).
	minLevelDBFS = -36.0

	// Twist is level(high group) - level(low group). Receivers must accept +4 dB
	// (high group louder) to -8 dB (low group louder); that is the range of the
	// Q.24 administrations that follow Bell/Telcordia practice. The limits add 2 dB
	// because a 12.75 ms block measures the weaker tone with up to ±2 dB of error:
	// the louder tone's sidelobes add to it with a phase that changes block by
	// block.
	maxTwistDB = 6.0
	minTwistDB = -10.0

	// relPeakDB: each group's strongest filter must beat the other three of its
	// group by this much (a nominal tone beats them by 15 dB or more, 11 dB at
	// 1.5% off; the louder group's leakage at -8 dB twist takes up to 7 dB).
	relPeakDB = 6.0

	// minToneRatio is the fraction of the block's energy that must be in the two
	// tones. A real key puts nearly all of it there (still 80% at 1.5% off
	// frequency or 15 dB SNR); speech, music and noise spread theirs. It also makes
	// a block count only when the tone fills most of it, which is what turns the
	// block count into a duration test.
	minToneRatio = 0.7

	// guardOffset places guard filters at ±5% of each nominal frequency: the
	// nominal filter must beat both, which puts the accept/reject boundary at
	// ±2.5%, between Q.24's must-accept ±1.5% and must-reject ±3.5%.
	guardOffset = 0.05

	// maxHarmonicDB: a tone's second harmonic must be at least this far below it.
	// Voiced speech is rich in harmonics, a DTMF generator is not.
	maxHarmonicDB = -10.0

	// harmonicClearance: the low-group tone's harmonic is checked only when the
	// key's high-group tone is more than this many bin widths from it; closer, that
	// tone's own leakage would be taken for a harmonic (2×697 Hz is 58 Hz from
	// 1336 Hz). The high-group harmonics, above 2.4 kHz, are always checked.
	harmonicClearance = 2.5

	// minRunBlocks consecutive blocks must agree before a digit starts: with
	// minToneRatio this accepts every clean tone of 31 ms or more and none of 24 ms
	// or less (Q.24: accept 40 ms, reject 20 ms).
	minRunBlocks = 4
	// endMissBlocks consecutive blocks without the digit end it: a 40 ms pause
	// always gives at least 7, a 10 ms interruption at most 3, which is bridged.
	endMissBlocks = 4
)

// Detection is a digit start or end found by the Detector.
type Detection struct {
	// Kind is DigitStart or DigitEnd.
	Kind Kind
	// Digit is the key: '0'-'9', '*', '#', 'A'-'D'.
	Digit rune
	// At is the estimated time the tone started (DigitStart) or stopped
	// (DigitEnd), counted from the first sample given to the Detector (or since
	// Reset). Estimates are within a few milliseconds.
	At time.Duration
	// Duration is the estimated length of the tone, on DigitEnd.
	Duration time.Duration
}

// DetectorConfig configures a Detector. The zero value detects at 8 kHz and only
// returns detections from Detect.
type DetectorConfig struct {
	// SampleRate of the audio, 8000 to 48000 Hz. Zero means 8000.
	SampleRate int
	// OnDigit, if set, is called by WriteFrame for each detection, synchronously on
	// the caller's goroutine: it must not block.
	OnDigit func(Detection)
	// Next, if set, receives every frame WriteFrame is given, after detection, so
	// the Detector can sit in a chain of stages.
	Next media.FrameWriter
}

// Detector finds DTMF digits in audio (in-band DTMF): ITU-T Q.24 practice, with
// Goertzel filters on half-overlapping blocks of 12.75 ms, so frames of any size
// can be fed. A block holds a digit when, for the strongest filter in each group:
// both components are above -36 dBFS; the twist is within -10/+6 dB; each beats
// its group's other filters by 6 dB and its own ±5% guard filters; its second
// harmonic is at least 10 dB down; and the two tones carry at least 70% of the
// block's energy. A digit starts after 4 consecutive such blocks and ends after 4
// without it.
//
// It is not safe for concurrent use. Detect and WriteFrame never allocate.
type Detector struct {
	rate    int
	half    int // samples per half block (the hop)
	onDigit func(Detection)
	next    media.FrameWriter

	// The eight nominal filters run on every sample.
	coef       [8]float64 // 2cos(ω)
	s1, s2     [8]float64 // Goertzel state
	outRe      [8]float64 // e^{-jω}, to finish a half block
	outIm      [8]float64
	alignRe    [8]float64 // e^{-jω(H-1)}: phase of a half block's output to its start
	alignIm    [8]float64
	shiftRe    [8]float64 // e^{-jωH}: phase of the second half relative to the first
	shiftIm    [8]float64
	prevRe     [8]float64 // DFT of the previous half block at each frequency
	prevIm     [8]float64
	prevEnergy float64
	energy     float64 // sum of squares of the current half block
	fill       int     // samples in the current half block

	// Samples of the previous and current half block, for the filters that only
	// run on candidate blocks (guards and harmonics).
	buf     [2][]float64
	cur     int // index in buf of the current half block
	havePrv bool

	guardLo, guardHi, harm [8]float64 // 2cos(ω) of each frequency's extra filters
	checkHarm              [4][4]bool // [row][col]: check the row tone's harmonic
	minEnergy              float64
	// Power ratios of the dB thresholds.
	twistHi, twistLo, relPeak, harmMax float64

	blockStart int64 // sample index of the start of the previous half block

	// Digit state machine.
	active   int8  // digit index (row*4+col) being reported, or -1
	startAt  int64 // estimated start sample of the active digit
	lastGood int64 // start sample of the last block that held it
	misses   int
	cand     int8 // digit index of the current run of blocks, or -1
	run      int
	runStart int64 // start sample of the run's first block

	out []Detection // WriteFrame's reusable detection buffer
}

var _ media.FrameWriter = (*Detector)(nil)

// NewDetector returns a Detector for cfg.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	rate := cfg.SampleRate
	if rate == 0 {
		rate = 8000
	}
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("%w: %d Hz (the detector works at 8000-48000 Hz)", ErrSampleRate, rate)
	}
	half := int(math.Round(float64(rate) * blockSeconds / 2))
	n := 2 * half
	d := &Detector{
		rate:    rate,
		half:    half,
		onDigit: cfg.OnDigit,
		next:    cfg.Next,
		buf:     [2][]float64{make([]float64, half), make([]float64, half)},
		out:     make([]Detection, 0, 4),
	}
	cos2 := func(hz float64) float64 { return 2 * math.Cos(2*math.Pi*hz/float64(rate)) }
	for i := range 8 {
		f := lowGroup[i%4]
		if i >= 4 {
			f = highGroup[i-4]
		}
		w := 2 * math.Pi * f / float64(rate)
		d.coef[i] = 2 * math.Cos(w)
		d.outRe[i], d.outIm[i] = math.Cos(w), -math.Sin(w)
		d.alignRe[i], d.alignIm[i] = math.Cos(w*float64(half-1)), -math.Sin(w*float64(half-1))
		d.shiftRe[i], d.shiftIm[i] = math.Cos(w*float64(half)), -math.Sin(w*float64(half))
		d.guardLo[i] = cos2(f * (1 - guardOffset))
		d.guardHi[i] = cos2(f * (1 + guardOffset))
		d.harm[i] = cos2(2 * f)
	}
	bin := float64(rate) / float64(n)
	for r := range 4 {
		for c := range 4 {
			d.checkHarm[r][c] = math.Abs(2*lowGroup[r]-highGroup[c]) > harmonicClearance*bin
		}
	}
	amp := fullScale * math.Pow(10, minLevelDBFS/20)
	d.minEnergy = (amp * float64(n) / 2) * (amp * float64(n) / 2)
	d.twistHi, d.twistLo = dbPower(maxTwistDB), dbPower(minTwistDB)
	d.relPeak, d.harmMax = dbPower(relPeakDB), dbPower(maxHarmonicDB)
	d.Reset()
	return d, nil
}

// Reset returns the Detector to its initial state (time restarts at zero) without
// reporting an active digit's end.
func (d *Detector) Reset() {
	d.s1, d.s2 = [8]float64{}, [8]float64{}
	d.energy, d.prevEnergy, d.fill = 0, 0, 0
	d.havePrv = false
	d.blockStart = -int64(d.half)
	d.active, d.cand = -1, -1
	d.misses, d.run = 0, 0
}

// SampleRate returns the rate the Detector was made for.
func (d *Detector) SampleRate() int { return d.rate }

// String names the stage, e.g. "dtmf-detect(8000)".
func (d *Detector) String() string { return fmt.Sprintf("dtmf-detect(%d)", d.rate) }

// WriteFrame runs detection on f, calls OnDigit for each detection and passes f
// to Next. Frames at another rate fail with an error wrapping
// media.ErrRateMismatch.
func (d *Detector) WriteFrame(f media.Frame) error {
	if f.SampleRate != d.rate {
		return fmt.Errorf("dtmf: detector at %d Hz got a %d Hz frame: %w", d.rate, f.SampleRate, media.ErrRateMismatch)
	}
	d.out = d.Detect(d.out[:0], f.Samples)
	if d.onDigit != nil {
		for _, det := range d.out {
			d.onDigit(det)
		}
	}
	if d.next != nil {
		return d.next.WriteFrame(f)
	}
	return nil
}

// Detect analyses the next samples of the stream (any number) and appends any
// detections to dst.
func (d *Detector) Detect(dst []Detection, samples []int16) []Detection {
	for len(samples) > 0 {
		n := min(d.half-d.fill, len(samples))
		d.accumulate(samples[:n])
		samples = samples[n:]
		if d.fill == d.half {
			dst = d.endHalf(dst)
		}
	}
	return dst
}

// Flush ends an active digit at the end of the stream, appending its DigitEnd to
// dst.
func (d *Detector) Flush(dst []Detection) []Detection {
	if d.active >= 0 {
		dst = d.endDigit(dst)
	}
	d.cand, d.run = -1, 0
	return dst
}

func (d *Detector) accumulate(samples []int16) {
	b := d.buf[d.cur][d.fill:]
	e := d.energy
	// The eight filters are updated in two interleaved groups of four so that the
	// recurrences, each a dependency chain, overlap.
	s1, s2 := &d.s1, &d.s2
	c := &d.coef
	for i, v := range samples {
		x := float64(v)
		b[i] = x
		e += x * x
		for k := 0; k < 8; k += 4 {
			t0 := x + c[k]*s1[k] - s2[k]
			t1 := x + c[k+1]*s1[k+1] - s2[k+1]
			t2 := x + c[k+2]*s1[k+2] - s2[k+2]
			t3 := x + c[k+3]*s1[k+3] - s2[k+3]
			s2[k], s2[k+1], s2[k+2], s2[k+3] = s1[k], s1[k+1], s1[k+2], s1[k+3]
			s1[k], s1[k+1], s1[k+2], s1[k+3] = t0, t1, t2, t3
		}
	}
	d.energy = e
	d.fill += len(samples)
}

// endHalf closes a half block, evaluates the block formed with the previous half
// and steps the digit state machine.
func (d *Detector) endHalf(dst []Detection) []Detection {
	var re, im [8]float64
	for k := range 8 {
		// Goertzel output y = s1 - e^{-jω} s2 equals e^{jω(H-1)} times the DFT of
		// the half block at ω; rotate it back so halves can be combined.
		yr := d.s1[k] - d.outRe[k]*d.s2[k]
		yi := -d.outIm[k] * d.s2[k]
		re[k] = yr*d.alignRe[k] - yi*d.alignIm[k]
		im[k] = yr*d.alignIm[k] + yi*d.alignRe[k]
	}
	d.s1, d.s2 = [8]float64{}, [8]float64{}
	energy := d.energy
	d.energy, d.fill = 0, 0

	if d.havePrv {
		var mag [8]float64
		for k := range 8 {
			// Block DFT = first half + e^{-jωH} × second half.
			r := d.prevRe[k] + re[k]*d.shiftRe[k] - im[k]*d.shiftIm[k]
			i := d.prevIm[k] + re[k]*d.shiftIm[k] + im[k]*d.shiftRe[k]
			mag[k] = r*r + i*i
		}
		digit := d.classify(&mag, d.prevEnergy+energy)
		dst = d.step(dst, digit)
	}
	d.prevRe, d.prevIm, d.prevEnergy = re, im, energy
	d.havePrv = true
	d.cur ^= 1
	d.blockStart += int64(d.half)
	return dst
}

// classify returns the digit index (row*4+col) the block holds, or -1.
func (d *Detector) classify(mag *[8]float64, total float64) int8 {
	row, col := 0, 4
	for k := 1; k < 4; k++ {
		if mag[k] > mag[row] {
			row = k
		}
		if mag[k+4] > mag[col] {
			col = k + 4
		}
	}
	er, ec := mag[row], mag[col]
	if er < d.minEnergy || ec < d.minEnergy {
		return -1
	}
	if ec > er*d.twistHi || ec < er*d.twistLo {
		return -1
	}
	n := float64(2 * d.half)
	if er+ec < minToneRatio*total*n/2 {
		return -1
	}
	for k := range 4 {
		if k != row && mag[k]*d.relPeak > er {
			return -1
		}
		if k+4 != col && mag[k+4]*d.relPeak > ec {
			return -1
		}
	}
	// The remaining checks need filters that run only now, on the block's samples.
	a, b := d.buf[d.cur^1], d.buf[d.cur]
	for _, k := range [2]int{row, col} {
		e := mag[k]
		if goertzel(d.guardLo[k], a, b) >= e || goertzel(d.guardHi[k], a, b) >= e {
			return -1
		}
	}
	if goertzel(d.harm[col], a, b) > ec*d.harmMax {
		return -1
	}
	if d.checkHarm[row][col-4] && goertzel(d.harm[row], a, b) > er*d.harmMax {
		return -1
	}
	return int8(row*4 + col - 4)
}

// dbPower converts dB to a power ratio.
func dbPower(db float64) float64 { return math.Pow(10, db/10) }

// goertzel returns the squared magnitude at the filter with coefficient c
// (2cos ω) over the samples of a followed by b.
func goertzel(c float64, a, b []float64) float64 {
	var s1, s2 float64
	for _, x := range a {
		s1, s2 = x+c*s1-s2, s1
	}
	for _, x := range b {
		s1, s2 = x+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// step advances the digit state machine with one block's verdict.
func (d *Detector) step(dst []Detection, digit int8) []Detection {
	start := d.blockStart
	if d.active >= 0 {
		if digit == d.active {
			d.misses = 0
			d.lastGood = start
			d.cand, d.run = -1, 0
			return dst
		}
		d.misses++
		if d.misses >= endMissBlocks {
			dst = d.endDigit(dst)
		}
	}
	switch {
	case digit < 0:
		d.cand, d.run = -1, 0
	case digit == d.cand:
		d.run++
	default:
		d.cand, d.run, d.runStart = digit, 1, start
	}
	if d.active < 0 && d.run >= minRunBlocks {
		d.active = d.cand
		d.lastGood = start
		d.misses = 0
		// The first block of the run held at least minToneRatio of tone, so the tone
		// began about (1-minToneRatio) of a block after that block's start; half a
		// hop more centres the estimate in the hop's uncertainty.
		n := float64(2 * d.half)
		d.startAt = d.runStart + int64((1-minToneRatio)*n-float64(d.half)/2)
		d.cand, d.run = -1, 0
		dst = append(dst, Detection{Kind: DigitStart, Digit: keypad[d.active/4][d.active%4], At: d.toTime(d.startAt)})
	}
	return dst
}

func (d *Detector) endDigit(dst []Detection) []Detection {
	n := float64(2 * d.half)
	end := d.lastGood + int64(minToneRatio*n+float64(d.half)/2)
	digit := keypad[d.active/4][d.active%4]
	d.active = -1
	d.misses = 0
	return append(dst, Detection{Kind: DigitEnd, Digit: digit, At: d.toTime(end), Duration: d.toTime(end - d.startAt)})
}

func (d *Detector) toTime(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(d.rate))
}
