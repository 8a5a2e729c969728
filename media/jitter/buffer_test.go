package jitter

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// withoutIDs returns 0..n-1 without the listed ids.
func withoutIDs(n int, drop ...int) []int {
	var s []int
	for i := range n {
		if !slices.Contains(drop, i) {
			s = append(s, i)
		}
	}
	return s
}

// missingBeforeEnd counts Missing pops before the last Ready one (the buffer
// legitimately conceals a little after the stream ends).
func missingBeforeEnd(pops []popResult) int {
	last := -1
	for i, p := range pops {
		if p.st == Ready {
			last = i
		}
	}
	return countStatus(pops[:last+1], Missing)
}

func TestBufferScenarios(t *testing.T) {
	fixed60 := Config{Mode: Fixed, Depth: ms(60)}
	tests := []struct {
		name   string
		cfg    Config
		n      int
		seq0   uint16
		ts0    uint32
		delay  func(r *rand.Rand) func(int) time.Duration
		edit   func([]simPkt) []simPkt // drop, duplicate or delay packets
		played []int                   // expected ids, in order
		lost   int                     // Missing pops expected before the end
		stats  Stats                   // counters compared (others ignored)
		errs   map[int]error           // expected Push result per id (default nil)
	}{
		{
			name: "in order", cfg: fixed60, n: 100,
			delay:  func(*rand.Rand) func(int) time.Duration { return constDelay(ms(10)) },
			played: withoutIDs(100),
		},
		{
			name: "adjacent pairs swapped", cfg: fixed60, n: 100,
			delay: func(*rand.Rand) func(int) time.Duration {
				return func(i int) time.Duration {
					if i%2 == 0 {
						return ms(35) // arrives after its odd successor
					}
					return ms(5)
				}
			},
			played: withoutIDs(100),
		},
		{
			name: "random reordering within the depth", cfg: Config{Mode: Fixed, Depth: ms(80)}, n: 500,
			delay: func(r *rand.Rand) func(int) time.Duration {
				return uniformDelay(r, ms(40), ms(35)) // up to 3 packets out of order
			},
			played: withoutIDs(500),
		},
		{
			name: "duplicates", cfg: fixed60, n: 100,
			delay: func(*rand.Rand) func(int) time.Duration { return constDelay(ms(10)) },
			edit: func(ps []simPkt) []simPkt {
				out := slices.Clone(ps)
				for _, p := range ps {
					if p.id%3 == 0 {
						d := p
						d.arrival = d.arrival.Add(ms(5)) // still buffered
						out = append(out, d)
					}
					if p.id == 50 {
						d := p
						d.arrival = d.arrival.Add(ms(500)) // long after it was played
						out = append(out, d)
					}
				}
				return out
			},
			played: withoutIDs(100),
			stats:  Stats{Duplicate: 35},
		},
		{
			name: "late packet", cfg: fixed60, n: 100,
			delay: func(*rand.Rand) func(int) time.Duration {
				return func(i int) time.Duration {
					if i == 30 {
						return ms(250)
					}
					return ms(10)
				}
			},
			played: withoutIDs(100, 30),
			lost:   1,
			stats:  Stats{Late: 1, Lost: 0},
			errs:   map[int]error{30: ErrLate},
		},
		{
			name: "bursts of loss", cfg: fixed60, n: 200,
			delay: func(*rand.Rand) func(int) time.Duration { return constDelay(ms(10)) },
			edit: func(ps []simPkt) []simPkt {
				return slices.DeleteFunc(slices.Clone(ps), func(p simPkt) bool {
					return p.id >= 40 && p.id < 45 || p.id == 70 || p.id == 100 || p.id == 101
				})
			},
			played: withoutIDs(200, 40, 41, 42, 43, 44, 70, 100, 101),
			lost:   8,
			stats:  Stats{Lost: 8},
		},
		{
			name: "sequence wrap", cfg: fixed60, n: 300, seq0: 65400,
			delay: func(r *rand.Rand) func(int) time.Duration { return uniformDelay(r, ms(30), ms(25)) },
			edit: func(ps []simPkt) []simPkt {
				return slices.DeleteFunc(slices.Clone(ps), func(p simPkt) bool { return p.seq == 65535 || p.seq == 1 })
			},
			played: withoutIDs(300, 135, 137),
			lost:   2,
			stats:  Stats{Lost: 2},
		},
		{
			name: "timestamp wrap", cfg: fixed60, n: 300, ts0: 1<<32 - 160*100 - 37,
			delay:  func(r *rand.Rand) func(int) time.Duration { return uniformDelay(r, ms(30), ms(25)) },
			played: withoutIDs(300),
		},
		{
			name: "adaptive in order", n: 300, seq0: 1000, ts0: 99,
			delay:  func(r *rand.Rand) func(int) time.Duration { return uniformDelay(r, ms(30), ms(5)) },
			played: nil, // frames may be dropped to shrink: checked below
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			b, err := New(tc.cfg)
			require.NoError(t, err)
			ps := stream(tc.n, tc.seq0, tc.ts0, tc.delay(r))
			if tc.edit != nil {
				ps = tc.edit(ps)
			}
			end := epoch.Add(time.Duration(tc.n)*ms(20) + ms(200))
			pops, pushes := simulate(b, ps, epoch.Add(ms(5)), end)
			ids := readyIDs(pops)
			if tc.played != nil {
				assert.Equal(t, tc.played, ids)
				assert.Equal(t, tc.lost, missingBeforeEnd(pops))
			} else {
				assert.True(t, slices.IsSorted(ids), "played out of order")
				assert.Greater(t, len(ids), tc.n*95/100)
				assert.Zero(t, missingBeforeEnd(pops))
			}
			for _, p := range pushes {
				if p.err != nil && p.err != ErrDuplicate {
					assert.Equal(t, tc.errs[p.id], p.err, "push of packet %d", p.id)
				}
			}
			st := b.Stats()
			assert.Equal(t, tc.stats.Duplicate, st.Duplicate, "duplicate")
			assert.Equal(t, tc.stats.Late, st.Late, "late")
			assert.Equal(t, tc.stats.Lost, st.Lost, "lost")
			assert.Equal(t, uint64(len(pushes)), st.Received)
			assert.Equal(t, uint64(len(ids)), st.Played)
			assert.Zero(t, st.Resyncs)
			assert.Equal(t, ms(20), st.FrameDuration)
		})
	}
}

