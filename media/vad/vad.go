package vad

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchboard-go/switchboard/internal/dsp"
	"github.com/switchboard-go/switchboard/media"
)

// ErrUnsupported is returned by [New] for a sample rate other than 8000 or 16000 Hz,
// or a [Mode] out of range.
var ErrUnsupported = errors.New("vad: unsupported configuration")

// Mode is the aggressiveness of the detector: how much evidence it needs before it
// calls a frame speech. Higher modes miss more quiet speech and pass less noise.
type Mode int

// Modes, least aggressive first. The zero value is [Quality].
const (
	// Quality keeps the most speech; the right choice for recording and recognition.
	Quality Mode = iota
	// LowBitrate needs a little more evidence.
	LowBitrate
	// Aggressive rejects more noise, at some cost in quiet speech.
	Aggressive
	// VeryAggressive wants clear speech; for barge-in in noisy places.
	VeryAggressive
)

// threshold is the score, in dB of mean band SNR, a frame needs to start speech in
// mode m. Noise alone scores about 0.5 dB, rarely above 1.3 dB (99th percentile).
func (m Mode) threshold() float64 {
	switch m {
	case LowBitrate:
		return 2.5
	case Aggressive:
		return 3.5
	case VeryAggressive:
		return 5
	default:
		return 1.5
	}
}

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Quality:
		return "quality"
	case LowBitrate:
		return "low-bitrate"
	case Aggressive:
		return "aggressive"
	case VeryAggressive:
		return "very-aggressive"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Defaults for [Config].
const (
	// DefaultHangover is how long speech is held after the last frame that sounded
	// like speech.
	DefaultHangover = 300 * time.Millisecond
	// DefaultMinSpeech is the shortest run of speech-like frames that starts speech.
	DefaultMinSpeech = 40 * time.Millisecond
)

// Config tunes a [Detector]. The zero value is a Quality-mode detector with the
// default hangover and minimum speech length.
type Config struct {
	// Mode is the aggressiveness; the zero value is Quality.
	Mode Mode
	// Hangover keeps speech on for this long after the last speech-like frame, so the
	// gaps between words and the weak ends of words are not cut. Zero means
	// DefaultHangover (300 ms); negative means none.
	Hangover time.Duration
	// MinSpeech is the shortest run of consecutive speech-like frames that counts as
	// speech; shorter bursts (clicks, coughs, door slams) are ignored. Zero means
	// DefaultMinSpeech (60 ms); negative means a single frame is enough.
	MinSpeech time.Duration
	// OnEvent, if set, is called with every speech-start and speech-end event, on the
	// goroutine that processes the frame and before the frame goes on. It must not
	// block: hand the event to another goroutine if it needs to do work.
	OnEvent func(Event)
}

// EventType says what an [Event] reports.
type EventType uint8

const (
	// SpeechStart reports that speech began.
	SpeechStart EventType = iota + 1
	// SpeechEnd reports that speech ended.
	SpeechEnd
)

// String names the event type.
func (t EventType) String() string {
	switch t {
	case SpeechStart:
		return "speech-start"
	case SpeechEnd:
		return "speech-end"
	default:
		return fmt.Sprintf("EventType(%d)", uint8(t))
	}
}

// Event is a change between silence and speech. Times are offsets from the start of
// the stream, counted in samples processed.
type Event struct {
	Type EventType
	// At is when the change happened in the audio: the start of the first frame of
	// the run that confirmed speech, or the end of the last speech-like frame before
	// the hangover ran out.
	At time.Duration
	// Detected is when the detector could tell: the end of the frame that produced
	// the event. Detected − At is the detection latency, about MinSpeech for starts
	// and Hangover for ends.
	Detected time.Duration
}

// String renders the event, e.g. "speech-start at 1.24s (detected 1.3s)".
func (e Event) String() string {
	return fmt.Sprintf("%v at %v (detected %v)", e.Type, e.At, e.Detected)
}

