package rtpsession

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Digit is one DTMF digit received as RFC 4733 events.
type Digit struct {
	// Digit is '0'-'9', '*', '#', 'A'-'D', or '!' for flash.
	Digit rune
	// Duration is how long the remote held the key, from the event's final duration.
	Duration time.Duration
	// Volume is the event's power level in -dBm0 (0 loudest, 63 quietest).
	Volume int
	// At is when the first packet of the event arrived.
	At time.Time
}

// maxPendingDigits bounds the digit queue. People press keys a few times a second, so
// a consumer that reads at all never comes near it; it only stops a remote that sends
// a stream of bogus events from growing the memory of a session nobody drains.
const maxPendingDigits = 4096

// digitQueue hands digits from the reader goroutine to the call layer. Pushing never
// blocks, and never drops below maxPendingDigits; a one-slot channel tells the
// consumer there is something to take.
type digitQueue struct {
	mu      sync.Mutex
	q       []Digit
	notify  chan struct{}
	dropped atomic.Uint64
	hook    func(Digit) // Config.OnDTMF: replaces the queue when set
}

func newDigitQueue(hook func(Digit)) *digitQueue {
	return &digitQueue{notify: make(chan struct{}, 1), hook: hook}
}

func (d *digitQueue) push(x Digit) {
	if d.hook != nil {
		d.hook(x)
		return
	}
	d.mu.Lock()
	if len(d.q) >= maxPendingDigits {
		d.mu.Unlock()
		d.dropped.Add(1)
		return
	}
	d.q = append(d.q, x)
	d.mu.Unlock()
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

func (d *digitQueue) pop() (Digit, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return Digit{}, false
	}
	x := d.q[0]
	d.q = d.q[1:]
	if len(d.q) == 0 {
		d.q = nil // let the backing array go
	}
	return x, true
}

// DTMFReady returns a channel that receives a value when digits are waiting in
// PollDTMF. One value may stand for several digits: drain with PollDTMF until it
// reports false, then wait again.
func (s *Session) DTMFReady() <-chan struct{} { return s.digits.notify }

// PollDTMF takes the oldest received digit without blocking. Each digit is delivered
// exactly once, however late it is read, and the reader goroutine never waits for the
// consumer; only past 4096 unread digits are new ones dropped (Stats.DTMFDropped).
func (s *Session) PollDTMF() (Digit, bool) { return s.digits.pop() }

// ReadDTMF waits for the next received digit. It returns ctx's error if ctx ends
// first, or an error wrapping media.ErrClosed once the session is closed and no digit
// is left.
func (s *Session) ReadDTMF(ctx context.Context) (Digit, error) {
	for {
		if d, ok := s.digits.pop(); ok {
			return d, nil
		}
		select {
		case <-s.digits.notify:
		case <-ctx.Done():
			return Digit{}, ctx.Err()
		case <-s.closed:
			if d, ok := s.digits.pop(); ok {
				return d, nil
			}
			return Digit{}, fmt.Errorf("rtpsession: read DTMF: %w", media.ErrClosed)
		}
	}
}