func TestPopBeforePush(t *testing.T) {
	b, err := New(Config{})
	require.NoError(t, err)
	for i := range 5 {
		_, st := b.Pop(epoch.Add(ms(20 * i)))
		assert.Equal(t, Buffering, st)
	}
	assert.Zero(t, b.Stats().Concealed)
}

func TestPushCopiesPayload(t *testing.T) {
	b, err := New(Config{Mode: Fixed, Depth: ms(20)})
	require.NoError(t, err)
	p := []byte{1, 2, 3}
	require.NoError(t, b.Push(7, 160, true, p, epoch))
	p[0] = 99
	pkt, st := b.Pop(epoch.Add(ms(25)))
	require.Equal(t, Ready, st)
	assert.Equal(t, []byte{1, 2, 3}, pkt.Payload)
	assert.Equal(t, uint16(7), pkt.Sequence)
	assert.Equal(t, uint32(160), pkt.Timestamp)
	assert.True(t, pkt.Marker)
	assert.Equal(t, epoch, pkt.Arrival)
}

func TestLargePayloadGrowsSlots(t *testing.T) {
	b, err := New(Config{Mode: Fixed, Depth: ms(40), MaxPayload: 4000})
	require.NoError(t, err)
	small := []byte{1, 2, 3, 4}
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, b.Push(1, 0, false, small, epoch))
	require.NoError(t, b.Push(2, 160, false, big, epoch.Add(ms(20))))
	assert.ErrorIs(t, b.Push(3, 320, false, make([]byte, 4001), epoch.Add(ms(40))), ErrTooLarge)
	pkt, st := b.Pop(epoch.Add(ms(45)))
	require.Equal(t, Ready, st)
	assert.Equal(t, small, pkt.Payload)
	pkt, st = b.Pop(epoch.Add(ms(65)))
	require.Equal(t, Ready, st)
	assert.Equal(t, big, pkt.Payload)
	assert.Equal(t, uint64(1), b.Stats().TooLarge)
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{Mode: 7},
		{ClockRate: 10},
		{FrameDuration: time.Microsecond},
		{MinDepth: ms(100), MaxDepth: ms(50)},
		{Depth: ms(900), MaxDepth: ms(500)},
		{MaxPayload: -1},
	}
	for _, c := range bad {
		_, err := New(c)
		assert.ErrorIs(t, err, ErrInvalidConfig, "%+v", c)
	}
	b, err := New(Config{})
	require.NoError(t, err)
	c := b.Config()
	assert.Equal(t, Config{ClockRate: 8000, FrameDuration: ms(20), Depth: ms(60), MinDepth: ms(20),
		MaxDepth: ms(500), MaxPayload: 8192}, c)
	assert.Equal(t, "adaptive", Adaptive.String())
	assert.Equal(t, "fixed", Fixed.String())
	assert.Equal(t, "ready", Ready.String())
	assert.Equal(t, "missing", Missing.String())
	assert.Equal(t, "buffering", Buffering.String())
}

