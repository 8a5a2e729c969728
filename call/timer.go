package call

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/sip"
)

// Session timers (RFC 4028): a call whose peer vanished without a BYE must not live
// forever. One side, the refresher, sends a re-INVITE every half interval; the other
// ends the call when no refresh came in time.

const (
	defaultSessionExpires = 30 * time.Minute
	defaultMinSE          = 90 * time.Second
)

// sessionExpires parses "1800;refresher=uac".
func parseSessionExpires(v string) (time.Duration, string, bool) {
	parts := strings.Split(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n <= 0 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return time.Duration(n) * time.Second, refresher, true
}

func headerValue(req interface{ GetHeader(string) sip.Header }, names ...string) string {
	for _, n := range names {
		if h := req.GetHeader(n); h != nil {
			return h.Value()
		}
	}
	return ""
}

func supportsTimer(req interface{ GetHeader(string) sip.Header }) bool {
	for _, tag := range strings.Split(headerValue(req, "Supported", "k"), ",") {
		if strings.EqualFold(strings.TrimSpace(tag), "timer") {
			return true
		}
	}
	return false
}

// sessionTimer runs the timer of one call. It owns no goroutine: time.AfterFunc runs
// the refresh or the expiry when due.
type sessionTimer struct {
	c        *Call
	interval time.Duration
	refresh  bool // we are the refresher

	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (c *Call) startSessionTimer(interval time.Duration, weRefresh bool) {
	if interval <= 0 {
		return
	}
	st := &sessionTimer{c: c, interval: interval, refresh: weRefresh}
	c.mu.Lock()
	c.timer = st
	c.mu.Unlock()
	st.arm()
	context.AfterFunc(c.ctx, st.stop)
	c.log.Debug("session timer", "interval", interval, "we_refresh", weRefresh)
}

// arm schedules the next refresh (half the interval) or the expiry check (RFC 4028 §10:
// the interval minus a third of it, or minus 32 s, whichever is less).
func (st *sessionTimer) arm() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped {
		return
	}
	if st.t != nil {
		st.t.Stop()
	}
	if st.refresh {
		st.t = time.AfterFunc(st.interval/2, st.doRefresh)
	} else {
		st.t = time.AfterFunc(st.interval-min(32*time.Second, st.interval/3), st.expire)
	}
}

func (st *sessionTimer) stop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopped = true
	if st.t != nil {
		st.t.Stop()
	}
}

// refreshed is called when the peer refreshed the session (re-INVITE or UPDATE).
func (st *sessionTimer) refreshed() {
	if !st.refresh {
		st.arm()
	}
}

func (st *sessionTimer) header() sip.Header {
	who := "uac"
	if (st.c.dir == Inbound) == st.refresh {
		who = "uas"
	}
	h, _ := sip.NewHeader("Session-Expires", strconv.Itoa(int(st.interval/time.Second))+";refresher="+who)
	return h
}

func (st *sessionTimer) doRefresh() {
	c := st.c
	ctx, cancel := context.WithTimeout(c.ctx, 32*time.Second)
	defer cancel()
	err := c.refreshSession(ctx, st.header())
	if err == nil {
		c.sessionRefreshes.Add(1)
		st.arm()
		return
	}
	if c.ctx.Err() != nil {
		return
	}
	// RFC 4028 §10: a refresh answered 408 or 481 (or not at all) ends the session.
	c.log.Info("session refresh failed: hanging up", "err", err)
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer hcancel()
	_ = c.hangup(hctx, &HangupCause{Name: "session_timer_expired", Q850: sip.CauseRecoveryOnTimerExpiry, By: Local})
}

func (st *sessionTimer) expire() {
	c := st.c
	c.log.Info("session timer expired: the peer stopped refreshing")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.hangup(ctx, &HangupCause{Name: "session_timer_expired", Q850: sip.CauseRecoveryOnTimerExpiry, By: Local})
}

// refreshSession sends a re-INVITE carrying our current session description unchanged
// (same o= version, RFC 3264 §8) and the Session-Expires header.
func (c *Call) refreshSession(ctx context.Context, se sip.Header) error {
	c.mu.Lock()
	local := c.local
	c.mu.Unlock()
	offer, err := sip.Offer(local)
	if err != nil {
		return err
	}
	var res *sip.Response
	if c.server != nil {
		res, err = c.server.Reinvite(ctx, offer, se)
	} else {
		res, err = c.client.Reinvite(ctx, offer, se)
	}
	if err != nil {
		return err
	}
	if n, perr := sip.ParseAnswer(res.Body(), local); perr == nil {
		return c.startMedia(n)
	}
	return nil
}
