// Package sip is Switchboard's signalling layer, a thin adaptor over
// github.com/emiago/sipgo: the Endpoint (transports, dialog routing, INVITE server and
// client, OPTIONS, REGISTER with digest authentication and refresh), SDP offer/answer
// (RFC 3264) on github.com/pion/sdp, the RFC 3398 mapping between SIP statuses and Q.850
// causes with RFC 3326 Reason headers, inbound access control, and the Guard that answers
// or drops malformed datagrams before the stack parses them.
//
// Package call builds calls on top of it; most programs use package switchboard and
// never touch this package directly. It is exported for programs that drive their own
// endpoint, and it is the only package that imports sipgo.
//
// # Process-wide state
//
// sipgo keeps its timers (T1, T2, Timer B...) and some defaults in package variables;
// this package never changes them, so two Endpoints in one process share sipgo's
// defaults.
//
// # Header injection
//
// Header values from the application go through CheckHeader (or NewHeader), which refuses
// CR, LF and NUL, so no input can add headers or a body to a message we send.
package sip