// After Reset (new SSRC) a stream with unrelated sequence numbers and timestamps
// plays from its first packet.
func TestResetForNewSSRC(t *testing.T) {
	b, err := New(Config{Mode: Fixed, Depth: ms(60)})
	require.NoError(t, err)
	a := stream(50, 100, 5000, constDelay(ms(10)))
	s := newSim(b, a, epoch.Add(ms(5)))
	s.run(epoch.Add(ms(1000)))
	require.Equal(t, withoutIDs(50)[:45], readyIDs(s.pops)[:45])

	b.Reset()
	second := stream(50, 40000, 123456789, constDelay(ms(10)))
	for i := range second {
		second[i].id += 1000
		second[i].sent = second[i].sent.Add(ms(1200))
		second[i].arrival = second[i].arrival.Add(ms(1200))
	}
	s2 := newSim(b, second, s.now)
	pops := s2.run(epoch.Add(ms(2400)))
	want := make([]int, 50)
	for i := range want {
		want[i] = 1000 + i
	}
	assert.Equal(t, want, readyIDs(pops))
	st := b.Stats()
	assert.Equal(t, uint64(1), st.Resets)
	assert.Zero(t, st.Late)
	assert.Zero(t, st.Resyncs)
	assert.Zero(t, missingBeforeEnd(pops))
}

