package call

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/sip"
)

// DialOptions tune an outbound call. The zero value dials with the configured codecs, no
// caller ID beyond the endpoint's address, and a 60 s ring timeout.
type DialOptions struct {
	// From is the caller's URI (e.g. "sip:+15551230000@example.com"). Empty means
	// sip:switchboard@<our address>.
	From string
	// DisplayName is the caller's display name in From.
	DisplayName string
	// Headers are extra headers for the INVITE (name → value). Values are checked for
	// header injection (CR/LF) and rejected with sip.ErrHeaderValue.
	Headers map[string]string
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
	// RingTimeout gives up (CANCEL, OutcomeNoAnswer) when nobody answers in time.
	// Zero means 60 s.
	RingTimeout time.Duration
	// AMD, when set, runs answering machine detection from the moment of answer.
	AMD *AMDOptions
}

// Dial places a call through ep to target (a SIP URI) and returns it once answered. If
// it is not answered it returns a *DialError saying why (busy, rejected, no answer,
// cancelled, failed) with the SIP status and Q.850 cause. Cancelling ctx before the
// answer sends CANCEL.
func Dial(ctx context.Context, ep *sip.Endpoint, target string, cfg Config, opts DialOptions) (*Call, error) {
	to, err := sip.ParseURI(target)
	if err != nil {
		return nil, &DialError{Outcome: OutcomeFailed, Err: err}
	}
	var headers []sip.Header
	for name, v := range opts.Headers {
		h, err := sip.NewHeader(name, v)
		if err != nil {
			return nil, &DialError{Outcome: OutcomeFailed, Err: err}
		}
		headers = append(headers, h)
	}
	if opts.DisplayName != "" {
		if err := sip.CheckHeader("From", opts.DisplayName); err != nil {
			return nil, &DialError{Outcome: OutcomeFailed, Err: err}
		}
	}
	from, err := fromHeader(ep, opts)
	if err != nil {
		return nil, &DialError{Outcome: OutcomeFailed, Err: err}
	}
	c := newCall(cfg, Outbound, "", from.Address.String(), to.String())
	if c.cfg.SessionExpires > 0 {
		for name, v := range map[string]string{
			"Supported":       "timer",
			"Session-Expires": strconv.Itoa(int(c.cfg.SessionExpires / time.Second)),
			"Min-SE":          strconv.Itoa(int(c.cfg.MinSE / time.Second)),
		} {
			if h, err := sip.NewHeader(name, v); err == nil {
				headers = append(headers, h)
			}
		}
	}
	fail := func(o Outcome, st *StatusError, err error) (*Call, error) {
		cause := &HangupCause{Name: o.String(), Q850: sip.CauseNormalUnspecified, By: Local}
		if st != nil {
			cause.Q850, cause.SIPCode, cause.By = st.Cause, st.Code, Remote
		}
		c.end(cause)
		c.wg.Wait()
		return nil, &DialError{Outcome: o, Status: st, Err: err}
	}
	if err := c.allocMedia(); err != nil {
		return fail(OutcomeFailed, nil, err)
	}
	c.mu.Lock()
	local := c.local
	c.mu.Unlock()
	offer, err := sip.Offer(local)
	if err != nil {
		return fail(OutcomeFailed, nil, err)
	}
	ring := opts.RingTimeout
	if ring == 0 {
		ring = 60 * time.Second
	}
	ringCtx, cancel := context.WithTimeoutCause(ctx, ring, errRingTimeout)
	defer cancel()
	cd, err := ep.Invite(ringCtx, to, from, offer, headers...)
	if err != nil {
		return fail(OutcomeFailed, nil, err)
	}
	c.client = cd
	c.callID = cd.InviteRequest.CallID().Value()
	c.log = c.log.With("call_id", c.callID)
	cd.OnRequest(c.handleRequest)
	err = cd.WaitAnswer(ringCtx, sip.AnswerOptions{
		Username: opts.Username, Password: opts.Password,
		OnProvisional: func(res *sip.Response) {
			switch {
			case res.StatusCode == 180 || (res.StatusCode == 183 && len(res.Body()) == 0):
				if c.setState(StateRinging) {
					c.events.push(Ringing{base: now()})
				}
			case res.StatusCode == 183 && len(res.Body()) > 0:
				if n, err := sip.ParseAnswer(res.Body(), local); err == nil && c.startMedia(n) == nil {
					if c.setState(StateEarly) {
						c.events.push(EarlyMedia{base: now()})
					}
				}
			}
		},
	})
	if err != nil {
		var st *StatusError
		switch {
		case errors.As(err, &st):
			return fail(outcomeFor(st.Code), st, err)
		case errors.Is(context.Cause(ringCtx), errRingTimeout):
			return fail(OutcomeNoAnswer, nil, fmt.Errorf("call: no answer within %v: %w", ring, err))
		case ctx.Err() != nil:
			return fail(OutcomeCancelled, nil, err)
		}
		return fail(OutcomeFailed, nil, err)
	}
	n, err := sip.ParseAnswer(cd.InviteResponse.Body(), local)
	if err != nil {
		// Answered with media we cannot use: acknowledge, then hang up (RFC 3261 §13.2.2.4).
		_ = cd.Ack(ctx)
		_ = cd.Bye(context.Background(), sip.CauseIncompatibleDestination)
		return fail(OutcomeFailed, nil, err)
	}
	if err := cd.Ack(ctx); err != nil {
		return fail(OutcomeFailed, nil, err)
	}
	if err := c.startMedia(n); err != nil {
		_ = cd.Bye(context.Background(), sip.CauseIncompatibleDestination)
		return fail(OutcomeFailed, nil, err)
	}
	c.setState(StateAnswered)
	c.events.push(Answered{base: now()})
	if opts.AMD != nil {
		if err := c.startAMD(*opts.AMD); err != nil {
			c.log.Warn("answering machine detection not started", "err", err)
		}
	}
	if interval, refresher, ok := parseSessionExpires(headerValue(cd.InviteResponse, "Session-Expires", "x")); ok && c.cfg.SessionExpires > 0 {
		c.startSessionTimer(interval, refresher != "uas")
	}
	context.AfterFunc(cd.Context(), func() {
		c.end(&HangupCause{Name: "normal_clearing", Q850: sip.CauseNormalClearing, SIPCode: 200, By: Remote})
	})
	return c, nil
}

var errRingTimeout = errors.New("call: ring timeout")

func fromHeader(ep *sip.Endpoint, opts DialOptions) (*sip.FromHeader, error) {
	var u sip.URI
	if opts.From != "" {
		var err error
		if u, err = sip.ParseURI(opts.From); err != nil {
			return nil, err
		}
	} else {
		u = ep.Contact()
		u.User = "switchboard"
	}
	return sip.NewFromHeader(opts.DisplayName, u), nil
}
