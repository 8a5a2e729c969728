package switchboard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

// collector is a Listen consumer that keeps what it hears.
type collector struct {
	rate int
	mu   sync.Mutex
	x    []int16
}

func (c *collector) SampleRate() int { return c.rate }
func (c *collector) WriteFrame(f media.Frame) error {
	c.mu.Lock()
	c.x = append(c.x, f.Samples...)
	c.mu.Unlock()
	return nil
}

// Several consumers of the caller's audio at once: two listeners (one at the call's
// 8 kHz, one at 16 kHz through a resampler) and a reader all hear the same tone.
func TestAudioFanout(t *testing.T) {
	calls := make(chan *call.Call, 1)
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()}, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		calls <- c
		<-ctx.Done()
		return nil
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caller, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	callee := <-calls

	narrow, wide := &collector{rate: 8000}, &collector{rate: 16000}
	stop1, err := callee.Listen(narrow)
	require.NoError(t, err)
	stop2, err := callee.Listen(wide)
	require.NoError(t, err)
	r, err := callee.AudioReader(0)
	require.NoError(t, err)
	defer r.Close()

	go playTone(t, caller, 700, time.Second)
	var read []int16
	for len(read) < 8000*1200/1000 {
		f, err := r.ReadFrame()
		require.NoError(t, err)
		read = append(read, f.Samples...)
	}
	stop1()
	stop2()
	stop1() // idempotent
	narrow.mu.Lock()
	wide.mu.Lock()
	defer narrow.mu.Unlock()
	defer wide.mu.Unlock()
	for name, got := range map[string]struct {
		x    []int16
		rate int
	}{"reader": {read, 8000}, "listener 8k": {narrow.x, 8000}, "listener 16k": {wide.x, 16000}} {
		f := audiotest.DominantFrequency(got.x, got.rate, 100, float64(got.rate)/2-100, 1)
		assert.InDelta(t, 700, f, 5, name)
	}
	assert.Zero(t, r.Overruns())
	require.NoError(t, caller.Hangup(ctx, sip.CauseNormalClearing))
	_, err = r.ReadFrame()
	for err == nil { // drain what is left; then the reader reports the end
		_, err = r.ReadFrame()
	}
	assert.ErrorIs(t, err, media.ErrClosed)
}
