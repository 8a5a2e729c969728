// Package amd tells whether a person or an answering machine picked up an outbound call,
// and finds the beep after a machine's greeting, from the audio frames that follow the
// answer.
package amd

import "time"

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

// Config holds the detection timings. The zero value of each field selects the classic
// default given in its comment.
type Config struct {
	// InitialSilence: silence before any speech longer than this means Silence (2.5 s).
	InitialSilence time.Duration
	// Greeting: speech longer than this means Machine (1.5 s).
	Greeting time.Duration
	// AfterGreetingSilence: silence after a short greeting this long means Human (800 ms).
	AfterGreetingSilence time.Duration
	// TotalAnalysis: give up with NotSure after this long (5 s).
	TotalAnalysis time.Duration
	// MinWord is the shortest speech burst counted as a word (100 ms).
	MinWord time.Duration
	// BetweenWords is the silence that separates words (50 ms).
	BetweenWords time.Duration
	// MaxWords: more words than this means Machine (3).
	MaxWords int
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.InitialSilence, 2500*time.Millisecond)
	def(&c.Greeting, 1500*time.Millisecond)
	def(&c.AfterGreetingSilence, 800*time.Millisecond)
	def(&c.TotalAnalysis, 5*time.Second)
	def(&c.MinWord, 100*time.Millisecond)
	def(&c.BetweenWords, 50*time.Millisecond)
	if c.MaxWords == 0 {
		c.MaxWords = 3
	}
	return c
}
