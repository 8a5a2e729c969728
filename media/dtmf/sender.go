package dtmf

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// Errors returned by NewSender and the Sender's Send methods.
var (
	// ErrPayloadType means a payload type that cannot carry telephone-event, which
	// has no static number and is always negotiated in SDP: it must be outside the
	// static assignments (0-34) and the range that collides with RTCP (72-76), and
	// at most 127.
	ErrPayloadType = errors.New("dtmf: invalid telephone-event payload type")
	// ErrClockRate means a telephone-event clock rate outside 1000-192000 Hz.
	ErrClockRate = errors.New("dtmf: invalid telephone-event clock rate")
	// ErrPtime means a packet interval that is not positive or is longer than 1 s.
	ErrPtime = errors.New("dtmf: invalid packet interval")
	// ErrInvalidDigit means a rune that is not a DTMF key.
	ErrInvalidDigit = errors.New("dtmf: invalid digit")
	// ErrDuration means an event duration shorter than one RTP clock tick or
	// longer than an hour.
	ErrDuration = errors.New("dtmf: invalid event duration")
	// ErrVolume means a volume above MaxVolume.
	ErrVolume = errors.New("dtmf: invalid volume")
)

// maxSegment is the largest duration one packet can report (RFC 4733 §2.5.1.3).
const maxSegment = 0xFFFF

// endCopies is how many times the final packet of an event or segment is sent
// (RFC 4733 §2.5.1.4).
const endCopies = 3

// DefaultGap is the silence the Sender leaves between two events when
// SenderConfig.Gap is zero. ITU-T Q.24 receivers must accept pauses of 40 ms;
// 60 ms leaves margin for jitter.
const DefaultGap = 60 * time.Millisecond

// SenderConfig configures a Sender. The zero value is not usable: PayloadType
// must be the negotiated one.
type SenderConfig struct {
	// PayloadType is the telephone-event payload type negotiated in SDP
	// (a=rtpmap:<pt> telephone-event/<rate>). Required.
	PayloadType uint8
	// ClockRate is the telephone-event clock rate from the same rtpmap line, in Hz.
	// It must equal the clock of the audio codec the events share the RTP
	// timestamps with (RFC 4733 §2.1). Zero means 8000.
	ClockRate int
	// Ptime is the interval between packets: the Sender must be ticked once per
	// Ptime. Zero means media.DefaultFrameDuration (20 ms).
	Ptime time.Duration
	// Gap is the minimum silence between the end of one event and the start of
	// the next. Zero means DefaultGap. The effective gap is rounded up to whole
	// packet intervals and is never shorter than the two intervals the end-packet
	// retransmissions take.
	Gap time.Duration
}

// Packet is one telephone-event RTP packet produced by the Sender. The RTP layer
// adds the SSRC and the sequence number, which it shares with the audio packets.
type Packet struct {
	// PayloadType is SenderConfig.PayloadType.
	PayloadType uint8
	// Marker is the RTP marker bit: set on the first packet of an event only.
	Marker bool
	// Timestamp is the RTP timestamp: the start of the event (or of the segment,
	// for events longer than 0xFFFF clock ticks), the same in every packet of it.
	Timestamp uint32
	// Payload is the RTP payload, Event marshalled.
	Payload [PayloadSize]byte
	// Event is the decoded form of Payload.
	Event Event
	// At is when the packet is due, as an offset from the first tick of the
	// current burst (the run of ticks since the Sender was last idle): the n-th
	// tick of a burst is at n×Ptime. A caller that ticks Next on its pacer can
	// ignore it; one that schedules ahead uses it.
	At time.Duration
}

