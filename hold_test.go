package switchboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

// The caller puts the callee on hold and back: the callee gets Hold and Unhold events,
// stops sending RTP while held, and the directions are renegotiated both times.
func TestHoldUnhold(t *testing.T) {
	callee := make(chan *call.Call, 1)
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		callee <- c
		<-ctx.Done()
		return nil
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	held := <-callee
	holds := make(chan string, 4)
	go func() {
		for ev := range held.Events() {
			if ev.Name() == "call.hold" || ev.Name() == "call.unhold" {
				holds <- ev.Name()
			}
		}
	}()

	require.NoError(t, c.Hold(ctx))
	assert.True(t, c.OnHold())
	assert.Equal(t, sip.SendOnly, c.Negotiated().Direction)
	assert.Equal(t, "call.hold", <-holds)
	assert.True(t, held.RemoteHold())
	assert.Equal(t, sip.RecvOnly, held.Negotiated().Direction)
	m, err := held.Media()
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	sent := m.Stats().PacketsSent
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, sent, m.Stats().PacketsSent, "a held party sends no RTP")

	require.NoError(t, c.Unhold(ctx))
	assert.False(t, c.OnHold())
	assert.Equal(t, "call.unhold", <-holds)
	assert.False(t, held.RemoteHold())
	time.Sleep(200 * time.Millisecond)
	assert.Greater(t, m.Stats().PacketsSent, sent, "sending resumes")
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}
