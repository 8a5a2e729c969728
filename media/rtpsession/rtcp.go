package rtpsession

import (
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// isRTCP tells RTCP from RTP on a shared socket (RFC 5761 section 4): the second byte
// of RTCP is its packet type, 192 to 223, which as RTP would be a marker bit and a
// payload type that RFC 5761 reserves.
func isRTCP(b []byte) bool { return len(b) >= 2 && b[1] >= 192 && b[1] <= 223 }

// rtcpInterval draws the next reporting interval, uniformly in [0.5, 1.5] of the
// configured one (RFC 3550 6.3.1), so that sessions started together do not report in
// lockstep. Called only by New and the tick.
func (s *Session) rtcpInterval() time.Duration {
	base := s.cfg.RTCPInterval
	f := 0.5 + float64(s.cfg.Rand.Uint64()>>11)/(1<<53)
	return time.Duration(float64(base) * f)
}

// maybeRTCP sends a report when one is due. Runs on the tick.
func (s *Session) maybeRTCP(now time.Time) {
	if s.rtcpNextDue.IsZero() || now.Before(s.rtcpNextDue) {
		return
	}
	s.rtcpNextDue = now.Add(s.rtcpInterval())
	// The report's times are read from the clock, not taken from the tick's deadline:
	// a tick may run late on a loaded machine, and LSR/DLSR must say when the report
	// really left, or the peer's round-trip time absorbs the lateness.
	s.sendRTCP(s.buildReport(time.Now(), false))
}

// buildReport makes a compound packet: a sender report (we always send, silence
// included) with a reception block about the latched source, our CNAME, and a BYE when
// leaving.
func (s *Session) buildReport(now time.Time, bye bool) []rtcp.Packet {
	s.sendMu.Lock()
	sr := &rtcp.SenderReport{
		SSRC:        s.ssrc,
		NTPTime:     ntpTime(now),
		PacketCount: uint32(s.stats.packetsSent.Load()),
		OctetCount:  uint32(s.stats.bytesSent.Load()),
	}
	if s.lastSendAt.IsZero() {
		sr.RTPTime = s.ts
	} else {
		// The timestamp the media clock shows at now.
		sr.RTPTime = s.lastSendTS + uint32(now.Sub(s.lastSendAt)*time.Duration(s.cfg.Codec.ClockRate())/time.Second)
	}
	s.sendMu.Unlock()

	s.rxMu.Lock()
	if s.rxLatched && s.rx.started {
		fraction, lost, ext, jitter := s.rx.reportBlock()
		rr := rtcp.ReceptionReport{
			SSRC:               s.rxSSRC,
			FractionLost:       fraction,
			TotalLost:          lost,
			LastSequenceNumber: ext,
			Jitter:             jitter,
		}
		if !s.lastSRAt.IsZero() {
			rr.LastSenderReport = s.lastSRMid
			rr.Delay = durationToNTPShort(now.Sub(s.lastSRAt))
		}
		sr.Reports = []rtcp.ReceptionReport{rr}
	}
	s.rxMu.Unlock()

	pkts := []rtcp.Packet{sr, rtcp.NewCNAMESourceDescription(s.ssrc, s.cfg.CNAME)}
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	return pkts
}

// rtcpOut is the socket RTCP leaves on, nil when RTCP is not sent.
func (s *Session) rtcpOut() net.PacketConn {
	switch {
	case s.rtcpConn != nil:
		return s.rtcpConn
	case s.cfg.RTCPMux:
		return s.conn
	}
	return nil
}

func (s *Session) sendRTCP(pkts []rtcp.Packet) {
	conn := s.rtcpOut()
	dst := s.rtcpRemote.Load()
	if conn == nil || dst == nil {
		return
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		s.log.Debug("rtpsession: marshal RTCP", "err", err)
		return
	}
	if sp := s.srtp.Load(); sp != nil {
		if b, err = sp.out.protectRTCP(b); err != nil {
			s.log.Debug("rtpsession: protect RTCP", "err", err)
			s.stats.sendErrors.Add(1)
			return
		}
	}
	if _, err := conn.WriteTo(b, dst.addr); err != nil {
		s.stats.sendErrors.Add(1)
		return
	}
	s.stats.rtcpSent.Add(1)
}

// sendBye sends the final report with a BYE.
func (s *Session) sendBye() { s.sendRTCP(s.buildReport(time.Now(), true)) }

// handleRTCP processes one compound RTCP packet from src. Runs on a reader goroutine.
func (s *Session) handleRTCP(b []byte, ap netip.AddrPort, addr net.Addr, now time.Time) {
	if sp := s.srtp.Load(); sp != nil {
		var res srtpResult
		if b, res = sp.in.unprotectRTCP(b); res != srtpOK {
			s.countSRTPDrop(res)
			s.stats.rtcpDropped.Add(1)
			return
		}
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		s.stats.rtcpDropped.Add(1)
		return
	}
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if !s.rtcpSourceOK(ap, addr) {
		s.stats.rtcpDropped.Add(1)
		return
	}
	s.stats.rtcpReceived.Add(1)
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			if s.rxLatched && p.SSRC == s.rxSSRC {
				s.lastSRMid = uint32(p.NTPTime >> 16)
				s.lastSRAt = now
			}
			s.absorbReports(p.Reports, now)
		case *rtcp.ReceiverReport:
			s.absorbReports(p.Reports, now)
		case *rtcp.Goodbye:
			for _, src := range p.Sources {
				if s.rxLatched && src == s.rxSSRC {
					s.remoteRR.bye = true
				}
			}
		}
	}
}