// A sender that restarts its sequence and timestamps without a new SSRC (or a
// forward jump after a long outage) makes the buffer resynchronise rather than
// report Missing for every number in between.
func TestResyncOnDiscontinuity(t *testing.T) {
	tests := []struct {
		name   string
		dseq   uint16
		dts    uint32
		gap    time.Duration // sending pause
		resync bool
		lost   uint64
	}{
		{name: "sequence restart", dseq: 30000, dts: 0, resync: true},
		{name: "sequence and timestamp restart", dseq: 40000, dts: 3_000_000_000, resync: true},
		{name: "timestamp jump forward", dseq: 0, dts: 1_000_000, resync: true},
		{name: "timestamp jump backward", dseq: 0, dts: -1_000_000 & (1<<32 - 1), resync: true},
		{name: "ten second outage", dseq: 500, dts: 500 * 160, gap: 10 * time.Second, resync: true},
		{name: "two second outage", dseq: 100, dts: 100 * 160, gap: 2 * time.Second, lost: 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(Config{Mode: Fixed, Depth: ms(60)})
			require.NoError(t, err)
			ps := stream(200, 60000, 7, constDelay(ms(15)))
			for i := 100; i < 200; i++ {
				ps[i].seq += tc.dseq
				ps[i].ts += tc.dts
				ps[i].arrival = ps[i].arrival.Add(tc.gap)
			}
			end := ps[199].arrival.Add(ms(300))
			pops, _ := simulate(b, ps, epoch.Add(ms(5)), end)
			ids := readyIDs(pops)
			assert.True(t, slices.IsSorted(ids))
			// The packets of the old stream still buffered when the resync
			// happened are dropped, but the new stream plays through.
			assert.Equal(t, withoutIDs(200)[100:], ids[len(ids)-100:])
			assert.Subset(t, ids, withoutIDs(200)[:95])
			assert.LessOrEqual(t, missingBeforeEnd(pops), 3)
			st := b.Stats()
			if tc.resync {
				assert.Equal(t, uint64(1), st.Resyncs)
			} else {
				assert.Zero(t, st.Resyncs)
			}
			assert.Equal(t, tc.lost, st.Lost)
			assert.Zero(t, st.Late)
		})
	}
}

// A talkspurt, a pause in sending (DTX: the sequence continues, the timestamp
// jumps), then a talkspurt starting with the marker bit.
func TestSilenceThenTalkspurt(t *testing.T) {
	for _, pause := range []time.Duration{ms(100), 2 * time.Second} {
		t.Run(pause.String(), func(t *testing.T) {
			b, err := New(Config{})
			require.NoError(t, err)
			ps := stream(100, 10, 10, constDelay(ms(12)))
			for i := 50; i < 100; i++ {
				ps[i].ts += uint32(pause / time.Second * 8000)
				ps[i].ts += uint32(pause % time.Second * 8000 / time.Second)
				ps[i].sent = ps[i].sent.Add(pause)
				ps[i].arrival = ps[i].arrival.Add(pause)
			}
			ps[50].marker = true
			pops, _ := simulate(b, ps, epoch.Add(ms(5)), ps[99].arrival.Add(ms(200)))
			assert.Equal(t, withoutIDs(100), readyIDs(pops))
			st := b.Stats()
			assert.Zero(t, st.Lost)
			assert.Zero(t, st.Late)
			// Between the talkspurts: at most 60 ms of concealment (the buffer
			// cannot know the sender paused), then silence.
			var first, second time.Time
			for _, p := range pops {
				if p.id == 49 {
					first = p.at
				}
				if p.id == 50 {
					second = p.at
				}
			}
			assert.LessOrEqual(t, missingBeforeEnd(pops), 3)
			// The pause is kept to within a frame of its length; the depth may be
			// re-set at the talkspurt.
			assert.InDelta(t, float64(pause+ms(20)), float64(second.Sub(first)), float64(ms(45)))
		})
	}
}

// runJitter sends 20 s of packets with constant 30 ms delay, then 20 s of
// 50±20 ms, then 20 s of constant 30 ms again, and samples the buffer each second.
func runJitter(t *testing.T, cfg Config) (samples []Stats, latePct float64, pops []popResult) {
	t.Helper()
	r := rand.New(rand.NewPCG(42, 7))
	const n = 3000
	ps := stream(n, 1, 1, func(i int) time.Duration {
		if i < 1000 || i >= 2000 {
			return ms(30)
		}
		return ms(30) + time.Duration(r.Int64N(int64(ms(40))+1))
	})
	b, err := New(cfg)
	require.NoError(t, err)
	s := newSim(b, ps, epoch.Add(ms(7)))
	for k := 1; k <= 61; k++ {
		s.run(epoch.Add(time.Duration(k) * time.Second))
		samples = append(samples, b.Stats())
	}
	late := 0
	for _, p := range s.pushes[1000:2000] {
		if p.err == ErrLate {
			late++
		}
	}
	return samples, float64(late) / 10, s.pops
}

