package rtpsession

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// maxCatchUp bounds how far behind a Clock catches up after a stall (a GC pause, an
// overloaded machine): within it, the late periods run back to back, so the packets
// go out late but none is lost and the far end's jitter buffer absorbs the burst.
// Beyond it the periods are skipped: the session advances its RTP timestamps by the
// skipped time without sending, which the far end sees as a short loss instead of a
// long burst of stale audio.
const maxCatchUp = 300 * time.Millisecond

// tickable is what a Clock drives: one call per period.
type tickable interface {
	// tick runs one period that was due at deadline. skipped is the number of whole
	// periods the clock dropped before this one because it fell too far behind.
	tick(deadline time.Time, skipped int)
}

type clockEntry struct {
	t      tickable
	period time.Duration
	next   time.Time
	index  int // position in the heap, -1 when not registered
}

// Clock is a scheduler that paces many sessions from one goroutine.
//
// Each registered session is called once per ptime at its own phase. Deadlines live in
// a min-heap; the goroutine sleeps until the earliest one and then services every
// session that is due, so sessions whose phases fall within the timer's wake-up latency
// share one wake-up. With a 20 ms ptime the goroutine wakes at most once per distinct
// phase, however many sessions there are. See the package documentation for why this
// is the default and how it compares with a goroutine per session.
//
// The goroutine starts with the first registration and is stopped by Close, which
// waits for it. A Clock is safe for concurrent use. Ticks run with the Clock's lock
// held, so a session's tick never overlaps its own unregistration.
type Clock struct {
	res     time.Duration
	mu      sync.Mutex
	heap    []*clockEntry
	running bool
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
}

// DefaultClockResolution is the phase grid of a Clock made with a zero resolution.
const DefaultClockResolution = time.Millisecond

// NewClock returns a Clock with no sessions. Its goroutine starts when the first
// session registers.
//
// resolution is the phase grid: a session's first deadline is rounded up to a multiple
// of it, so sessions fall into at most ptime/resolution phase buckets and the goroutine
// wakes at most once per bucket. Zero means DefaultClockResolution (1 ms: 20 wake-ups
// per 20 ms at most, and at most 1 ms of added start-up delay).
func NewClock(resolution time.Duration) *Clock {
	if resolution <= 0 {
		resolution = DefaultClockResolution
	}
	return &Clock{
		res:     resolution,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
}

// Len reports how many sessions are registered.
func (c *Clock) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.heap)
}

// Close stops the Clock's goroutine and waits for it to exit. Sessions still registered
// stop being paced. Close is idempotent.
func (c *Clock) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	running := c.running
	c.mu.Unlock()
	close(c.done)
	if running {
		<-c.stopped
	}
	return nil
}

// register schedules t every period, first at start rounded up to the phase grid.
func (c *Clock) register(t tickable, period time.Duration, start time.Time) (*clockEntry, error) {
	// Add rather than Truncate, so start keeps its monotonic clock reading.
	if off := start.Sub(start.Truncate(c.res)); off > 0 {
		start = start.Add(c.res - off)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("rtpsession: clock: %w", media.ErrClosed)
	}
	e := &clockEntry{t: t, period: period, next: start}
	c.push(e)
	if !c.running {
		c.running = true
		go c.run()
	} else if e.index == 0 {
		c.kick()
	}
	return e, nil
}

// unregister removes e. When it returns, e's tick is not running and will not run again.
func (c *Clock) unregister(e *clockEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.index >= 0 && e.index < len(c.heap) && c.heap[e.index] == e {
		c.remove(e.index)
	}
}

func (c *Clock) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Clock) run() {
	defer close(c.stopped)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		empty := len(c.heap) == 0
		var wait time.Duration
		if !empty {
			wait = time.Until(c.heap[0].next) // negative when late: service at once
		}
		c.mu.Unlock()
		switch {
		case empty:
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		case wait > 0:
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}
		c.serviceDue(time.Now())
	}
}

// serviceDue runs every tick whose deadline is not after now.
func (c *Clock) serviceDue(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.heap) > 0 {
		e := c.heap[0]
		if e.next.After(now) {
			return
		}
		skipped := 0
		if behind := now.Sub(e.next); behind >= maxCatchUp {
			skipped = int(behind / e.period)
			e.next = e.next.Add(time.Duration(skipped) * e.period)
		}
		e.t.tick(e.next, skipped)
		e.next = e.next.Add(e.period)
		c.down(0)
	}
}

// ---- min-heap on next deadline ----

func (c *Clock) push(e *clockEntry) {
	e.index = len(c.heap)
	c.heap = append(c.heap, e)
	c.up(e.index)
}

func (c *Clock) remove(i int) {
	last := len(c.heap) - 1
	e := c.heap[i]
	if i != last {
		c.swap(i, last)
	}
	c.heap[last] = nil
	c.heap = c.heap[:last]
	e.index = -1
	if i != last {
		c.down(i)
		c.up(i)
	}
}

func (c *Clock) less(i, j int) bool { return c.heap[i].next.Before(c.heap[j].next) }

func (c *Clock) swap(i, j int) {
	c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
	c.heap[i].index = i
	c.heap[j].index = j
}

func (c *Clock) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(i, p) {
			return
		}
		c.swap(i, p)
		i = p
	}
}

func (c *Clock) down(i int) {
	n := len(c.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && c.less(r, l) {
			m = r
		}
		if !c.less(m, i) {
			return
		}
		c.swap(i, m)
		i = m
	}
}

// ClockPool is a fixed set of Clocks that spreads sessions over several pacing
// goroutines: one Clock serialises the work of all its sessions on one goroutine,
// which on a busy machine gets one thread's share of the CPU; a Clock per CPU keeps
// the low per-session cost of shared pacing and uses every core. This is the
// arrangement the package documentation recommends for a process with many calls.
type ClockPool struct {
	clocks []*Clock
}

// NewClockPool returns n Clocks with the given resolution (see NewClock). n <= 0
// means runtime.GOMAXPROCS(0).
func NewClockPool(n int, resolution time.Duration) *ClockPool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &ClockPool{clocks: make([]*Clock, n)}
	for i := range p.clocks {
		p.clocks[i] = NewClock(resolution)
	}
	return p
}

// Clock returns the Clock with the fewest sessions, for a new session's
// Config.Clock.
func (p *ClockPool) Clock() *Clock {
	best, bestLen := p.clocks[0], p.clocks[0].Len()
	for _, c := range p.clocks[1:] {
		if l := c.Len(); l < bestLen {
			best, bestLen = c, l
		}
	}
	return best
}

// Close closes every Clock of the pool. It is idempotent.
func (p *ClockPool) Close() error {
	for _, c := range p.clocks {
		_ = c.Close()
	}
	return nil
}
