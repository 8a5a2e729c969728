package rtpsession

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
)

// DefaultDTMFDuration and DefaultDTMFVolume are used by SendDTMF for zero arguments.
const (
	DefaultDTMFDuration = 100 * time.Millisecond
	DefaultDTMFVolume   = 10
)

// dtmfOut drives a dtmf.Sender from the pacer. Guarded by Session.sendMu.
type dtmfOut struct {
	sender *dtmf.Sender
	done   chan struct{} // closed when the current SendDTMF's events are all sent
}

func newDTMFOut(cfg *settings) (*dtmfOut, error) {
	snd, err := dtmf.NewSender(dtmf.SenderConfig{
		PayloadType: cfg.TelephoneEventPT,
		ClockRate:   cfg.TelephoneEventClockRate,
		Ptime:       cfg.PTime,
	})
	if err != nil {
		return nil, err
	}
	return &dtmfOut{sender: snd}, nil
}

// SendDTMF sends digits as RFC 4733 events on the same SSRC and sequence as the
// audio, one event per digit, each lasting duration (zero means 100 ms) at volume
// dB below 0 dBm0 (zero means 10; at most 63), with the dtmf package's default gap
// between digits. Queued audio is held back while an event is on the wire and plays
// on afterwards. It returns when the last end packet has been sent, or ctx's error
// after cutting the event in progress short (its end packets still go out). Only one
// SendDTMF runs at a time: a concurrent call returns ErrDTMFBusy.
func (s *Session) SendDTMF(ctx context.Context, digits string, duration time.Duration, volume int) error {
	if s.dtmfOut == nil {
		return ErrNoDTMF
	}
	if duration == 0 {
		duration = DefaultDTMFDuration
	}
	if volume == 0 {
		volume = DefaultDTMFVolume
	}
	if volume < 0 || volume > dtmf.MaxVolume {
		return fmt.Errorf("rtpsession: send DTMF: %w: %d", dtmf.ErrVolume, volume)
	}
	if digits == "" {
		return nil
	}
	s.sendMu.Lock()
	if s.isClosed() {
		s.sendMu.Unlock()
		return fmt.Errorf("rtpsession: send DTMF: %w", media.ErrClosed)
	}
	if s.dtmfOut.done != nil || s.dtmfOut.sender.Busy() {
		s.sendMu.Unlock()
		return ErrDTMFBusy
	}
	if err := s.dtmfOut.sender.SendString(digits, duration, uint8(volume)); err != nil {
		s.sendMu.Unlock()
		return fmt.Errorf("rtpsession: send DTMF: %w", err)
	}
	done := make(chan struct{})
	s.dtmfOut.done = done
	s.sendMu.Unlock()

	select {
	case <-done:
		return nil
	case <-s.closed:
		return fmt.Errorf("rtpsession: send DTMF: %w", media.ErrClosed)
	case <-ctx.Done():
		s.sendMu.Lock()
		if s.dtmfOut.done == done {
			s.dtmfOut.sender.Stop()
		}
		s.sendMu.Unlock()
		return ctx.Err()
	}
}

// tick sends the event packet due now, if any, and reports whether it did (the audio
// packet for this interval is then suppressed). Called with sendMu held.
func (d *dtmfOut) tick(s *Session, deadline time.Time) bool {
	p, ok := d.sender.Next(s.ts)
	if !ok {
		d.finishIfIdle()
		return false
	}
	buf := s.header(p.PayloadType, p.Marker, p.Timestamp)
	buf = append(buf, p.Payload[:]...)
	if s.writeRTP(buf, deadline) {
		s.stats.dtmfSent.Add(1)
	}
	d.finishIfIdle()
	return true
}

func (d *dtmfOut) finishIfIdle() {
	if d.done != nil && !d.sender.Busy() {
		close(d.done)
		d.done = nil
	}
}

// dtmfIn turns received telephone-event packets into digits, each delivered once:
// an event is identified by its RTP timestamp (RFC 4733 2.5.2.1), so the repeated end
// packets and retransmissions of an event already delivered are ignored. A digit is
// delivered at its first end packet; if every end packet is lost, when the next event
// starts or when no packet of it has arrived for dtmfEndTimeout. Guarded by
// Session.rxMu.
type dtmfIn struct {
	cfg   *settings
	out   *digitQueue
	ev    dtmf.Event
	cur   bool // an event is in progress
	curTS uint32
	start time.Time
	last  time.Time // arrival of the newest packet of the current event
	done  bool      // the event at doneTS was delivered
	doneT uint32
}

// dtmfEndTimeout ends an event whose end packets were all lost.
const dtmfEndTimeout = 250 * time.Millisecond

func newDTMFIn(cfg *settings, out *digitQueue) *dtmfIn { return &dtmfIn{cfg: cfg, out: out} }

func (d *dtmfIn) reset() { *d = dtmfIn{cfg: d.cfg, out: d.out} }

// receive processes one telephone-event packet and returns how many digits it
// delivered.
func (d *dtmfIn) receive(pkt *rtp.Packet, now time.Time) int {
	var ev dtmf.Event
	if err := ev.Unmarshal(pkt.Payload); err != nil {
		if len(pkt.Payload) < dtmf.PayloadSize || len(pkt.Payload)%dtmf.PayloadSize != 0 {
			return 0
		}
		// Several blocks: a non-conformant sender; the first one is the event.
		if ev.Unmarshal(pkt.Payload[:dtmf.PayloadSize]) != nil {
			return 0
		}
	}
	ts := pkt.Timestamp
	if d.done && int32(ts-d.doneT) <= 0 {
		return 0 // a repeat of an event already delivered, or older still
	}
	if d.cur && ev.Code == d.ev.Code && d.ev.Duration == 0xFFFF && ts == d.curTS+0xFFFF {
		// The next segment of a long event (RFC 4733 2.5.1.3): same event.
		d.curTS = ts
		d.ev.Duration = 0
	}
	n := 0
	if d.cur && ts != d.curTS {
		n += d.deliver() // the previous event's end packets were lost
	}
	if !d.cur {
		d.cur, d.curTS, d.start = true, ts, now
	}
	d.last = now
	if ev.Duration >= d.ev.Duration || ev.Code != d.ev.Code {
		d.ev = ev
	}
	if ev.End {
		n += d.deliver()
	}
	return n
}

// expire delivers an event that stopped without an end packet.
func (d *dtmfIn) expire(now time.Time) int {
	if d.cur && now.Sub(d.last) >= dtmfEndTimeout {
		return d.deliver()
	}
	return 0
}

func (d *dtmfIn) deliver() int {
	ev := d.ev
	d.cur, d.done, d.doneT = false, true, d.curTS
	d.ev = dtmf.Event{}
	r, ok := dtmf.CodeDigit(ev.Code)
	if !ok {
		return 0 // not a key (modem or fax tone events): nothing to deliver
	}
	d.out.push(Digit{
		Digit:    r,
		Duration: time.Duration(ev.Duration) * time.Second / time.Duration(d.cfg.TelephoneEventClockRate),
		Volume:   int(ev.Volume),
		At:       d.start,
	})
	return 1
}
