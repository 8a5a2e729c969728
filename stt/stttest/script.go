package stttest

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
)

// Trigger says what releases a Script's utterances.
type Trigger uint8

const (
	// ByPosition releases each utterance when the audio written reaches its End offset
	// (frame count × frame duration), whatever the audio holds.
	ByPosition Trigger = iota
	// BySpeech gives the n-th stretch of sound in the audio the n-th utterance's text.
	// A stretch starts at the first frame louder than Script.Level and ends when the
	// audio has stayed quieter than that for Config.EndSilence; its final result is
	// released then, timed from its first to its last loud frame.
	BySpeech
)

// String names the trigger.
func (t Trigger) String() string {
	switch t {
	case ByPosition:
		return "by-position"
	case BySpeech:
		return "by-speech"
	default:
		return fmt.Sprintf("Trigger(%d)", uint8(t))
	}
}

// DefaultLevel is the loudness, in dBFS, above which BySpeech counts a frame as sound
// when Script.Level is zero.
const DefaultLevel = -40.0

// partialEvery is the audio time between a BySpeech script's partial results.
const partialEvery = 200 * time.Millisecond

// Utterance is one scripted transcript.
type Utterance struct {
	// Text is the final transcript. Empty Text gives a final result with no words
	// (the engine heard something it could not recognise).
	Text string
	// Confidence is copied into the results.
	Confidence float64
	// Start and End place the utterance in the audio, as offsets from the start of the
	// session, for ByPosition: the final result is released once End of audio has been
	// written. BySpeech ignores them and times utterances from the audio.
	Start, End time.Duration
}

// Script is a fake stt.Recognizer that returns scripted transcripts, for testing code
// that uses speech recognition without a speech engine. Every session plays the script
// from its first utterance. A Script implements stt.GrammarRecognizer and its sessions
// implement stt.Finalizer; they accept Grammar and Keywords but do not enforce them.
//
// Results are produced inside WriteFrame (cheaply: no recognition happens), Close and
// Finalize, and handed out by Recv; a Script starts no goroutines. Its sessions follow
// the whole stt.Session contract and pass Run.
//
// Set the fields before the first Start and do not change them afterwards. A Script may
// be used by several sessions at once.
type Script struct {
	// Utterances are released in order. For ByPosition their [Start, End] ranges must
	// be in order and must not overlap.
	Utterances []Utterance
	// Trigger chooses what releases utterances; the zero value is ByPosition.
	Trigger Trigger
	// Partials makes sessions return partial results before each final: the
	// transcript's first word, then the first two, and so on. ByPosition spreads them
	// evenly between Start and End; BySpeech releases one every 200 ms of sound.
	Partials bool
	// Level is the BySpeech loudness threshold in dBFS (frame RMS relative to a
	// full-scale square wave). Zero means DefaultLevel (-40 dBFS).
	Level float64

	mu     sync.Mutex
	starts []stt.Config
}

var _ stt.GrammarRecognizer = (*Script)(nil)

// Starts returns the configurations of the sessions started so far, in order, so a
// test can check what the code under test asked for.
func (s *Script) Starts() []stt.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stt.Config(nil), s.starts...)
}

// CheckGrammar accepts any text that starts with a JSGF header ("#JSGF").
func (s *Script) CheckGrammar(g string) error {
	if !strings.HasPrefix(strings.TrimSpace(g), "#JSGF") {
		return fmt.Errorf("%w: no #JSGF header", stt.ErrGrammar)
	}
	return nil
}

// Start opens a session. It fails with stt.ErrUnsupported for a SampleRate that is not
// positive or a Config with both Grammar and Keywords, with stt.ErrGrammar for a
// grammar CheckGrammar rejects, and with an error for a ByPosition script whose
// utterances are out of order.
func (s *Script) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	if cfg.SampleRate <= 0 {
		return nil, fmt.Errorf("stttest: sample rate %d: %w", cfg.SampleRate, stt.ErrUnsupported)
	}
	if cfg.Grammar != "" && len(cfg.Keywords) > 0 {
		return nil, fmt.Errorf("stttest: grammar and keywords together: %w", stt.ErrUnsupported)
	}
	if cfg.Grammar != "" {
		if err := s.CheckGrammar(cfg.Grammar); err != nil {
			return nil, err
		}
	}
	if s.Trigger == ByPosition {
		var prev time.Duration
		for i, u := range s.Utterances {
			if u.Start < prev || u.End < u.Start {
				return nil, fmt.Errorf("stttest: utterance %d [%v, %v] overlaps or is reversed", i, u.Start, u.End)
			}
			prev = u.End
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.starts = append(s.starts, cfg)
	s.mu.Unlock()
	level := s.Level
	if level == 0 {
		level = DefaultLevel
	}
	return &scriptSession{
		ctx:        ctx,
		script:     s,
		rate:       cfg.SampleRate,
		endSilence: cfg.EndSilenceOrDefault(),
		threshold:  math.Pow(10, level/20) * 32768,
		wake:       make(chan struct{}, 1),
	}, nil
}

// scriptSession plays a Script over one stream of audio.
type scriptSession struct {
	ctx        context.Context
	script     *Script
	rate       int
	endSilence time.Duration
	threshold  float64 // RMS amplitude of sound, in sample units

	wake chan struct{} // signalled (without blocking) whenever results or state change

	mu      sync.Mutex
	pos     int64 // samples written
	next    int   // index of the next utterance to release
	words   int   // words of the next utterance already given as partials
	inSeg   bool  // BySpeech: inside a stretch of sound
	segFrom int64 // BySpeech: first loud sample of the stretch
	segLast int64 // BySpeech: end of the last loud frame
	segLoud int64 // BySpeech: loud samples since the stretch began
	queue   []stt.Result
	closed  bool
}

var _ stt.Finalizer = (*scriptSession)(nil)

func (s *scriptSession) SampleRate() int { return s.rate }

func (s *scriptSession) dur(samples int64) time.Duration {
	return time.Duration(samples * int64(time.Second) / int64(s.rate))
}

func (s *scriptSession) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scriptSession) WriteFrame(f media.Frame) error {
	if f.SampleRate != s.rate {
		return fmt.Errorf("stttest: %d Hz frame into %d Hz session: %w", f.SampleRate, s.rate, media.ErrRateMismatch)
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("stttest: write: %w", media.ErrClosed)
	}
	n := len(s.queue)
	start := s.pos
	s.pos += int64(len(f.Samples))
	if s.script.Trigger == BySpeech {
		s.speech(start, f.Samples)
	} else {
		s.position()
	}
	if len(s.queue) > n {
		s.signal()
	}
	return nil
}

