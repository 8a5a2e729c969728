package impair

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// packet is one copy waiting for its release time.
type packet struct {
	at   time.Time
	seq  uint64  // push order: ties in at leave in arrival order
	buf  *[]byte // pooled payload
	conn *net.UDPConn
	to   netip.AddrPort // invalid: conn is connected, use Write
}

// pktHeap is a min-heap on (at, seq). It is typed rather than container/heap so that
// pushing and popping box nothing and allocate nothing once the slice has grown.
type pktHeap []packet

func (h pktHeap) less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}

func (h *pktHeap) push(p packet) {
	*h = append(*h, p)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *pktHeap) pop() packet {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = packet{}
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// bufPool recycles payload buffers. Most packets (RTP, small SIP messages) fit in the
// default capacity; a larger one grows its buffer, which then stays large. It is a plain
// free list rather than a sync.Pool so that steady-state forwarding allocates nothing even
// across garbage collections.
type bufPool struct {
	mu   sync.Mutex
	free []*[]byte
}

const (
	defaultBufCap = 2048
	maxFreeBufs   = 4096 // beyond this, returned buffers are left to the collector
)

func (bp *bufPool) get(n int) *[]byte {
	var b *[]byte
	bp.mu.Lock()
	if k := len(bp.free); k > 0 {
		b = bp.free[k-1]
		bp.free[k-1] = nil
		bp.free = bp.free[:k-1]
	}
	bp.mu.Unlock()
	if b == nil {
		s := make([]byte, 0, max(n, defaultBufCap))
		b = &s
	}
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:n]
	return b
}

func (bp *bufPool) put(b *[]byte) {
	bp.mu.Lock()
	if len(bp.free) < maxFreeBufs {
		bp.free = append(bp.free, b)
	}
	bp.mu.Unlock()
}

// direction impairs the packets travelling one way: a shaper decides, a heap holds the
// copies until their release time, and one scheduler goroutine (run) sends them. Readers
// call push from any goroutine; there is no goroutine per packet.
type direction struct {
	pool *bufPool
	send func(packet) error // writes one copy (by value: a pointer would escape to the heap)

	mu     sync.Mutex
	shaper *shaper
	heap   pktHeap
	seq    uint64
	wake   chan struct{} // cap 1: "the earliest release time may have changed"

	forwarded, errors atomic.Uint64 // counted by run without taking mu
}

func newDirection(sh *shaper, pool *bufPool, send func(packet) error) *direction {
	return &direction{pool: pool, send: send, shaper: sh, wake: make(chan struct{}, 1)}
}

// push impairs one packet that arrived now. payload is copied; the caller keeps it.
func (d *direction) push(now time.Time, payload []byte, conn *net.UDPConn, to netip.AddrPort) {
	d.mu.Lock()
	dec := d.shaper.decide(now)
	for i := range dec.n {
		b := d.pool.get(len(payload))
		copy(*b, payload)
		d.seq++
		d.heap.push(packet{at: dec.at[i], seq: d.seq, buf: b, conn: conn, to: to})
	}
	d.mu.Unlock()
	if dec.n > 0 {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// run sends each copy at its release time until done is closed; copies still waiting
// then are discarded. It is the direction's only sender, so copies leave in heap order.
func (d *direction) run(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		d.mu.Lock()
		now := time.Now()
		if len(d.heap) > 0 && !d.heap[0].at.After(now) {
			p := d.heap.pop()
			d.mu.Unlock()
			if err := d.send(p); err != nil {
				d.errors.Add(1)
			} else {
				d.forwarded.Add(1)
			}
			d.pool.put(p.buf)
			continue
		}
		wait := time.Duration(-1)
		if len(d.heap) > 0 {
			wait = d.heap[0].at.Sub(now)
		}
		d.mu.Unlock()
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-d.wake:
		case <-timer.C:
		case <-done:
			d.discard()
			return
		}
		timer.Stop()
	}
}

func (d *direction) discard() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.heap) > 0 {
		d.pool.put(d.heap.pop().buf)
	}
}

func (d *direction) stats() DirectionStats {
	d.mu.Lock()
	st := d.shaper.stats
	d.mu.Unlock()
	st.Forwarded, st.Errors = d.forwarded.Load(), d.errors.Load()
	return st
}

// sendUDP writes a copy to its destination socket.
func sendUDP(p packet) error {
	if p.to.IsValid() {
		_, err := p.conn.WriteToUDPAddrPort(*p.buf, p.to)
		return err
	}
	_, err := p.conn.Write(*p.buf)
	return err
}
