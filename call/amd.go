package call

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

// AMDOptions turn on answering machine detection for an outbound call: the detector
// hears the callee from the moment of answer, and its results arrive as the events
// MachineDetectionEnded and MachineGreetingEnded and through Call.AMD.
type AMDOptions struct {
	// Config tunes the detector and chooses its mode (amd.Detect: verdict only;
	// amd.DetectBeep / amd.GreetingEnd / amd.DetectWords: verdict, then the end of a
	// machine's greeting). The zero value is amd.Detect with the default timings.
	Config amd.Config
	// HangupOnMachine hangs up (Q.850 cause 16) as soon as the verdict is Machine.
	HangupOnMachine bool
}

// MachineDetectionEnded: the answering machine detection verdict
// (call.machine.detection.ended).
type MachineDetectionEnded struct {
	base
	Result amd.Detection
}

// MachineGreetingEnded: a machine's greeting ended — its beep, the end of its speech, or
// no beep within the timeout (call.machine.greeting.ended). Leave a message now.
type MachineGreetingEnded struct {
	base
	Result amd.Greeting
}

// Name is the reference platforms' event name.
func (MachineDetectionEnded) Name() string { return "call.machine.detection.ended" }

// Name is the reference platforms' event name.
func (MachineGreetingEnded) Name() string { return "call.machine.greeting.ended" }

// AMD returns the detection results so far: the verdict once decided (ok), and the end
// of the greeting once known (greetingOK).
func (c *Call) AMD() (det amd.Detection, ok bool, greeting amd.Greeting, greetingOK bool) {
	c.amdMu.Lock()
	defer c.amdMu.Unlock()
	return c.amdDet, c.amdDecided, c.amdGreet, c.amdGreeted
}

var errAMDDone = errors.New("call: answering machine detection finished")

// amdStage feeds the callee's audio to the detector on the call's audio goroutine and
// turns its results into events; it leaves the audio fan-out when the detector is done.
type amdStage struct {
	c    *Call
	d    *amd.Detector
	opts AMDOptions
}

func (s *amdStage) SampleRate() int { return s.d.SampleRate() }

func (s *amdStage) WriteFrame(f media.Frame) error {
	if err := s.d.WriteFrame(f); err != nil {
		return err
	}
	for {
		ev, ok := s.d.Next()
		if !ok {
			break
		}
		switch ev.Type {
		case amd.EventDetection:
			s.c.amdMu.Lock()
			s.c.amdDet, s.c.amdDecided = ev.Detection, true
			s.c.amdMu.Unlock()
			s.c.events.push(MachineDetectionEnded{base: now(), Result: ev.Detection})
			if ev.Detection.Verdict == amd.Machine && s.opts.HangupOnMachine {
				s.c.hangupAsync(&HangupCause{Name: "machine_detected", Q850: sip.CauseNormalClearing, By: Local})
			}
		case amd.EventGreeting:
			s.c.amdMu.Lock()
			s.c.amdGreet, s.c.amdGreeted = ev.Greeting, true
			s.c.amdMu.Unlock()
			s.c.events.push(MachineGreetingEnded{base: now(), Result: ev.Greeting})
		}
	}
	if s.d.Done() {
		return errAMDDone // removes the stage from the fan-out
	}
	return nil
}

// startAMD attaches the detector to the callee's audio; called right after answer, so
// the analysis starts at the moment of answer.
func (c *Call) startAMD(opts AMDOptions) error {
	s, err := c.Media()
	if err != nil {
		return err
	}
	rate := s.SampleRate()
	if rate != 8000 && rate != 16000 {
		rate = 8000 // the detector's rates; Listen resamples
	}
	d, err := amd.New(rate, opts.Config)
	if err != nil {
		return err
	}
	_, err = c.Listen(&amdStage{c: c, d: d, opts: opts})
	return err
}

// hangupAsync hangs up from a goroutine of the call's own, for code running where a
// BYE must not be awaited (the audio pump, the clock).
func (c *Call) hangupAsync(cause *HangupCause) {
	c.async.Add(1)
	go func() {
		defer c.async.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.hangup(ctx, cause)
	}()
}
