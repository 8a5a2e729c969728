package rtpsession

import (
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// ssrcSwitchSilence is how long the latched SSRC must have been silent before the
// same source address may switch to a new SSRC (a PBX re-bridging, a media server
// restarting a stream). While the latched stream is live, other SSRCs are dropped.
const ssrcSwitchSilence = 500 * time.Millisecond

// rxPacket is the reader goroutine's reused parse target. Its CSRC and extension
// slices keep their capacity across packets, so parsing does not allocate.
type rxPacket struct{ rtp.Packet }

// handleDatagram classifies one datagram from the RTP socket and routes it: RTCP to
// handleRTCP, telephone-event to the DTMF receiver, audio to the jitter buffer;
// anything else is dropped and counted. Runs on the reader goroutine; never panics on
// any input (see FuzzReceive).
func (s *Session) handleDatagram(b []byte, ap netip.AddrPort, addr net.Addr, now time.Time) {
	if len(b) < 12 || b[0]>>6 != 2 {
		s.stats.droppedGarbage.Add(1)
		return
	}
	if isRTCP(b) {
		s.handleRTCP(b, ap, addr, now)
		return
	}
	if sp := s.srtp.Load(); sp != nil {
		// Authenticate before anything else: only a packet from the keyed peer may
		// latch, count or play.
		var res srtpResult
		if b, res = sp.in.unprotectRTP(b); res != srtpOK {
			s.countSRTPDrop(res)
			return
		}
	}
	pkt := &s.rxPkt.Packet
	if err := pkt.Unmarshal(b); err != nil {
		s.stats.droppedGarbage.Add(1)
		return
	}
	pt := pkt.PayloadType
	audio := pt == s.cfg.pt
	event := !audio && s.cfg.TelephoneEventPT != 0 && pt == s.cfg.TelephoneEventPT
	if !audio && !event {
		s.stats.droppedPayloadType.Add(1)
		return
	}

	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if !s.acceptSourceLocked(ap, addr, pkt.SSRC, now) {
		return
	}
	s.rxLastAt = now
	s.lastRecv.Store(int64(now.Sub(s.start)))
	s.stats.packetsReceived.Add(1)
	s.stats.bytesReceived.Add(uint64(len(pkt.Payload)))

	// Events share the stream's sequence space: they count as received for the loss
	// statistics (RFC 3550 A.3) like audio, or every telephone-event packet would be
	// reported lost. The DTMF receiver does its own duplicate handling.
	verdict := s.rx.update(pkt.SequenceNumber)
	if event {
		s.stats.eventsReceived.Add(1)
		n, err := s.dtmfIn.receive(pkt, now)
		if err != nil {
			s.stats.droppedGarbage.Add(1) // a malformed event payload
		}
		s.stats.dtmfReceived.Add(uint64(n))
		return
	}
	switch verdict {
	case seqDuplicate:
		return
	case seqJump:
		s.stats.droppedSequence.Add(1)
		return
	}
	// Arrival in timestamp units since the session started; only differences matter.
	arrival := uint32(uint64(now.Sub(s.start)) * uint64(s.cfg.Codec.ClockRate()) / uint64(time.Second))
	s.rx.updateJitter(arrival, pkt.Timestamp)
	if late := s.playout.push(pkt, now); late {
		s.stats.late.Add(1)
	}
}

// acceptSourceLocked applies the latching rules (see Latch) and counts what it drops.
// Called with rxMu held.
func (s *Session) acceptSourceLocked(ap netip.AddrPort, addr net.Addr, ssrc uint32, now time.Time) bool {
	if s.cfg.Latch == LatchStrict {
		if r := s.remote.Load(); r == nil || !r.matches(ap, addr) {
			s.stats.droppedSource.Add(1)
			return false
		}
	}
	if !s.rxLatched {
		s.latchLocked(ap, addr, ssrc)
		return true
	}
	if !s.rxSource.matches(ap, addr) {
		s.stats.droppedSource.Add(1)
		return false
	}
	if ssrc != s.rxSSRC {
		if now.Sub(s.rxLastAt) < ssrcSwitchSilence {
			s.stats.droppedSSRC.Add(1)
			return false
		}
		// The old stream stopped and a new one started from the same address.
		s.log.Debug("rtpsession: remote SSRC changed", "old", s.rxSSRC, "new", ssrc)
		s.latchLocked(ap, addr, ssrc)
	}
	return true
}

func (s *Session) latchLocked(ap netip.AddrPort, addr net.Addr, ssrc uint32) {
	p := &peer{ap: ap, addr: addr}
	if ap.IsValid() && addr == nil {
		p.addr = net.UDPAddrFromAddrPort(ap)
	}
	if s.rxSource == nil || !s.rxSource.matches(ap, addr) {
		s.rxSource = p
		if s.cfg.Latch == LatchFirst {
			s.remote.Store(p) // symmetric RTP: answer where the media comes from
		}
	}
	if !s.rxEver || ssrc != s.rxSSRC {
		// A new stream: its sequence, timing and events start afresh.
		s.rx.reset()
		s.playout.reset()
		s.dtmfIn.reset()
		s.lastSRAt = time.Time{}
	}
	s.rxSSRC = ssrc
	s.rxLatched, s.rxEver = true, true
}