// Result is the detector's verdict on one frame.
type Result struct {
	// Speech is the smoothed decision: true from speech start until the hangover after
	// the last speech-like frame runs out. It is what stages put in media.FlagSpeech.
	Speech bool
	// Active is the frame's own verdict, before MinSpeech and Hangover smoothing: its
	// Score reaches the mode's threshold.
	Active bool
	// Event is the event this frame produced; its Type is 0 when none. (A frame can
	// hold two events only when both Hangover and MinSpeech are off; Config.OnEvent
	// sees both, Event the later.)
	Event Event
	// Score is the frame's speech evidence: the mean over its 10 ms hops of the mean
	// band SNR in dB, each band clipped to [0, 30]. Noise alone scores about 0.5.
	Score float64
	// NoiseLevel is the estimated background noise in dBFS (0 dBFS = a full-scale
	// sine), as the level of white noise with the same density over 200–3600 Hz.
	NoiseLevel float64
}

// Analysis constants. The detector works on 10 ms hops with a 32 ms Hann window,
// whatever the caller's frame length.
const (
	hopDuration = 10 * time.Millisecond
	initHops    = 10   // the first 100 ms train the noise estimate
	subWindow   = 25   // hops per minimum-statistics sub-window (250 ms)
	subWindows  = 6    // sub-windows remembered (1.5 s)
	minBias     = 1.5  // noise is at least this times the windowed minimum
	noiseAlpha  = 0.05 // noise update rate on noise-like hops (about 200 ms)
	gateDB      = -60  // hops quieter than this (dBFS) are never speech
	holdFloor   = 1.5  // the lowest score that keeps speech going
	flatNoiseDB = -3.0 // whitened spectra flatter than this for flatHops are taken as noise
	maxSpreadDB = 2.5  // and whose band SNRs differ by less than this (std)
	flatHops    = 20   // (200 ms)
	loHz, hiHz  = 200, 3600
)

// bandEdges split loHz..hiHz into bands of roughly equal importance to speech.
var bandEdges = [...]float64{200, 400, 650, 950, 1300, 1750, 2300, 2900, 3600}

// Detector decides, frame by frame, whether a mono 16-bit stream at 8 or 16 kHz holds
// speech. It is not safe for concurrent use; make one per stream.
type Detector struct {
	rate      int
	cfg       Config
	threshold float64
	hangover  int64 // samples
	minSpeech int64 // samples
	smear     int64 // samples a sound lingers in the decision: window − hop/2

	hop, nfft int
	win       []float64 // Hann window, 32 ms
	buf       []float64 // the last 32 ms of samples, scaled to ±1
	fill      int       // samples of the current hop already in buf
	fft       *dsp.RealFFT
	frame     []float64 // the windowed samples
	power     []float64 // |X|² per bin, loBin..hiBin
	noise     []float64 // noise power per bin
	smooth    []float64 // smoothed power, for minimum statistics
	minCur    []float64
	minRing   []float64 // subWindows × bins
	ringN     int       // sub-windows filled
	ringPos   int
	subCount  int
	loBin     int
	bands     [len(bandEdges)]int // first bin of each band edge, relative to loBin
	floor     float64             // smallest noise power per bin
	wsum      float64             // Σ w², for level calibration
	hops      int64

	hopScores float64 // scores of the hops completed in the current frame
	hopCount  int
	lastScore float64
	prevScore float64 // the previous hop's score
	event     Event   // last event of the current frame

	pos      int64 // samples consumed
	hopEnd   int64 // samples up to the end of the last whole hop
	speaking bool
	runStart int64 // start of the current run of speech-like hops, or -1
	gap      int   // weak hops since the run's last speech-like hop
	lastEnd  int64
	noiseLvl float64
	flatAvg  float64                     // whitened flatness smoothed over about three hops
	flatRun  int                         // consecutive noise-shaped hops
	bandSNR  [len(bandEdges) - 1]float64 // smoothed band SNRs (dB), for the spread
	bandAvg  [len(bandEdges) - 1]float64 // smoothed band SNRs (power ratio)
}

