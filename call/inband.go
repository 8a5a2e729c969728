package call

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
	"github.com/switchboard-go/switchboard/media/rtpsession"
)

// DTMF beyond plain RFC 4733: in-band detection in the caller's audio, one digit per
// key press whatever the number of ways the peer reports it, and sending as SIP INFO.

// DTMFMode says how SendDTMF sends digits.
type DTMFMode uint8

// DTMF sending modes.
const (
	// DTMFAuto sends RFC 4733 events when telephone-event was negotiated, SIP INFO
	// otherwise.
	DTMFAuto DTMFMode = iota
	// DTMFRFC4733 sends RFC 4733 telephone events in the RTP stream (fails with
	// rtpsession.ErrNoDTMF when the peer did not negotiate them).
	DTMFRFC4733
	// DTMFInfo sends one SIP INFO per digit (application/dtmf-relay, Signal and
	// Duration), each after the peer acknowledged the one before.
	DTMFInfo
)

func (m DTMFMode) String() string {
	switch m {
	case DTMFRFC4733:
		return "rfc4733"
	case DTMFInfo:
		return "info"
	}
	return "auto"
}

// dedupWindow is how far apart, beyond their overlap, two reports of a key from
// different sources may lie and still be one press. It covers the error of the in-band
// tone's estimated start (a few tens of milliseconds), a peer that sends its INFO at
// the start or at the end of the press, and a peer that holds its audio back while it
// sends RFC 4733 events, as rtpsession does, so that the tone follows the event's end
// packets and the gap between digits (about 120 ms after the event on our own sender).
const dedupWindow = 150 * time.Millisecond

// dedupKeep is how long a delivered digit is remembered for matching.
const dedupKeep = 2 * time.Second

// digitDedup makes a key press that a peer reports several ways (RFC 4733 events and
// in-band tones in the audio, or events and SIP INFO) one digit: a digit from one
// source is dropped when a digit of the same key from another source was delivered
// whose press overlaps it, give or take dedupWindow. Matching is one to one, so a key
// pressed twice and reported both ways is two digits. Digits from one source are
// never merged: that source's own decoder already delivers each press once.
type digitDedup struct {
	mu     sync.Mutex
	recent []digitRecord
}

type digitRecord struct {
	digit      rune
	source     string
	start, end time.Time
	matched    []string // other sources already merged into this press
}

