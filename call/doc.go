// Package call is the call object of Switchboard and everything an application does with
// a call: answer, reject, ring, early media, hang up with a Q.850 cause, hold and
// unhold, send DTMF, read and write audio, and watch a channel of typed events.
//
// # Usage
//
// Inbound calls arrive at a Handler, the way HTTP requests arrive at an http.Handler:
//
//	h := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
//		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
//			return err
//		}
//		w, _ := c.AudioWriter() // paced playout queue
//		// ... write frames, read c.AudioReader(0), watch c.Events() ...
//		<-ctx.Done() // the caller hung up
//		return nil
//	})
//
// Outbound calls come from switchboard.Switchboard.Dial (or Dial here, on any
// sip.Endpoint) and are returned once answered. Hangup(ctx, cause) ends a call with a BYE
// whose Reason header carries the Q.850 cause (RFC 3326); before answer it rejects with
// the SIP status RFC 3398 maps the cause to.
//
// # Session upkeep
//
// Calls keep themselves healthy without application code: RFC 4028 session timers
// (refreshed by re-INVITE, or the call ends when the peer stops refreshing), a media
// timeout (no RTP for Config.MediaTimeout while the peer is not on hold), hold and unhold
// in both directions (no RTP is sent while the peer does not want it), and RFC 4733 or
// SIP INFO digits delivered as DTMF events, each once.
//
// # Concurrency
//
// Every method of Call is safe for concurrent use. Each inbound call's handler runs on
// its own goroutine; the call owns one goroutine that delivers events, one that watches
// its media (digits, inactivity) and the RTP session's reader. Close and the end of the
// handler stop and wait for all of them.
//
// # Cancellation
//
// Blocking methods take a ctx first. Cancelling it stops that operation, not the call
// (Answer keeps retransmitting its 200 OK until the ACK, but stops waiting). The call
// itself ends with Hangup, Close, the remote side's BYE or CANCEL, a media timeout, or the
// handler's return; then the handler's ctx (and Context()) is cancelled and
// context.Cause returns a *HangupCause, testable with errors.Is against CauseRemoteBye,
// CauseCancelled, CauseMediaTimeout and the others.
//
// # Events
//
// Events() delivers every event in order — Initiated, Ringing, EarlyMedia, Answered,
// Hold, Unhold, DTMF, MediaTimeout, Hangup — and is closed after Hangup. Sending an event
// never blocks SIP or media: events queue without bound and one goroutine per call hands
// them to the channel. If the application stops reading, what is still queued a few
// seconds after the call ended (Config.EventGrace) is dropped, so nothing leaks. Each
// event's Name is the reference platforms' name ("call.answered", "call.hangup",
// "call.dtmf.received", ...). Every state is also readable by a method (State,
// Negotiated), so a missed event loses nothing.
//
// # Errors
//
// Dial returns a *DialError whose Outcome says busy, rejected, no answer, cancelled or
// failed, carrying the final *StatusError (SIP code, reason, Q.850 cause); errors.Is(err,
// &call.StatusError{Code: 486}) works. Handlers reject calls by returning Rejection(code,
// reason), or with Reject(ctx, cause). Verbs on an ended call return ErrCallEnded; verbs
// that need media before answer return ErrNotAnswered.
package call