// New returns a Detector for frames at sampleRate (8000 or 16000 Hz).
func New(sampleRate int, cfg Config) (*Detector, error) {
	if sampleRate != 8000 && sampleRate != 16000 {
		return nil, fmt.Errorf("%w: sample rate %d Hz (want 8000 or 16000)", ErrUnsupported, sampleRate)
	}
	if cfg.Mode < Quality || cfg.Mode > VeryAggressive {
		return nil, fmt.Errorf("%w: mode %v", ErrUnsupported, cfg.Mode)
	}
	d := &Detector{rate: sampleRate, cfg: cfg, threshold: cfg.Mode.threshold()}
	d.hangover = durationSamples(cfg.Hangover, DefaultHangover, sampleRate)
	d.minSpeech = durationSamples(cfg.MinSpeech, DefaultMinSpeech, sampleRate)
	d.hop = media.SamplesPer(sampleRate, hopDuration)
	d.nfft = 256 * sampleRate / 8000 // 32 ms
	d.fft = dsp.NewRealFFT(d.nfft)
	d.win = make([]float64, d.nfft)
	for i := range d.win {
		d.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(len(d.win)))
		d.wsum += d.win[i] * d.win[i]
	}
	d.buf = make([]float64, d.nfft)
	d.smear = int64(d.nfft - d.hop/2)
	d.frame = make([]float64, d.nfft)
	binHz := float64(sampleRate) / float64(d.nfft)
	d.loBin = int(math.Round(loHz / binHz))
	hiBin := int(math.Round(hiHz / binHz))
	for i, e := range bandEdges {
		d.bands[i] = int(math.Round(e/binHz)) - d.loBin
	}
	n := hiBin - d.loBin
	d.power = make([]float64, n)
	d.noise = make([]float64, n)
	d.smooth = make([]float64, n)
	d.minCur = make([]float64, n)
	d.minRing = make([]float64, n*subWindows)
	// White noise at −100 dBFS: below any real line noise, above digital silence.
	d.floor = 1e-10 * d.wsum
	d.Reset()
	return d, nil
}

func durationSamples(d, def time.Duration, rate int) int64 {
	switch {
	case d == 0:
		d = def
	case d < 0:
		return 0
	}
	return int64(media.SamplesPer(rate, d))
}

// Reset forgets the stream: noise estimate, state and time offset.
func (d *Detector) Reset() {
	clear(d.buf)
	clear(d.noise)
	clear(d.smooth)
	for i := range d.minCur {
		d.minCur[i] = math.Inf(1)
	}
	d.fill, d.hops, d.ringN, d.ringPos, d.subCount = 0, 0, 0, 0, 0
	d.hopScores, d.hopCount, d.lastScore, d.prevScore = 0, 0, 0, 0
	d.pos, d.hopEnd, d.speaking, d.runStart, d.lastEnd = 0, 0, false, -1, 0
	d.event = Event{}
	d.noiseLvl = math.Inf(-1)
	d.flatAvg, d.flatRun = -2.5, 0
	for i := range d.bandAvg {
		d.bandAvg[i] = 1
	}
}

// SampleRate is the rate the Detector was made for.
func (d *Detector) SampleRate() int { return d.rate }

// Speaking reports whether the detector is in speech (the last Result.Speech).
func (d *Detector) Speaking() bool { return d.speaking }

// Offset is the stream time processed so far.
func (d *Detector) Offset() time.Duration { return d.dur(d.pos) }

func (d *Detector) dur(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(d.rate))
}

// Detect is Process for a frame, checking its rate: frames at another rate fail with
// media.ErrRateMismatch.
func (d *Detector) Detect(f media.Frame) (Result, error) {
	if f.SampleRate != d.rate {
		return Result{}, fmt.Errorf("vad: frame at %d Hz, detector at %d Hz: %w", f.SampleRate, d.rate, media.ErrRateMismatch)
	}
	return d.Process(f.Samples), nil
}

// Process analyses one frame of samples (any length; 10 to 30 ms is usual) and
// returns the verdict. Events are also passed to Config.OnEvent.
func (d *Detector) Process(samples []int16) Result {
	for _, s := range samples {
		d.buf[d.nfft-d.hop+d.fill] = float64(s) / 32768
		d.fill++
		if d.fill == d.hop {
			d.hopEnd += int64(d.hop)
			d.analyse()
			copy(d.buf, d.buf[d.hop:])
			d.fill = 0
		}
	}
	d.pos += int64(len(samples))

	score := d.lastScore
	if d.hopCount > 0 {
		score = d.hopScores / float64(d.hopCount)
		d.lastScore = score
	}
	res := Result{
		Speech:     d.speaking,
		Active:     score >= d.threshold && d.hops > initHops,
		Event:      d.event,
		Score:      score,
		NoiseLevel: d.noiseLvl,
	}
	d.hopScores, d.hopCount, d.event = 0, 0, Event{}
	return res
}

