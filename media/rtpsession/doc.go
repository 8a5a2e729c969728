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
// Config.OnSent, if set, sees the PCM of every ptime sent, one frame per tick like
// the receive side's, for recording what we play.
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
// concealment (FlagConcealed) or silence (FlagSilence). Digits go into a queue that
// the reader goroutine never waits on (bounded at 4096 unread digits, far beyond any
// typing, against a flooding remote); the call layer drains it with
// [Session.ReadDTMF], or with [Session.PollDTMF] when [Session.DTMFReady] signals.
// Each key press is delivered once, when it ends, with its duration.
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
// # SRTP
//
// With Config.SRTP set (what SDES, RFC 4568, negotiated in SDP: a protection profile,
// our master key and salt and the peer's) the session speaks SRTP and SRTCP (RFC
// 3711, RFC 7714 for the GCM profiles), with github.com/pion/srtp doing the
// cryptography. Every RTP packet is encrypted and authenticated in place in the
// packet buffer just before it is written, and every RTCP compound packet after it
// is marshalled. On receipt a datagram is authenticated and decrypted in place
// before anything else looks at it: a packet that does not authenticate under the
// remote key (a wrong key, tampering, plain RTP) is dropped and counted in
// Stats.SRTPAuthFailures, and never latches a source address, so symmetric RTP
// cannot be hijacked by a forged packet. A sliding window of 128 packets drops
// replays (Stats.SRTPReplays). The SSRC is in clear and the cryptographic context
// keeps state per SSRC, so the receiver bounds how many it tracks (8; on overflow it
// keeps those that authenticated, with their rollover counters). [Session.SetSRTP]
// rekeys after a renegotiation, keeping the context of a direction whose key did not
// change. Stats.SRTP tells the profile in use.
//
// SDES keys travel in the SDP, in clear unless the signalling is encrypted: SRTP
// keyed this way protects the media only as well as the signalling path (SIP over
// TLS, and every proxy on the way) protects the SDP.
//
// Cost, per packet, protect and unprotect together, measured with
//
//	go test ./media/rtpsession -run '^$' -bench SRTPLink -benchtime=20000x -count=5
//
// (a frame through both ends' whole per-frame path; medians of 5 runs on the 2-core
// test machine): no SRTP 536 ns and 0 allocations; AES_CM_128_HMAC_SHA1_80 1476 ns
// and 4 allocations (56 B); AES_CM_128_HMAC_SHA1_32 1519 ns, 4 (56 B);
// AEAD_AES_128_GCM 904 ns, 2 (32 B); AEAD_AES_256_GCM 925 ns, 2 (32 B). So SRTP adds
// about 0.5 µs per packet and direction with the HMAC-SHA1 profiles and 0.2 µs with
// GCM, against 6-7 µs of system calls per packet. The allocations are pion/srtp's
// own (the HMAC-SHA1 tag and the rollover counter bytes escape to the heap, the GCM
// nonce too); the session's side of the path (buffers, replay window, state)
// allocates nothing, which TestSRTPPerFrameAllocs checks by comparing the path with
// pion/srtp alone. pion's own replay detector allocates a closure per packet, so the
// session brings its own.
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
// Measured on this project's 2-core test machine, shared with other builds (load
// average 6 to 10 during the runs, so the spread is wide), with
//
//	go test ./media/rtpsession -run 'TestClockComparison|TestLoad' -v -args -load
//
// 10 s per run, medians of 3 runs. "Shared" is one Clock for every session, "pool" a
// [ClockPool] (one Clock per CPU, here 2), "per-session" a Clock per session.
//
// Pacing alone (sessions write to a socket stand-in that timestamps each packet; CPU
// in % of one core; deviation of each send interval from ptime):
//
//	                      CPU total   goroutines/session   deviation p50 / p99 / max
//	100 shared               2.4%          1.04            376 µs / 19.8 ms /  38 ms
//	100 pool                 2.9%          1.05            250 µs / 14.7 ms /  44 ms
//	100 per-session          3.5%          2.03            283 µs / 18.8 ms /  41 ms
//	1000 shared             14.2%          1.00            510 µs / 18.8 ms /  48 ms
//	1000 pool               13.6%          1.00            481 µs / 19.6 ms / 124 ms
//	1000 per-session        22.6%          2.00            677 µs / 44.9 ms / 257 ms
//
// Real UDP on 127.0.0.1, N sessions as N/2 pairs each sending 50 packets/s of PCMU to
// the other (RTCP every 5 s; CPU includes the one goroutine that keeps every queue
// fed):
//
//	                      CPU total   CPU/packet   packets/s sent   concealed frames
//	100 shared               8.3%        8.3 µs        5000             189
//	100 pool                 8.3%        8.3 µs        5000             401
//	100 per-session          8.7%        8.7 µs        5000             177
//	1000 shared             51.9%        6.4 µs       40272           16104
//	1000 pool               60.7%        6.5 µs       46650            7497
//	1000 per-session        69.6%        7.0 µs       50000            3067
//
// (CPU per packet counts packets sent plus received. Memory: about 94 KiB of heap per
// session, most of it the 2 s playout queue and the jitter buffer's ring.)
//
// What the numbers say. Shared pacing costs less: it removes one goroutine per
// session and, at 1000 sessions, a third to a half of the CPU that pacing itself
// takes (one wake-up per millisecond instead of one per session per ptime), with no
// worse send timing. Over real sockets the send and receive system calls dominate
// (6-7 µs of CPU per packet), and the saving shrinks to about 10%. But a single Clock
// runs the ticks of all its sessions one after the other on one goroutine, so it gets
// one thread's share of the machine: on this overloaded box, 1000 sessions on one
// Clock fell behind by more than the 300 ms catch-up limit and skipped packets (40k
// of 50k packets/s sent, the receivers concealing the gaps), where a Clock per CPU
// came closer and a goroutine per session kept up.
//
// The choice: pace with a [ClockPool], one Clock per CPU. It keeps the per-session
// saving of shared pacing (one goroutine per session, the reader, instead of two;
// less pacing CPU) while the work spreads over every core, and one stalled goroutine
// delays only its share of the calls. A Session given no Clock falls back to a
// private one, the goroutine-per-session arrangement, which is the right choice for a
// handful of sessions and for tests; nothing is global.
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
// BenchmarkDepacketize, BenchmarkPacerTick, TestPerFrameZeroAllocs); with SRTP,
// only what pion/srtp allocates inside (see SRTP). RTCP reports,
// every few seconds, use pion/rtcp's marshalling and do allocate.
//
// # Limitations
//
// No DTLS-SRTP (keys come from SDES only), and no MKI on what we send; no comfort
// noise (RFC 3389): idle time is sent as encoded silence; no RTCP XR or reduced-size
// RTCP; no SSRC collision detection (our SSRC is random); a remote BYE is reported in
// Stats but not otherwise signalled; one remote source per session (no
// conferencing).
package rtpsession
