package dtmf

import (
	"fmt"
	"time"
)

// Kind says whether a report marks the start or the end of a digit.
type Kind uint8

// Kinds of digit reports.
const (
	// DigitStart is reported once per key press, as soon as it is known.
	DigitStart Kind = iota + 1
	// DigitEnd is reported once per key press, when it ends, with its duration.
	DigitEnd
)

func (k Kind) String() string {
	switch k {
	case DigitStart:
		return "start"
	case DigitEnd:
		return "end"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// DefaultReceiverTimeout is the ReceiverConfig.Timeout used when it is zero.
const DefaultReceiverTimeout = time.Second

// forgetAfter is how long after the last event packet the Receiver stops using
// sequence numbers and timestamps to tell late packets from new events. Reordering
// never spans seconds, while both counters can wrap (or jump) across long idle
// periods: after this, any unseen timestamp is a new event.
const forgetAfter = 5 * time.Second

// recentEvents is how many past event timestamps are remembered to recognise
// late retransmissions.
const recentEvents = 4

// ReceiverConfig configures a Receiver. The zero value is ready to use.
type ReceiverConfig struct {
	// ClockRate is the telephone-event clock rate from SDP, in Hz; it converts
	// durations to time. Zero means 8000.
	ClockRate int
	// Timeout ends an event whose end packets never arrive: when no packet of it
	// has arrived for this long (by the clock passed to Receive and Tick), a
	// DigitEnd with TimedOut is reported. Zero means DefaultReceiverTimeout.
	Timeout time.Duration
}

// Received is one report from the Receiver.
type Received struct {
	// Kind is DigitStart or DigitEnd.
	Kind Kind
	// Code is the RFC 4733 event code.
	Code uint8
	// Digit is the key (see CodeDigit), or 0 for an event code that is not a key.
	Digit rune
	// Timestamp is the RTP timestamp of the start of the event. It identifies the
	// key press: both reports of one press carry the same Timestamp.
	Timestamp uint32
	// Duration is how long the event lasted: so far (DigitStart) or in total
	// (DigitEnd).
	Duration time.Duration
	// Volume is the volume of the latest packet (dB below 0 dBm0).
	Volume uint8
	// Late is set on a DigitStart reported from an update or end packet because
	// the packets that began the event were lost.
	Late bool
	// TimedOut is set on a DigitEnd reported because no end packet arrived in
	// time (or a new event began first) rather than from an end packet.
	TimedOut bool
}

// ReceiverStats counts what the Receiver did with the packets it was given.
type ReceiverStats struct {
	Packets    uint64 // packets passed to Receive
	Malformed  uint64 // rejected by Unmarshal
	Duplicates uint64 // repeats of packets of events already ended (end retransmissions and network duplicates)
	Stale      uint64 // late packets of an event older than the latest one
	Events     uint64 // DigitStart reports
	TimedOut   uint64 // DigitEnd reports not caused by an end packet
}

// Receiver turns received telephone-event packets into digit reports: each key
// press gives exactly one DigitStart and one DigitEnd, however many of its
// packets arrive, are lost, duplicated or reordered.
//
// An event is identified by its RTP timestamp (RFC 4733 §2.5.2): the first packet
// seen with a new timestamp starts an event, marker bit or not, so a lost first
// packet only delays the report to the next update. Later packets with the same
// timestamp update its duration; its end packet (and the two retransmissions of
// it) ends it once. A packet older than the latest event (by timestamp, unless its
// sequence number says the sender's clock jumped) is ignored rather than reported
// out of order. Segments of long events (§2.5.1.3) continue the same event.
//
// Time is never read from the system: Receive and Tick take the caller's clock,
// which drives Timeout. Call Reset when the stream's SSRC changes.
//
// A Receiver is not safe for concurrent use. Receive and Tick never allocate when
// dst has capacity for their reports (at most three per call).
type Receiver struct {
	rate    int
	timeout time.Duration
	stats   ReceiverStats

	have    bool      // an event has been seen since Reset
	lastSeq uint16    // highest sequence number seen (serially)
	lastAt  time.Time // arrival of the latest packet of any event

	// the latest event
	active   bool   // started and not yet ended
	code     uint8  //
	volume   uint8  //
	ts0      uint32 // timestamp of its first segment
	segTS    uint32 // timestamp of its current segment
	base     uint64 // clock ticks in its earlier segments
	segDur   uint16 // longest duration seen in the current segment
	lastSeen time.Time

	recent  [recentEvents]uint32 // timestamps of recent events and segments, newest at recentN-1
	nRecent int
}

// NewReceiver returns a Receiver.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	rate := cfg.ClockRate
	if rate == 0 {
		rate = 8000
	}
	if rate < 1000 || rate > 192000 {
		return nil, fmt.Errorf("%w: %d Hz", ErrClockRate, rate)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultReceiverTimeout
	}
	if timeout < 0 {
		return nil, fmt.Errorf("dtmf: negative receiver timeout %v", timeout)
	}
	return &Receiver{rate: rate, timeout: timeout}, nil
}

// Stats returns the counters.
func (r *Receiver) Stats() ReceiverStats { return r.stats }

// Reset forgets all events (without reporting the end of an active one), as for
// a new RTP stream.
func (r *Receiver) Reset() {
	stats := r.stats
	*r = Receiver{rate: r.rate, timeout: r.timeout, stats: stats}
}

// Tick reports the end of an active event that has timed out at now, appending to
// dst. Call it periodically (every packet interval is plenty) so an event whose
// end packets were all lost still ends.
func (r *Receiver) Tick(dst []Received, now time.Time) []Received {
	if r.active && now.Sub(r.lastSeen) >= r.timeout {
		dst = r.end(dst, true)
	}
	return dst
}

// Receive processes one telephone-event packet (its RTP sequence number,
// timestamp, marker bit and payload) that arrived at now, and appends the
// resulting reports to dst. A malformed payload is ignored and its error returned
// (wrapping ErrShortPayload, ErrMultipleEvents or ErrPayloadLength); dst then
// still holds any timeout report.
func (r *Receiver) Receive(dst []Received, now time.Time, seq uint16, ts uint32, marker bool, payload []byte) ([]Received, error) {
	r.stats.Packets++
	dst = r.Tick(dst, now)
	var ev Event
	if err := ev.Unmarshal(payload); err != nil {
		r.stats.Malformed++
		return dst, err
	}

	if r.have && now.Sub(r.lastAt) > forgetAfter {
		// Counters may have wrapped or jumped: keep only the latest timestamp, to
		// drop a (very) late repeat of it.
		r.recent[0], r.nRecent = r.segTS, 1
		r.lastSeq = seq - 1
	}
	seqNewer := !r.have || int16(seq-r.lastSeq) > 0
	if seqNewer {
		r.lastSeq = seq
	}

	switch {
	case r.have && ts == r.segTS:
		r.lastAt = now
		if !r.active {
			r.stats.Duplicates++
			return dst, nil
		}
		r.lastSeen = now
		r.volume = ev.Volume
		r.segDur = max(r.segDur, ev.Duration)
		if ev.End {
			dst = r.end(dst, false)
		}
		return dst, nil
	case r.seenRecently(ts):
		// An earlier segment or event: a retransmission or a late duplicate.
		r.lastAt = now
		r.stats.Duplicates++
		return dst, nil
	case r.have && int32(ts-r.segTS) < 0 && !seqNewer:
		r.stats.Stale++
		return dst, nil
	}

	r.lastAt = now
	if r.active && !marker && ev.Code == r.code && ts == r.segTS+maxSegment {
		// The next segment of a long event (RFC 4733 §2.5.1.3): it starts exactly
		// where a full segment ends, even if that segment's last packets were lost.
		r.base += maxSegment
		r.segTS = ts
		r.segDur = ev.Duration
		r.remember(ts)
		r.lastSeen = now
		r.volume = ev.Volume
		if ev.End {
			dst = r.end(dst, false)
		}
		return dst, nil
	}
	if r.active {
		// A new event began before the end of this one arrived.
		dst = r.end(dst, true)
	}
	r.have, r.active = true, true
	r.code, r.volume = ev.Code, ev.Volume
	r.ts0, r.segTS = ts, ts
	r.base, r.segDur = 0, ev.Duration
	r.lastSeen = now
	r.remember(ts)
	r.stats.Events++
	digit, _ := CodeDigit(ev.Code)
	dst = append(dst, Received{
		Kind:      DigitStart,
		Code:      ev.Code,
		Digit:     digit,
		Timestamp: ts,
		Duration:  r.duration(),
		Volume:    ev.Volume,
		Late:      !marker,
	})
	if ev.End {
		dst = r.end(dst, false)
	}
	return dst, nil
}

func (r *Receiver) end(dst []Received, timedOut bool) []Received {
	r.active = false
	if timedOut {
		r.stats.TimedOut++
	}
	digit, _ := CodeDigit(r.code)
	return append(dst, Received{
		Kind:      DigitEnd,
		Code:      r.code,
		Digit:     digit,
		Timestamp: r.ts0,
		Duration:  r.duration(),
		Volume:    r.volume,
		TimedOut:  timedOut,
	})
}

func (r *Receiver) duration() time.Duration {
	ticks := r.base + uint64(r.segDur)
	return time.Duration(ticks * uint64(time.Second) / uint64(r.rate))
}

func (r *Receiver) remember(ts uint32) {
	if r.nRecent == recentEvents {
		copy(r.recent[:], r.recent[1:])
		r.nRecent--
	}
	r.recent[r.nRecent] = ts
	r.nRecent++
}

func (r *Receiver) seenRecently(ts uint32) bool {
	for _, t := range r.recent[:r.nRecent] {
		if t == ts {
			return true
		}
	}
	return false
}
