// Package netns gives tests two Linux network namespaces joined by a veth link, with
// packet loss injected by nftables on each namespace's input hook, and runs programs and
// Go sockets inside them.
//
// # Overview
//
// [New] creates a [Pair] for a test: namespaces A and B (named "sbt<pid>-<n>a" and
// "…b"), loopback up in each, a veth link with 10.x.y.1/24 in A and 10.x.y.2/24 in B,
// and an nftables table per namespace that counts every IPv4 packet arriving over the
// link. t.Cleanup deletes both namespaces (which deletes the link) and checks that
// `ip netns list` no longer shows them; namespaces left by a crashed earlier run (whose
// PID no longer exists) are removed by the next New. Nothing is created in the host's
// namespace.
//
//	p := netns.New(t)
//	p.B.SetLoss(netns.Loss{Probability: 0.05}) // B drops 5 % of what A sends it
//	uas := sipp.Start(t, sipp.Options{..., LocalIP: p.B.Addr.String(), Exec: p.B.ExecPrefix(), PortBound: p.B.UDPPortBound})
//
// Programs run inside a namespace through `ip netns exec` ([Namespace.Command],
// [Namespace.Exec], [Namespace.ExecPrefix]). Go code runs inside with [Namespace.Do],
// which switches one locked OS thread into the namespace; sockets opened there stay in
// the namespace ([Namespace.ListenUDP]), so a test can measure the link from Go without
// a helper process.
//
// # Loss
//
// The kernel of the test machines has no netem, so this package injects loss only; delay,
// jitter and reordering come from the userspace relay in package impair. [Namespace.SetLoss]
// installs a drop rule on the receiving namespace's input hook: random (nftables
// `numgen random`) with a given probability, or a deterministic pattern that drops every
// N-th packet (`numgen inc`). Dropping at the receiver loses packets silently, as a
// network would; dropping in the sender's output hook would make sendto fail with EPERM.
// [Namespace.Counters] reads how many packets were dropped and accepted. Measured with
// 3000 UDP datagrams echoed between the namespaces at 5 % per direction, the realised
// loss is within binomial tolerance of 5 % each way and every datagram is accounted for by
// the counters (TestRandomLossMeasured).
//
// # Requirements
//
// Root, and the programs ip (Debian package iproute2) and nft (Debian package nftables).
// A missing program fails the test naming the package; a non-root run fails with
// [ErrNotRoot]. Tests never skip.
//
// # Running the tests
//
// One test:
//
//	go test -race -run 'TestSIPpAcrossLossyLink$' -v ./internal/netns
//
// Everything, about 20 s: go test -race ./internal/netns
package netns
