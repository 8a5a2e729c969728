package call

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/sip"
)

// Serve runs h for the incoming INVITE of dialog d, following the Handler contract, and
// returns when the handler has returned and the call has ended. Package switchboard calls
// it for every new INVITE; it is exported for programs that drive their own sip.Endpoint.
func Serve(d *sip.ServerDialog, cfg Config, h Handler) *Call {
	inv := d.Invite()
	c := newCall(cfg, Inbound, inv.CallID().Value(), inv.From().Address.String(), inv.To().Address.String())
	c.server = d
	_ = d.Respond(100, "Trying", nil)
	d.OnRequest(c.handleRequest)
	stop := context.AfterFunc(d.Context(), func() {
		// The dialog ended under us: a CANCEL before answer, or the transaction died.
		if c.State() < StateAnswered {
			c.end(&HangupCause{Name: "originator_cancel", Q850: sip.CauseNormalClearing, SIPCode: 487, By: Remote})
		}
	})
	defer stop()

	err := runHandler(c, h)

	switch {
	case c.State() == StateEnded:
	case c.State() == StateAnswered:
		_ = c.Hangup(context.Background(), sip.CauseNormalClearing)
	default:
		code, reason := 480, "Temporarily Unavailable"
		var rej *RejectError
		var pe *panicError
		switch {
		case errors.As(err, &rej):
			code, reason = rej.Code, rej.Reason
		case errors.As(err, &pe):
			code, reason = 500, "Server Internal Error"
		}
		_ = c.reject(code, reason)
		name := "rejected"
		if err == nil {
			name = "handler_returned"
		}
		c.end(&HangupCause{Name: name, Q850: sip.CauseForStatus(code), SIPCode: code, By: Local})
	}
	return c
}

type panicError struct {
	v     any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("call: handler panic: %v", p.v) }

func runHandler(c *Call, h Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := &panicError{v: v, stack: debug.Stack()}
			c.log.Error("call handler panicked", "panic", v, "stack", string(pe.stack))
			err = pe
		}
	}()
	err = h.ServeCall(c.ctx, c)
	if err != nil {
		var rej *RejectError
		if !errors.As(err, &rej) {
			c.log.Info("call handler returned an error", "err", err)
		}
	}
	return err
}

// Ring sends 180 Ringing.
func (c *Call) Ring(ctx context.Context) error {
	if err := c.inboundPending(); err != nil {
		return err
	}
	if err := c.server.Respond(180, "Ringing", nil); err != nil {
		return fmt.Errorf("call: ring: %w", err)
	}
	if c.setState(StateRinging) {
		c.events.push(Ringing{base: now()})
	}
	return nil
}

// AnswerOptions tune Answer. The zero value answers with the configured codecs.
type AnswerOptions struct{}

// Answer answers an inbound call: it negotiates media from the INVITE's SDP offer, starts
// RTP and sends 200 OK, and returns once the caller's ACK arrived. An offer with nothing
// acceptable is rejected with 488 and the call ends.
func (c *Call) Answer(ctx context.Context, _ AnswerOptions) error {
	if err := c.inboundPending(); err != nil {
		return err
	}
	if err := c.negotiateInbound(); err != nil {
		return err
	}
	interval, weRefresh, headers, reject := c.inboundSessionTimer()
	if reject != nil {
		c.mu.Lock()
		c.finalSent = true
		c.mu.Unlock()
		_ = c.server.Respond(422, "Session Interval Too Small", nil, reject)
		c.end(&HangupCause{Name: "session_interval_too_small", Q850: sip.CauseInterworking, SIPCode: 422, By: Local})
		return fmt.Errorf("call: answer: caller's session interval is below our Min-SE: %w", ErrCallEnded)
	}
	c.mu.Lock()
	c.finalSent = true
	c.mu.Unlock()
	res := sip.NewSDPResponse(c.server.Invite(), c.answerSDP())
	for _, h := range headers {
		res.AppendHeader(h)
	}
	c.setState(StateAnswered)
	c.events.push(Answered{base: now()})
	c.startSessionTimer(interval, weRefresh)
	done := make(chan error, 1)
	go func() { done <- c.server.WriteResponse(res) }()
	select {
	case err := <-done:
		if err != nil {
			c.end(&HangupCause{Name: "no_ack", Q850: sip.CauseRecoveryOnTimerExpiry, By: Local})
			return fmt.Errorf("call: answer: %w", err)
		}
		return nil
	case <-ctx.Done():
		// The 200 OK keeps being retransmitted until the ACK comes; only the wait ends.
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrCallEnded
	}
}

