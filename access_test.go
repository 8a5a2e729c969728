package switchboard_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

func startWith(t *testing.T, cfg switchboard.Config) *switchboard.Switchboard {
	t.Helper()
	sb, err := switchboard.New(cfg)
	require.NoError(t, err)
	require.NoError(t, sb.Start(listen(t)))
	t.Cleanup(func() { require.NoError(t, sb.Close()) })
	return sb
}

// answer answers and holds the call until it ends.
var answer call.HandlerFunc = func(ctx context.Context, c *call.Call) error {
	if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// Digest authentication of inbound INVITEs: no credentials → 401 (Dial reports it),
// wrong password → 403, right one → answered.
func TestInboundDigestAuth(t *testing.T) {
	a := startWith(t, switchboard.Config{Handler: answer, Access: sip.AccessControl{
		Realm: "calls.test",
		Credentials: func(user string) (string, bool) {
			if user == "carol" {
				return "hunter2", true
			}
			return "", false
		},
	}})
	b := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 401}), "no credentials: %v", err)
	_, err = b.Dial(ctx, a.URI("x"), call.DialOptions{Username: "carol", Password: "nope"})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 403}), "wrong password: %v", err)
	_, err = b.Dial(ctx, a.URI("x"), call.DialOptions{Username: "mallory", Password: "hunter2"})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 403}), "unknown user: %v", err)

	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{Username: "carol", Password: "hunter2"})
	require.NoError(t, err)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}

// Source network restriction: callers outside the allowed prefixes get 403.
func TestInboundAllowedNetworks(t *testing.T) {
	closed := startWith(t, switchboard.Config{Handler: answer, Access: sip.AccessControl{
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}})
	open := startWith(t, switchboard.Config{Handler: answer, Access: sip.AccessControl{
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")},
	}})
	b := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.Dial(ctx, closed.URI("x"), call.DialOptions{})
	var de *call.DialError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 403, de.Status.Code)
	assert.Equal(t, call.OutcomeRejected, de.Outcome)
	c, err := b.Dial(ctx, open.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}

// The Switchboard-wide hook sees both legs' events, in order, even when nobody reads
// the per-call channels.
func TestSwitchboardEventHook(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	hook := func(c *call.Call, ev call.Event) {
		mu.Lock()
		seen[c.Direction().String()] = append(seen[c.Direction().String()], ev.Name())
		mu.Unlock()
	}
	a := startWith(t, switchboard.Config{Handler: answer, OnEvent: hook})
	b := startWith(t, switchboard.Config{OnEvent: hook})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	want := []string{"call.initiated", "call.answered", "call.hangup"}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["inbound"]) == 3 && len(seen["outbound"]) >= 3
	}, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, seen["inbound"])
	assert.Equal(t, want, filterRinging(seen["outbound"]))
}

func filterRinging(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "call.ringing" {
			out = append(out, n)
		}
	}
	return out
}