// rtcpSourceOK accepts RTCP from the latched RTP source's host (any port: RTCP comes
// from port+1, or from the RTP port with rtcp-mux) or, before latching, from anywhere
// LatchFirst would latch. With LatchFirst the first accepted RTCP source becomes the
// RTCP destination (symmetric RTCP). Called with rxMu held.
func (s *Session) rtcpSourceOK(ap netip.AddrPort, addr net.Addr) bool {
	var host netip.Addr
	if ap.IsValid() {
		host = ap.Addr()
	}
	ref := s.rxSource
	if ref == nil && s.cfg.Latch == LatchStrict {
		ref = s.remote.Load()
	}
	if ref != nil && host.IsValid() && ref.ap.IsValid() && ref.ap.Addr() != host {
		return false
	}
	if s.cfg.Latch == LatchFirst && s.rtcpSource == nil && s.rtcpOut() != nil {
		var p *peer
		if ap.IsValid() {
			p = &peer{ap: ap, addr: net.UDPAddrFromAddrPort(ap)}
		} else if addr != nil {
			p = &peer{addr: addr}
		}
		if p != nil {
			s.rtcpSource = p
			s.rtcpRemote.Store(p)
		}
	}
	return true
}

// absorbReports takes the reception blocks about our SSRC: the remote's view of loss
// and jitter, and the round-trip time from LSR and DLSR (RFC 3550 6.4.1). Called with
// rxMu held.
func (s *Session) absorbReports(reports []rtcp.ReceptionReport, now time.Time) {
	for _, r := range reports {
		if r.SSRC != s.ssrc {
			continue
		}
		s.remoteRR.fraction = float64(r.FractionLost) / 256
		lost := int64(r.TotalLost & 0xffffff)
		if lost&0x800000 != 0 { // 24-bit signed
			lost -= 1 << 24
		}
		s.remoteRR.lost = lost
		s.remoteRR.jitter = r.Jitter
		if r.LastSenderReport != 0 {
			rtt := ntpMiddle(now) - r.LastSenderReport - r.Delay
			if int32(rtt) >= 0 {
				s.remoteRR.rtt = ntpShortToDuration(rtt)
			}
		}
	}
}
