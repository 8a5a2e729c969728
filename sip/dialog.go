package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
)

// RequestHandler receives in-dialog requests other than ACK (which the dialog consumes)
// and BYE (which the dialog answers with 200 before passing it on). It runs on the
// receiving goroutine of the SIP stack: it must respond to tx (unless the request is a
// BYE) and return promptly.
type RequestHandler func(req *Request, tx ServerTransaction)

type inbox struct {
	mu sync.Mutex
	h  RequestHandler
}

func newInbox() *inbox { return &inbox{} }

func (b *inbox) set(h RequestHandler) {
	b.mu.Lock()
	b.h = h
	b.mu.Unlock()
}

func (b *inbox) deliver(req *Request, tx ServerTransaction) {
	b.mu.Lock()
	h := b.h
	b.mu.Unlock()
	if h != nil {
		h(req, tx)
		return
	}
	if !req.IsAck() && req.Method != sipgosip.BYE {
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
	}
}

// ServerDialog is the dialog of an incoming INVITE (we are the UAS).
type ServerDialog struct {
	*sipgo.DialogServerSession
	ep    *Endpoint
	inbox *inbox
}

// OnRequest sets the handler of in-dialog requests.
func (d *ServerDialog) OnRequest(h RequestHandler) { d.inbox.set(h) }

// Context ends when the dialog ends; context.Cause tells why (CANCEL, BYE, ...).
func (d *ServerDialog) Context() context.Context { return d.DialogServerSession.Context() }

func (d *ServerDialog) handleRequest(req *Request, tx ServerTransaction) {
	switch req.Method {
	case sipgosip.ACK:
		_ = d.ReadAck(req, tx)
	case sipgosip.BYE:
		if err := d.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
	}
	d.inbox.deliver(req, tx)
}

// Invite is the INVITE that created the dialog.
func (d *ServerDialog) Invite() *Request { return d.InviteRequest }

// ClientDialog is the dialog of an INVITE we sent (we are the UAC).
type ClientDialog struct {
	*sipgo.DialogClientSession
	ep    *Endpoint
	inbox *inbox
	id    string
}

// OnRequest sets the handler of in-dialog requests.
func (d *ClientDialog) OnRequest(h RequestHandler) { d.inbox.set(h) }

// Context ends when the dialog ends.
func (d *ClientDialog) Context() context.Context { return d.DialogClientSession.Context() }

func (d *ClientDialog) handleRequest(req *Request, tx ServerTransaction) {
	switch req.Method {
	case sipgosip.ACK:
		return
	case sipgosip.BYE:
		if err := d.ReadBye(req, tx); err != nil {
			return
		}
	}
	d.inbox.deliver(req, tx)
}

// AnswerOptions tune WaitAnswer.
type AnswerOptions struct {
	// OnProvisional sees each 1xx response.
	OnProvisional func(res *Response)
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
}

// WaitAnswer waits for the final response. On 2xx it registers the dialog for in-dialog
// requests and returns nil (send the ACK with Ack). A non-2xx final response returns a
// *StatusError. When ctx ends first, a CANCEL is sent and ctx's error returned.
func (d *ClientDialog) WaitAnswer(ctx context.Context, opts AnswerOptions) error {
	err := d.DialogClientSession.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: opts.Username, Password: opts.Password,
		OnResponse: func(res *Response) error {
			if res.IsProvisional() && opts.OnProvisional != nil {
				opts.OnProvisional(res)
			}
			return nil
		},
	})
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return statusErrorFrom(de.Res)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("sip: invite: %w", context.Cause(ctx))
		}
		return fmt.Errorf("sip: invite: %w", err)
	}
	d.id = d.ID
	d.ep.register(d.id, d)
	context.AfterFunc(d.Context(), func() { d.ep.unregister(d.id) })
	return nil
}

// StatusError is a SIP final response that ended a transaction unsuccessfully.
type StatusError struct {
	Code   int
	Reason string
	// Cause is the Q.850 cause: from the response's Reason header when present
	// (RFC 3326), else mapped from Code (RFC 3398).
	Cause Q850
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sip: %d %s (Q.850 cause %d)", e.Code, e.Reason, e.Cause)
}

// Is matches another *StatusError with the same Code (Reason and Cause are ignored), so
// errors.Is(err, &StatusError{Code: 486}) works.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t.Code == e.Code
}

func statusErrorFrom(res *Response) *StatusError {
	e := &StatusError{Code: res.StatusCode, Reason: res.Reason, Cause: CauseForStatus(res.StatusCode)}
	if h := res.GetHeader("Reason"); h != nil {
		if r, err := ParseReason(h.Value()); err == nil && r.Protocol == "Q.850" && r.Cause >= 0 && r.Cause < 128 {
			e.Cause = Q850(r.Cause)
		}
	}
	return e
}
