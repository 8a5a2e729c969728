package amd

import (
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Reason names the rule that produced a verdict.
type Reason uint8

// Reasons.
const (
	ReasonNone                 Reason = iota
	ReasonInitialSilence              // no speech within InitialSilence
	ReasonAfterGreetingSilence        // a pause of AfterGreetingSilence after a short greeting
	ReasonLongGreeting                // the greeting ran longer than a person's
	ReasonMaxWords                    // more than MaxWords words (Classic)
	ReasonMaxWordLength               // one word longer than MaxWordLength (Classic)
	ReasonBeep                        // a beep before any other verdict (Cadence)
	ReasonTooLong                     // TotalAnalysis passed without a decision
	ReasonStreamEnded                 // Finish was called before a decision
)

var reasonNames = [...]string{"none", "initial-silence", "after-greeting-silence", "long-greeting",
	"max-words", "max-word-length", "beep", "too-long", "stream-ended"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Evidence is what the verdict was based on, measured up to the decision.
type Evidence struct {
	// InitialSilence is the time before the first word (all of it if there was none).
	InitialSilence time.Duration
	// Greeting is the time from the start of the first word to the end of the last.
	Greeting time.Duration
	// Speech is the total speech time.
	Speech time.Duration
	// Words counts bursts of speech of at least MinWord, apart by BetweenWords.
	Words int
	// LongestWord is the longest such burst.
	LongestWord time.Duration
	// AfterGreetingSilence is the silence between the last word and the decision.
	AfterGreetingSilence time.Duration
	// Beep is set when a beep had been heard by the time of the decision.
	Beep bool
}

// Detection is the outcome of human or machine analysis.
type Detection struct {
	Verdict Verdict
	// At is the audio time of the decision, from the first frame written.
	At       time.Duration
	Reason   Reason
	Evidence Evidence
}

func (d Detection) String() string {
	return fmt.Sprintf("%v at %v (%v)", d.Verdict, d.At, d.Reason)
}

// GreetingResult says how a machine's greeting ended.
type GreetingResult uint8

// Greeting results.
const (
	// GreetingBeep: a beep ended; start talking (recording) now.
	GreetingBeep GreetingResult = iota + 1
	// GreetingEnded: the machine stopped talking and no beep came (GreetingEnd and
	// DetectWords modes).
	GreetingEnded
	// GreetingNoBeep: BeepTimeout passed after the Machine verdict with no beep and no
	// end of greeting.
	GreetingNoBeep
)

func (g GreetingResult) String() string {
	switch g {
	case GreetingBeep:
		return "beep_detected"
	case GreetingEnded:
		return "ended"
	case GreetingNoBeep:
		return "no_beep_detected"
	}
	return fmt.Sprintf("GreetingResult(%d)", uint8(g))
}

// Greeting is the end of a machine's greeting.
type Greeting struct {
	Result GreetingResult
	// At is when the greeting ended in the audio: the end of the beep, or the end of
	// the machine's last word. For GreetingNoBeep it is the time the wait ran out.
	At time.Duration
	// Detected is the audio time at which the detector knew.
	Detected time.Duration
	// Beep describes the beep for GreetingBeep.
	Beep Beep
}

func (g Greeting) String() string {
	return fmt.Sprintf("%v at %v (detected %v)", g.Result, g.At, g.Detected)
}

// EventType says what an Event carries.
type EventType uint8

// Event types.
const (
	// EventDetection carries the verdict (call.machine.detection.ended).
	EventDetection EventType = iota + 1
	// EventGreeting carries the end of a machine's greeting
	// (call.machine.greeting.ended).
	EventGreeting
)

// Event is something the Detector has to report; see [Detector.Next].
type Event struct {
	Type      EventType
	Detection Detection // for EventDetection
	Greeting  Greeting  // for EventGreeting
}

// Detector tells a person from an answering machine in the audio that follows the
// answer, and in the beep modes finds the end of the machine's greeting. Write it every
// frame received from the moment of answer; after each write, [Detector.Next] returns
// the events the frame produced. Time is audio time, counted in samples written: it
// does not depend on the wall clock, and a run is reproducible sample for sample.
//
// A Detector is not safe for concurrent use. It allocates nothing per frame.
type Detector struct {
	cfg  Config
	rate int
	a    analyser
	beep beepTracker
	l    limits
	cl   classic
	cd   cadence // also follows speech for the greeting's end, whatever the rules

	det      Detection
	decided  bool
	greet    Greeting
	greeted  bool
	lastBeep Beep
	beepSeen bool
	lastWord int64 // end of the last speech hop, for greeting end
	heard    bool  // speech since the verdict or before it

	queue [2]Event
	qn    int
}

var _ media.FrameWriter = (*Detector)(nil)

// New returns a Detector for frames at sampleRate (8000 or 16000 Hz). Zero Config
// fields take their defaults (see [Config.WithDefaults]).
func New(sampleRate int, cfg Config) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, rate: sampleRate, a: newAnalyser(sampleRate, cfg.Beep)}
	d.beep = newBeepTracker(sampleRate, cfg.Beep, d.a.n)
	s := func(t time.Duration) int64 { return int64(media.SamplesPer(sampleRate, t)) }
	d.l = limits{
		initialSilence: s(cfg.InitialSilence), greeting: s(cfg.Greeting),
		afterGreeting: s(cfg.AfterGreetingSilence), total: s(cfg.TotalAnalysis),
		minWord: s(cfg.MinWord), between: s(cfg.BetweenWords), maxWord: s(cfg.MaxWordLength),
		slack: s(cfg.GreetingSlack), greetingSilence: s(cfg.GreetingSilence),
		beepTimeout: s(cfg.BeepTimeout), shortGreeting: s(800 * time.Millisecond), maxWords: cfg.MaxWords,
		threshold: float64(cfg.SilenceThreshold),
	}
	d.cl = classic{l: d.l, t: newTalk(d.l.minWord, d.l.between)}
	d.cd = cadence{l: d.l, t: newTalk(d.l.minWord, d.l.between), act: newActivity()}
	return d, nil
}