func TestAdaptiveDepthFollowsJitter(t *testing.T) {
	samples, latePct, pops := runJitter(t, Config{})
	for i, s := range samples {
		t.Logf("t=%2ds target=%v depth=%v late=%d dropped=%d jitter=%v", i+1, s.TargetDepth, s.Depth, s.Late, s.Dropped, s.Jitter)
	}
	calm, jittery, after := samples[18], samples[38], samples[59]
	t.Logf("50±20 ms jitter: target %v, depth %v, late %.2f%%; after: target %v depth %v",
		jittery.TargetDepth, jittery.Depth, latePct, after.TargetDepth, after.Depth)

	// Without jitter the target is the minimum and the depth within a frame of it.
	assert.Equal(t, ms(20), calm.TargetDepth)
	assert.Less(t, calm.Depth, ms(40))
	// Under 50±20 ms jitter the delays spread over 40 ms: the target covers
	// most of that spread and few packets are late.
	assert.GreaterOrEqual(t, jittery.TargetDepth, ms(35))
	assert.LessOrEqual(t, jittery.TargetDepth, ms(60))
	assert.GreaterOrEqual(t, jittery.Depth, jittery.TargetDepth-ms(10))
	assert.Less(t, jittery.Depth, ms(80))
	assert.Less(t, latePct, 2.0)
	// When the jitter stops, the depth comes back down.
	assert.Equal(t, ms(20), after.TargetDepth)
	assert.Less(t, after.Depth, ms(40))
	// Every frame is accounted for and nothing is played twice.
	ids := readyIDs(pops)
	assert.True(t, slices.IsSorted(ids))
	assert.Equal(t, len(ids), len(slices.Compact(slices.Clone(ids))))
}

func TestFixedModeKeepsDepth(t *testing.T) {
	samples, latePct, _ := runJitter(t, Config{Mode: Fixed, Depth: ms(60)})
	for i, s := range samples[1:] {
		assert.Equal(t, ms(60), s.TargetDepth, "t=%ds", i+2)
		assert.GreaterOrEqual(t, s.Depth, ms(60), "t=%ds", i+2)
		assert.Less(t, s.Depth, ms(80), "t=%ds", i+2)
	}
	assert.Zero(t, latePct)
	assert.Zero(t, samples[len(samples)-1].Dropped)
}

// A delay spike makes packets late; the adaptive target grows at once and the
// following spikes of the same size are absorbed.
func TestLatePacketsGrowTargetQuickly(t *testing.T) {
	ps := stream(500, 1, 1, func(i int) time.Duration {
		if i%100 == 50 {
			return ms(110)
		}
		return ms(10)
	})
	b, err := New(Config{})
	require.NoError(t, err)
	s := newSim(b, ps, epoch.Add(ms(5)))
	s.run(epoch.Add(ms(1100)))
	assert.Equal(t, ms(20), b.Stats().TargetDepth)
	s.run(epoch.Add(ms(1200)))
	st := b.Stats()
	assert.Equal(t, uint64(1), st.Late)
	assert.GreaterOrEqual(t, st.TargetDepth, ms(100))
	s.run(epoch.Add(ms(1300)))
	assert.GreaterOrEqual(t, b.Stats().Depth, ms(100))
	s.run(epoch.Add(ms(3500)))
	assert.Equal(t, uint64(1), b.Stats().Late, "later spikes are absorbed")
}

