package rtpsession

import (
	"sync/atomic"
	"time"
)

// counters are updated by the reader and pacing goroutines without locks.
type counters struct {
	packetsSent, bytesSent                 atomic.Uint64
	packetsReceived, bytesReceived         atomic.Uint64
	late, concealed                        atomic.Uint64
	droppedSource, droppedSSRC             atomic.Uint64
	droppedGarbage, droppedPayloadType     atomic.Uint64
	droppedSequence                        atomic.Uint64
	silenceSent, underruns, skippedTicks   atomic.Uint64
	suppressed                             atomic.Uint64
	cleared, sendErrors, readErrors        atomic.Uint64
	readOverruns                           atomic.Uint64
	rtcpSent, rtcpReceived, rtcpDropped    atomic.Uint64
	dtmfSent, dtmfReceived, eventsReceived atomic.Uint64
	srtpAuthFailures, srtpReplays          atomic.Uint64
}

// Stats is a snapshot of a session's counters. Packet counts are RTP packets, byte
// counts are RTP payload octets (as in RTCP sender reports).
type Stats struct {
	// SSRC is ours; RemoteSSRC is the latched remote source (0 before latching).
	SSRC, RemoteSSRC uint32

	// PacketsSent and BytesSent count RTP packets (audio, silence and events) sent.
	PacketsSent, BytesSent uint64
	// SilenceSent counts packets of filler silence sent because the playout queue was
	// empty; Underruns counts packets padded because it ran short mid-packet.
	SilenceSent, Underruns uint64
	// Suppressed counts packet times not sent because sending was off (SetSending).
	Suppressed uint64
	// SkippedTicks counts packets not sent because the clock fell more than a few
	// ptimes behind (timestamps jump over them).
	SkippedTicks uint64
	// SamplesCleared counts queued samples discarded by Clear.
	SamplesCleared uint64
	// SendErrors counts packets the socket refused.
	SendErrors uint64
	// DTMFSent counts RFC 4733 event packets sent.
	DTMFSent uint64

	// PacketsReceived and BytesReceived count accepted RTP packets (audio and events),
	// duplicates included.
	PacketsReceived, BytesReceived uint64
	// Expected is the number of packets the remote sent by sequence number (RFC 3550
	// A.3) and Lost how many of them never arrived (cumulative number of packets lost).
	Expected uint64
	Lost     int64
	// Duplicates counts packets received twice; Late counts packets that arrived
	// after their playout time; Concealed counts frames synthesised for missing audio.
	Duplicates, Late, Concealed uint64
	// DroppedSource counts packets from an address other than the latched one,
	// DroppedSSRC packets from the latched address with another SSRC, DroppedGarbage
	// datagrams that are not valid RTP or RTCP, DroppedPayloadType RTP packets of a
	// payload type not negotiated, and DroppedSequence packets far out of sequence.
	DroppedSource, DroppedSSRC, DroppedGarbage, DroppedPayloadType, DroppedSequence uint64
	// ReadErrors counts socket read errors other than closing.
	ReadErrors uint64
	// ReadOverruns counts decoded frames overwritten because nobody called ReadFrame.
	ReadOverruns uint64
	// DTMFReceived counts digits delivered; EventPacketsReceived counts RFC 4733 packets;
	// DTMFDropped counts digits dropped because 4096 were waiting unread.
	DTMFReceived, EventPacketsReceived, DTMFDropped uint64

	// Jitter is the interarrival jitter of the received stream (RFC 3550 A.8) in
	// timestamp units; JitterDuration is the same in time.
	Jitter         uint32
	JitterDuration time.Duration
	// JitterBufferDepth is how much audio the jitter buffer holds.
	JitterBufferDepth time.Duration
	// QueueDepth is how much audio waits in the playout queue.
	QueueDepth time.Duration

	// RTT is the round-trip time from the last RTCP receiver report about our stream
	// (RFC 3550 6.4.1), zero until one arrives.
	RTT time.Duration
	// RemoteFractionLost, RemoteLost and RemoteJitter are what the remote last reported
	// about our stream: fraction lost in [0, 1], cumulative packets lost and jitter in
	// timestamp units.
	RemoteFractionLost float64
	RemoteLost         int64
	RemoteJitter       uint32
	// RTCPSent, RTCPReceived and RTCPDropped count compound RTCP packets.
	RTCPSent, RTCPReceived, RTCPDropped uint64
	// RemoteBye is set once the remote source sent an RTCP BYE.
	RemoteBye bool

	// SRTP is the SRTP protection profile in use, zero for plain RTP.
	SRTP SRTPProfile
	// SRTPAuthFailures counts received RTP and RTCP packets dropped because they did
	// not authenticate under the remote key (a wrong key, tampering, plain RTP or
	// RTCP, or packets still in flight under an old key after SetSRTP; RTCP ones are
	// also in RTCPDropped); SRTPReplays counts
	// packets dropped because one with the same index was already received, or it is
	// older than the replay window of 128 packets.
	SRTPAuthFailures, SRTPReplays uint64
}

