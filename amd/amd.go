package amd

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is returned by [New] and [NewBeepDetector] for a sample rate or setting
// they cannot work with.
var ErrConfig = errors.New("amd: invalid configuration")

// Verdict is the outcome of answering machine detection.
type Verdict uint8

// Verdicts.
const (
	NotSure Verdict = iota // no decision within the analysis time
	Human
	Machine
	Silence // nothing was said
)

func (v Verdict) String() string {
	switch v {
	case Human:
		return "human"
	case Machine:
		return "machine"
	case Silence:
		return "silence"
	}
	return "not_sure"
}

// Mode says what the detector reports after its verdict.
type Mode uint8

// Modes. The names follow the hosted platforms' answering_machine_detection values.
const (
	// Detect reports the verdict only.
	Detect Mode = iota
	// DetectBeep reports the verdict and, after a Machine verdict, the end of the beep
	// (GreetingBeep), or GreetingNoBeep when none ended within BeepTimeout.
	DetectBeep
	// GreetingEnd reports the verdict and, after a Machine verdict, the end of the
	// greeting: a beep (GreetingBeep) or GreetingSilence of silence after the machine's
	// speech (GreetingEnded), whichever comes first; GreetingNoBeep after BeepTimeout.
	GreetingEnd
	// DetectWords is GreetingEnd with the shorter AfterGreetingSilence: it reports the
	// end of the greeting's words as soon as the machine stops talking, without waiting
	// for a beep that may or may not follow. A beep heard first ends the greeting too.
	DetectWords
)

func (m Mode) String() string {
	switch m {
	case Detect:
		return "detect"
	case DetectBeep:
		return "detect_beep"
	case GreetingEnd:
		return "greeting_end"
	case DetectWords:
		return "detect_words"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Rules selects the decision logic.
type Rules uint8

// Rule sets.
const (
	// Cadence, the default, decides on the shape of the first utterance: speech found
	// against an adaptive noise floor (tones excluded), its length and density, the
	// pause after it, and a beep heard before any verdict. See the package doc.
	Cadence Rules = iota
	// Classic is the threshold rule set of the traditional PBX detectors: frames are
	// silent when their mean absolute amplitude is below SilenceThreshold, words are
	// counted, and the first limit reached decides. It is kept for comparison and for
	// users who tuned those timings.
	Classic
)

func (r Rules) String() string {
	if r == Classic {
		return "classic"
	}
	return "cadence"
}

// Config holds the detection timings. The zero value of each field selects the classic
// default given in its comment; durations are audio time from the first frame written.
type Config struct {
	// Mode says what is reported after the verdict (Detect).
	Mode Mode
	// Rules selects the decision logic (Cadence).
	Rules Rules

	// InitialSilence: silence before any speech longer than this means Silence (2.5 s).
	InitialSilence time.Duration
	// Greeting: speech longer than this means Machine (1.5 s). Classic counts voiced
	// time; Cadence measures the first utterance from its first to its last word and
	// allows it GreetingSlack more before calling it a machine's.
	Greeting time.Duration
	// AfterGreetingSilence: silence after a short greeting this long means Human
	// (800 ms).
	AfterGreetingSilence time.Duration
	// TotalAnalysis: give up with NotSure after this long (5 s).
	TotalAnalysis time.Duration
	// MinWord is the shortest speech burst counted as a word (100 ms).
	MinWord time.Duration
	// BetweenWords is the silence that separates words (50 ms).
	BetweenWords time.Duration
	// MaxWords: more words than this means Machine (3).
	MaxWords int
	// MaxWordLength: one word (voiced run) longer than this means Machine (5 s).
	MaxWordLength time.Duration
	// SilenceThreshold is the mean absolute sample value (of 32768) below which the
	// Classic rules take a frame as silence (256). Cadence tracks the noise floor
	// instead and ignores it.
	SilenceThreshold int

	// GreetingSlack is how much longer than Greeting a Cadence utterance may run
	// before it is a machine's (700 ms): people answer with a few words and stop,
	// machines keep going, so the extra wait costs machines little and saves people
	// who say a little more than "hello".
	GreetingSlack time.Duration
	// GreetingSilence is the silence after a machine's speech that ends the greeting
	// in GreetingEnd mode (1.5 s); it is long enough for the usual pause before a
	// beep.
	GreetingSilence time.Duration
	// BeepTimeout is how long after the Machine verdict the beep is waited for
	// (30 s).
	BeepTimeout time.Duration
	// Beep tunes the beep detector.
	Beep BeepConfig
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def(&c.InitialSilence, 2500*time.Millisecond)
	def(&c.Greeting, 1500*time.Millisecond)
	def(&c.AfterGreetingSilence, 800*time.Millisecond)
	def(&c.TotalAnalysis, 5*time.Second)
	def(&c.MinWord, 100*time.Millisecond)
	def(&c.BetweenWords, 50*time.Millisecond)
	def(&c.MaxWordLength, 5*time.Second)
	def(&c.GreetingSlack, 500*time.Millisecond)
	def(&c.GreetingSilence, 1500*time.Millisecond)
	def(&c.BeepTimeout, 30*time.Second)
	if c.MaxWords == 0 {
		c.MaxWords = 3
	}
	if c.SilenceThreshold == 0 {
		c.SilenceThreshold = 256
	}
	c.Beep = c.Beep.WithDefaults()
	return c
}

func (c Config) validate() error {
	for _, d := range []time.Duration{c.InitialSilence, c.Greeting, c.AfterGreetingSilence,
		c.TotalAnalysis, c.MinWord, c.BetweenWords, c.MaxWordLength, c.GreetingSlack,
		c.GreetingSilence, c.BeepTimeout} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", ErrConfig, d)
		}
	}
	if c.MaxWords < 0 || c.SilenceThreshold < 0 {
		return fmt.Errorf("%w: MaxWords %d, SilenceThreshold %d", ErrConfig, c.MaxWords, c.SilenceThreshold)
	}
	if c.Mode > DetectWords || c.Rules > Classic {
		return fmt.Errorf("%w: mode %v, rules %d", ErrConfig, c.Mode, c.Rules)
	}
	return c.Beep.validate()
}

