package jitter

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// sendTone encodes a 300 Hz tone with codec in 20 ms packets and returns the
// payloads.
func sendTone(codec media.Codec, n int) [][]byte {
	rate := codec.SampleRate()
	enc := codec.NewEncoder()
	frame := rate / 50
	pcm := make([]int16, frame)
	var out [][]byte
	for i := range n {
		for k := range pcm {
			t := float64(i*frame+k) / float64(rate)
			pcm[k] = int16(8000 * math.Sin(2*math.Pi*300*t))
		}
		out = append(out, enc.Encode(nil, pcm))
	}
	return out
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(max(len(s), 1)))
}

func TestReceiver(t *testing.T) {
	for _, codec := range []media.Codec{media.PCMU(), media.PCMA(), media.G722(), media.L16(16000)} {
		t.Run(codec.Name(), func(t *testing.T) {
			r, err := NewReceiver(ReceiverConfig{Codec: codec, Buffer: Config{Mode: Fixed, Depth: ms(40)}})
			require.NoError(t, err)
			assert.Equal(t, codec.SampleRate(), r.SampleRate())
			assert.Equal(t, codec.ClockRate(), r.Buffer().Config().ClockRate)
			payloads := sendTone(codec, 50)
			frame := codec.SampleRate() / 50
			tsStep := uint32(codec.ClockRate() / 50)
			lost := map[int]bool{20: true, 30: true, 31: true}
			var frames []media.Frame
			var statuses []Status
			for k := range 60 {
				now := epoch.Add(time.Duration(k)*ms(20) + ms(5))
				if k < 50 && !lost[k] {
					require.NoError(t, r.Push(uint16(1000+k), uint32(k)*tsStep, k == 0, payloads[k], epoch.Add(time.Duration(k)*ms(20))))
				}
				f, st := r.Pop(now)
				assert.Equal(t, codec.SampleRate(), f.SampleRate)
				assert.Len(t, f.Samples, frame)
				frames = append(frames, f.Clone())
				statuses = append(statuses, st)
			}
			// Two frames of buffering (silence), then audio, in order.
			assert.Equal(t, []Status{Buffering, Buffering, Ready}, statuses[:3])
			assert.True(t, frames[0].Has(media.FlagSilence))
			assert.Zero(t, rms(frames[0].Samples))
			seqWant := uint16(1000)
			for i, f := range frames[2:52] {
				switch {
				case lost[i]:
					assert.Equal(t, Missing, statuses[i+2], "frame %d", i)
					assert.True(t, f.Has(media.FlagConcealed), "frame %d", i)
					assert.Greater(t, rms(f.Samples), 1000.0, "concealment continues the tone")
				default:
					assert.Equal(t, Ready, statuses[i+2], "frame %d", i)
					assert.True(t, f.Has(media.FlagRTP))
					assert.Equal(t, seqWant, f.Sequence)
					assert.Equal(t, uint32(i)*tsStep, f.Timestamp)
					if i > 2 {
						assert.InDelta(t, 8000/math.Sqrt2, rms(f.Samples), 800, "frame %d", i)
					}
				}
				seqWant++
			}
			// After the stream ends: concealment fading out, then silence.
			last := frames[len(frames)-1]
			assert.True(t, last.Has(media.FlagSilence))
			assert.Zero(t, rms(last.Samples))
			st := r.Stats()
			assert.Equal(t, uint64(47), st.Decoded)
			assert.Equal(t, uint64(3), st.Lost)
			assert.GreaterOrEqual(t, st.ConcealedFrames, uint64(3))
			assert.Equal(t, uint64(60), st.Decoded+st.ConcealedFrames+st.SilenceFrames)

			// A new SSRC: Reset, then a stream with other numbers plays.
			r.Reset()
			base := epoch.Add(2 * time.Second)
			for k := range 5 {
				require.NoError(t, r.Push(uint16(7+k), uint32(99999+k*int(tsStep)), k == 0, payloads[k], base.Add(time.Duration(k)*ms(20))))
			}
			f, st2 := r.Pop(base.Add(ms(45)))
			assert.Equal(t, Ready, st2)
			assert.Equal(t, uint16(7), f.Sequence)
		})
	}
}

func TestReceiverConfig(t *testing.T) {
	_, err := NewReceiver(ReceiverConfig{})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewReceiver(ReceiverConfig{Codec: media.PCMU(), Buffer: Config{MinDepth: -1}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	fade := NewFadeConcealer(8000)
	r, err := NewReceiver(ReceiverConfig{Codec: media.PCMU(), Concealer: fade})
	require.NoError(t, err)
	assert.Same(t, fade, r.conceal)
}

func TestReceiverAllocs(t *testing.T) {
	codec := media.PCMU()
	r, err := NewReceiver(ReceiverConfig{Codec: codec})
	require.NoError(t, err)
	payloads := sendTone(codec, 50)
	k := 0
	step := func() {
		at := epoch.Add(time.Duration(k) * ms(20))
		if k%10 != 5 { // 10% loss
			_ = r.Push(uint16(k), uint32(k*160), false, payloads[k%50], at)
		}
		r.Pop(at.Add(ms(5)))
		k++
	}
	for range 200 {
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, step))
}

// When a late packet makes the adaptive buffer hold playout, the receiver
// conceals the held frames rather than cutting to silence mid-speech.
func TestReceiverConcealsHold(t *testing.T) {
	codec := media.PCMU()
	r, err := NewReceiver(ReceiverConfig{Codec: codec})
	require.NoError(t, err)
	payloads := sendTone(codec, 50)
	ps := stream(300, 1, 1, func(i int) time.Duration {
		if i == 150 {
			return ms(120)
		}
		return ms(10)
	})
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].arrival.Before(ps[j].arrival) })
	var flags []media.FrameFlags
	var statuses []Status
	pi := 0
	for k := range 310 {
		now := epoch.Add(time.Duration(k)*ms(20) + ms(5))
		for ; pi < len(ps) && !ps[pi].arrival.After(now); pi++ {
			p := ps[pi]
			_ = r.Push(p.seq, p.ts, p.marker, payloads[p.id%50], p.arrival)
		}
		f, st := r.Pop(now)
		flags = append(flags, f.Flags)
		statuses = append(statuses, st)
	}
	first, last := -1, -1
	for i, st := range statuses {
		if st == Ready {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	// The concealer mutes after 60 ms, so a longer hold ends in silence; before
	// that, every frame of the hold is concealed.
	holds, run := 0, 0
	for i := first; i <= last; i++ {
		if statuses[i] == Ready {
			run = 0
			continue
		}
		if run < 3 {
			assert.True(t, flags[i]&media.FlagConcealed != 0, "frame %d (%v) not concealed", i, statuses[i])
		}
		run++
		if statuses[i] == Buffering {
			holds++
		}
	}
	assert.Positive(t, holds, "the late packet made the buffer grow")
	assert.Equal(t, uint64(1), r.Stats().Late)
}
