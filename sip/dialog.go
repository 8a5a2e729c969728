package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

	mu    sync.Mutex
	final bool // a final response to the INVITE was sent
}

// ErrFinalSent is returned when a response to an INVITE that already got its final
// response is attempted.
var ErrFinalSent = errors.New("sip: final response already sent")

// claim records that a response with code is about to be sent; it fails when a final
// response went out already. Responses from several goroutines (the handler, a hangup,
// the endpoint's fallback) are so serialised on one rule: one final response, ever.
func (d *ServerDialog) claim(code int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.final {
		return ErrFinalSent
	}
	if code >= 200 {
		d.final = true
	}
	return nil
}

// Respond sends a response to the INVITE (1xx any number of times, one final).
func (d *ServerDialog) Respond(code int, reason string, body []byte, headers ...Header) error {
	res := sipgosip.NewResponseFromRequest(d.InviteRequest, code, reason, body)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	return d.WriteResponse(res)
}

// RespondSDP sends 200 OK with an SDP body and waits for the ACK.
func (d *ServerDialog) RespondSDP(body []byte) error {
	return d.WriteResponse(sipgosip.NewSDPResponseFromRequest(d.InviteRequest, body))
}

// WriteResponse sends a response built by the caller (e.g. 183 with SDP). A 2xx waits
// for the ACK. Our Contact for the INVITE's transport is added if the response has none,
// so in-dialog requests come back over the same transport.
func (d *ServerDialog) WriteResponse(res *Response) error {
	if err := d.claim(res.StatusCode); err != nil {
		return err
	}
	if res.Contact() == nil && res.StatusCode > 100 {
		res.AppendHeader(d.ep.contactFor(d.InviteRequest.Transport()))
	}
	return d.DialogServerSession.WriteResponse(res)
}

// Finalized reports whether the INVITE got its final response.
func (d *ServerDialog) Finalized() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.final
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
// *StatusError.
//
// When ctx ends first, WaitAnswer returns ctx's cause at once; cancelling the attempt
// goes on in the background, as RFC 3261 §9.1 asks: CANCEL once a provisional response
// has arrived (never before), then wait for the 487. If a 2xx wins that race, it is
// acknowledged and the call hung up with a BYE, so the far end is never left answered.
// Endpoint.Close ends and waits for that background work.
func (d *ClientDialog) WaitAnswer(ctx context.Context, opts AnswerOptions) error {
	inner, cancelInnerCause := context.WithCancelCause(context.Background())
	cancelInner := func() { cancelInnerCause(context.Canceled) }
	done := make(chan error, 1)
	d.ep.bg.Add(1)
	go func() {
		defer d.ep.bg.Done()
		defer func() {
			// sipgo v1.7.2 dereferences a nil response when the CANCEL's transaction is
			// terminated by the user agent closing; that must not take the process down.
			if v := recover(); v != nil {
				d.ep.log.Warn("sip: invite cancellation aborted by shutdown", "panic", v)
			}
		}()
		// Closing the endpoint abandons the attempt without a CANCEL.
		stop := context.AfterFunc(d.ep.closing, func() { cancelInnerCause(sipgo.WaitAnswerForceCancelErr) })
		defer stop()
		err := d.DialogClientSession.WaitAnswer(inner, sipgo.AnswerOptions{
			Username: opts.Username, Password: opts.Password,
			OnResponse: func(res *Response) error {
				if res.IsProvisional() && opts.OnProvisional != nil {
					opts.OnProvisional(res)
				}
				return nil
			},
		})
		select {
		case done <- err:
			return
		default:
		}
		// Nobody waits any more: the caller gave up. Clean up a late answer.
		if res := d.InviteResponse; res != nil && res.IsSuccess() {
			bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = d.Ack(bctx)
			_ = d.Bye(bctx, CauseNormalClearing)
		}
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		cancelInner()
		// Give a prompt peer the chance to settle the attempt (487 or 2xx) before we
		// return, so the common case leaves nothing behind.
		select {
		case err = <-done:
			if err == nil {
				// Answered just as we gave up: take the call down again.
				bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = d.Ack(bctx)
				_ = d.Bye(bctx, CauseNormalClearing)
			}
		case <-time.After(200 * time.Millisecond):
			done = nil
		}
		return fmt.Errorf("sip: invite: %w", context.Cause(ctx))
	}
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return statusErrorFrom(de.Res)
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

// Reinvite sends a re-INVITE in the dialog with an SDP body (nil: none) and extra
// headers, waits for the final response and acknowledges a 2xx. A non-2xx final
// response returns a *StatusError.
func (d *ServerDialog) Reinvite(ctx context.Context, body []byte, headers ...Header) (*Response, error) {
	target := d.InviteRequest.Contact()
	if target == nil {
		return nil, errors.New("sip: re-INVITE: no remote target")
	}
	return reinvite(ctx, target.Address, body, headers, d.DialogServerSession.Do, d.DialogServerSession.WriteRequest)
}

// Reinvite sends a re-INVITE; see ServerDialog.Reinvite.
func (d *ClientDialog) Reinvite(ctx context.Context, body []byte, headers ...Header) (*Response, error) {
	if d.InviteResponse == nil || d.InviteResponse.Contact() == nil {
		return nil, errors.New("sip: re-INVITE: no remote target")
	}
	return reinvite(ctx, d.InviteResponse.Contact().Address, body, headers, d.DialogClientSession.Do, d.DialogClientSession.WriteRequest)
}

func reinvite(ctx context.Context, target URI, body []byte, headers []Header,
	do func(context.Context, *Request) (*Response, error), write func(*Request) error) (*Response, error) {
	req := sipgosip.NewRequest(sipgosip.INVITE, target)
	if body != nil {
		req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	for _, h := range headers {
		req.AppendHeader(h)
	}
	res, err := do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return res, fmt.Errorf("sip: re-INVITE: %w", statusErrorFrom(res))
	}
	// The ACK of a 2xx is end-to-end and carries the re-INVITE's CSeq number, which the
	// dialog layer fills in (it does not advance the CSeq for ACK).
	if err := write(sipgosip.NewRequest(sipgosip.ACK, target)); err != nil {
		return res, fmt.Errorf("sip: re-INVITE: ACK: %w", err)
	}
	return res, nil
}

// Info sends an INFO request (RFC 6086) in the dialog with a body of contentType (e.g.
// "application/dtmf-relay") and waits for its final response; a non-2xx one returns a
// *StatusError.
func (d *ServerDialog) Info(ctx context.Context, contentType string, body []byte) (*Response, error) {
	target := d.InviteRequest.Contact()
	if target == nil {
		return nil, errors.New("sip: INFO: no remote target")
	}
	return info(ctx, target.Address, d.InviteRequest.Transport(), contentType, body, d.DialogServerSession.Do)
}

// Info sends an INFO request in the dialog; see ServerDialog.Info.
func (d *ClientDialog) Info(ctx context.Context, contentType string, body []byte) (*Response, error) {
	if d.InviteResponse == nil || d.InviteResponse.Contact() == nil {
		return nil, errors.New("sip: INFO: no remote target")
	}
	return info(ctx, d.InviteResponse.Contact().Address, d.InviteRequest.Transport(), contentType, body, d.DialogClientSession.Do)
}

func info(ctx context.Context, target URI, transport, contentType string, body []byte,
	do func(context.Context, *Request) (*Response, error)) (*Response, error) {
	req := sipgosip.NewRequest(sipgosip.INFO, *target.Clone())
	req.SetTransport(transport)
	req.AppendHeader(sipgosip.NewHeader("Content-Type", contentType))
	req.SetBody(body)
	res, err := do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: INFO: %w", err)
	}
	if !res.IsSuccess() {
		return res, fmt.Errorf("sip: INFO: %w", statusErrorFrom(res))
	}
	return res, nil
}

