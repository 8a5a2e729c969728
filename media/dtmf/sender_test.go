package dtmf

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tick is one packet interval of a run: the packet sent, if any.
type tick struct {
	ts uint32 // the RTP timestamp the pacer passed in
	p  Packet
	ok bool
}

// runSender ticks s like a pacer would (timestamps advancing by perTick from
// ts0) until it is idle, and returns every tick.
func runSender(t *testing.T, s *Sender, ts0 uint32, perTick uint32) []tick {
	t.Helper()
	var ticks []tick
	ts := ts0
	for i := 0; s.Busy(); i++ {
		require.Less(t, i, 100000, "sender never went idle")
		p, ok := s.Next(ts)
		ticks = append(ticks, tick{ts: ts, p: p, ok: ok})
		ts += perTick
	}
	return ticks
}

func packets(ticks []tick) []Packet {
	var ps []Packet
	for _, tk := range ticks {
		if tk.ok {
			ps = append(ps, tk.p)
		}
	}
	return ps
}

func TestSenderSequence(t *testing.T) {
	cases := []struct {
		name      string
		rate      int
		ptime     time.Duration
		dur       time.Duration
		durations []uint16 // Duration field of each packet; the last three are the end copies
		gapTicks  int      // ticks without a packet after the last end copy, until idle
	}{
		{"8k 20ms 100ms", 8000, 20 * ms, 100 * ms, []uint16{160, 320, 480, 640, 800, 800, 800}, 2},
		{"8k 30ms 100ms", 8000, 30 * ms, 100 * ms, []uint16{240, 480, 720, 800, 800, 800}, 1},
		{"16k 20ms 250ms", 16000, 20 * ms, 250 * ms, []uint16{320, 640, 960, 1280, 1600, 1920, 2240, 2560, 2880, 3200, 3520, 3840, 4000, 4000, 4000}, 2},
		{"48k 20ms 60ms", 48000, 20 * ms, 60 * ms, []uint16{960, 1920, 2880, 2880, 2880}, 2},
		{"8k 20ms 10ms", 8000, 20 * ms, 10 * ms, []uint16{80, 80, 80}, 2},
		{"8k 50ms 120ms", 8000, 50 * ms, 120 * ms, []uint16{400, 800, 960, 960, 960}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSender(SenderConfig{PayloadType: 101, ClockRate: tc.rate, Ptime: tc.ptime})
			require.NoError(t, err)
			require.False(t, s.Busy())
			require.NoError(t, s.Send('7', tc.dur, 10))
			require.True(t, s.Busy())
			perTick := uint32(int64(tc.rate) * int64(tc.ptime) / int64(time.Second))
			const ts0 = 0xfffffe00 // the event crosses the timestamp wrap
			ticks := runSender(t, s, ts0, perTick)
			ps := packets(ticks)
			require.Len(t, ps, len(tc.durations))
			for i, p := range ps {
				assert.Equal(t, uint8(101), p.PayloadType)
				assert.Equal(t, i == 0, p.Marker, "marker on the first packet only (%d)", i)
				assert.Equal(t, uint32(ts0), p.Timestamp, "one timestamp for the whole event (%d)", i)
				assert.Equal(t, time.Duration(i)*tc.ptime, p.At)
				end := i >= len(ps)-endCopies
				assert.Equal(t, Event{Code: 7, End: end, Volume: 10, Duration: tc.durations[i]}, p.Event, "packet %d", i)
				var ev Event
				require.NoError(t, ev.Unmarshal(p.Payload[:]))
				assert.Equal(t, p.Event, ev, "payload matches event")
			}
			assert.Equal(t, len(ps)+tc.gapTicks, len(ticks), "gap ticks after the end copies")
			for _, tk := range ticks[:len(ps)] {
				assert.True(t, tk.ok, "packets on consecutive ticks")
			}
			// Idle: nothing more, no state change.
			_, ok := s.Next(0)
			assert.False(t, ok)
		})
	}
}

// TestSenderGap: the next event starts Gap after the end of the previous tone,
// rounded up to whole packet intervals, and never before its end copies are out.
func TestSenderGap(t *testing.T) {
	cases := []struct {
		ptime, dur, gap time.Duration
		wantStart       int // tick of the second event's first packet
	}{
		{20 * ms, 100 * ms, 60 * ms, 8},   // tone ends at tick 5, +3 ticks
		{20 * ms, 100 * ms, 40 * ms, 7},   // end copies at ticks 4-6
		{20 * ms, 100 * ms, 0, 8},         // DefaultGap
		{20 * ms, 90 * ms, 50 * ms, 7},    // 90+50 = 140 ms = tick 7
		{20 * ms, 100 * ms, 200 * ms, 15}, // 300 ms
		{30 * ms, 100 * ms, 60 * ms, 6},   // 160 ms → tick 5.33 → 6
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/%v/%v", tc.ptime, tc.dur, tc.gap), func(t *testing.T) {
			s, err := NewSender(SenderConfig{PayloadType: 96, Ptime: tc.ptime, Gap: tc.gap})
			require.NoError(t, err)
			require.NoError(t, s.SendString("12", tc.dur, 10))
			perTick := uint32(8000 * tc.ptime / time.Second)
			ticks := runSender(t, s, 1000, perTick)
			second := -1
			for i, tk := range ticks {
				if tk.ok && tk.p.Event.Code == 2 {
					second = i
					assert.True(t, tk.p.Marker)
					assert.Equal(t, tk.ts, tk.p.Timestamp, "event timestamp is the tick's timestamp")
					assert.Equal(t, time.Duration(i)*tc.ptime, tk.p.At, "At counts the whole burst")
					break
				}
			}
			assert.Equal(t, tc.wantStart, second)
		})
	}
}

