// Package impair is a userspace UDP relay that injects seeded packet loss, delay, jitter,
// reordering and duplication between two endpoints, for tests. The kernel of the test
// machines has no netem, so this is how SIP and RTP are exercised over a bad network.
//
// # Overview
//
// A [Relay] listens on one address (127.0.0.1 and a free port by default) and forwards
// every datagram to a target. Each distinct client address gets its own upstream socket,
// so the target sees one source per client and its replies go back to the client they
// belong to: several SIP peers, or SIP and RTP of the same peer, can share a relay.
// Both directions are impaired independently ([Config].Upstream, [Config].Downstream):
//
//	relay, err := impair.Listen("", uasAddr, impair.Config{
//		Upstream:   impair.Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond},
//		Downstream: impair.Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond},
//		Seed:       1,
//	})
//	// ... point the caller at relay.Addr() instead of uasAddr ...
//	defer relay.Close()
//
// A [Group] relays several ports at once ([ListenGroup]), e.g. a callee's SIP port and
// its RTP port, each with its own seed.
//
// # Impairment model
//
// For every packet, in arrival order, a direction draws from two seeded random streams:
// one decides loss and duplication, the other the delay. The same seed and the same
// sequence of packets therefore give the same drops, duplicates and delays, and the drop
// pattern does not change when only Delay or Jitter change. A packet's delay is
// Delay + jitter, the jitter uniform in ±Jitter or normal with σ = Jitter (clamped to
// ±3σ), never below zero. Without Reorder a packet never overtakes an earlier one: its
// release time is max(arrival + delay, previous release). With Reorder it leaves at
// arrival + delay whatever came before. A duplicate is a second copy with its own delay.
//
// Each direction has one scheduler goroutine that holds pending copies in a min-heap on
// their release time and sends each when due: there is no goroutine or timer per packet,
// and forwarding allocates nothing in steady state (buffers are recycled). The timing
// logic is tested in a testing/synctest bubble with a fake clock; the sockets are tested
// against a real UDP echo server on loopback.
//
// # RTP
//
// The relay does not rewrite packets. To send a call's media through it, make the SDP
// point at the relay: the side that answers (or offers) puts the relay's RTP address in
// its c= and m= lines instead of its own, and the relay forwards to the real media port.
// The media's return path then follows the relay's per-client mapping. TestSIPpRTPThroughGroup
// does this with SIPp: the callee's SDP answer names the relay's RTP port, the caller
// plays G.711 to it, and SIPp's RTP echo comes back through the relay.
//
// # SIPp under loss
//
// SIPp's built-in uac and uas scenarios fail about one call in 200 at 5 % loss and
// 50 ± 20 ms in each direction. SIPp's error logs show three causes, each a place where
// the scenarios do not behave like RFC 3261 user agents:
//
//   - The built-in uas sends 180 then 200. SIPp answers a retransmitted request only with
//     the first message it sent after it, so when the caller lost both responses and
//     retransmitted its INVITE after the 200 was sent, the callee aborted the call on an
//     "unexpected" INVITE (instead of sending the 200 again).
//   - When the ACK was lost and the callee's 200 retransmission crossed the caller's BYE,
//     the built-in uac aborted on the "unexpected" 200 instead of ACKing it again; and a
//     late ACK reaching the callee after its 200 for the BYE aborted the call there.
//   - The built-in uas waits 4 s after its 200 for the BYE, but the caller retransmits the
//     BYE for up to 32 s (64 × T1): a caller that lost that 200 a few times got no answer.
//
// The scenarios in testdata/sipp fix these (each file explains how): the caller names its
// transactions so that SIPp re-ACKs a late 200 and ignores late provisional responses; the
// callee answers at once with 200, absorbs a late ACK, builds its 200 for the BYE from
// saved headers (SIPp rebuilds a response from the latest message received when it
// answers a retransmission, which could be that late ACK) and keeps answering BYE
// retransmissions for 32 s. With them, 200 calls out of 200 complete at 5 % loss and
// 50 ± 20 ms, with or without reordering, and at 15 % loss in manual runs.
//
// # Running the tests
//
// The SIPp tests need the Debian package sip-tester (a missing sipp fails the test). One
// test:
//
//	go test -race -run 'TestSIPpThroughLossyRelay$' -v ./internal/impair
//
// Everything, about 40 s (the SIPp tests run in parallel): go test -race ./internal/impair
package impair
