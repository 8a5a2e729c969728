// Package peer starts real SIP peers (SIPp, baresip, Kamailio) as child processes for
// tests and guarantees they go away: each process is killed by its own PID (and its
// process group) when the test ends, whether it passed, failed or panicked, and its log
// is printed when the test failed. Children also die with the test binary (Pdeathsig).
//
// The drivers for the individual programs live in sub-packages (sipp, baresip,
// kamailio); this package holds what they share: finding binaries (a missing one fails
// the test naming the Debian package, never skips), picking free loopback ports, and
// running and reaping processes.
package peer
