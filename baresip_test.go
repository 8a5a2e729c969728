package switchboard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

// playTone writes d of a sine into the call's playout queue.
func playTone(t *testing.T, c *call.Call, freq float64, d time.Duration) {
	t.Helper()
	w, err := c.AudioWriter()
	require.NoError(t, err)
	rate := w.SampleRate()
	samples := audiotest.Sine(rate, freq, d, -9)
	n := media.SamplesPer(rate, 20*time.Millisecond)
	for off := 0; off+n <= len(samples); off += n {
		if err := w.WriteFrame(media.Frame{Samples: samples[off : off+n], SampleRate: rate}); err != nil {
			return
		}
	}
}

// record reads the caller's audio for d.
func record(t *testing.T, c *call.Call, d time.Duration) ([]int16, int) {
	t.Helper()
	r, err := c.AudioReader(0)
	require.NoError(t, err)
	defer r.Close()
	var got []int16
	for len(got) < media.SamplesPer(r.SampleRate(), d) {
		f, err := r.ReadFrame()
		if err != nil {
			break
		}
		got = append(got, f.Samples...)
	}
	return got, r.SampleRate()
}

// checkTone asserts the loud part of x is a tone of freq Hz.
func checkTone(t *testing.T, who string, x []int16, rate int, freq float64) {
	t.Helper()
	from, to, ok := audiotest.ActiveSpan(x, rate, 20*time.Millisecond, -30)
	require.True(t, ok, "%s: no audio above -30 dBFS", who)
	edge := rate / 10
	require.Greater(t, to-from, 3*edge, "%s: tone too short", who)
	seg := x[from+edge : to-edge]
	got := audiotest.DominantFrequency(seg, rate, 100, float64(rate)/2-100, 1)
	assert.InDelta(t, freq, got, 10, "%s: dominant frequency", who)
	assert.Greater(t, audiotest.SFDR(seg, rate, got, 100), 20.0, "%s: tone purity", who)
	t.Logf("%s: %.1f Hz (want %.0f), SFDR %.1f dB, %.1f dBFS", who, got, freq, audiotest.SFDR(seg, rate, got, 100), audiotest.RMSdBFS(seg))
}

// baresip calls a Switchboard: we answer, hear baresip's 600 Hz tone, play 1 kHz that
// baresip records, receive baresip's RFC 4733 digits, and see baresip hang up.
func TestBaresipCallsSwitchboard(t *testing.T) {
	for _, tc := range []struct {
		name         string
		codec        baresip.Codec
		theirs, ours float64
	}{
		{"pcmu", baresip.PCMU, 600, 1000},
		{"g722", baresip.G722, 6000, 5000}, // both tones only survive a wideband call
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var heard []int16
			var heardRate int
			var digits []rune
			var cause error
			done := make(chan struct{})
			sb := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
				defer close(done)
				if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
					return err
				}
				go func() {
					for ev := range c.Events() {
						if d, ok := ev.(call.DTMF); ok {
							mu.Lock()
							digits = append(digits, d.Digit)
							mu.Unlock()
						}
					}
				}()
				go playTone(t, c, tc.ours, 1500*time.Millisecond)
				x, rate := record(t, c, 2500*time.Millisecond)
				mu.Lock()
				heard, heardRate = x, rate
				mu.Unlock()
				<-ctx.Done()
				mu.Lock()
				cause = context.Cause(ctx)
				mu.Unlock()
				return nil
			}))
			rate := tc.codec.Rate()
			ua := baresip.Start(t, baresip.Options{
				Codecs: []baresip.Codec{tc.codec}, Audio: audiotest.Sine(rate, tc.theirs, 1500*time.Millisecond, -9),
				Pad: 10 * time.Second, HangupAfter: 4 * time.Second,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			require.NoError(t, ua.Dial(ctx, sb.URI("ivr")))
			_, err := ua.WaitEvent(ctx, baresip.EventCallEstablished)
			require.NoError(t, err)
			time.Sleep(2 * time.Second)
			require.NoError(t, ua.SendDTMF(ctx, "159#"))
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatal("handler did not end")
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, "159#", string(digits))
			assert.ErrorIs(t, cause, call.CauseRemoteBye)
			assert.Equal(t, rate, heardRate, "we decode at the codec's rate")
			checkTone(t, "we heard baresip", heard, heardRate, tc.theirs)
			rec, recRate, err := ua.ReceivedAudio(ctx)
			require.NoError(t, err)
			checkTone(t, "baresip heard us", rec, recRate, tc.ours)
		})
	}
}

// A Switchboard calls baresip (auto-answer): audio both ways, then we hang up.
func TestSwitchboardCallsBaresip(t *testing.T) {
	sb := start(t, nil)
	ua := baresip.Start(t, baresip.Options{
		Codecs: []baresip.Codec{baresip.G722, baresip.PCMU},
		Audio:  audiotest.Sine(16000, 3000, 1500*time.Millisecond, -9), Pad: 10 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sb.Dial(ctx, ua.URI(), call.DialOptions{})
	require.NoError(t, err)
	assert.Equal(t, "G722", c.Negotiated().Codec.Name())
	go playTone(t, c, 7000, 1500*time.Millisecond)
	heard, rate := record(t, c, 2500*time.Millisecond)
	require.NoError(t, c.SendDTMF(ctx, "7*", 100*time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	_, err = ua.WaitEvent(ctx, baresip.EventCallClosed)
	require.NoError(t, err)
	checkTone(t, "we heard baresip", heard, rate, 3000)
	rec, recRate, err := ua.ReceivedAudio(ctx)
	require.NoError(t, err)
	checkTone(t, "baresip heard us", rec, recRate, 7000)
	assert.Equal(t, "7*", ua.ReceivedDTMF())
}
