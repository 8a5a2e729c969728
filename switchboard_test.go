package switchboard_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m) // sipgo's transaction layer keeps a timer goroutine per terminated transaction
	// for its timer J/K wait; they end on their own within 32 s.
	// (no exceptions needed so far)

}

func start(t *testing.T, h call.Handler) *switchboard.Switchboard {
	t.Helper()
	sb, err := switchboard.New(switchboard.Config{Handler: h, ListenAddr: "127.0.0.1:0", MediaTimeout: -1})
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- sb.Serve(conn) }()
	t.Cleanup(func() {
		require.NoError(t, sb.Close())
		assert.ErrorIs(t, <-served, switchboard.ErrServerClosed)
	})
	require.Eventually(t, func() bool { return sb.Addr() != nil }, time.Second, time.Millisecond)
	return sb
}

func tone(rate int, freq float64, d time.Duration) []int16 {
	n := media.SamplesPer(rate, d)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

func goertzel(x []int16, rate int, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + k*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// Two Switchboards on loopback: B dials A, A answers and plays a tone, B hears it at the
// right frequency; B sends DTMF and A gets the digits; B hangs up and A's handler sees
// the remote hangup cause.
func TestLoopbackCall(t *testing.T) {
	digits := make(chan rune, 10)
	handlerDone := make(chan error, 1)
	a := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		require.NoError(t, c.Ring(ctx))
		require.NoError(t, c.Answer(ctx, call.AnswerOptions{}))
		w, err := c.AudioWriter()
		require.NoError(t, err)
		samples := tone(w.SampleRate(), 1000, 3*time.Second)
		n := media.SamplesPer(w.SampleRate(), 20*time.Millisecond)
		for off := 0; off+n <= len(samples); off += n {
			if err := w.WriteFrame(media.Frame{Samples: samples[off : off+n], SampleRate: w.SampleRate()}); err != nil {
				break
			}
		}
		go func() {
			for ev := range c.Events() {
				if d, ok := ev.(call.DTMF); ok {
					digits <- d.Digit
				}
			}
		}()
		<-ctx.Done()
		handlerDone <- context.Cause(ctx)
		return nil
	}))
	b := start(t, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("alice"), call.DialOptions{})
	require.NoError(t, err)
	assert.Equal(t, call.StateAnswered, c.State())
	r, err := c.AudioReader(0)
	require.NoError(t, err)
	defer r.Close()
	var got []int16
	for len(got) < media.SamplesPer(r.SampleRate(), time.Second) {
		f, err := r.ReadFrame()
		require.NoError(t, err)
		got = append(got, f.Samples...)
	}
	got = got[len(got)/2:] // past any leading silence
	p1k, p600 := goertzel(got, r.SampleRate(), 1000), goertzel(got, r.SampleRate(), 600)
	assert.Greater(t, p1k, 1000*p600, "1 kHz tone dominates what B received")

	require.NoError(t, c.SendDTMF(ctx, "12#", 80*time.Millisecond))
	var rx []rune
	for len(rx) < 3 {
		select {
		case d := <-digits:
			rx = append(rx, d)
		case <-ctx.Done():
			t.Fatalf("digits received: %q", string(rx))
		}
	}
	assert.Equal(t, "12#", string(rx))

	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	assert.True(t, errors.Is(context.Cause(c.Context()), call.CauseLocalHangup))
	cause := <-handlerDone
	assert.True(t, errors.Is(cause, call.CauseRemoteBye), "handler ctx cause: %v", cause)
	var names []string
	for ev := range c.Events() {
		// The 180 and the 200 leave back to back; the SIP stack handles each received
		// message on its own goroutine, so the 180 may lose the race and be ignored as
		// stale, which RFC 3261 allows.
		if ev.Name() != "call.ringing" {
			names = append(names, ev.Name())
		}
	}
	assert.Equal(t, []string{"call.initiated", "call.answered", "call.hangup"}, names)
}