// Push and Pop from different goroutines (run with -race). The pusher follows the
// popper's progress so the stream flows roughly as in real time.
func TestConcurrentPushPop(t *testing.T) {
	b, err := New(Config{})
	require.NoError(t, err)
	ps := stream(500, 1, 1, constDelay(ms(10)))
	var pops, pushed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i, p := range ps {
			for pops.Load() < int64(i-2) {
				runtime.Gosched()
			}
			_ = b.Push(p.seq, p.ts, p.marker, payloadOf(p.id), p.arrival)
			pushed.Add(1)
		}
	}()
	var ids []int
	go func() {
		defer wg.Done()
		for k := range 520 {
			for pushed.Load() < int64(min(k+1, len(ps))) {
				runtime.Gosched()
			}
			if pkt, st := b.Pop(epoch.Add(time.Duration(k)*ms(20) + ms(15))); st == Ready {
				ids = append(ids, idOf(pkt.Payload))
			}
			_ = b.Stats()
			pops.Add(1)
		}
	}()
	wg.Wait()
	st := b.Stats()
	assert.Equal(t, uint64(500), st.Received)
	assert.True(t, slices.IsSorted(ids))
	assert.Equal(t, len(ids), len(slices.Compact(slices.Clone(ids))), "no packet played twice")
	assert.Equal(t, uint64(len(ids)), st.Played)
	assert.Greater(t, len(ids), 400)
}

func TestPushPopAllocs(t *testing.T) {
	b, err := New(Config{})
	require.NoError(t, err)
	payload := make([]byte, 160)
	i := 0
	step := func() {
		at := epoch.Add(time.Duration(i) * ms(20))
		_ = b.Push(uint16(i), uint32(i*160), false, payload, at)
		b.Pop(at.Add(ms(5)))
		i++
	}
	for range 500 {
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, step))
}

// The packet duration is learnt from the stream: 30 ms packets popped every 30 ms
// (the period FrameDuration reports) all play, in order.
func TestLearnsFrameDuration(t *testing.T) {
	b, err := New(Config{Mode: Fixed, Depth: ms(60)})
	require.NoError(t, err)
	var played []uint16
	pushed := 0
	for now := epoch.Add(ms(5)); now.Before(epoch.Add(3 * time.Second)); now = now.Add(b.FrameDuration()) {
		for ; pushed < 90 && !epoch.Add(time.Duration(pushed)*ms(30)+ms(10)).After(now); pushed++ {
			require.NoError(t, b.Push(uint16(pushed), uint32(pushed*240), false, []byte{1}, epoch.Add(time.Duration(pushed)*ms(30)+ms(10))))
		}
		if pkt, st := b.Pop(now); st == Ready {
			played = append(played, pkt.Sequence)
		}
	}
	assert.Equal(t, ms(30), b.FrameDuration())
	require.Len(t, played, 90)
	for i, s := range played {
		assert.Equal(t, uint16(i), s)
	}
	assert.Zero(t, b.Stats().Lost)
}

// A sender whose clock runs 0.1% fast or slow against ours: the buffer drops or
// holds a frame now and then and keeps its depth.
func TestClockDrift(t *testing.T) {
	for _, ppm := range []int64{1000, -1000} {
		t.Run(fmt.Sprintf("%+dppm", ppm), func(t *testing.T) {
			b, err := New(Config{Mode: Fixed, Depth: ms(60)})
			require.NoError(t, err)
			period := ms(20) - ms(20)*time.Duration(ppm)/1_000_000
			ps := stream(3000, 1, 1, constDelay(ms(10)))
			for i := range ps {
				ps[i].sent = epoch.Add(time.Duration(i) * period)
				ps[i].arrival = ps[i].sent.Add(ms(10))
			}
			s := newSim(b, ps, epoch.Add(ms(5)))
			for k := 2; k <= 59; k++ {
				s.run(epoch.Add(time.Duration(k) * time.Second))
				d := b.Stats().Depth
				assert.GreaterOrEqual(t, d, ms(50), "t=%ds", k)
				assert.Less(t, d, ms(90), "t=%ds", k)
			}
			st := b.Stats()
			t.Logf("drift %+d ppm over 60 s: dropped %d, concealed %d, played %d", ppm, st.Dropped, st.Concealed, st.Played)
			if ppm > 0 {
				assert.InDelta(t, 3, st.Dropped, 1, "60 ms gained in 60 s: three frames dropped")
			} else {
				assert.Zero(t, st.Dropped)
			}
			assert.Zero(t, st.Lost)
			assert.Zero(t, st.Late)
		})
	}
}