// inboundSessionTimer decides RFC 4028 for an incoming INVITE: the interval, whether we
// refresh, the headers for the 200 OK, or the Min-SE header of a 422 rejection.
func (c *Call) inboundSessionTimer() (time.Duration, bool, []sip.Header, sip.Header) {
	if c.cfg.SessionExpires < 0 {
		return 0, false, nil, nil
	}
	inv := c.server.Invite()
	supported := supportsTimer(inv)
	interval, refresher, ok := parseSessionExpires(headerValue(inv, "Session-Expires", "x"))
	if !ok {
		if !supported {
			return 0, false, nil, nil // the caller knows nothing of timers; RTP inactivity still guards us
		}
		interval, refresher = c.cfg.SessionExpires, ""
	}
	if interval < c.cfg.MinSE {
		h, _ := sip.NewHeader("Min-SE", strconv.Itoa(int(c.cfg.MinSE/time.Second)))
		return 0, false, nil, h
	}
	if refresher == "" {
		// We pick: the caller if it can, else us (RFC 4028 §9).
		refresher = "uas"
		if supported {
			refresher = "uac"
		}
	}
	weRefresh := refresher == "uas"
	hs := []sip.Header{}
	if h, err := sip.NewHeader("Session-Expires", strconv.Itoa(int(interval/time.Second))+";refresher="+refresher); err == nil {
		hs = append(hs, h)
	}
	if supported {
		if h, err := sip.NewHeader("Require", "timer"); err == nil {
			hs = append(hs, h)
		}
	}
	return interval, weRefresh, hs, nil
}

// EarlyMedia sends 183 Session Progress with an SDP answer, so audio written to the call
// plays before it is answered (announcements, custom ringback).
func (c *Call) EarlyMedia(ctx context.Context) error {
	if err := c.inboundPending(); err != nil {
		return err
	}
	if err := c.negotiateInbound(); err != nil {
		return err
	}
	res := sip.NewSDPResponse(c.server.Invite(), c.answerSDP())
	res.StatusCode, res.Reason = 183, "Session Progress"
	if err := c.server.WriteResponse(res); err != nil {
		return fmt.Errorf("call: early media: %w", err)
	}
	if c.setState(StateEarly) {
		c.events.push(EarlyMedia{base: now()})
	}
	return nil
}

// Reject ends an inbound call that was not answered with the SIP status for cause
// (RFC 3398 mapping), e.g. sip.CauseUserBusy → 486.
func (c *Call) Reject(ctx context.Context, cause sip.Q850) error {
	if err := c.inboundPending(); err != nil {
		return err
	}
	code, reason := sip.StatusForCause(cause)
	err := c.rejectCause(code, reason, cause)
	c.end(&HangupCause{Name: "rejected", Q850: cause, SIPCode: code, By: Local})
	return err
}

func (c *Call) reject(code int, reason string) error {
	return c.rejectCause(code, reason, sip.CauseForStatus(code))
}

// rejectCause sends the final response once, with the cause in a Reason header.
func (c *Call) rejectCause(code int, reason string, cause sip.Q850) error {
	c.mu.Lock()
	if c.finalSent || c.server == nil {
		c.mu.Unlock()
		return nil
	}
	c.finalSent = true
	c.mu.Unlock()
	if err := c.server.Reject(code, reason, cause); err != nil {
		return fmt.Errorf("call: reject: %w", err)
	}
	return nil
}

func (c *Call) inboundPending() error {
	if c.dir != Inbound || c.server == nil {
		return errors.New("call: not an inbound call")
	}
	if c.State() == StateEnded {
		return ErrCallEnded
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finalSent {
		return ErrAlreadyAnswered
	}
	return nil
}

// negotiateInbound answers the INVITE's offer (once; early media then answer reuse it).
func (c *Call) negotiateInbound() error {
	c.mu.Lock()
	started := c.sess != nil
	c.mu.Unlock()
	if started {
		return nil
	}
	if err := c.allocMedia(); err != nil {
		_ = c.reject(500, "Server Internal Error")
		c.end(&HangupCause{Name: "media_error", Q850: sip.CauseResourceUnavailable, SIPCode: 500, By: Local})
		return err
	}
	offer := c.server.Invite().Body()
	if len(offer) == 0 {
		_ = c.reject(488, "Not Acceptable Here")
		c.end(&HangupCause{Name: "incompatible_destination", Q850: sip.CauseIncompatibleDestination, SIPCode: 488, By: Local})
		return fmt.Errorf("call: answer: INVITE without SDP offer: %w", sip.ErrNotAcceptable)
	}
	c.mu.Lock()
	local := c.local
	c.mu.Unlock()
	ans, n, err := sip.Answer(offer, local)
	if err != nil {
		code, reason := 488, "Not Acceptable Here"
		if errors.Is(err, sip.ErrBadSDP) {
			code, reason = 400, "Bad Request"
		}
		_ = c.reject(code, reason)
		c.end(&HangupCause{Name: "incompatible_destination", Q850: sip.CauseIncompatibleDestination, SIPCode: code, By: Local})
		return fmt.Errorf("call: answer: %w", err)
	}
	c.mu.Lock()
	c.answer = ans
	c.mu.Unlock()
	return c.startMedia(n)
}

func (c *Call) answerSDP() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answer
}
