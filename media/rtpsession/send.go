package rtpsession

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// playoutWaiter is one WaitPlayout call waiting for the pacer to reach target.
type playoutWaiter struct {
	target uint64
	done   chan struct{}
	err    error
}

// WriteFrame queues f for paced playout. It copies the samples (f may be reused once
// it returns) and returns as soon as they are queued, so a producer may run faster than
// real time; when the queue is full (Config.QueueDuration) it blocks until the pacer
// frees room, which paces the producer. Frames of any length are accepted: the pacer
// cuts the queued audio into packets of exactly ptime. It returns an error wrapping
// media.ErrRateMismatch for a frame not at SampleRate, and media.ErrClosed once the
// session is closed. Safe for concurrent use, though concurrent writers interleave
// whole chunks in no defined order.
func (s *Session) WriteFrame(f media.Frame) error {
	if f.SampleRate != s.cfg.Codec.SampleRate() {
		return fmt.Errorf("rtpsession: write %d Hz frame to %d Hz session: %w",
			f.SampleRate, s.cfg.Codec.SampleRate(), media.ErrRateMismatch)
	}
	p := f.Samples
	for {
		s.sendMu.Lock()
		if s.isClosed() {
			s.sendMu.Unlock()
			return fmt.Errorf("rtpsession: write: %w", media.ErrClosed)
		}
		n := s.queue.write(p)
		s.written += uint64(n)
		s.sendMu.Unlock()
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
		select {
		case <-s.space:
		case <-s.closed:
		}
	}
}

// Clear discards all queued audio at once (barge-in). The packet the pacer sends next
// is silence, so playout stops within one ptime. Pending WaitPlayout calls whose audio
// was discarded return ErrCleared. Clear does not stop a producer that keeps calling
// WriteFrame; stop it first.
func (s *Session) Clear() {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.queue.n > 0 {
		s.stats.cleared.Add(uint64(s.queue.n))
	}
	s.queue.reset()
	s.consumed = s.written
	s.releaseWaitersLocked(ErrCleared)
	s.signalSpace()
}

// QueueDepth reports how much audio is queued for playout and not yet sent.
func (s *Session) QueueDepth() time.Duration {
	s.sendMu.Lock()
	n := s.queue.n
	s.sendMu.Unlock()
	return time.Duration(n) * time.Second / time.Duration(s.cfg.Codec.SampleRate())
}