// Config returns the configuration in use, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// SampleRate is the rate the Detector was made for.
func (d *Detector) SampleRate() int { return d.rate }

// String names the stage.
func (d *Detector) String() string { return "amd(" + d.cfg.Rules.String() + ")" }

// Offset is the audio time written so far.
func (d *Detector) Offset() time.Duration { return d.dur(d.a.pos) }

// Reset forgets the stream, so the Detector can serve another call.
func (d *Detector) Reset() {
	d.a.reset()
	d.beep.reset()
	d.cl.reset()
	d.cd.reset()
	d.det, d.decided, d.greet, d.greeted = Detection{}, false, Greeting{}, false
	d.lastBeep, d.beepSeen, d.lastWord, d.heard = Beep{}, false, 0, false
	d.qn = 0
}

// Detection returns the verdict, once made.
func (d *Detector) Detection() (Detection, bool) { return d.det, d.decided }

// Greeting returns the end of the machine's greeting, once known (beep modes only).
func (d *Detector) Greeting() (Greeting, bool) { return d.greet, d.greeted }

// Done reports whether the Detector has nothing more to report. Frames written after
// that are ignored, so it can stay in a chain at no cost.
func (d *Detector) Done() bool {
	if !d.decided {
		return false
	}
	return d.greeted || d.cfg.Mode == Detect || d.det.Verdict != Machine
}

// Next returns the next event not yet returned, in order: the detection first, then,
// in the beep modes after a Machine verdict, the greeting's end. A frame produces at
// most two events.
func (d *Detector) Next() (Event, bool) {
	if d.qn == 0 {
		return Event{}, false
	}
	e := d.queue[0]
	d.queue[0] = d.queue[1]
	d.qn--
	return e, true
}

// WriteFrame analyses one frame. Frames at another rate fail with an error wrapping
// media.ErrRateMismatch. Frames of any length are accepted.
func (d *Detector) WriteFrame(f media.Frame) error {
	if f.SampleRate != d.rate {
		return fmt.Errorf("amd: frame at %d Hz, detector at %d Hz: %w", f.SampleRate, d.rate, media.ErrRateMismatch)
	}
	s := f.Samples
	for len(s) > 0 && !d.Done() {
		n, done := d.a.feed(s)
		s = s[n:]
		if done {
			d.onHop(&d.a.h)
		}
	}
	return nil
}