// reasonHeader is the RFC 3326 Reason header for a Q.850 cause, or nil for zero.
func reasonHeader(cause Q850) Header {
	if cause == 0 {
		return nil
	}
	return sipgosip.NewHeader("Reason", Reason{Protocol: "Q.850", Cause: int(cause)}.String())
}

// Bye ends the dialog with a BYE carrying the Q.850 cause in a Reason header (RFC 3326;
// zero sends none) and waits for the 200 or ctx.
func (d *ServerDialog) Bye(ctx context.Context, cause Q850) error {
	cont := d.InviteRequest.Contact()
	if cont == nil {
		return d.DialogServerSession.Bye(ctx)
	}
	bye := sipgosip.NewRequest(sipgosip.BYE, *cont.Address.Clone())
	bye.SetTransport(d.InviteRequest.Transport())
	if h := reasonHeader(cause); h != nil {
		bye.AppendHeader(h)
	}
	return d.DialogServerSession.WriteBye(ctx, bye)
}

// Bye ends the dialog with a BYE carrying the Q.850 cause; see ServerDialog.Bye.
func (d *ClientDialog) Bye(ctx context.Context, cause Q850) error {
	if d.InviteResponse == nil || d.InviteResponse.Contact() == nil {
		return d.DialogClientSession.Bye(ctx)
	}
	// The dialog layer fills From, To, Call-ID, CSeq and the route set.
	bye := sipgosip.NewRequest(sipgosip.BYE, *d.InviteResponse.Contact().Address.Clone())
	bye.SetTransport(d.InviteRequest.Transport())
	if h := reasonHeader(cause); h != nil {
		bye.AppendHeader(h)
	}
	return d.DialogClientSession.WriteBye(ctx, bye)
}

// Reject sends a final error response to the INVITE with the Q.850 cause in a Reason
// header (RFC 3326; zero sends none).
func (d *ServerDialog) Reject(code int, reason string, cause Q850) error {
	var hs []Header
	if h := reasonHeader(cause); h != nil {
		hs = append(hs, h)
	}
	return d.Respond(code, reason, nil, hs...)
}
