package call

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseDTMFInfo(t *testing.T) {
	for _, tc := range []struct {
		body  string
		relay bool
		digit rune
		dur   time.Duration
		ok    bool
	}{
		{"Signal=5\r\nDuration=160\r\n", true, '5', 160 * time.Millisecond, true},
		{"Signal= #\nDuration=250", true, '#', 250 * time.Millisecond, true},
		{"signal=a", true, 'A', 100 * time.Millisecond, true},
		{"Signal=55", true, 0, 0, false},
		{"Signal=x", true, 0, 0, false},
		{"Duration=100", true, 0, 0, false},
		{"7", false, '7', 100 * time.Millisecond, true},
		{"", false, 0, 0, false},
	} {
		d, dur, ok := parseDTMFInfo(tc.body, tc.relay)
		assert.Equal(t, tc.ok, ok, "%q", tc.body)
		if ok {
			assert.Equal(t, tc.digit, d, "%q", tc.body)
			assert.Equal(t, tc.dur, dur, "%q", tc.body)
		}
	}
}

func TestParseSessionExpires(t *testing.T) {
	d, who, ok := parseSessionExpires("1800;refresher=UAC")
	require.True(t, ok)
	assert.Equal(t, 30*time.Minute, d)
	assert.Equal(t, "uac", who)
	d, who, ok = parseSessionExpires(" 90 ")
	require.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	assert.Empty(t, who)
	for _, bad := range []string{"", "x", "-5", "0;refresher=uas"} {
		_, _, ok := parseSessionExpires(bad)
		assert.False(t, ok, bad)
	}
}

func TestHangupCauseIs(t *testing.T) {
	remote := &HangupCause{Name: "normal_clearing", Q850: 16, SIPCode: 200, By: Remote}
	assert.True(t, errors.Is(remote, CauseRemoteBye))
	assert.False(t, errors.Is(remote, CauseLocalHangup), "same name, other side")
	assert.True(t, errors.Is(remote, &HangupCause{}), "any cause")
	var hc *HangupCause
	assert.True(t, errors.As(error(remote), &hc))
	assert.Contains(t, remote.Error(), "normal_clearing by remote")
}

func TestOutcomes(t *testing.T) {
	for code, want := range map[int]Outcome{486: OutcomeBusy, 600: OutcomeBusy, 603: OutcomeRejected,
		403: OutcomeRejected, 408: OutcomeNoAnswer, 480: OutcomeNoAnswer, 404: OutcomeFailed, 500: OutcomeFailed} {
		assert.Equal(t, want, outcomeFor(code), "%d", code)
	}
	err := &DialError{Outcome: OutcomeBusy, Err: &StatusError{Code: 486}}
	assert.True(t, errors.Is(err, &StatusError{Code: 486}))
	assert.Equal(t, "busy", OutcomeBusy.String())
}

// Events arrive in order, the channel closes after Hangup, and nothing pushed after
// Hangup is delivered.
func TestEventQueueOrderAndClose(t *testing.T) {
	q := newEventQueue(time.Second, nil)
	go q.run()
	for i := range 100 {
		q.push(DTMF{Digit: rune('0' + i%10)})
	}
	q.push(Hangup{Cause: CauseLocalHangup})
	q.push(Answered{})
	q.release()
	var got []Event
	for ev := range q.out {
		got = append(got, ev)
	}
	require.Len(t, got, 101)
	for i := range 100 {
		assert.Equal(t, rune('0'+i%10), got[i].(DTMF).Digit)
	}
	assert.Equal(t, "call.hangup", got[100].Name())
	<-q.done
}

// The hook sees every event as it happens even when nobody reads the channel, and
// events nobody reads are dropped (and counted) once the grace period after the end is
// over, so the dispatcher never leaks.
func TestEventQueueHookAndGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var hooked []string
		q := newEventQueue(2*time.Second, func(ev Event) {
			mu.Lock()
			hooked = append(hooked, ev.Name())
			mu.Unlock()
		})
		go q.run()
		for range 20 {
			q.push(DTMF{Digit: '1'})
		}
		q.push(Hangup{Cause: CauseRemoteBye})
		synctest.Wait()
		mu.Lock()
		assert.Len(t, hooked, 21, "the hook is not held up by the unread channel")
		mu.Unlock()
		q.release()
		start := time.Now()
		<-q.done
		assert.Equal(t, 2*time.Second, time.Since(start), "gave up after the grace period")
		assert.Equal(t, 21-cap(q.out), q.dropped, "what did not fit the channel was dropped")
	})
}

// Pushing never blocks, whatever the reader does.
func TestEventPushNeverBlocks(t *testing.T) {
	q := newEventQueue(time.Millisecond, nil)
	go q.run()
	for range 10000 {
		q.push(DTMF{Digit: '9'})
	}
	q.push(Hangup{Cause: CauseLocalHangup})
	q.release()
	<-q.done
}

func TestOnce(t *testing.T) {
	c := &Call{}
	var runs atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Once("transfer-1", func() error { runs.Add(1); time.Sleep(10 * time.Millisecond); return errors.New("boom") })
			assert.EqualError(t, err, "boom", "every caller gets the first run's result")
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load())
	require.NoError(t, c.Once("other", func() error { return nil }))
}

func TestDigitHub(t *testing.T) {
	c := &Call{events: newEventQueue(time.Millisecond, nil)}
	ch, stop := c.subscribeDigits()
	c.digit(DTMF{Digit: '5', Source: "info"})
	assert.Equal(t, '5', (<-ch).Digit)
	for range 100 {
		c.digit(DTMF{Digit: '1'})
	}
	assert.Equal(t, uint64(100-64), c.digits.dropped.Load(), "a full subscriber loses digits, the pusher never waits")
	stop()
	stop()
	c.digit(DTMF{Digit: '9'})
	assert.Len(t, ch, 64, "nothing after the subscription ended")
}
