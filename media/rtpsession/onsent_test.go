package rtpsession

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
)

// sentLog keeps what OnSent showed, copying the samples (they are valid only during
// the call).
type sentLog struct {
	mu     sync.Mutex
	frames []media.Frame
}

func (l *sentLog) hook(f media.Frame) {
	l.mu.Lock()
	l.frames = append(l.frames, f.Clone())
	l.mu.Unlock()
}

func (l *sentLog) get() []media.Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]media.Frame(nil), l.frames...)
}

// OnSent sees one frame per tick: exactly the PCM each audio packet carries (its
// μ-law payload decodes to what OnSent showed), with the packet's timestamp; silence
// flagged when the queue is empty and during a telephone event; FlagRTP missing while
// sending is off.
func TestOnSentMatchesTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log sentLog
		n := newMemNet()
		s, peer := newMemSession(t, n, Config{RTCPInterval: -1, TelephoneEventPT: 101, OnSent: log.hook})
		for _, f := range toneFrames(8000, 20*time.Millisecond, 200*time.Millisecond, 1000) {
			require.NoError(t, s.WriteFrame(f))
		}
		const packets = 20
		for i := range packets {
			p, _ := readRTP(t, peer)
			if i == 0 {
				require.EqualValues(t, 0, p.PayloadType)
			}
			// The hook runs after the write, on the clock's goroutine: let that tick
			// finish before looking.
			synctest.Wait()
			frames := log.get()
			require.Greater(t, len(frames), i, "OnSent ran for packet %d", i)
			f := frames[i]
			assert.Equal(t, p.Timestamp, f.Timestamp, "packet %d timestamp", i)
			assert.Equal(t, 8000, f.SampleRate)
			require.Len(t, f.Samples, 160)
			for j, b := range p.Payload {
				// PCM → μ-law → PCM is what the peer hears; compare in μ-law.
				if g711.EncodeUlawFrame(f.Samples[j]) != b {
					t.Fatalf("packet %d sample %d: OnSent %d, wire byte %#x", i, j, f.Samples[j], b)
				}
			}
			if i < 10 {
				assert.Equal(t, media.FlagRTP, f.Flags, "tone packet %d", i)
			} else {
				assert.Equal(t, media.FlagRTP|media.FlagSilence, f.Flags, "idle packet %d", i)
			}
		}

		// A telephone event replaces audio: its ptimes show as silence.
		for _, f := range toneFrames(8000, 20*time.Millisecond, 200*time.Millisecond, 1000) {
			require.NoError(t, s.WriteFrame(f))
		}
		before := len(log.get())
		require.NoError(t, s.SendDTMF(context.Background(), "5", 60*time.Millisecond, 10))
		synctest.Wait()
		during := log.get()[before:]
		var silent int
		for _, f := range during {
			if f.Has(media.FlagSilence) {
				silent++
				assert.Equal(t, make([]int16, 160), f.Samples)
			}
		}
		assert.GreaterOrEqual(t, silent, 3, "the event's ptimes are silence")

		// Sending off: frames keep coming, one per tick, without FlagRTP.
		require.NoError(t, s.WaitPlayout(context.Background()))
		s.SetSending(false)
		time.Sleep(5 * time.Millisecond)
		mark := len(log.get())
		time.Sleep(200 * time.Millisecond)
		off := log.get()[mark:]
		assert.Len(t, off, 10, "one frame per ptime while not sending")
		for _, f := range off {
			assert.False(t, f.Has(media.FlagRTP))
		}
	})
}

// The hook costs the pacer nothing per frame.
func TestOnSentAllocatesNothing(t *testing.T) {
	var sum int
	s := benchSession(t, Config{RTCPInterval: -1, OnSent: func(f media.Frame) { sum += len(f.Samples) }})
	f := toneFrames(8000, 20*time.Millisecond, 20*time.Millisecond, 1000)[0]
	now := time.Now()
	send := func() {
		_ = s.WriteFrame(f)
		now = now.Add(20 * time.Millisecond)
		s.tick(now, 0)
	}
	send()
	assert.Zero(t, testing.AllocsPerRun(200, send))
	assert.Positive(t, sum)
}