// Sender produces the RFC 4733 packet sequence for queued DTMF events. It owns no
// goroutine and no timer: the caller's pacer calls Next once per packet interval
// and sends the packet it returns instead of an audio packet for that interval.
//
// For each event it produces, one per tick: a first packet with the marker bit,
// updates whose Duration grows by one packet interval, and the final packet (E
// bit, full duration) three times, all with the event's start timestamp. Events
// longer than 0xFFFF clock ticks (1.36 s at 48 kHz) are cut into segments as RFC
// 4733 §2.5.1.3 says. Between events it leaves Gap of silence (Next returns
// false, and the caller sends audio).
//
// A Sender is not safe for concurrent use.
type Sender struct {
	pt      uint8
	rate    int
	ptime   time.Duration
	perTick uint64 // clock ticks per packet interval
	gap     uint64 // clock ticks of silence after an event's tone ends

	queue []queued
	head  int

	state     senderState
	cur       queued
	length    uint64 // event length in clock ticks (shortened by Stop)
	ts0       uint32 // RTP timestamp of the event start
	k         uint64 // packet intervals since the event started
	segStart  uint64 // start of the current segment, in clock ticks after ts0
	copies    int    // copies of the end or segment-end packet sent so far
	nextStart uint64 // interval (counted like k) from which the next event may start
	burst     int    // ticks since the burst started
}

type senderState uint8

const (
	sIdle senderState = iota
	sTone
	sSegmentEnd
	sEnd
	sGap
)

type queued struct {
	code   uint8
	volume uint8
	length uint64 // clock ticks
}

// NewSender validates cfg and returns an idle Sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	pt := cfg.PayloadType
	if pt < 35 || pt > 127 || (pt >= 72 && pt <= 76) {
		return nil, fmt.Errorf("%w: %d", ErrPayloadType, pt)
	}
	rate := cfg.ClockRate
	if rate == 0 {
		rate = 8000
	}
	if rate < 1000 || rate > 192000 {
		return nil, fmt.Errorf("%w: %d Hz", ErrClockRate, rate)
	}
	ptime := cfg.Ptime
	if ptime == 0 {
		ptime = media.DefaultFrameDuration
	}
	perTick := media.SamplesPer(rate, ptime)
	if ptime < 0 || ptime > time.Second || perTick < 1 {
		return nil, fmt.Errorf("%w: %v", ErrPtime, ptime)
	}
	gap := cfg.Gap
	if gap <= 0 {
		gap = DefaultGap
	}
	return &Sender{
		pt:      pt,
		rate:    rate,
		ptime:   ptime,
		perTick: uint64(perTick),
		gap:     uint64(gap.Nanoseconds()) * uint64(rate) / uint64(time.Second),
	}, nil
}

// Send queues one key (see DigitCode) to be played for dur at volume (dB below
// 0 dBm0, 0-63; 10 is a common choice).
func (s *Sender) Send(digit rune, dur time.Duration, volume uint8) error {
	code, ok := DigitCode(digit)
	if !ok {
		return fmt.Errorf("%w: %q", ErrInvalidDigit, digit)
	}
	return s.SendCode(code, dur, volume)
}

// SendString queues every key of digits, or none if any is invalid.
func (s *Sender) SendString(digits string, dur time.Duration, volume uint8) error {
	for _, r := range digits {
		if _, ok := DigitCode(r); !ok {
			return fmt.Errorf("%w: %q in %q", ErrInvalidDigit, r, digits)
		}
	}
	for _, r := range digits {
		if err := s.Send(r, dur, volume); err != nil {
			return err
		}
	}
	return nil
}

// SendCode queues an event by its RFC 4733 code, including codes that are not
// keys.
func (s *Sender) SendCode(code uint8, dur time.Duration, volume uint8) error {
	if volume > MaxVolume {
		return fmt.Errorf("%w: %d (max %d)", ErrVolume, volume, MaxVolume)
	}
	length := uint64(dur.Nanoseconds()) * uint64(s.rate) / uint64(time.Second)
	if dur <= 0 || dur > time.Hour || length == 0 {
		return fmt.Errorf("%w: %v", ErrDuration, dur)
	}
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	}
	s.queue = append(s.queue, queued{code: code, volume: volume, length: length})
	return nil
}

