package call

import (
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/sip"
)

// Sentinel errors.
var (
	// ErrCallEnded is returned by verbs on a call that has ended.
	ErrCallEnded = errors.New("call: call ended")
	// ErrInterrupted is returned by Play and Speak when barge-in stopped them.
	ErrInterrupted = errors.New("call: interrupted")
	// ErrNotAnswered is returned by verbs that need media on a call not yet answered.
	ErrNotAnswered = errors.New("call: not answered")
	// ErrAlreadyAnswered is returned by Answer, Ring and Reject once a final answer was given.
	ErrAlreadyAnswered = errors.New("call: already answered or rejected")
	// ErrServerClosed is returned by Serve and Dial after Shutdown or Close.
	ErrServerClosed = errors.New("call: server closed")
)

// StatusError is a SIP final response that ended an outbound call attempt: busy,
// rejected, not found, ... It carries the SIP status and the Q.850 cause. errors.Is
// matches on Code: errors.Is(err, &call.StatusError{Code: 486}).
type StatusError = sip.StatusError

// Outcome classifies why a Dial failed.
type Outcome uint8

// Dial outcomes.
const (
	OutcomeFailed    Outcome = iota // other 4xx/5xx/6xx, or a transport error
	OutcomeBusy                     // 486 or 600
	OutcomeRejected                 // 603 or 403
	OutcomeNoAnswer                 // ring timeout, 408 or 480
	OutcomeCancelled                // the caller's ctx ended first
)

func (o Outcome) String() string {
	switch o {
	case OutcomeBusy:
		return "busy"
	case OutcomeRejected:
		return "rejected"
	case OutcomeNoAnswer:
		return "no answer"
	case OutcomeCancelled:
		return "cancelled"
	}
	return "failed"
}

// DialError says why Dial did not return an answered call.
type DialError struct {
	Outcome Outcome
	// Status is the final SIP response, if one was received.
	Status *StatusError
	// Err is the underlying error (the *StatusError, a context error, a transport error).
	Err error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("call: dial: %s: %v", e.Outcome, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

func outcomeFor(code int) Outcome {
	switch code {
	case 486, 600:
		return OutcomeBusy
	case 603, 403:
		return OutcomeRejected
	case 408, 480:
		return OutcomeNoAnswer
	}
	return OutcomeFailed
}

// RejectError asks the library to reject an inbound call with a SIP status. A Handler
// returns one (see Reject) to end an unanswered call with that status.
type RejectError struct {
	Code   int
	Reason string
}

func (e *RejectError) Error() string { return fmt.Sprintf("call: reject %d %s", e.Code, e.Reason) }

// Rejection returns a *RejectError for code, e.g. return call.Rejection(486, "Busy Here").
func Rejection(code int, reason string) error { return &RejectError{Code: code, Reason: reason} }
