package impair

import (
	"math"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// run feeds n packets arriving every interval into a fresh shaper.
func runShaper(imp Impairment, seed uint64, n int, interval time.Duration) ([]decision, DirectionStats) {
	s := newShaper(imp, seed, streamUpLoss, streamUpDelay)
	out := make([]decision, n)
	for i := range out {
		out[i] = s.decide(epoch.Add(time.Duration(i) * interval))
	}
	return out, s.stats
}

func dropPattern(ds []decision) []bool {
	p := make([]bool, len(ds))
	for i, d := range ds {
		p[i] = d.n == 0
	}
	return p
}

// binomialOK reports whether k successes in n trials of probability p lie within z
// standard deviations of the mean.
func binomialOK(k, n int, p, z float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-mean) <= z*sd
}

func TestShaperLossRate(t *testing.T) {
	for _, loss := range []float64{0, 0.01, 0.05, 0.2, 0.5, 1} {
		const n = 50000
		_, st := runShaper(Impairment{Loss: loss}, 7, n, time.Millisecond)
		assert.Equal(t, uint64(n), st.Received)
		assert.Truef(t, binomialOK(int(st.Dropped), n, loss, 5), "loss %v: dropped %d of %d", loss, st.Dropped, n)
		t.Logf("loss %.2f: dropped %d of %d (%.4f)", loss, st.Dropped, n, float64(st.Dropped)/n)
	}
}

func TestShaperDeterministic(t *testing.T) {
	imp := Impairment{Loss: 0.1, Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Duplicate: 0.05}
	a, sa := runShaper(imp, 42, 5000, 2*time.Millisecond)
	b, sb := runShaper(imp, 42, 5000, 2*time.Millisecond)
	require.Equal(t, a, b, "same seed, same arrivals: same decisions")
	require.Equal(t, sa, sb)

	c, _ := runShaper(imp, 43, 5000, 2*time.Millisecond)
	assert.NotEqual(t, dropPattern(a), dropPattern(c), "another seed drops other packets")

	// Which packets are lost depends on the seed only, not on delay settings or timing.
	imp2 := imp
	imp2.Delay, imp2.Jitter, imp2.Distribution, imp2.Reorder = 5*time.Millisecond, 50*time.Millisecond, Normal, true
	d, _ := runShaper(imp2, 42, 5000, 7*time.Millisecond)
	assert.Equal(t, dropPattern(a), dropPattern(d))
}

func TestShaperDelayDistribution(t *testing.T) {
	const (
		n      = 20000
		delay  = 50 * time.Millisecond
		jitter = 20 * time.Millisecond
	)
	cases := []struct {
		dist       Distribution
		wantStdDev float64 // in units of jitter
		bound      float64 // |delay - Delay| <= bound * jitter
	}{
		{Uniform, 1 / math.Sqrt(3), 1},
		{Normal, 0.9975, 3}, // a unit normal clamped to ±3 has σ ≈ 0.9975
	}
	for _, c := range cases {
		t.Run(c.dist.String(), func(t *testing.T) {
			// Reorder: each release time is arrival + its own delay draw.
			ds, _ := runShaper(Impairment{Delay: delay, Jitter: jitter, Distribution: c.dist, Reorder: true}, 1, n, time.Millisecond)
			var sum, sumSq float64
			for i, d := range ds {
				require.Equal(t, 1, d.n)
				dl := d.at[0].Sub(epoch.Add(time.Duration(i) * time.Millisecond))
				dev := float64(dl - delay)
				require.LessOrEqual(t, math.Abs(dev), c.bound*float64(jitter)+1, "packet %d delay %v", i, dl)
				sum += float64(dl)
				sumSq += float64(dl) * float64(dl)
			}
			mean := sum / n
			sd := math.Sqrt(sumSq/n - mean*mean)
			wantSD := c.wantStdDev * float64(jitter)
			// Standard error of the mean is σ/√n ≈ 0.1 ms; of σ itself about σ/√(2n).
			assert.InDelta(t, float64(delay), mean, 5*wantSD/math.Sqrt(n))
			assert.InDelta(t, wantSD, sd, 5*wantSD/math.Sqrt(2*n)+0.01*wantSD)
			t.Logf("%v: mean %v, σ %v (want %v)", c.dist, time.Duration(mean), time.Duration(sd), time.Duration(wantSD))
		})
	}
}

func TestShaperDelayNeverNegative(t *testing.T) {
	ds, _ := runShaper(Impairment{Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: true}, 3, 5000, time.Millisecond)
	for i, d := range ds {
		assert.False(t, d.at[0].Before(epoch.Add(time.Duration(i)*time.Millisecond)), "packet %d released before it arrived", i)
	}
}

func TestShaperOrder(t *testing.T) {
	imp := Impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Duplicate: 0.1}
	t.Run("preserved", func(t *testing.T) {
		ds, st := runShaper(imp, 9, 5000, time.Millisecond)
		var last time.Time
		for i, d := range ds {
			for k := range d.n {
				require.False(t, d.at[k].Before(last), "packet %d copy %d overtakes", i, k)
				last = d.at[k]
			}
		}
		assert.Zero(t, st.Reordered)
	})
	t.Run("reordered", func(t *testing.T) {
		imp := imp
		imp.Reorder = true
		ds, st := runShaper(imp, 9, 5000, time.Millisecond)
		// Count copies that leave before an earlier copy, independently of the shaper.
		var latest time.Time
		inversions := uint64(0)
		for _, d := range ds {
			for k := range d.n {
				if d.at[k].Before(latest) {
					inversions++
				} else {
					latest = d.at[k]
				}
			}
		}
		assert.Positive(t, inversions)
		assert.Equal(t, inversions, st.Reordered)
		t.Logf("%d of %d copies reordered", st.Reordered, st.Received+st.Duplicated)
	})
}