// TestSenderLongEvent: an event longer than 0xFFFF clock ticks is cut into
// segments (RFC 4733 §2.5.1.3).
func TestSenderLongEvent(t *testing.T) {
	s, err := NewSender(SenderConfig{PayloadType: 101, ClockRate: 48000})
	require.NoError(t, err)
	require.NoError(t, s.Send('#', 3*time.Second, 5)) // 144000 ticks: 3 segments
	const ts0 uint32 = 0xffff0000
	ps := packets(runSender(t, s, ts0, 960))
	var segTS []uint32
	total := map[uint32]uint16{}
	for i, p := range ps {
		assert.Equal(t, i == 0, p.Marker, "marker only on the event's first packet")
		if len(segTS) == 0 || segTS[len(segTS)-1] != p.Timestamp {
			segTS = append(segTS, p.Timestamp)
		}
		total[p.Timestamp] = max(total[p.Timestamp], p.Event.Duration)
	}
	seg := uint32(0xffff)
	require.Equal(t, []uint32{ts0, ts0 + seg, ts0 + 2*seg}, segTS, "segment timestamps, across the wrap")
	assert.Equal(t, uint16(0xffff), total[segTS[0]])
	assert.Equal(t, uint16(0xffff), total[segTS[1]])
	assert.Equal(t, uint16(144000-2*0xffff), total[segTS[2]])
	// Each segment's last packet is sent three times, without E except at the end.
	countFull := 0
	for _, p := range ps {
		if p.Event.Duration == 0xffff {
			countFull++
			assert.False(t, p.Event.End)
		}
	}
	assert.Equal(t, 2*endCopies, countFull)
	last := ps[len(ps)-endCopies:]
	for _, p := range last {
		assert.True(t, p.Event.End)
		assert.Equal(t, segTS[2], p.Timestamp)
	}
}

func TestSenderStop(t *testing.T) {
	s, err := NewSender(SenderConfig{PayloadType: 101})
	require.NoError(t, err)
	require.NoError(t, s.SendString("123", 200*ms, 10))
	for range 3 {
		_, ok := s.Next(0)
		require.True(t, ok)
	}
	s.Stop()
	ps := packets(runSender(t, s, 0, 160))
	require.Len(t, ps, endCopies, "only the end copies of the cut event")
	for _, p := range ps {
		assert.Equal(t, Event{Code: 1, End: true, Volume: 10, Duration: 480}, p.Event)
	}
	// Stop during a segment end turns it into the event's end.
	s, err = NewSender(SenderConfig{PayloadType: 101, ClockRate: 48000})
	require.NoError(t, err)
	require.NoError(t, s.Send('9', 2*time.Second, 10))
	for {
		p, ok := s.Next(0)
		require.True(t, ok)
		if p.Event.Duration == 0xffff {
			break
		}
	}
	s.Stop()
	ps = packets(runSender(t, s, 0, 960))
	require.Len(t, ps, endCopies)
	for _, p := range ps {
		assert.Equal(t, Event{Code: 9, End: true, Volume: 10, Duration: 0xffff}, p.Event)
	}
	// Stop when idle or queued-only.
	require.NoError(t, s.Send('1', 100*ms, 10))
	s.Stop()
	assert.False(t, s.Busy())
}

func TestSenderErrors(t *testing.T) {
	for _, cfg := range []struct {
		cfg  SenderConfig
		want error
	}{
		{SenderConfig{}, ErrPayloadType},
		{SenderConfig{PayloadType: 8}, ErrPayloadType},
		{SenderConfig{PayloadType: 72}, ErrPayloadType},
		{SenderConfig{PayloadType: 128}, ErrPayloadType},
		{SenderConfig{PayloadType: 101, ClockRate: 500}, ErrClockRate},
		{SenderConfig{PayloadType: 101, Ptime: -time.Millisecond}, ErrPtime},
		{SenderConfig{PayloadType: 101, Ptime: 2 * time.Second}, ErrPtime},
		{SenderConfig{PayloadType: 101, Ptime: time.Microsecond}, ErrPtime},
	} {
		_, err := NewSender(cfg.cfg)
		assert.ErrorIs(t, err, cfg.want, "%+v", cfg.cfg)
	}
	for _, pt := range []uint8{35, 63, 71, 77, 96, 101, 127} {
		_, err := NewSender(SenderConfig{PayloadType: pt})
		assert.NoError(t, err, "pt %d", pt)
	}
	s, err := NewSender(SenderConfig{PayloadType: 101})
	require.NoError(t, err)
	assert.ErrorIs(t, s.Send('x', 100*ms, 10), ErrInvalidDigit)
	assert.ErrorIs(t, s.Send('1', 0, 10), ErrDuration)
	assert.ErrorIs(t, s.Send('1', 100*time.Microsecond, 10), ErrDuration, "less than one clock tick")
	assert.ErrorIs(t, s.Send('1', 100*ms, 64), ErrVolume)
	assert.ErrorIs(t, s.SendString("12x4", 100*ms, 10), ErrInvalidDigit)
	assert.False(t, s.Busy(), "nothing queued by failed calls")
	require.NoError(t, s.SendCode(CodeFlash, 500*ms, 0))
	assert.True(t, s.Busy())
}

func TestSenderNextNoAllocs(t *testing.T) {
	s, err := NewSender(SenderConfig{PayloadType: 101})
	require.NoError(t, err)
	require.NoError(t, s.Send('5', time.Hour, 10))
	var ts uint32
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := s.Next(ts); !ok {
			t.Fatal("no packet")
		}
		ts += 160
	})
	assert.Zero(t, allocs)
}