// Busy reports whether the Sender has anything left to do: an event in progress,
// end packets to repeat, a gap to wait out, or queued events. While Busy is
// false, Next returns false without changing state.
func (s *Sender) Busy() bool { return s.state != sIdle || s.head < len(s.queue) }

// Stop drops the queued events and cuts the event in progress short: its final
// packets, reporting the duration sent so far, go out on the next ticks. The gap
// after it is still honoured.
func (s *Sender) Stop() {
	s.queue, s.head = s.queue[:0], 0
	switch s.state {
	case sTone:
		// End at the time reported so far (after a segment boundary, the time the
		// segment-end copies took).
		s.length = min(s.k*s.perTick, s.length)
	case sSegmentEnd:
		// The segment end already said 0xFFFF: repeat it as the event's end.
		s.length = s.segStart + maxSegment
		s.state = sEnd
		s.copies = 0
	}
}

// Next is called once per packet interval with ts, the RTP timestamp an audio
// packet sent at this tick would carry. It returns the telephone-event packet to
// send instead of audio, or false when the caller should send audio (or nothing)
// for this interval. ts is read only when an event starts: it becomes the event's
// timestamp. Next never allocates.
func (s *Sender) Next(ts uint32) (Packet, bool) {
	if !s.Busy() {
		s.burst = 0
		return Packet{}, false
	}
	at := time.Duration(s.burst) * s.ptime
	s.burst++
	i := s.k // index of this interval, counted from the event start
	s.k++

	if s.state == sGap {
		if i < s.nextStart {
			return Packet{}, false
		}
		s.state = sIdle
	}
	if s.state == sIdle {
		if s.head == len(s.queue) {
			s.burst = 0
			return Packet{}, false
		}
		s.cur = s.queue[s.head]
		s.head++
		s.state = sTone
		s.length = s.cur.length
		s.ts0 = ts
		i, s.k = 0, 1
		s.segStart = 0
	}

	switch s.state {
	case sSegmentEnd:
		s.copies++
		p := s.packet(Event{Code: s.cur.code, Volume: s.cur.volume, Duration: maxSegment}, false, at)
		if s.copies == endCopies {
			s.segStart += maxSegment
			s.state = sTone
		}
		return p, true
	case sEnd:
		s.copies++
		p := s.packet(s.endEvent(), false, at)
		if s.copies == endCopies {
			s.state = sGap
			// The gap counts from the end of the tone, rounded up to whole intervals,
			// and starts no earlier than the interval after the last copy.
			s.nextStart = max((s.length+s.gap+s.perTick-1)/s.perTick, i+1)
		}
		return p, true
	}

	// sTone: report the time elapsed up to the end of this packet interval.
	elapsed := min((i+1)*s.perTick, s.length)
	marker := i == 0
	if elapsed >= s.length {
		s.state = sEnd
		s.copies = 1
		return s.packet(s.endEvent(), marker, at), true
	}
	if elapsed-s.segStart >= maxSegment {
		// The segment is full: report exactly its maximum, without the E bit, three
		// times, then carry on in a new segment that starts where this one ended.
		s.state = sSegmentEnd
		s.copies = 1
		return s.packet(Event{Code: s.cur.code, Volume: s.cur.volume, Duration: maxSegment}, marker, at), true
	}
	ev := Event{Code: s.cur.code, Volume: s.cur.volume, Duration: uint16(elapsed - s.segStart)}
	return s.packet(ev, marker, at), true
}

func (s *Sender) endEvent() Event {
	return Event{Code: s.cur.code, End: true, Volume: s.cur.volume, Duration: uint16(s.length - s.segStart)}
}

func (s *Sender) packet(ev Event, marker bool, at time.Duration) Packet {
	p := Packet{
		PayloadType: s.pt,
		Marker:      marker,
		Timestamp:   s.ts0 + uint32(s.segStart),
		Event:       ev,
		At:          at,
	}
	ev.Marshal(p.Payload[:0])
	return p
}