// position releases the ByPosition results due at s.pos.
func (s *scriptSession) position() {
	now := s.dur(s.pos)
	for s.next < len(s.script.Utterances) {
		u := s.script.Utterances[s.next]
		if now >= u.End {
			s.final(u.Start, u.End)
			continue
		}
		if s.script.Partials && now > u.Start {
			n := len(strings.Fields(u.Text))
			// Word k of n is due at Start + (End-Start)·k/n.
			due := int(int64(n) * int64(now-u.Start) / int64(u.End-u.Start))
			for s.words < min(due, n-1) {
				s.partial(u.Start, now)
			}
		}
		return
	}
}

// speech runs the BySpeech segmentation over one frame that starts at sample start.
func (s *scriptSession) speech(start int64, samples []int16) {
	var sum float64
	for _, x := range samples {
		sum += float64(x) * float64(x)
	}
	loud := len(samples) > 0 && math.Sqrt(sum/float64(len(samples))) >= s.threshold
	if loud {
		if !s.inSeg {
			s.inSeg, s.segFrom, s.segLoud = true, start, 0
		}
		s.segLast = s.pos
		s.segLoud += int64(len(samples))
		if s.script.Partials && s.next < len(s.script.Utterances) {
			n := len(strings.Fields(s.script.Utterances[s.next].Text))
			due := int(s.dur(s.segLoud) / partialEvery)
			for s.words < min(due, n-1) {
				s.partial(s.dur(s.segFrom), s.dur(s.pos))
			}
		}
		return
	}
	if s.inSeg && s.dur(s.pos-s.segLast) >= s.endSilence {
		s.endSegment()
	}
}

func (s *scriptSession) endSegment() {
	s.inSeg = false
	if s.next < len(s.script.Utterances) {
		s.final(s.dur(s.segFrom), s.dur(s.segLast))
	}
}

// partial queues the next word of the current utterance as a partial result.
func (s *scriptSession) partial(start, end time.Duration) {
	u := s.script.Utterances[s.next]
	s.words++
	s.queue = append(s.queue, stt.Result{
		Text:       strings.Join(strings.Fields(u.Text)[:s.words], " "),
		Confidence: u.Confidence,
		Start:      start,
		End:        end,
	})
}

// final queues the current utterance's final result and moves to the next.
func (s *scriptSession) final(start, end time.Duration) {
	u := s.script.Utterances[s.next]
	s.next++
	s.words = 0
	s.queue = append(s.queue, stt.Result{
		Text:       strings.Join(strings.Fields(u.Text), " "),
		Confidence: u.Confidence,
		Start:      start,
		End:        end,
		Final:      true,
	})
}

// finish ends the utterance in progress, if any, at the current position.
func (s *scriptSession) finish() {
	if s.script.Trigger == BySpeech {
		if s.inSeg {
			s.endSegment()
		}
		return
	}
	if s.next < len(s.script.Utterances) {
		if u := s.script.Utterances[s.next]; s.dur(s.pos) > u.Start {
			s.final(u.Start, s.dur(s.pos))
		}
	}
}

// Finalize releases the utterance in progress now: for BySpeech the current stretch of
// sound, for ByPosition the next utterance if the audio has passed its Start (its End
// becomes the current position).
func (s *scriptSession) Finalize() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("stttest: finalize: %w", media.ErrClosed)
	}
	s.finish()
	s.signal()
	return nil
}

func (s *scriptSession) Recv() (stt.Result, error) {
	for {
		if err := s.ctx.Err(); err != nil {
			return stt.Result{}, err
		}
		s.mu.Lock()
		if len(s.queue) > 0 {
			r := s.queue[0]
			s.queue[0] = stt.Result{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return r, nil
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return stt.Result{}, io.EOF
		}
		select {
		case <-s.ctx.Done():
		case <-s.wake:
		}
	}
}

func (s *scriptSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.ctx.Err() == nil {
		s.finish()
	}
	s.closed = true
	s.signal()
	return nil
}
