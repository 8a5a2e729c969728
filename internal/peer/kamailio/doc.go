// Package kamailio runs Kamailio 5.6 (Debian package kamailio) as a real SIP registrar,
// stateful proxy and load balancer in tests, on 127.0.0.1.
//
// # Overview
//
// [Start] renders a configuration from [Options], checks it with "kamailio -c" (a
// rejected configuration fails the test with Kamailio's complaints next to the
// offending lines, see [ConfigError]), runs Kamailio in the foreground
//
//	kamailio -f kamailio.cfg -DD -E -n 2 -m 256 -M 16 -Y <rundir>
//
// on a free UDP port, and returns once it answers both its control socket and a SIP
// OPTIONS. Its stderr log is kept (and printed if the test fails). When the test ends,
// [Proxy.Stop] terminates it, checks that no process of its process group survived
// (Kamailio forks its workers into the group) and removes its directories.
//
// Two profiles can be enabled, alone or together:
//
//   - Registrar: REGISTER is saved in an in-memory location table (usrloc db_mode 0),
//     optionally behind digest authentication ([Options.Users]); a request for a
//     registered user at 127.0.0.1 is relayed to the registered contact.
//   - Dispatcher ([Options.Backends]): every other initial request is spread
//     round-robin (algorithm 4) over dispatcher set 1. Every backend is probed with
//     OPTIONS every [Options.PingInterval] (probing mode 1); a backend that answers
//     anything but 200 (a draining one answering 503) or nothing is marked inactive
//     after [Options.ProbingThreshold] failures and skipped, and marked active again
//     after [Options.InactiveThreshold] answered probes. A call that a backend fails
//     (408 or no answer within [Options.TransactionTimeout], or 5xx) fails over to the
//     next backend and counts against the failing one.
//
// With neither, it is a plain record-routing stateful proxy. It always record-routes
// INVITEs, and in-dialog requests follow the route set (loose routing), so SIPp peers
// behind it need the record-route-aware scenarios [UACScenario] and [UASScenario] (and
// [ReorderTolerantArgs], since Kamailio's workers may reorder back-to-back messages).
//
// # Observing it
//
// [Proxy.DispatcherStates] and [Proxy.WaitDispatcher] read backend states through
// Kamailio's JSON-RPC interface (module jsonrpcs on a unix datagram socket in the
// runtime directory; kamcmd is not needed), [Proxy.Contacts] reads registrations, and
// [Proxy.RPC] calls any other RPC command. Every routing decision is logged as one
// "route=KIND ..." line, which [Proxy.Routes] parses: tests count calls per backend
// or failovers with [CountRoutes].
//
// # Running the tests
//
// The tests need kamailio and sipp (apt-get install -y kamailio sip-tester). Run one
// against Kamailio with, for example:
//
//	go test -race -count=1 -v -run 'TestDispatcherRoundRobin$' ./internal/peer/kamailio/
//
// To see Kamailio's log of a passing test, set Options.Debug to 3 and print
// Proxy.Log() (a failing test prints it anyway).
//
// # Using it from other tests
//
// Switchboard instances (or any UA that answers OPTIONS with 200) become backends by
// listing their addresses:
//
//	lb := kamailio.Start(t, kamailio.Options{Backends: []string{a.Addr(), b.Addr()}})
//	_, err := lb.WaitDispatcher(ctx, a.Addr(), kamailio.StateActive)
//	// dial lb.URI("service"): calls alternate between a and b;
//	// drain a (its OPTIONS answer 503) and WaitDispatcher(ctx, a.Addr(), kamailio.StateInactive).
//
// # Limitations
//
// UDP only; one dispatcher set; REGISTER is the only authenticated request; the
// location table ignores domains. If the test binary is killed, Kamailio is sent
// SIGTERM (through setpriv, when util-linux provides it) and stops its workers itself;
// only the runtime directory (/tmp/kam-*) is left behind then.
package kamailio