// Dial failures come back typed: busy, rejected and no answer.
func TestDialFailures(t *testing.T) {
	a := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		switch c.To()[:len("sip:busy")] {
		case "sip:busy":
			return c.Reject(ctx, sip.CauseUserBusy)
		case "sip:decl":
			return call.Rejection(603, "Decline")
		}
		_ = c.Ring(ctx)
		<-ctx.Done()
		return nil
	}))
	b := start(t, nil)
	ctx := context.Background()

	_, err := b.Dial(ctx, a.URI("busy"), call.DialOptions{})
	var de *call.DialError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, call.OutcomeBusy, de.Outcome)
	assert.True(t, errors.Is(err, &call.StatusError{Code: 486}))
	assert.Equal(t, sip.CauseUserBusy, de.Status.Cause)

	_, err = b.Dial(ctx, a.URI("decline"), call.DialOptions{})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, call.OutcomeRejected, de.Outcome)

	_, err = b.Dial(ctx, a.URI("ringer"), call.DialOptions{RingTimeout: 500 * time.Millisecond})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, call.OutcomeNoAnswer, de.Outcome)

	_, err = b.Dial(ctx, a.URI("x"), call.DialOptions{Headers: map[string]string{"X-Evil": "a\r\nBYE: x"}})
	assert.ErrorIs(t, err, sip.ErrHeaderValue)
}

// SIPp calls a Switchboard 200 times at 20 calls/s: each call is answered, RTP flows both
// ways for 2 s (we play a tone, SIPp echoes it back) and SIPp hangs up. Every call
// succeeds and every call leg received its echo.
func TestSIPpCallsIn(t *testing.T) {
	var mu sync.Mutex
	var answered, withEcho int
	sb := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		mu.Lock()
		answered++
		mu.Unlock()
		m, err := c.Media()
		if err != nil {
			return err
		}
		samples := tone(m.SampleRate(), 440, 2*time.Second)
		n := media.SamplesPer(m.SampleRate(), 20*time.Millisecond)
		for off := 0; off+n <= len(samples) && ctx.Err() == nil; off += n {
			_ = m.WriteFrame(media.Frame{Samples: samples[off : off+n], SampleRate: m.SampleRate()})
		}
		<-ctx.Done()
		if m.Stats().PacketsReceived > 0 {
			mu.Lock()
			withEcho++
			mu.Unlock()
		}
		return nil
	}))
	st, err := sipp.Run(t, sipp.Options{
		Scenario: "uac", Remote: sb.Addr().String(), RTPEcho: true,
		Rate: 20, Calls: 200, CallDuration: 2 * time.Second, Timeout: 60 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, 200, st.Successful)
	assert.Zero(t, st.Failed)
	require.Eventually(t, func() bool { return sb.Calls() == 0 }, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 200, answered)
	assert.Equal(t, 200, withEcho, "every call received RTP back from SIPp")
	t.Logf("200 calls: response time %v, call length %v, retransmissions %d", st.ResponseTime, st.CallLength, st.Retransmissions)
}

// Shutdown drains: a live call continues, new INVITEs and OPTIONS get 503, and Shutdown
// returns once the live call has ended.
func TestShutdownDrains(t *testing.T) {
	a := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}))
	b := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	live, err := b.Dial(ctx, a.URI("live"), call.DialOptions{})
	require.NoError(t, err)

	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown(ctx) }()
	require.Eventually(t, func() bool { return optionsStatus(t, a.Addr().String()) == 503 }, 2*time.Second, 10*time.Millisecond)

	_, err = b.Dial(ctx, a.URI("new"), call.DialOptions{})
	assert.True(t, errors.Is(err, &call.StatusError{Code: 503}), "new call during drain: %v", err)
	assert.Equal(t, call.StateAnswered, live.State(), "the live call is untouched")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned with a call up: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, live.Hangup(ctx, sip.CauseNormalClearing))
	require.NoError(t, <-shut)
}

// optionsStatus sends a SIP OPTIONS to addr and returns the response status code.
func optionsStatus(t *testing.T, addr string) int {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + strconv.FormatInt(time.Now().UnixNano(), 36) + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:" + addr + ">\r\n" +
		"Call-ID: " + strconv.FormatInt(time.Now().UnixNano(), 36) + "@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	_, err = conn.Write([]byte(msg))
	require.NoError(t, err)
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return 0
	}
	var code int
	_, _ = fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code)
	return code
}