// WaitPlayout waits until every sample queued before the call has been sent. It
// returns nil once they have been, ErrCleared if Clear discarded some of them,
// media.ErrClosed if the session closed first, or ctx's error.
func (s *Session) WaitPlayout(ctx context.Context) error {
	s.sendMu.Lock()
	if s.isClosed() {
		s.sendMu.Unlock()
		return fmt.Errorf("rtpsession: wait playout: %w", media.ErrClosed)
	}
	if s.consumed >= s.written {
		s.sendMu.Unlock()
		return nil
	}
	w := &playoutWaiter{target: s.written, done: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.sendMu.Unlock()
	select {
	case <-w.done:
		if w.err != nil {
			return fmt.Errorf("rtpsession: wait playout: %w", w.err)
		}
		return nil
	case <-ctx.Done():
		s.sendMu.Lock()
		for i, x := range s.waiters {
			if x == w {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				break
			}
		}
		s.sendMu.Unlock()
		return ctx.Err()
	}
}

// releaseWaitersLocked ends every pending WaitPlayout with err.
func (s *Session) releaseWaitersLocked(err error) {
	for i, w := range s.waiters {
		w.err = err
		close(w.done)
		s.waiters[i] = nil
	}
	s.waiters = s.waiters[:0]
}

// releasePlayedLocked ends the WaitPlayout calls whose audio has all been sent.
func (s *Session) releasePlayedLocked() {
	keep := s.waiters[:0]
	for _, w := range s.waiters {
		if s.consumed >= w.target {
			close(w.done)
			continue
		}
		keep = append(keep, w)
	}
	for i := len(keep); i < len(s.waiters); i++ {
		s.waiters[i] = nil
	}
	s.waiters = keep
}

func (s *Session) signalSpace() {
	select {
	case s.space <- struct{}{}:
	default:
	}
}

// sendTick sends the one packet due at deadline (see sendPacket) and then shows its
// audio to Config.OnSent, outside the send lock.
func (s *Session) sendTick(deadline time.Time, skipped int) {
	ts, flags := s.sendPacket(deadline, skipped)
	if s.cfg.OnSent != nil {
		// s.pcm is only touched on this goroutine, so it stays valid without the lock.
		s.cfg.OnSent(media.Frame{Samples: s.pcm, SampleRate: s.cfg.Codec.SampleRate(), Timestamp: ts, Flags: flags})
	}
}

// sendPacket sends the one packet due at deadline: an RFC 4733 event packet while an
// event is being sent (audio is held back meanwhile), otherwise the next ptime of
// queued audio, padded with silence when the queue runs short. It leaves in s.pcm the
// audio of that ptime (silence during an event) and returns its RTP timestamp and
// frame flags.
func (s *Session) sendPacket(deadline time.Time, skipped int) (uint32, media.FrameFlags) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if skipped > 0 {
		// The clock stalled: keep timestamps in step with real time.
		s.ts += uint32(skipped) * s.cfg.tsPerFrame
		s.stats.skippedTicks.Add(uint64(skipped))
	}
	ts := s.ts
	if s.dtmfOut != nil && s.dtmfOut.tick(s, deadline) {
		s.ts += s.cfg.tsPerFrame
		clear(s.pcm)
		return ts, media.FlagSilence
	}
	n := s.queue.read(s.pcm)
	flags := media.FlagRTP
	if n < len(s.pcm) {
		clear(s.pcm[n:])
		if n == 0 {
			flags |= media.FlagSilence
		}
	}
	if s.muted.Load() {
		// Not sending (the peer does not receive: it put us on hold). Queued audio is
		// consumed at the real-time pace all the same, so writers and WaitPlayout
		// behave as if it played, and timestamps stay continuous for when sending
		// resumes; the marker bit flags that resumption.
		s.ts += s.cfg.tsPerFrame
		s.marker = true
		s.stats.suppressed.Add(1)
		if n > 0 {
			s.consumed += uint64(n)
			s.releasePlayedLocked()
			s.signalSpace()
		}
		return ts, flags &^ media.FlagRTP
	}
	if n < len(s.pcm) {
		if n == 0 {
			s.stats.silenceSent.Add(1)
		} else {
			s.stats.underruns.Add(1)
		}
	}
	buf := s.header(s.cfg.pt, s.marker, s.ts)
	buf = s.enc.Encode(buf, s.pcm)
	if s.writeRTP(buf, deadline) {
		s.marker = false
	}
	s.ts += s.cfg.tsPerFrame
	if n > 0 {
		// After the write, so that WaitPlayout returns once the audio is on the wire.
		s.consumed += uint64(n)
		s.releasePlayedLocked()
		s.signalSpace()
	}
	return ts, flags
}

// SetSending stops (false) or resumes (true) sending RTP, for while the remote party
// does not want media (a=recvonly or a=inactive from its side: it put us on hold).
// The playout queue keeps draining at the real-time pace while sending is off.
func (s *Session) SetSending(on bool) { s.muted.Store(!on) }

// header marshals the RTP header for the next packet into s.pkt and returns it, ready
// for the payload to be appended.
func (s *Session) header(pt uint8, marker bool, ts uint32) []byte {
	s.hdr.PayloadType = pt
	s.hdr.Marker = marker
	s.hdr.SequenceNumber = s.seq
	s.hdr.Timestamp = ts
	n, _ := s.hdr.MarshalTo(s.pkt[:cap(s.pkt)]) // 12 bytes always fit
	return s.pkt[:n]
}

// writeRTP sends one packet built by header and advances the sequence number. With no
// destination known yet nothing is sent and the sequence number stays.
func (s *Session) writeRTP(buf []byte, deadline time.Time) bool {
	if cap(buf) > cap(s.pkt) {
		s.pkt = buf[:0] // the encoder grew the buffer: keep the larger one
	}
	p := s.remote.Load()
	if p == nil {
		return false
	}
	payload := len(buf) - 12
	var err error
	if sp := s.srtp.Load(); sp != nil {
		// Encrypted in place: the tag fits in the room s.pkt keeps beyond any payload.
		if buf, err = sp.out.protectRTP(buf); err != nil {
			s.seq++
			s.stats.sendErrors.Add(1)
			return false
		}
		if cap(buf) > cap(s.pkt) {
			s.pkt = buf[:0]
		}
	}
	if s.udp != nil && p.ap.IsValid() {
		_, err = s.udp.WriteToUDPAddrPort(buf, p.ap)
	} else {
		_, err = s.conn.WriteTo(buf, p.addr)
	}
	s.seq++
	if err != nil {
		// A send error (no route, ICMP unreachable reported on the socket) loses
		// this packet only; the stream goes on.
		s.stats.sendErrors.Add(1)
		return false
	}
	s.stats.packetsSent.Add(1)
	s.stats.bytesSent.Add(uint64(payload))
	s.lastSendAt = deadline
	s.lastSendTS = s.ts // the media clock now, also during an event
	return true
}
