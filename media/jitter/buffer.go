package jitter

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Errors returned by [Buffer.Push] for packets the buffer does not keep. They are
// returned unwrapped (no allocation on the per-packet path) and every one is also
// counted in [Stats], so callers may ignore them.
var (
	// ErrDuplicate means a packet with the same sequence number is buffered or was
	// already played.
	ErrDuplicate = errors.New("jitter: duplicate packet")
	// ErrLate means the packet arrived after its playout point had passed.
	ErrLate = errors.New("jitter: late packet")
	// ErrTooLarge means the payload is longer than Config.MaxPayload.
	ErrTooLarge = errors.New("jitter: payload too large")
	// ErrInvalidConfig is wrapped by [New] and [NewReceiver] when a Config field is
	// out of range.
	ErrInvalidConfig = errors.New("jitter: invalid config")
)

// Mode selects how the buffer chooses its depth.
type Mode uint8

const (
	// Adaptive (the zero value) follows the measured network jitter between
	// Config.MinDepth and Config.MaxDepth.
	Adaptive Mode = iota
	// Fixed holds Config.Depth whatever the jitter is.
	Fixed
)

// String returns "adaptive" or "fixed".
func (m Mode) String() string {
	switch m {
	case Adaptive:
		return "adaptive"
	case Fixed:
		return "fixed"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Config configures a [Buffer]. The zero value is a usable adaptive buffer for 8 kHz
// RTP with 20 ms packets.
type Config struct {
	// Mode is Adaptive (default) or Fixed.
	Mode Mode
	// ClockRate is the RTP timestamp clock rate in Hz. Default 8000.
	ClockRate int
	// FrameDuration is the expected packet duration (ptime). It is used until the
	// buffer has learnt the real one from consecutive packets, and to size the ring.
	// Default 20 ms.
	FrameDuration time.Duration
	// Depth is the playout delay held in Fixed mode and the starting target in
	// Adaptive mode, measured beyond the fastest packet's arrival. Default 60 ms.
	Depth time.Duration
	// MinDepth is the smallest adaptive target. Default 20 ms.
	MinDepth time.Duration
	// MaxDepth is the largest target in either mode. Default 500 ms.
	MaxDepth time.Duration
	// MaxPayload is the largest payload accepted, in bytes. Default 8192.
	MaxPayload int
}

const (
	defaultClockRate  = 8000
	defaultFrame      = 20 * time.Millisecond
	defaultDepth      = 60 * time.Millisecond
	defaultMinDepth   = 20 * time.Millisecond
	defaultMaxDepth   = 500 * time.Millisecond
	defaultMaxPayload = 8192

	// concealLimit is how long the buffer keeps reporting Missing on an empty
	// buffer before it decides the talkspurt ended (or the stream stalled) and goes
	// back to Buffering. The concealer has faded to silence by then anyway.
	concealLimit = 60 * time.Millisecond
	// shrinkAfterPops is how many consecutive Pops must see excess depth before the
	// buffer drops one frame in the middle of speech: about one second at 20 ms,
	// so audible drops stay rare.
	shrinkAfterPops = 50
	// bumpDecayDiv sets how fast the extra target added by a late packet decays: one
	// RTP clock unit per bumpDecayDiv units of elapsed time (5 ms per second).
	bumpDecayDiv = 200
)

func (c Config) withDefaults() (Config, error) {
	if c.ClockRate == 0 {
		c.ClockRate = defaultClockRate
	}
	if c.FrameDuration == 0 {
		c.FrameDuration = defaultFrame
	}
	if c.Depth == 0 {
		c.Depth = defaultDepth
	}
	if c.MinDepth == 0 {
		c.MinDepth = defaultMinDepth
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = defaultMaxDepth
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = defaultMaxPayload
	}
	switch {
	case c.Mode != Adaptive && c.Mode != Fixed:
		return c, fmt.Errorf("%w: mode %d", ErrInvalidConfig, c.Mode)
	case c.ClockRate < 1000 || c.ClockRate > 1_000_000:
		return c, fmt.Errorf("%w: clock rate %d Hz", ErrInvalidConfig, c.ClockRate)
	case c.FrameDuration < time.Millisecond || c.FrameDuration > time.Second:
		return c, fmt.Errorf("%w: frame duration %v", ErrInvalidConfig, c.FrameDuration)
	case c.MinDepth < 0 || c.MaxDepth < c.MinDepth || c.MaxDepth > 10*time.Second:
		return c, fmt.Errorf("%w: depth bounds [%v, %v]", ErrInvalidConfig, c.MinDepth, c.MaxDepth)
	case c.Depth < 0 || c.Depth > c.MaxDepth:
		return c, fmt.Errorf("%w: depth %v outside [0, %v]", ErrInvalidConfig, c.Depth, c.MaxDepth)
	case c.MaxPayload < 1 || c.MaxPayload > 1<<20:
		return c, fmt.Errorf("%w: max payload %d", ErrInvalidConfig, c.MaxPayload)
	}
	return c, nil
}

// Status says what [Buffer.Pop] produced.
type Status uint8

const (
	// Buffering means there is nothing to play and nothing is known to be lost: the
	// buffer is filling (at start, after an underrun or during silence between
	// talkspurts) or it is deliberately adding delay. Play silence, or keep
	// concealing if a concealment is under way.
	Buffering Status = iota
	// Ready means Pop returned the packet due now.
	Ready
	// Missing means audio was due now but its packet is lost or has not arrived:
	// conceal one frame.
	Missing
)

// String returns "buffering", "ready" or "missing".
func (s Status) String() string {
	switch s {
	case Buffering:
		return "buffering"
	case Ready:
		return "ready"
	case Missing:
		return "missing"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Packet is a packet returned by [Buffer.Pop].
type Packet struct {
	// Sequence and Timestamp are the RTP header values.
	Sequence  uint16
	Timestamp uint32
	// Marker is the RTP marker bit (start of a talkspurt for audio).
	Marker bool
	// Payload aliases the buffer's storage: it is valid until the next Pop or Reset.
	Payload []byte
	// Arrival is the time passed to Push.
	Arrival time.Time
}

// Stats are the buffer's counters and current state.
type Stats struct {
	// Received counts calls to Push, whatever became of the packet.
	Received uint64
	// Duplicate counts packets rejected with ErrDuplicate.
	Duplicate uint64
	// Late counts packets rejected with ErrLate.
	Late uint64
	// TooLarge counts packets rejected with ErrTooLarge.
	TooLarge uint64
	// Lost counts sequence numbers whose playout time passed without the packet
	// ever arriving (late arrivals are in Late instead).
	Lost uint64
	// Played counts Pops that returned Ready.
	Played uint64
	// Concealed counts Pops that returned Missing.
	Concealed uint64
	// Dropped counts packets the buffer accepted and then discarded: frames dropped
	// to shrink the depth, packets flushed by Reset or a resync, and stray packets
	// that did not turn out to start a new sequence.
	Dropped uint64
	// Resyncs counts re-synchronisations to a new sequence or timestamp origin
	// (a big gap, a restarted sequence or a timestamp jump).
	Resyncs uint64
	// Resets counts calls to Reset.
	Resets uint64
	// Depth is the playout delay beyond the fastest packet's path, measured at the
	// last Pop while playing.
	Depth time.Duration
	// TargetDepth is the depth the buffer steers towards.
	TargetDepth time.Duration
	// Jitter is the RFC 3550 interarrival jitter estimate.
	Jitter time.Duration
	// FrameDuration is the packet duration learnt from the stream.
	FrameDuration time.Duration
	// Buffered is the number of packets held.
	Buffered int
}

const (
	slotEmpty  uint8 = iota
	slotFilled       // holds a packet waiting to be played
	slotUsed         // its packet was played or dropped (for duplicate detection)
	slotLate         // its packet arrived late (so it is not counted as lost)
	slotLost         // its time passed before it arrived (counted in Lost)
)

type slot struct {
	ext     int64 // extended sequence number: meaningful unless state is slotEmpty
	ts      int64 // extended timestamp
	arrival time.Time
	n       int // payload length
	marker  bool
	state   uint8
}

// probe is a packet that does not fit the current stream (sequence far away or
// timestamp inconsistent with arrival time). If the next packet continues it, the
// buffer resynchronises to the new origin; otherwise the probe is discarded.
type probe struct {
	seq     uint16
	ts      uint32
	marker  bool
	arrival time.Time
	transit int64
	payload []byte
	ok      bool
}

// Buffer is an adaptive RTP jitter buffer: it takes packets in network order with
// Push and gives them back in playout order, one per frame period, with Pop.
//
// A Buffer is safe for concurrent use: typically the network goroutine calls Push
// and the playout clock calls Pop. It never starts goroutines and never reads the
// clock itself; all times are passed in.
type Buffer struct {
	mu  sync.Mutex
	cfg Config

	rate     int64 // RTP clock rate
	minTS    int64 // MinDepth in RTP units
	maxTS    int64 // MaxDepth in RTP units
	fixedTS  int64 // Depth in RTP units
	limitTS  int64 // empty-buffer concealment limit in RTP units
	discTS   int64 // transit deviation that marks a timestamp discontinuity
	capacity int64 // ring size (a power of two)

	slots    []slot
	arena    []byte // capacity * slotSize bytes of payload storage
	slotSize int
	out      []byte // copy of the last popped payload
	pr       probe

	started  bool      // a packet arrived since New/Reset/resync
	base     time.Time // arrival time origin for rtime
	maxSeq   int64     // highest extended sequence number seen
	lastTS   int64     // extended timestamp of the last accepted packet
	lowSeq   int64     // lowest sequence that may be buffered while !haveNext
	haveNext bool      // nextSeq/cursor are meaningful (playback started once)
	playing  bool      // false: anchoring (waiting for the depth to build)
	nextSeq  int64     // next sequence number to play
	cursor   int64     // RTP time of the frame due at the next Pop
	count    int       // filled slots
	frameTS  int64     // packet duration in RTP units
	emptyRun int64     // RTP time concealed on an empty buffer
	excess   int       // consecutive Pops with excess depth

	est        estimator
	seedTarget int64 // target carried over a Reset until the estimator warms up
	bump       int64 // extra target after a late packet, decaying
	bumpFrac   int64
	lastPopR   int64
	havePop    bool
	target     int64
	depth      int64

	st Stats
}

// New returns a Buffer for cfg (see [Config] for the defaults of zero fields).
func New(cfg Config) (*Buffer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Buffer{cfg: cfg, rate: int64(cfg.ClockRate)}
	b.minTS = b.durTS(cfg.MinDepth)
	b.maxTS = b.durTS(cfg.MaxDepth)
	b.fixedTS = b.durTS(cfg.Depth)
	b.limitTS = b.durTS(concealLimit)
	b.discTS = max(2*b.maxTS, b.rate) // at least one second
	frames := int64(2*cfg.MaxDepth/cfg.FrameDuration) + 16
	b.capacity = 32
	for b.capacity < frames {
		b.capacity *= 2
	}
	b.slots = make([]slot, b.capacity)
	b.frameTS = max(1, b.durTS(cfg.FrameDuration))
	b.slotSize = 192 // a 20 ms G.711 or G.722 payload fits without growing
	b.arena = make([]byte, int(b.capacity)*b.slotSize)
	b.pr.payload = make([]byte, 0, b.slotSize)
	b.out = make([]byte, 0, b.slotSize)
	b.target = b.fixedTS
	if cfg.Mode == Adaptive {
		b.target = min(max(b.fixedTS, b.minTS), b.maxTS)
	}
	b.seedTarget = b.target
	return b, nil
}

// Config returns the configuration in use, defaults filled in.
func (b *Buffer) Config() Config { return b.cfg }

func (b *Buffer) durTS(d time.Duration) int64 {
	return int64(d/time.Second)*b.rate + int64(d%time.Second)*b.rate/int64(time.Second)
}

func (b *Buffer) tsDur(ts int64) time.Duration {
	return time.Duration(ts) * time.Second / time.Duration(b.rate)
}

// rtime converts a time to RTP clock units since b.base.
func (b *Buffer) rtime(t time.Time) int64 { return b.durTS(t.Sub(b.base)) }

// Push offers a packet received at arrival. The payload is copied, so the caller may
// reuse it at once. Push returns nil if the packet was kept (or held as a possible
// start of a new sequence), or one of ErrDuplicate, ErrLate or ErrTooLarge.
func (b *Buffer) Push(seq uint16, ts uint32, marker bool, payload []byte, arrival time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Received++
	if len(payload) > b.cfg.MaxPayload {
		b.st.TooLarge++
		return ErrTooLarge
	}
	if !b.started {
		b.startAt(seq, ts, arrival)
	}
	ext := b.maxSeq + int64(int16(seq-uint16(b.maxSeq)))
	extTS := b.lastTS + int64(int32(ts-uint32(b.lastTS)))
	transit := b.rtime(arrival) - extTS

	if b.stray(ext, transit) {
		if b.pr.ok && seq == b.pr.seq+1 && abs(transit-b.pr.transit) <= b.discTS/2 &&
			int32(ts-b.pr.ts) >= 0 && int64(int32(ts-b.pr.ts)) <= b.discTS {
			b.resync(seq, ts, marker, payload, arrival)
			return nil
		}
		if b.pr.ok {
			b.st.Dropped++
		}
		b.pr.seq, b.pr.ts, b.pr.marker, b.pr.arrival, b.pr.transit = seq, ts, marker, arrival, transit
		b.pr.payload = append(b.pr.payload[:0], payload...)
		b.pr.ok = true
		return nil
	}
	if b.pr.ok {
		b.pr.ok = false
		b.st.Dropped++
	}
	return b.insert(ext, extTS, marker, payload, arrival, transit)
}

// startAt sets the sequence and timestamp origins from the first packet.
func (b *Buffer) startAt(seq uint16, ts uint32, arrival time.Time) {
	b.started = true
	if b.base.IsZero() {
		b.base = arrival
	}
	// Start the extended numbers well above zero so that reordered packets from
	// before the first one stay positive.
	b.maxSeq = 1<<20 + int64(seq)
	b.lastTS = 1<<40 + int64(ts)
	b.lowSeq = b.maxSeq
	b.haveNext = false
	b.playing = false
	b.est.reset()
}

// stray reports whether a packet lies outside the current stream: its sequence
// number far ahead of the newest or far behind the window, or its timestamp
// inconsistent with its arrival time.
func (b *Buffer) stray(ext, transit int64) bool {
	if ext-b.maxSeq >= b.capacity || ext < b.low()-b.capacity {
		return true
	}
	return b.est.n > 0 && abs(transit-b.est.dmin) > b.discTS
}

func (b *Buffer) insert(ext, extTS int64, marker bool, payload []byte, arrival time.Time, transit int64) error {
	s := &b.slots[ext&(b.capacity-1)]
	if s.ext == ext && (s.state == slotFilled || s.state == slotUsed) {
		b.st.Duplicate++
		return ErrDuplicate
	}
	late := false
	if b.haveNext {
		late = ext < b.nextSeq || extTS-b.cursor <= -b.frameTS/2
	} else if ext < b.lowSeq {
		if b.maxSeq-ext >= b.capacity {
			late = true // cannot fit below the packets already buffered
		} else {
			b.lowSeq = ext
		}
	}
	b.est.add(transit)
	if late {
		b.st.Late++
		if b.cfg.Mode == Adaptive {
			// Grow quickly: make the next packets that late still fit.
			b.bump = max(b.bump, min(transit-b.est.dmin+b.frameTS/2, b.maxTS))
		}
		if s.ext == ext && s.state == slotLost {
			b.st.Lost-- // counted lost when its time passed; it is late instead
		}
		if s.state != slotFilled {
			s.ext, s.state = ext, slotLate
		}
		return ErrLate
	}
	if !b.haveNext && b.count == 0 {
		b.lowSeq = ext
	}
	if ext-b.low() >= b.capacity {
		b.overflow(ext - b.capacity + 1)
	}
	if ext > b.maxSeq {
		// Learn the packet duration from consecutive packets.
		p := &b.slots[(ext-1)&(b.capacity-1)]
		if ext == b.maxSeq+1 && p.ext == ext-1 && (p.state == slotFilled || p.state == slotUsed) {
			if d := extTS - p.ts; d > 0 && d <= b.rate/4 {
				b.frameTS = d
			}
		}
		b.maxSeq = ext
	}
	b.lastTS = extTS
	if len(payload) > b.slotSize {
		b.grow(len(payload))
	}
	s.ext, s.ts, s.arrival, s.marker, s.state = ext, extTS, arrival, marker, slotFilled
	s.n = copy(b.arena[int(ext&(b.capacity-1))*b.slotSize:], payload)
	b.count++
	return nil
}

// overflow makes room in the ring by discarding everything below seq: the
// playout is too far behind (Pop not called for a while) or has not started.
func (b *Buffer) overflow(seq int64) {
	for e := b.low(); e < seq; e++ {
		s := &b.slots[e&(b.capacity-1)]
		switch {
		case s.ext == e && s.state == slotFilled:
			s.state = slotUsed
			b.count--
			b.st.Dropped++
		case b.haveNext && (s.ext != e || s.state == slotEmpty):
			s.ext, s.state = e, slotLost
			b.st.Lost++
		}
	}
	if !b.haveNext {
		b.lowSeq = seq
		return
	}
	b.nextSeq = seq
	if n := b.slotOf(seq); n != nil {
		b.cursor = max(b.cursor, n.ts)
	}
}

// grow enlarges every slot to hold n bytes; it runs only when a payload larger than
// any before arrives.
func (b *Buffer) grow(n int) {
	size := (n + 63) &^ 63
	arena := make([]byte, int(b.capacity)*size)
	for i := range b.slots {
		copy(arena[i*size:i*size+b.slots[i].n], b.arena[i*b.slotSize:])
	}
	b.arena, b.slotSize = arena, size
	if cap(b.out) < size {
		b.out = make([]byte, 0, size)
	}
}

// resync discards the current stream and starts again from the held probe and the
// packet that confirmed it.
func (b *Buffer) resync(seq uint16, ts uint32, marker bool, payload []byte, arrival time.Time) {
	b.st.Resyncs++
	b.flush()
	pr := b.pr
	b.pr.ok = false
	b.startAt(pr.seq, pr.ts, pr.arrival)
	for _, p := range [2]struct {
		seq     uint16
		ts      uint32
		marker  bool
		payload []byte
		arrival time.Time
	}{{pr.seq, pr.ts, pr.marker, pr.payload, pr.arrival}, {seq, ts, marker, payload, arrival}} {
		ext := b.maxSeq + int64(int16(p.seq-uint16(b.maxSeq)))
		extTS := b.lastTS + int64(int32(p.ts-uint32(b.lastTS)))
		_ = b.insert(ext, extTS, p.marker, p.payload, p.arrival, b.rtime(p.arrival)-extTS)
	}
}

// flush empties the ring, counting buffered packets as dropped.
func (b *Buffer) flush() {
	for i := range b.slots {
		if b.slots[i].state == slotFilled {
			b.st.Dropped++
		}
		b.slots[i] = slot{}
	}
	b.count = 0
}

// Reset forgets the stream (call it when the SSRC changes): buffered packets are
// dropped and the next packet starts a new sequence. The current target depth is
// kept as the starting point, since the network path is likely the same.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Resets++
	b.flush()
	if b.pr.ok {
		b.pr.ok = false
		b.st.Dropped++
	}
	b.seedTarget = b.target
	b.bump = 0
	b.started = false
	b.haveNext = false
	b.playing = false
	b.emptyRun = 0
	b.excess = 0
	b.est.reset()
}

// Stats returns a snapshot of the counters. It is safe to call from any goroutine.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	s.Depth = b.tsDur(b.depth)
	s.TargetDepth = b.tsDur(b.target)
	s.Jitter = b.tsDur(b.est.jitter >> 4)
	s.FrameDuration = b.tsDur(b.frameTS)
	s.Buffered = b.count
	return s
}

// FrameDuration returns the packet duration learnt from the stream (or
// Config.FrameDuration before it is known): the period at which to call Pop.
func (b *Buffer) FrameDuration() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tsDur(b.frameTS)
}

func (b *Buffer) updateTarget(rNow int64) {
	if b.havePop {
		if el := rNow - b.lastPopR; el > 0 && b.bump > 0 {
			b.bumpFrac += el
			b.bump = max(0, b.bump-b.bumpFrac/bumpDecayDiv)
			b.bumpFrac %= bumpDecayDiv
		}
	}
	b.lastPopR, b.havePop = rNow, true
	if b.cfg.Mode == Fixed {
		b.target = b.fixedTS
		return
	}
	t := b.seedTarget
	if b.est.n >= warmup {
		t = b.est.high - b.est.dmin
	} else if b.est.n > 0 {
		t = max(t, b.est.high-b.est.dmin)
	}
	b.target = min(max(t, b.bump, b.minTS), b.maxTS)
}

// Pop returns what to play at now. Call it once per frame period (see
// FrameDuration) from the playout clock. With Ready, pkt holds the packet; its
// Payload is valid until the next Pop or Reset.
func (b *Buffer) Pop(now time.Time) (pkt Packet, st Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		return Packet{}, Buffering
	}
	rNow := b.rtime(now)
	b.updateTarget(rNow)
	half := b.frameTS / 2
	if !b.playing {
		s := b.firstFilled(b.low())
		if s == nil || rNow-b.est.dmin-s.ts < b.target {
			return Packet{}, Buffering
		}
		b.startPlaying(s)
	}

	b.depth = rNow - b.est.dmin - b.cursor
	switch {
	case b.depth > b.target+b.maxTS:
		// Far too deep (the caller stopped popping for a while): catch up at once.
		b.skip((b.depth - b.target) / b.frameTS)
		b.depth = rNow - b.est.dmin - b.cursor
		b.excess = 0
	case b.depth >= b.target+b.frameTS:
		b.excess++
	default:
		b.excess = 0
	}
	if b.depth+half < b.target {
		// Grow: hold the cursor for one frame. Happens after late packets raised
		// the target; the caller conceals this frame.
		return Packet{}, Buffering
	}

	s := b.slotOf(b.nextSeq)
	if s == nil {
		return b.popMissing()
	}
	b.emptyRun = 0
	if s.ts-b.cursor >= half {
		// A gap in timestamps with no sequence gap: the sender paused (silence).
		if s.marker {
			// A new talkspurt: play it when it has its own full depth, which lets
			// the silence stretch or shrink to the current target.
			if rNow-b.est.dmin-s.ts < b.target {
				return Packet{}, Buffering
			}
			b.cursor = s.ts
		} else {
			b.cursor += b.frameTS
			if b.depth >= b.target+b.frameTS {
				b.cursor += b.frameTS // shorten the silence
			}
			return Packet{}, Buffering
		}
	} else if b.excess >= shrinkAfterPops && !s.marker {
		// Shrink during speech: drop this frame if the next one follows it directly.
		if n := b.slotOf(b.nextSeq + 1); n != nil && n.ts-s.ts == b.frameTS {
			s.state = slotUsed
			b.count--
			b.st.Dropped++
			b.nextSeq++
			b.cursor = n.ts
			b.excess = 0
			s = n
		}
	}
	return b.play(s), Ready
}

