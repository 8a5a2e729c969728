// Package rtpsession is the RTP media session of a call: it sends paced audio and
// RFC 4733 events to the remote party and receives, de-jitters, decodes and conceals
// theirs, with RTCP reports, symmetric RTP latching and media inactivity detection.
//
// # Overview
//
// A [Session] runs on a net.PacketConn passed in (see [Listen] for an even RTP port
// with RTCP on port+1, or rtcp-mux). Its [Config] carries what SDP negotiated: the
// codec and payload type, the telephone-event payload type and clock rate, the ptime
// (10-60 ms) and the remote address; every other field has a documented zero-value
// default.
//
//	rtpConn, rtcpConn, err := rtpsession.Listen(netip.Addr{}, rtpsession.PortRange{}, false)
//	s, err := rtpsession.New(rtpConn, rtpsession.Config{
//		Codec: media.PCMU(), TelephoneEventPT: 101, PTime: 20 * time.Millisecond,
//		RemoteAddr: remote, RTCPConn: rtcpConn, OwnConns: true, Clock: clock,
//	})
//	defer s.Close()
//	s.WriteFrame(frame)        // queue audio, as fast as it is produced
//	s.WaitPlayout(ctx)         // returns once it has been sent
//	f, err := s.ReadFrame()    // one received frame per ptime
//	d, err := s.ReadDTMF(ctx)  // one digit per key press
//
// # Sending: playout queue and pacing
//
// [Session.WriteFrame] copies PCM into the session's playout queue, a sample ring
// allocated once, and returns; it blocks only when Config.QueueDuration (2 s) of
// audio is already queued. The pacer sends exactly one packet every ptime, cut from
// the queue whatever the producer's frame size, with continuous sequence numbers and
// timestamps and one SSRC for the life of the session; when the queue is empty it
// sends encoded silence, so the stream never stops. [Session.Clear] empties the queue
// at once (barge-in): the next packet, at most one ptime later, is silence.
// [Session.WaitPlayout] returns when everything queued before it has been sent, or
// [ErrCleared]. [Session.QueueDepth] reports the backlog. [Session.SendDTMF] sends
// RFC 4733 events through a dtmf.Sender on the same SSRC and sequence, with the
// event's own timestamp; queued audio waits while an event is on the wire.
//
// # Receiving
//
// One reader goroutine per socket parses each datagram into a reused rtp.Packet and
// routes it: RTCP (also recognised on the RTP socket, RFC 5761) to the RTCP handler,
// the telephone-event payload type to a dtmf.Receiver, the audio payload type into a
// jitter.Receiver (adaptive jitter buffer, decoder, G.711 Appendix I style
// concealment). Anything else is dropped and counted in [Stats]: garbage (not RTP
// version 2, truncated, malformed), unknown payload types, other source addresses,
// other SSRCs. On each tick the session pops what is due from the jitter buffer, at
// the packet duration the stream really uses (which may differ from our ptime), and
// queues one frame of exactly ptime for [Session.ReadFrame]: decoded audio (FlagRTP),
// concealment (FlagConcealed) or silence (FlagSilence). Digits go into a small
// unbounded queue that the reader goroutine never waits on; the call layer drains it
// with [Session.ReadDTMF], or with [Session.PollDTMF] when [Session.DTMFReady]
// signals. Each key press is delivered once, when it ends, with its duration.
//
// # Symmetric RTP
//
// With [LatchFirst] (the default) the session latches to the source address and
// SSRC of the first valid packet, and from then on sends to that address, which gets
// media through NAT whatever SDP said. Packets from other addresses, or with another
// SSRC while the latched stream is live, are dropped and counted; after 500 ms of
// silence from the latched SSRC a new SSRC from the same address takes over (a PBX
// re-bridging the call). [LatchStrict] accepts only Config.RemoteAddr.
// [Session.SetRemoteAddr] (after a re-INVITE) and [Session.ResetLatch] start over.
//
// # RTCP
//
// Every RTCPInterval (5 s, randomised in [0.5, 1.5] as RFC 3550 6.3.1 asks) the
// session sends a compound packet: a sender report with a reception report block
// about the latched source (fraction lost, cumulative lost, extended highest sequence
// number, interarrival jitter per RFC 3550 A.8, LSR and DLSR) and an SDES CNAME, and
// on Close a BYE. From the remote's reports it takes the round-trip time (RFC 3550
// 6.4.1) and the remote's view of our stream. All of it is in [Session.Stats].
//
// # Inactivity and hold
//
// [Session.Inactive] is closed when no RTP has arrived for Config.InactivityTimeout
// (30 s). [Session.SetHold] suspends the detection while the remote has put the call
// on hold, and restarts the timeout when it resumes.
//
// # Clock: one goroutine for all sessions
//
// Pacing needs a timer per ptime per session. A [Clock] owns one goroutine that
// paces every session registered to it: deadlines sit in a min-heap on a 1 ms phase
// grid, so however many sessions there are the goroutine wakes at most once per
// millisecond and services every session due, and a session's tick (receive playout,
// send, inactivity, RTCP) runs on it. The alternative is a goroutine per session with
// its own timer; a Session given no Clock does exactly that, by making a private one.
//
// Measured on this project's 2-core test machine (shared and noisy: load average
// about 9 during the runs) with `go test ./media/rtpsession -run
// 'TestClockComparison|TestLoad' -v -args -load`, 10 s per run, medians of 3 runs:
//
//	pacing only (no network)   CPU per session   goroutines/session   send interval deviation p50 / p99 / max
//	shared, 100 sessions       CLOCK_S100
//	per-session, 100           CLOCK_P100
//	shared, 1000               CLOCK_S1000
//	per-session, 1000          CLOCK_P1000
//
//	real UDP, N/2 pairs        CPU per session   packets/s sent (= received)
//	shared, 100 sessions       LOAD_S100
//	per-session, 100           LOAD_P100
//	shared, 1000               LOAD_S1000
//	per-session, 1000          LOAD_P1000
//
// CLOCK_DECISION
//
// # Concurrency
//
// All methods are safe for concurrent use, except that ReadFrame must have a single
// caller. No method calls back into user code, and none blocks the reader or pacing
// goroutines: the call layer may call any of them from any goroutine. Close is
// idempotent and waits for the session's goroutines; it closes the sockets only with
// Config.OwnConns (injected sockets are left open and usable).
//
// # Allocation
//
// The per-frame paths allocate nothing in steady state (BenchmarkPacketize,
// BenchmarkDepacketize, BenchmarkPacerTick, TestPerFrameZeroAllocs). RTCP reports,
// every few seconds, use pion/rtcp's marshalling and do allocate.
//
// # Limitations
//
// No SRTP; no comfort noise (RFC 3389): idle time is sent as encoded silence; no
// RTCP XR or reduced-size RTCP; no SSRC collision detection (our SSRC is random); a
// remote BYE is reported in Stats but not otherwise signalled; one remote source per
// session (no conferencing).
package rtpsession
