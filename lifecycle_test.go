package switchboard_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/sip"
)

// Calls beyond MaxCalls get 503; once a call ends there is room again.
func TestMaxCalls(t *testing.T) {
	a := startWith(t, switchboard.Config{MaxCalls: 1, MediaTimeout: -1, Handler: answer})
	b := startWith(t, switchboard.Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := b.Dial(ctx, a.URI("1"), call.DialOptions{})
	require.NoError(t, err)
	_, err = b.Dial(ctx, a.URI("2"), call.DialOptions{})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 503}), "over the limit: %v", err)
	require.NoError(t, first.Hangup(ctx, sip.CauseNormalClearing))
	require.Eventually(t, func() bool { return a.Calls() == 0 }, 5*time.Second, 10*time.Millisecond)
	again, err := b.Dial(ctx, a.URI("3"), call.DialOptions{})
	require.NoError(t, err)
	require.NoError(t, again.Hangup(ctx, sip.CauseNormalClearing))
}

// A handler that panics costs that call only: the caller gets 500, the process and the
// Switchboard carry on.
func TestHandlerPanic(t *testing.T) {
	var n atomic.Int32
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if n.Add(1) == 1 {
			panic("handler bug")
		}
		return answer(ctx, c)
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 500}), "panicked call: %v", err)
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err, "the next call is served")
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}

// Early media: the callee plays audio with 183 before answering; the caller hears it
// before Dial returns, and sees an EarlyMedia event.
func TestEarlyMedia(t *testing.T) {
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.EarlyMedia(ctx); err != nil {
			return err
		}
		playTone(t, c, 800, 600*time.Millisecond)
		m, err := c.Media()
		if err != nil {
			return err
		}
		if err := m.WaitPlayout(ctx); err != nil {
			return err
		}
		return answer(ctx, c)
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	m, err := c.Media()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, m.Stats().PacketsReceived, uint64(20), "audio arrived before the answer")
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	var names []string
	for ev := range c.Events() {
		names = append(names, ev.Name())
	}
	assert.Contains(t, names, "call.early_media")
}

// A caller that gives up while we ring cancels: the handler's ctx ends with the cause
// "originator_cancel".
func TestCancelBeforeAnswer(t *testing.T) {
	causes := make(chan error, 1)
	a := startWith(t, switchboard.Config{Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		_ = c.Ring(ctx)
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil
	})})
	b := startWith(t, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	var de *call.DialError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, call.OutcomeCancelled, de.Outcome)
	assert.True(t, errors.Is(<-causes, call.CauseCancelled))
}

// Hangup's cause travels in the BYE's Reason header (RFC 3326); a call refused before
// answer carries it in the final response, and the caller reads it back.
func TestReasonHeaderWritten(t *testing.T) {
	sb := startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if strings.HasPrefix(c.To(), "sip:absent@") {
			return c.Hangup(ctx, sip.CauseSubscriberAbsent) // before answer: 480 with Reason cause 20
		}
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		return c.Hangup(ctx, sip.CauseNormalUnspecified)
	})})
	xml := uacHead + `  <recv request="BYE">
    <action><ereg regexp="Q.850;cause=31" search_in="hdr" header="Reason:" check_it="true" assign_to="reason"/></action>
  </recv>
  <Reference variables="reason"/>
` + ok200 + `</scenario>
`
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
	require.NoError(t, err, "the BYE carried Reason: Q.850;cause=31")
	assert.Equal(t, 1, st.Successful)

	b := startWith(t, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = b.Dial(ctx, sb.URI("absent"), call.DialOptions{})
	var de *call.DialError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 480, de.Status.Code)
	assert.Equal(t, sip.CauseSubscriberAbsent, de.Status.Cause, "from the Reason header, not the 480 mapping (which would say 18)")
}

// ListenAndServe serves UDP and TCP on one address until Close.
func TestListenAndServe(t *testing.T) {
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := probe.LocalAddr().String()
	probe.Close()
	a, err := switchboard.New(switchboard.Config{ListenAddr: addr, Handler: answer, MediaTimeout: -1})
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- a.ListenAndServe() }()
	require.Eventually(t, func() bool { return a.Addr() != nil }, 2*time.Second, 5*time.Millisecond)
	b := startStreamClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, target := range []string{"sip:x@" + addr, "sip:x@" + addr + ";transport=tcp"} {
		c, err := b.Dial(ctx, target, call.DialOptions{})
		require.NoError(t, err, target)
		require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	}
	require.NoError(t, a.Close())
	assert.ErrorIs(t, <-served, switchboard.ErrServerClosed)
}

func startStreamClient(t *testing.T) *switchboard.Switchboard {
	t.Helper()
	b, _ := startStream(t, switchboard.Config{MediaTimeout: -1}, "tcp")
	return b
}