// low is the lowest sequence number that may be buffered.
func (b *Buffer) low() int64 {
	if b.haveNext {
		return b.nextSeq
	}
	return b.lowSeq
}

func (b *Buffer) slotOf(ext int64) *slot {
	s := &b.slots[ext&(b.capacity-1)]
	if s.ext == ext && s.state == slotFilled {
		return s
	}
	return nil
}

// firstFilled returns the buffered packet with the lowest sequence number ≥ from.
func (b *Buffer) firstFilled(from int64) *slot {
	if b.count == 0 {
		return nil
	}
	for e := from; e <= b.maxSeq && e < from+b.capacity; e++ {
		if s := b.slotOf(e); s != nil {
			return s
		}
	}
	return nil
}

// countLost adds the sequence numbers in [from, to) that never arrived to Lost.
func (b *Buffer) countLost(from, to int64) {
	for e := from; e < to; e++ {
		s := &b.slots[e&(b.capacity-1)]
		if s.ext != e || s.state == slotEmpty {
			s.ext, s.state = e, slotLost
			b.st.Lost++
		}
	}
}

func (b *Buffer) startPlaying(s *slot) {
	if b.haveNext && s.ext > b.nextSeq {
		b.countLost(b.nextSeq, s.ext)
	}
	b.haveNext, b.playing = true, true
	b.nextSeq, b.cursor = s.ext, s.ts
	b.emptyRun, b.excess = 0, 0
}

