package switchboard_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
)

// verbsCall is one loopback call between two Switchboards: callee is the answered
// leg at A (where the tests run verbs, as an application would), caller the leg at B
// that dialed it. events holds every event of the callee, in order.
type verbsCall struct {
	callee, caller *call.Call
	a, b           *switchboard.Switchboard
	events         *verbsEvents
}

// verbsDial starts Switchboards A (cfgA, whose handler answers and holds the call) and
// B (cfgB), has B dial A and returns the call once both legs are up. PCMU unless the
// configs name codecs.
func verbsDial(t *testing.T, cfgA, cfgB switchboard.Config) *verbsCall {
	t.Helper()
	ev := &verbsEvents{}
	calls := make(chan *call.Call, 1)
	cfgA.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		// The events are watched through OnEvent; the channel is drained so that the
		// call's end does not wait for a reader (Config.EventGrace).
		go func() {
			for range c.Events() {
			}
		}()
		calls <- c
		<-ctx.Done()
		return nil
	})
	prev := cfgA.OnEvent
	cfgA.OnEvent = func(c *call.Call, e call.Event) {
		ev.add(e)
		if prev != nil {
			prev(c, e)
		}
	}
	for _, cfg := range []*switchboard.Config{&cfgA, &cfgB} {
		if cfg.MediaTimeout == 0 {
			cfg.MediaTimeout = -1
		}
		if cfg.Codecs == nil {
			cfg.Codecs = media.CodecSet{media.PCMU()}
		}
	}
	a := startWith(t, cfgA)
	b := startWith(t, cfgB)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller, err := b.Dial(ctx, a.URI("verbs"), call.DialOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = caller.Hangup(context.Background(), 0) })
	var callee *call.Call
	select {
	case callee = <-calls:
	case <-ctx.Done():
		t.Fatal("callee not answered")
	}
	return &verbsCall{callee: callee, caller: caller, a: a, b: b, events: ev}
}

// verbsEvents collects events from an OnEvent hook.
type verbsEvents struct {
	mu  sync.Mutex
	all []call.Event
}

func (e *verbsEvents) add(ev call.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

// names returns the names of the events seen so far, keeping only those for which
// keep returns true (all when keep is nil).
func (e *verbsEvents) names(keep func(call.Event) bool) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if keep == nil || keep(ev) {
			out = append(out, ev.Name())
		}
	}
	return out
}

func (e *verbsEvents) snapshot() []call.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

// verbEvent keeps the events of the verbs and digits, not the call's lifecycle.
func verbEvent(ev call.Event) bool {
	switch ev.(type) {
	case call.PlaybackStarted, call.PlaybackEnded, call.SpeakStarted, call.SpeakEnded, call.GatherEnded, call.DTMF:
		return true
	}
	return false
}

// waitEvent waits until an event for which match returns true has been seen.
func (e *verbsEvents) waitEvent(t *testing.T, match func(call.Event) bool) call.Event {
	t.Helper()
	var found call.Event
	require.Eventually(t, func() bool {
		for _, ev := range e.snapshot() {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)
	return found
}

// verbsTap keeps everything a leg hears, from the call's audio fan-out.
type verbsTap struct {
	rate int
	mu   sync.Mutex
	x    []int16
}

func tapAudio(t *testing.T, c *call.Call) *verbsTap {
	t.Helper()
	m, err := c.Media()
	require.NoError(t, err)
	tap := &verbsTap{rate: m.SampleRate()}
	stop, err := c.Listen(tap)
	require.NoError(t, err)
	t.Cleanup(stop)
	return tap
}

func (tp *verbsTap) SampleRate() int { return tp.rate }
func (tp *verbsTap) WriteFrame(f media.Frame) error {
	tp.mu.Lock()
	tp.x = append(tp.x, f.Samples...)
	tp.mu.Unlock()
	return nil
}

// mark is the number of samples heard so far.
func (tp *verbsTap) mark() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.x)
}

// since returns a copy of what was heard from mark m on.
func (tp *verbsTap) since(m int) []int16 {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.x[m:])
}

// waitLoud waits until the audio heard since mark m has a 20 ms block above -30 dBFS
// and returns the mark just after it.
func (tp *verbsTap) waitLoud(t *testing.T, m int) int {
	t.Helper()
	var at int
	require.Eventually(t, func() bool {
		x := tp.since(m)
		_, to, ok := audiotest.ActiveSpan(x, tp.rate, 20*time.Millisecond, -30)
		at = m + to
		return ok
	}, 10*time.Second, 5*time.Millisecond, "no audio heard")
	return at
}

// settle waits long enough for audio sent before it to have come out of the far
// side's jitter buffer.
func settle() { time.Sleep(150 * time.Millisecond) }
