// Package sipp drives SIPp (Debian package sip-tester) from Go tests: built-in or custom
// XML scenarios as UAC or UAS, RTP played from pcap files or echoed, at a given rate,
// concurrency limit and call count, with the final statistics parsed into [Stats].
//
// To run one test against SIPp: go test -race -count=1 -run TestUACToUAS -v ./internal/peer/sipp
package sipp