// step advances the speech state machine by one hop ending at d.hopEnd.
func (d *Detector) step(score float64) {
	end := d.hopEnd
	thr := d.threshold
	if d.speaking {
		// Hysteresis: staying in speech takes less than starting it, but still more
		// than noise alone ever scores.
		thr = max(0.75*thr, holdFloor)
	}
	if score >= thr && d.hops > initHops {
		d.gap = 0
		if d.runStart < 0 {
			d.runStart = end - int64(d.hop)
		}
		// A sound stays in the analysis window after it stops: the sound itself ended
		// about smear samples before this hop did.
		d.lastEnd = max(d.runStart, end-d.smear)
		if !d.speaking && end-d.runStart >= d.minSpeech+d.smear {
			d.speaking = true
			d.emit(Event{Type: SpeechStart, At: d.dur(d.runStart), Detected: d.dur(end)})
		}
		return
	}
	// A run of speech-like hops survives a single weak hop: speech in noise flickers.
	if d.gap++; d.gap > 1 {
		d.runStart = -1
	}
	if d.speaking && end-d.lastEnd > d.hangover {
		d.speaking = false
		d.emit(Event{Type: SpeechEnd, At: d.dur(d.lastEnd), Detected: d.dur(end)})
	}
}

func (d *Detector) emit(e Event) {
	d.event = e
	if d.cfg.OnEvent != nil {
		d.cfg.OnEvent(e)
	}
}

// Finish ends the stream: if speech is in progress it ends it, returning (and passing
// to Config.OnEvent) the SpeechEnd event. The Detector can then be Reset for reuse.
func (d *Detector) Finish() (Event, bool) {
	if !d.speaking {
		return Event{}, false
	}
	d.speaking = false
	end := d.lastEnd
	if d.runStart >= 0 { // still sounding: the speech ends with the stream
		end = d.pos
	}
	ev := Event{Type: SpeechEnd, At: d.dur(end), Detected: d.dur(d.pos)}
	if d.cfg.OnEvent != nil {
		d.cfg.OnEvent(ev)
	}
	return ev, true
}

// analyse scores the hop that just completed and updates the noise estimate.
func (d *Detector) analyse() {
	d.hops++
	// Level of the new hop, for the absolute gate.
	var energy float64
	for _, v := range d.buf[d.nfft-d.hop:] {
		energy += v * v
	}
	levelDB := 10*math.Log10(energy/float64(d.hop)+1e-20) + 3 // dBFS, sine-referenced

	// Spectrum of the windowed last 32 ms.
	for i, v := range d.buf {
		d.frame[i] = v * d.win[i]
	}
	d.fft.Power(d.frame, d.loBin, d.loBin+len(d.power)-1, d.power)

	if d.hops <= initHops {
		// Training: the noise estimate is the running mean of what we hear.
		w := 1 / float64(d.hops)
		for k, p := range d.power {
			d.noise[k] += w * (p - d.noise[k])
			d.smooth[k] = d.noise[k]
		}
		d.trackMinimum()
		d.applyFloor()
		return
	}

	score, flatDB, spread := d.score()
	if levelDB < gateDB {
		score = 0
	}
	// Decide on the mean of this hop and the previous one: a 20 ms view whose
	// variance in noise is low enough for the hysteresis threshold to sit above it.
	decision := (score + d.prevScore) / 2
	d.prevScore = score
	d.hopScores += decision
	d.hopCount++
	d.step(decision)

	d.trackMinimum()
	// Update the noise estimate on hops that are clearly noise: low SNR, or a
	// whitened spectrum as flat as noise's own, which is what a louder noise of the same
	// colour looks like. The latter lets the estimate follow a rising noise floor in a
	// few hundred milliseconds instead of waiting for the minimum statistics.
	d.flatAvg = 0.7*d.flatAvg + 0.3*flatDB
	if d.flatAvg > flatNoiseDB && spread < maxSpreadDB {
		d.flatRun++
	} else {
		d.flatRun = 0
	}
	if score < d.threshold/2 || d.flatRun >= flatHops {
		for k, p := range d.power {
			d.noise[k] += noiseAlpha * (p - d.noise[k])
		}
	}
	d.applyFloor()
}

