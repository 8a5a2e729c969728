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

// dtmfIn turns received telephone-event packets into digits with a dtmf.Receiver,
// which identifies each key press by its RTP timestamp, so repeated end packets,
// duplicates and reordering give one digit per press. A digit is delivered when the
// press ends (its first end packet, or the receiver's timeout when every end packet
// was lost), with its duration. Guarded by Session.rxMu.
type dtmfIn struct {
	rcv   *dtmf.Receiver
	out   *digitQueue
	rep   []dtmf.Received // reused report buffer
	start time.Time       // arrival of the current press's first packet
}

func newDTMFIn(cfg *settings, out *digitQueue) (*dtmfIn, error) {
	rcv, err := dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: cfg.TelephoneEventClockRate})
	if err != nil {
		return nil, err
	}
	return &dtmfIn{rcv: rcv, out: out, rep: make([]dtmf.Received, 0, 4)}, nil
}

func (d *dtmfIn) reset() { d.rcv.Reset() }

// receive processes one telephone-event packet and returns how many digits it
// delivered, or an error for a malformed payload.
func (d *dtmfIn) receive(pkt *rtp.Packet, now time.Time) (int, error) {
	var err error
	d.rep, err = d.rcv.Receive(d.rep[:0], now, pkt.SequenceNumber, pkt.Timestamp, pkt.Marker, pkt.Payload)
	return d.deliver(now), err
}

// expire ends a press whose end packets were all lost.
func (d *dtmfIn) expire(now time.Time) int {
	d.rep = d.rcv.Tick(d.rep[:0], now)
	return d.deliver(now)
}

func (d *dtmfIn) deliver(now time.Time) int {
	n := 0
	for _, r := range d.rep {
		switch {
		case r.Kind == dtmf.DigitStart:
			d.start = now
		case r.Kind == dtmf.DigitEnd && r.Digit != 0:
			d.out.push(Digit{Digit: r.Digit, Duration: r.Duration, Volume: int(r.Volume), At: d.start})
			n++
		}
	}
	return n
}
