package call

import (
	"sync"
	"sync/atomic"
)

// digitHub hands every received digit (RFC 4733, SIP INFO, in-band) to the verbs that
// are waiting for digits (Gather, barge-in, recording termination) without taking them
// from the application's Events channel. Delivery never blocks the pusher: a subscriber
// whose buffer is full loses the digit, counted in dropped.
type digitHub struct {
	mu      sync.Mutex
	subs    map[*digitSub]struct{}
	dropped atomic.Uint64
}

type digitSub struct{ ch chan DTMF }

// subscribeDigits returns a channel of the digits received from now on and the function
// that ends the subscription. The channel holds up to 64 digits.
func (c *Call) subscribeDigits() (<-chan DTMF, func()) {
	s := &digitSub{ch: make(chan DTMF, 64)}
	h := &c.digits
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*digitSub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
		})
	}
}

// digit records a received digit: an event for the application and a copy for every
// subscribed verb.
func (c *Call) digit(d DTMF) {
	c.events.push(d)
	h := &c.digits
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- d:
		default:
			h.dropped.Add(1)
		}
	}
}