// admit reports whether d, whose key was down from start to end, is a new press (and
// remembers it) or another report of one already delivered.
func (dd *digitDedup) admit(digit rune, source string, start, end time.Time) bool {
	dd.mu.Lock()
	defer dd.mu.Unlock()
	keep := dd.recent[:0]
	for _, r := range dd.recent {
		if end.Sub(r.end) < dedupKeep {
			keep = append(keep, r)
		}
	}
	clear(dd.recent[len(keep):])
	dd.recent = keep
	for i := range dd.recent {
		r := &dd.recent[i]
		if r.digit != digit || r.source == source || containsString(r.matched, source) {
			continue
		}
		if start.Before(r.end.Add(dedupWindow)) && r.start.Before(end.Add(dedupWindow)) {
			r.matched = append(r.matched, source)
			return false
		}
	}
	dd.recent = append(dd.recent, digitRecord{digit: digit, source: source, start: start, end: end})
	return true
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// receiveDigit is where every received digit enters the call, whatever its source: a
// key press reported by more than one source is delivered once (see digitDedup).
// start is when the key went down, as well as the source can tell.
func (c *Call) receiveDigit(d DTMF, start time.Time) {
	if !c.verbs.dedup.admit(d.Digit, d.Source, start, start.Add(d.Duration)) {
		c.log.Debug("DTMF reported twice: dropped", "digit", string(d.Digit), "source", d.Source)
		return
	}
	c.digit(d)
}

// mediaStarted runs once the call's RTP session exists (answer or early media).
func (c *Call) mediaStarted() {
	if c.cfg.InbandDTMF {
		if err := c.startInband(); err != nil {
			c.log.Warn("in-band DTMF detection not started", "err", err)
		}
	}
}

// startInband runs a DTMF detector on the caller's audio for the rest of the call.
func (c *Call) startInband() error {
	s, err := c.Media()
	if err != nil {
		return err
	}
	c.verbs.mu.Lock()
	started := c.verbs.inband
	c.verbs.inband = true
	c.verbs.mu.Unlock()
	if started {
		return nil
	}
	w := &inbandWriter{c: c, s: s}
	det, err := dtmf.NewDetector(dtmf.DetectorConfig{SampleRate: s.SampleRate(), OnDigit: w.onDigit})
	if err != nil {
		return fmt.Errorf("call: in-band DTMF: %w", err)
	}
	w.det = det
	_, err = c.Listen(w) // until the media ends
	return err
}

// inbandWriter feeds the caller's audio to an in-band DTMF detector and turns its
// detections into digits. It runs on the call's audio goroutine and allocates nothing
// per frame.
type inbandWriter struct {
	c        *Call
	s        *rtpsession.Session
	det      *dtmf.Detector
	consumed time.Duration // audio given to the detector, up to the end of the current frame
	at       time.Time     // when the current frame was handed over
}

func (w *inbandWriter) SampleRate() int { return w.det.SampleRate() }
func (w *inbandWriter) String() string  { return "inband-dtmf" }

func (w *inbandWriter) WriteFrame(f media.Frame) error {
	w.consumed += f.Duration()
	w.at = time.Now()
	return w.det.WriteFrame(f)
}

// onDigit delivers a detected key when its tone ends, like RFC 4733 digits, with the
// tone's length. The tone's start is placed in wall time from how long ago, in audio,
// it started before the current frame's end, less what the jitter buffer held back,
// so that it compares with the arrival times of RFC 4733 events for de-duplication.
func (w *inbandWriter) onDigit(d dtmf.Detection) {
	if d.Kind != dtmf.DigitEnd {
		return
	}
	start := w.at.Add(-(w.consumed - d.At)).Add(-w.s.Stats().JitterBufferDepth)
	w.c.receiveDigit(DTMF{base: base{At: start}, Digit: d.Digit, Duration: d.Duration, Source: "inband"}, start)
}

// ---- sending ----

// dtmfPause is the pause that 'w' makes in SendDTMF's digits ('W' twice as long).
const dtmfPause = 500 * time.Millisecond

// sendDTMF sends digits in the Config's mode, honouring 'w' (0.5 s) and 'W' (1 s)
// pauses between them. Concurrent calls take turns, in order, rather than fail.
func (c *Call) sendDTMF(ctx context.Context, s *rtpsession.Session, digits string, duration time.Duration) error {
	turn := c.verbs.dtmfTurn()
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-turn }()
	mode := c.cfg.DTMFMode
	if mode == DTMFAuto {
		mode = DTMFRFC4733
		if c.Negotiated().DTMFPayloadType < 0 {
			mode = DTMFInfo
		}
	}
	for len(digits) > 0 {
		i := strings.IndexAny(digits, "wW")
		run := digits
		if i >= 0 {
			run = digits[:i]
		}
		if run != "" {
			var err error
			if mode == DTMFInfo {
				err = c.sendInfoDigits(ctx, run, duration)
			} else {
				err = s.SendDTMF(ctx, run, duration, 0)
			}
			if err != nil {
				return fmt.Errorf("call: send DTMF: %w", err)
			}
		}
		if i < 0 {
			break
		}
		pause := dtmfPause
		if digits[i] == 'W' {
			pause *= 2
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		digits = digits[i+1:]
	}
	return nil
}

// sendInfoDigits sends one INFO per digit, each after the previous one's response.
func (c *Call) sendInfoDigits(ctx context.Context, digits string, duration time.Duration) error {
	for _, r := range digits {
		if _, ok := dtmf.DigitCode(r); !ok {
			return fmt.Errorf("%w: %q is not a DTMF key", dtmf.ErrInvalidDigit, r)
		}
	}
	for _, r := range digits {
		body := []byte(fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", r, duration.Milliseconds()))
		var err error
		switch {
		case c.server != nil:
			_, err = c.server.Info(ctx, "application/dtmf-relay", body)
		case c.client != nil:
			_, err = c.client.Info(ctx, "application/dtmf-relay", body)
		default:
			err = errors.New("no dialog")
		}
		if err != nil {
			return fmt.Errorf("INFO %c: %w", r, err)
		}
	}
	return nil
}