// remoteReport is what the remote's last reception report said about our stream.
type remoteReport struct {
	rtt      time.Duration
	fraction float64
	lost     int64
	jitter   uint32
	bye      bool
}

// Stats returns a snapshot of the session's counters. Safe for concurrent use.
func (s *Session) Stats() Stats {
	c := &s.stats
	st := Stats{
		SSRC:                 s.ssrc,
		PacketsSent:          c.packetsSent.Load(),
		BytesSent:            c.bytesSent.Load(),
		SilenceSent:          c.silenceSent.Load(),
		Suppressed:           c.suppressed.Load(),
		Underruns:            c.underruns.Load(),
		SkippedTicks:         c.skippedTicks.Load(),
		SamplesCleared:       c.cleared.Load(),
		SendErrors:           c.sendErrors.Load(),
		DTMFSent:             c.dtmfSent.Load(),
		PacketsReceived:      c.packetsReceived.Load(),
		BytesReceived:        c.bytesReceived.Load(),
		Late:                 c.late.Load(),
		Concealed:            c.concealed.Load(),
		DroppedSource:        c.droppedSource.Load(),
		DroppedSSRC:          c.droppedSSRC.Load(),
		DroppedGarbage:       c.droppedGarbage.Load(),
		DroppedPayloadType:   c.droppedPayloadType.Load(),
		DroppedSequence:      c.droppedSequence.Load(),
		ReadErrors:           c.readErrors.Load(),
		ReadOverruns:         c.readOverruns.Load(),
		DTMFReceived:         c.dtmfReceived.Load(),
		EventPacketsReceived: c.eventsReceived.Load(),
		RTCPSent:             c.rtcpSent.Load(),
		RTCPReceived:         c.rtcpReceived.Load(),
		RTCPDropped:          c.rtcpDropped.Load(),
		DTMFDropped:          s.digits.dropped.Load(),
		QueueDepth:           s.QueueDepth(),
		SRTP:                 s.SRTPProfile(),
		SRTPAuthFailures:     c.srtpAuthFailures.Load(),
		SRTPReplays:          c.srtpReplays.Load(),
	}
	s.rxMu.Lock()
	if s.rxLatched {
		st.RemoteSSRC = s.rxSSRC
	}
	st.Expected = s.rx.expected()
	st.Lost = s.rx.lost()
	st.Duplicates = s.rx.dups
	st.Jitter = uint32(s.rx.jitter)
	st.JitterBufferDepth = s.playout.depth()
	r := s.remoteRR
	s.rxMu.Unlock()
	st.JitterDuration = time.Duration(uint64(st.Jitter) * uint64(time.Second) / uint64(s.cfg.Codec.ClockRate()))
	st.RTT = r.rtt
	st.RemoteFractionLost = r.fraction
	st.RemoteLost = r.lost
	st.RemoteJitter = r.jitter
	st.RemoteBye = r.bye
	return st
}