// BeepConfig tunes the beep detector. The zero value of each field selects the default
// in its comment.
type BeepConfig struct {
	// MinFrequency and MaxFrequency bound the beep's frequency (400 and 2000 Hz).
	MinFrequency, MaxFrequency float64
	// MinDuration is the shortest tone taken as a beep (100 ms).
	MinDuration time.Duration
	// MinLevel is the quietest beep heard, in dBFS of a sine (-50).
	MinLevel float64
	// Tonality is the least share of the 250-3600 Hz energy the tone must hold (0.6).
	// A sine alone scores about 0.99; noise 10 dB below it about 0.9; vowels, whose
	// energy is spread over several harmonics, rarely more than 0.5 for long.
	Tonality float64
	// Stability is how far the frequency may drift while the tone lasts, as a fraction
	// of it (0.01). Speech pitch moves more than that within 100 ms.
	Stability float64
}

// WithDefaults returns c with every zero field set to its default.
func (c BeepConfig) WithDefaults() BeepConfig {
	if c.MinFrequency == 0 {
		c.MinFrequency = 400
	}
	if c.MaxFrequency == 0 {
		c.MaxFrequency = 2000
	}
	def(&c.MinDuration, 100*time.Millisecond)
	if c.MinLevel == 0 {
		c.MinLevel = -50
	}
	if c.Tonality == 0 {
		c.Tonality = 0.6
	}
	if c.Stability == 0 {
		c.Stability = 0.01
	}
	return c
}

func (c BeepConfig) validate() error {
	if c.MinFrequency < 100 || c.MaxFrequency <= c.MinFrequency || c.MaxFrequency > 3500 {
		return fmt.Errorf("%w: beep frequencies %g..%g Hz", ErrConfig, c.MinFrequency, c.MaxFrequency)
	}
	if c.MinDuration < 40*time.Millisecond || c.Tonality <= 0 || c.Tonality >= 1 || c.Stability <= 0 {
		return fmt.Errorf("%w: beep duration %v, tonality %g, stability %g", ErrConfig, c.MinDuration, c.Tonality, c.Stability)
	}
	return nil
}

func def(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}
