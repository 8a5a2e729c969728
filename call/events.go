package call

import (
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/sip"
)

// Initiator says which side ended a call.
type Initiator uint8

// Initiators.
const (
	Local Initiator = iota
	Remote
)

func (i Initiator) String() string {
	if i == Remote {
		return "remote"
	}
	return "local"
}

// HangupCause says why a call ended. It is the context.Cause of the handler's ctx after
// the call ends, and the payload of the Hangup event.
type HangupCause struct {
	// Name is a short machine-readable cause: "normal_clearing", "originator_cancel",
	// "media_timeout", "rejected", "handler_error", "server_closed", ...
	Name string
	// Q850 is the ITU-T Q.850 cause code.
	Q850 sip.Q850
	// SIPCode is the SIP status involved (the final response of a rejected call, or 200
	// for a BYE), 0 if none.
	SIPCode int
	// By is who ended the call.
	By Initiator
}

func (c *HangupCause) Error() string {
	return fmt.Sprintf("call ended: %s by %s (Q.850 %d, SIP %d)", c.Name, c.By, c.Q850, c.SIPCode)
}

// Is matches another *HangupCause with the same Name (or any, if target's Name is empty)
// so errors.Is(context.Cause(ctx), call.CauseRemoteBye) works.
func (c *HangupCause) Is(target error) bool {
	t, ok := target.(*HangupCause)
	return ok && (t.Name == "" || t.Name == c.Name) && (t.By == c.By || t.Name == "")
}

// Hangup causes to test against with errors.Is.
var (
	CauseRemoteBye     = &HangupCause{Name: "normal_clearing", By: Remote}
	CauseLocalHangup   = &HangupCause{Name: "normal_clearing", By: Local}
	CauseCancelled     = &HangupCause{Name: "originator_cancel", By: Remote}
	CauseMediaTimeout  = &HangupCause{Name: "media_timeout", By: Local}
	CauseServerClosed  = &HangupCause{Name: "server_closed", By: Local}
	CauseRejected      = &HangupCause{Name: "rejected", By: Local}
	CauseHandlerFailed = &HangupCause{Name: "handler_error", By: Local}
)

// Event is something that happened on a call. Name returns the event's name as the
// reference call-control platforms spell it ("call.answered", "call.hangup", ...).
type Event interface {
	Name() string
	// When is the time the event happened.
	When() time.Time
}

type base struct{ At time.Time }

func (b base) When() time.Time { return b.At }

// Initiated: a call was created (an INVITE arrived, or Dial sent one).
type Initiated struct {
	base
	Direction Direction
	From, To  string
}

// Ringing: the call is alerting (180 sent or received).
type Ringing struct{ base }

// EarlyMedia: audio flows before answer (183 with SDP).
type EarlyMedia struct{ base }

// Answered: the call was answered (200 OK sent or received).
type Answered struct{ base }

// Hold: the remote side put the call on hold; Unhold: it took it off hold.
type Hold struct{ base }

// Unhold is the end of a Hold.
type Unhold struct{ base }

// DTMF: a digit arrived (RFC 4733, SIP INFO or in-band).
type DTMF struct {
	base
	Digit    rune
	Duration time.Duration
	Source   string // "rfc4733", "info", "inband"
}

// MediaTimeout: no RTP arrived for the configured time; the call is being hung up.
type MediaTimeout struct{ base }

// Hangup: the call ended. It is always the last event.
type Hangup struct {
	base
	Cause *HangupCause
}

// Event names.
func (Initiated) Name() string    { return "call.initiated" }
func (Ringing) Name() string      { return "call.ringing" }
func (EarlyMedia) Name() string   { return "call.early_media" }
func (Answered) Name() string     { return "call.answered" }
func (Hold) Name() string         { return "call.hold" }
func (Unhold) Name() string       { return "call.unhold" }
func (DTMF) Name() string         { return "call.dtmf.received" }
func (MediaTimeout) Name() string { return "call.media_timeout" }
func (Hangup) Name() string       { return "call.hangup" }

// eventQueue is lossless and never blocks the pusher: events go into an unbounded list,
// and one dispatcher goroutine per call moves them to the user's channel in order. A
// call's low-rate events are few, so the list stays short. The dispatcher closes the
// channel after the Hangup event. If the application stops reading, release gives it a
// grace period after the call ended and then drops what is left (counted in dropped).
type eventQueue struct {
	mu      sync.Mutex
	pending []Event // not yet delivered to out
	hooked  int     // how many of pending the hook has seen
	closed  bool    // Hangup was pushed
	dropped int
	notify  chan struct{}
	abandon chan struct{}
	out     chan Event
	done    chan struct{}
	grace   time.Duration
	hook    func(Event)
}

func newEventQueue(grace time.Duration, hook func(Event)) *eventQueue {
	return &eventQueue{
		notify: make(chan struct{}, 1), abandon: make(chan struct{}),
		out: make(chan Event, 8), done: make(chan struct{}), grace: grace, hook: hook,
	}
}

// push queues ev. After a Hangup event, further events are ignored. It never blocks.
func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.pending = append(q.pending, ev)
	if _, ok := ev.(Hangup); ok {
		q.closed = true
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// release starts the grace period after which undelivered events are dropped. It is
// called once the call has ended (its Hangup event pushed).
func (q *eventQueue) release() { close(q.abandon) }

// runHooks shows every event not yet hooked to the hook, in order, without holding the
// lock while the hook runs. The hook so sees events as they happen, even while the
// channel's reader lags.
func (q *eventQueue) runHooks() {
	if q.hook == nil {
		return
	}
	for {
		q.mu.Lock()
		if q.hooked >= len(q.pending) {
			q.mu.Unlock()
			return
		}
		ev := q.pending[q.hooked]
		q.hooked++
		q.mu.Unlock()
		q.hook(ev)
	}
}

// run is the dispatcher loop; the call runs it on a goroutine it owns.
func (q *eventQueue) run() {
	defer close(q.done)
	defer close(q.out)
	var deadline <-chan time.Time
	abandon := q.abandon
	for {
		q.runHooks()
		q.mu.Lock()
		if len(q.pending) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-q.notify:
			case <-abandon:
				abandon = nil
			}
			continue
		}
		ev := q.pending[0]
		q.mu.Unlock()
		select {
		case q.out <- ev:
			q.mu.Lock()
			q.pending[0] = nil
			q.pending = q.pending[1:]
			q.hooked--
			q.mu.Unlock()
		case <-q.notify:
		case <-abandon:
			abandon = nil
			t := time.NewTimer(q.grace)
			defer t.Stop()
			deadline = t.C
		case <-deadline:
			q.runHooks()
			q.mu.Lock()
			q.dropped += len(q.pending)
			q.pending = nil
			q.mu.Unlock()
			return
		}
	}
}