// score is the hop's speech evidence: the mean over bands of the band SNR against
// the noise estimate, each clipped to [0, 30] dB. Each band has its own floor, which
// makes the score indifferent to the colour of stationary noise. It also returns the
// spectral flatness of the noise-whitened spectrum, in dB.
func (d *Detector) score() (snr, flatDB, spread float64) {
	var snrSum, sq float64
	nb := float64(len(d.bands) - 1)
	for b := range len(d.bands) - 1 {
		var e, n float64
		for k := d.bands[b]; k < d.bands[b+1]; k++ {
			e += d.power[k]
			n += d.noise[k]
		}
		snrSum += clampF(10*math.Log10(e/n+1e-12), 0, 30)
		// Smoothed over about five hops for the spread, which must be steady.
		d.bandAvg[b] = 0.8*d.bandAvg[b] + 0.2*e/n
		v := 10 * math.Log10(d.bandAvg[b]+1e-12)
		d.bandSNR[b] = v
		sq += v
	}
	snr = snrSum / nb
	// The spread of the band SNRs: near 0 when every band rose alike, as when the
	// noise gets louder; large for speech, whose energy sits in a few bands.
	mean := sq / nb
	var vr float64
	for _, v := range d.bandSNR {
		vr += (v - mean) * (v - mean)
	}
	spread = math.Sqrt(vr / nb)

	// Noise alone whitens to a flat spectrum: the geometric to arithmetic mean ratio of
	// a periodogram of white noise is e^−γ, −2.5 dB. Speech has formants and harmonics
	// and is far less flat, even where it is weak.
	var logSum, sum float64
	prod := 1.0
	for k, p := range d.power {
		r := p / d.noise[k]
		sum += r
		// One logarithm per eight bins: the clamped product cannot overflow.
		prod *= clampF(r, 1e-6, 1e6)
		if k%8 == 7 {
			logSum += math.Log(prod)
			prod = 1
		}
	}
	logSum += math.Log(prod)
	n := float64(len(d.power))
	flatDB = 0 // silence is as flat as it gets
	if sum > 0 {
		flatDB = max(-60, 10*(logSum/n-math.Log(sum/n))/math.Ln10)
	}
	return snr, flatDB, spread
}

// trackMinimum keeps the minimum of the smoothed spectrum over the last 1.5 s and
// lifts the noise estimate to it, so a noise floor that rises (and would otherwise be
// mistaken for speech forever) is followed within that time.
func (d *Detector) trackMinimum() {
	for k, p := range d.power {
		d.smooth[k] = 0.7*d.smooth[k] + 0.3*p
		d.minCur[k] = min(d.minCur[k], d.smooth[k])
	}
	d.subCount++
	if d.subCount < subWindow {
		return
	}
	d.subCount = 0
	n := len(d.power)
	copy(d.minRing[d.ringPos*n:(d.ringPos+1)*n], d.minCur)
	d.ringPos = (d.ringPos + 1) % subWindows
	d.ringN = min(d.ringN+1, subWindows)
	for k := range d.minCur {
		d.minCur[k] = math.Inf(1)
	}
	for k := range n {
		m := math.Inf(1)
		for w := range d.ringN {
			m = min(m, d.minRing[w*n+k])
		}
		d.noise[k] = max(d.noise[k], minBias*m)
	}
}

func (d *Detector) applyFloor() {
	var total float64
	for k := range d.noise {
		d.noise[k] = max(d.noise[k], d.floor)
		total += d.noise[k]
	}
	// White noise of variance σ² has E|X_k|² = σ²·Σw² in every bin.
	d.noiseLvl = 10*math.Log10(total/float64(len(d.noise))/d.wsum) + 3
}

func clampF(v, lo, hi float64) float64 {
	return min(max(v, lo), hi)
}