func TestShaperDuplicateRate(t *testing.T) {
	const n = 50000
	ds, st := runShaper(Impairment{Loss: 0.1, Duplicate: 0.2}, 5, n, time.Millisecond)
	forwarded := int(st.Received - st.Dropped)
	assert.True(t, binomialOK(int(st.Duplicated), forwarded, 0.2, 5), "duplicated %d of %d", st.Duplicated, forwarded)
	copies := 0
	for _, d := range ds {
		copies += d.n
	}
	assert.Equal(t, forwarded+int(st.Duplicated), copies)
}

func TestHeapOrder(t *testing.T) {
	var h pktHeap
	times := []int{5, 3, 9, 3, 1, 7, 5, 0, 2, 8}
	for i, ms := range times {
		h.push(packet{at: epoch.Add(time.Duration(ms) * time.Millisecond), seq: uint64(i)})
	}
	var prev packet
	for i := 0; len(h) > 0; i++ {
		p := h.pop()
		if i > 0 {
			require.True(t, prev.at.Before(p.at) || (prev.at.Equal(p.at) && prev.seq < p.seq), "heap order")
		}
		prev = p
	}
}

// sentCopy records one copy the scheduler released, with the (fake) time it left.
type sentCopy struct {
	id int
	at time.Time
}

// The scheduler releases every copy exactly at the time the shaper chose, in order, with
// no goroutine per packet. Time is synctest's fake clock, so this checks the timing logic
// to the nanosecond without real sockets.
func TestDirectionTiming(t *testing.T) {
	for _, reorder := range []bool{false, true} {
		t.Run(map[bool]string{false: "fifo", true: "reorder"}[reorder], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				imp := Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: reorder, Duplicate: 0.05}
				var mu sync.Mutex
				var sent []sentCopy
				d := newDirection(newShaper(imp, 11, streamUpLoss, streamUpDelay), &bufPool{}, func(p packet) error {
					mu.Lock()
					sent = append(sent, sentCopy{id: int((*p.buf)[0])<<8 | int((*p.buf)[1]), at: time.Now()})
					mu.Unlock()
					return nil
				})
				done := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() { d.run(done) })

				// The same shaper, fed the same arrival times, says when each copy is due.
				twin := newShaper(imp, 11, streamUpLoss, streamUpDelay)
				var want []sentCopy
				const n = 1000
				for i := range n {
					now := time.Now()
					dec := twin.decide(now)
					for k := range dec.n {
						want = append(want, sentCopy{id: i, at: dec.at[k]})
					}
					d.push(now, []byte{byte(i >> 8), byte(i)}, nil, netip.AddrPort{})
					time.Sleep(time.Duration(1+i%3) * time.Millisecond)
				}
				time.Sleep(time.Second) // everything due has left
				synctest.Wait()
				close(done)
				wg.Wait()

				mu.Lock()
				defer mu.Unlock()
				// Copies leave in release-time order (arrival order on ties).
				wantSorted := append([]sentCopy(nil), want...)
				sortCopies(wantSorted)
				require.Equal(t, len(wantSorted), len(sent))
				for i := range sent {
					require.Equal(t, wantSorted[i].id, sent[i].id, "copy %d", i)
					require.True(t, wantSorted[i].at.Equal(sent[i].at), "copy %d of packet %d: sent at %v, due %v", i, sent[i].id, sent[i].at, wantSorted[i].at)
				}
				st := d.stats()
				assert.Equal(t, uint64(len(sent)), st.Forwarded)
				assert.Equal(t, uint64(n), st.Received)
				if !reorder {
					assert.Zero(t, st.Reordered)
					for i := 1; i < len(sent); i++ {
						require.GreaterOrEqual(t, sent[i].id, sent[i-1].id, "FIFO")
					}
				} else {
					assert.Positive(t, st.Reordered)
				}
			})
		})
	}
}

func sortCopies(s []sentCopy) {
	// Insertion sort keeps equal release times in arrival order, as the heap does.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].at.Before(s[j-1].at); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Stopping the scheduler discards what is still waiting and returns at once.
func TestDirectionStopDiscards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := &bufPool{}
		d := newDirection(newShaper(Impairment{Delay: time.Hour}, 1, streamUpLoss, streamUpDelay), pool, func(packet) error {
			t.Error("nothing is due")
			return nil
		})
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { d.run(done) })
		for range 10 {
			d.push(time.Now(), []byte("x"), nil, netip.AddrPort{})
		}
		synctest.Wait()
		close(done)
		wg.Wait()
		assert.Empty(t, d.heap)
		assert.Len(t, pool.free, 10, "buffers returned")
	})
}

// Deciding, queueing and releasing a packet allocates nothing once buffers are recycled.
func TestDirectionNoAllocs(t *testing.T) {
	d := newDirection(newShaper(Impairment{Loss: 0.1, Delay: time.Millisecond, Jitter: time.Millisecond, Duplicate: 0.1}, 1, streamUpLoss, streamUpDelay), &bufPool{}, nil)
	payload := make([]byte, 172)
	now := epoch
	step := func() {
		now = now.Add(20 * time.Millisecond)
		d.push(now, payload, nil, netip.AddrPort{})
		for len(d.heap) > 0 {
			d.pool.put(d.heap.pop().buf)
		}
	}
	for range 100 {
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, step))
}

func BenchmarkDirectionPushPop(b *testing.B) {
	d := newDirection(newShaper(Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}, 1, streamUpLoss, streamUpDelay), &bufPool{}, nil)
	payload := make([]byte, 172)
	now := epoch
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		d.push(now, payload, nil, netip.AddrPort{})
		for len(d.heap) > 64 {
			d.pool.put(d.heap.pop().buf)
		}
	}
}