func (b *Buffer) play(s *slot) Packet {
	off := int(s.ext&(b.capacity-1)) * b.slotSize
	b.out = append(b.out[:0], b.arena[off:off+s.n]...)
	s.state = slotUsed
	b.count--
	b.nextSeq = s.ext + 1
	b.cursor = s.ts + b.frameTS
	b.st.Played++
	return Packet{
		Sequence:  uint16(s.ext),
		Timestamp: uint32(s.ts),
		Marker:    s.marker,
		Payload:   b.out,
		Arrival:   s.arrival,
	}
}

// skip advances playout by n frames, dropping what it passes.
func (b *Buffer) skip(n int64) {
	for ; n > 0 && b.count > 0; n-- {
		if s := b.slotOf(b.nextSeq); s != nil && s.ts-b.cursor < b.frameTS/2 {
			s.state = slotUsed
			b.count--
			b.st.Dropped++
			b.nextSeq++
		} else if s == nil && b.firstFilled(b.nextSeq) != nil {
			b.countLost(b.nextSeq, b.nextSeq+1)
			b.nextSeq++
		}
		b.cursor += b.frameTS
	}
	b.cursor += n * b.frameTS // nothing left to pass
}

func (b *Buffer) popMissing() (Packet, Status) {
	if l := b.firstFilled(b.nextSeq + 1); l != nil {
		b.emptyRun = 0
		// Assume the missing packets had the usual duration and ended where l
		// starts. Skip those whose time already passed (concealed earlier while
		// the buffer was empty).
		k := l.ext - b.nextSeq
		start := l.ts - k*b.frameTS
		if passed := (b.cursor - start + b.frameTS/2) / b.frameTS; passed > 0 {
			passed = min(passed, k)
			b.countLost(b.nextSeq, b.nextSeq+passed)
			b.nextSeq += passed
			if passed == k {
				return b.play(l), Ready
			}
			start += passed * b.frameTS
		}
		if start-b.cursor >= b.frameTS/2 {
			b.cursor += b.frameTS // silence before the lost packets
			return Packet{}, Buffering
		}
		b.countLost(b.nextSeq, b.nextSeq+1)
		b.nextSeq++
		b.cursor += b.frameTS
		b.st.Concealed++
		return Packet{}, Missing
	}
	// Nothing buffered: the packet is late or lost, or the talkspurt ended.
	b.emptyRun += b.frameTS
	if b.emptyRun > b.limitTS {
		b.playing = false // wait for the next packet to rebuild the depth
		return Packet{}, Buffering
	}
	b.cursor += b.frameTS
	b.st.Concealed++
	return Packet{}, Missing
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
