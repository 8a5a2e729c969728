package switchboard_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/sip"
)

// Two Switchboards behind Kamailio's dispatcher, which probes them with OPTIONS: calls
// spread over both; then one drains (Shutdown): its OPTIONS turn to 503, Kamailio stops
// sending it calls, its live call carries on undisturbed, and Shutdown returns once that
// call ends. No call is dropped.
func TestDrainBehindKamailio(t *testing.T) {
	var served [2]atomic.Int32
	instance := func(i int) *switchboard.Switchboard {
		return startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			served[i].Add(1)
			<-ctx.Done()
			return nil
		})})
	}
	a, b := instance(0), instance(1)
	kam := kamailio.Start(t, kamailio.Options{Backends: []string{a.Addr().String(), b.Addr().String()}, PingInterval: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, sb := range []*switchboard.Switchboard{a, b} {
		_, err := kam.WaitDispatcher(ctx, sb.Addr().String(), kamailio.StateActive)
		require.NoError(t, err)
	}
	uac, err := kamailio.UACScenario()
	require.NoError(t, err)
	callsThroughProxy := func(n int) sipp.Stats {
		st, err := sipp.Run(t, sipp.Options{
			ScenarioXML: uac, Remote: kam.Addr(), Rate: 20, Calls: n, CallDuration: 500 * time.Millisecond,
			Timeout: 60 * time.Second, ExtraArgs: kamailio.ReorderTolerantArgs(10 * time.Second),
		})
		require.NoError(t, err)
		return st
	}

	st := callsThroughProxy(40)
	assert.Equal(t, 40, st.Successful)
	assert.Equal(t, int32(20), served[0].Load(), "round robin")
	assert.Equal(t, int32(20), served[1].Load(), "round robin")

	// A live call on a, placed directly, then a drains.
	client := startWith(t, switchboard.Config{MediaTimeout: -1})
	live, err := client.Dial(ctx, a.URI("live"), call.DialOptions{})
	require.NoError(t, err)
	drained := make(chan error, 1)
	go func() { drained <- a.Shutdown(ctx) }()
	_, err = kam.WaitDispatcher(ctx, a.Addr().String(), kamailio.StateInactive)
	require.NoError(t, err, "Kamailio saw the 503 to its OPTIONS probe")

	st = callsThroughProxy(30)
	assert.Equal(t, 30, st.Successful, "no call lost while draining")
	assert.Equal(t, int32(21), served[0].Load(), "nothing new reached the draining instance (the live call is its 21st)")
	assert.Equal(t, int32(50), served[1].Load(), "the other took every new call")
	assert.Equal(t, call.StateAnswered, live.State(), "the live call carries on")
	select {
	case err := <-drained:
		t.Fatalf("Shutdown returned while a call was up: %v", err)
	default:
	}
	require.NoError(t, live.Hangup(ctx, sip.CauseNormalClearing))
	require.NoError(t, <-drained)
}