// Finish ends the stream (the call ended, or the caller stops listening). Without a
// verdict yet, it decides NotSure (Silence if nothing at all was heard); in a beep mode
// after a Machine verdict without a greeting end, it reports GreetingNoBeep. The events
// are returned by Next as usual.
func (d *Detector) Finish() {
	now := d.a.pos
	if !d.decided {
		v := NotSure
		t := &d.cd.t
		if d.cfg.Rules == Classic {
			t = &d.cl.t
		}
		if t.onset < 0 && !d.beepSeen {
			v = Silence
		}
		d.decide(v, ReasonStreamEnded, now)
	}
	if !d.Done() {
		d.endGreeting(Greeting{Result: GreetingNoBeep, At: d.dur(now), Detected: d.dur(now)})
	}
}

func (d *Detector) onHop(h *hop) {
	n := int64(d.a.hopLen)
	if d.beep.step(h, &d.a) {
		d.beep.beep.Detected = d.dur(h.end)
		d.lastBeep, d.beepSeen = d.beep.beep, true
	}
	d.cd.observe(h, n)
	if !d.decided {
		var (
			v  Verdict
			r  Reason
			ok bool
		)
		if d.cfg.Rules == Classic {
			v, r, ok = d.cl.step(h, n)
		} else {
			v, r, ok = d.cd.step(h, d.beepSeen, d.beep.active())
		}
		if ok {
			d.decide(v, r, h.end)
		}
	}
	// Greeting end: the machine's speech as the Cadence activity sees it.
	speech := d.cd.t.inWord
	if speech {
		d.lastWord, d.heard = h.end, true
	}
	if !d.decided || d.Done() {
		return
	}
	switch {
	case d.beepSeen:
		d.endGreeting(Greeting{Result: GreetingBeep, At: d.lastBeep.End, Detected: d.dur(h.end), Beep: d.lastBeep})
	case d.cfg.Mode == GreetingEnd || d.cfg.Mode == DetectWords:
		wait := d.l.greetingSilence
		if d.cfg.Mode == DetectWords {
			wait = d.l.afterGreeting
		}
		if d.heard && !speech && !d.beep.active() && h.end-d.lastWord >= wait {
			// The last speech hop's window reached past the speech by up to a
			// window; its centre is the better estimate.
			end := max(0, d.lastWord-int64(d.a.n/2))
			d.endGreeting(Greeting{Result: GreetingEnded, At: d.dur(end), Detected: d.dur(h.end)})
			return
		}
		fallthrough
	default:
		if h.end-d.detAt() >= d.l.beepTimeout {
			d.endGreeting(Greeting{Result: GreetingNoBeep, At: d.dur(h.end), Detected: d.dur(h.end)})
		}
	}
}

func (d *Detector) detAt() int64 { return int64(d.det.At) * int64(d.rate) / int64(time.Second) }

func (d *Detector) decide(v Verdict, r Reason, now int64) {
	t := &d.cd.t
	if d.cfg.Rules == Classic {
		t = &d.cl.t
	}
	ev := Evidence{
		Speech:      d.dur(t.voiced),
		Words:       t.words,
		LongestWord: d.dur(t.longest),
		Beep:        d.beepSeen,
	}
	if t.onset < 0 {
		ev.InitialSilence = d.dur(now)
	} else {
		ev.InitialSilence = d.dur(t.onset)
		ev.Greeting = d.dur(t.span())
		ev.AfterGreetingSilence = d.dur(t.silence(now))
	}
	d.det = Detection{Verdict: v, At: d.dur(now), Reason: r, Evidence: ev}
	d.decided = true
	d.push(Event{Type: EventDetection, Detection: d.det})
}

func (d *Detector) endGreeting(g Greeting) {
	d.greet, d.greeted = g, true
	d.push(Event{Type: EventGreeting, Greeting: g})
}

func (d *Detector) push(e Event) {
	if d.qn == len(d.queue) {
		// The caller did not drain: keep the newest, the older is still readable
		// through Detection.
		d.queue[0] = d.queue[1]
		d.qn--
	}
	d.queue[d.qn] = e
	d.qn++
}

func (d *Detector) dur(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(d.rate))
}
