package switchboard_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/sip"
)

var footprintHeap = flag.String("footprint-heap", "", "write a heap profile at steady state to this file")

var footprintCalls = flag.Int("footprint", 0, "run TestFootprint with this many concurrent calls (e.g. 1000)")

// TestFootprint measures what a call leg costs: N calls between two Switchboards in one
// process, media flowing both ways (50 packets/s per direction), then goroutines, heap
// and RSS per leg, allocations per RTP packet, and call setups per second. It reports;
// it asserts only that everything came up and went away.
//
//	go test -run TestFootprint -footprint 1000 -v .
func TestFootprint(t *testing.T) {
	n := *footprintCalls
	if *footprintHeap != "" {
		runtime.MemProfileRate = 1 // every allocation, so the steady-state diff is exact
	}
	if n == 0 {
		n = 20 // a small run keeps the measurement code tested in the normal suite
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var mu sync.Mutex
	var legs []*call.Call
	// G.711: the cheapest codec, so the figures show the engine's own cost (G.722's
	// encoder alone costs about 8 µs per 20 ms frame; see the media benchmarks).
	cfg := switchboard.Config{Logger: quiet, MediaTimeout: -1, SessionExpires: -1, Codecs: media.CodecSet{media.PCMU()}}
	acfg := cfg
	acfg.RTPPorts = rtpsession.PortRange{Min: 20000, Max: 29999}
	acfg.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		mu.Lock()
		legs = append(legs, c)
		mu.Unlock()
		<-ctx.Done()
		return nil
	})
	bcfg := cfg
	bcfg.RTPPorts = rtpsession.PortRange{Min: 40000, Max: 49999}
	a := startWith(t, acfg)
	b := startWith(t, bcfg)

	runtime.GC()
	g0, heap0, rss0 := runtime.NumGoroutine(), heapInUse(), rssBytes()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	calls := make([]*call.Call, n)
	began := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := b.Dial(ctx, a.URI("load"), call.DialOptions{})
			if err != nil {
				errs <- err
				return
			}
			calls[i] = c
		}()
	}
	wg.Wait()
	setup := time.Since(began)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(legs) == n }, time.Minute, 10*time.Millisecond)

	time.Sleep(2 * time.Second) // steady state: jitter buffers filled, pools warm
	runtime.GC()
	g1, heap1, rss1 := runtime.NumGoroutine(), heapInUse(), rssBytes()
	if *footprintHeap != "" {
		f, err := os.Create(*footprintHeap)
		require.NoError(t, err)
		require.NoError(t, pprof.Lookup("heap").WriteTo(f, 0))
		require.NoError(t, f.Close())
	}

	// Allocations per RTP packet over a steady window (process-wide: the SIP stack is
	// idle, so what allocates is the media path).
	var m0, m1 runtime.MemStats
	pkts := func() uint64 {
		var sum uint64
		for _, c := range calls {
			if m, err := c.Media(); err == nil {
				s := m.Stats()
				sum += s.PacketsSent + s.PacketsReceived
			}
		}
		return sum
	}
	writeProfile := func(suffix string) {
		if *footprintHeap == "" {
			return
		}
		runtime.GC() // the allocation profile is as of the last collection
		f, err := os.Create(*footprintHeap + suffix)
		require.NoError(t, err)
		require.NoError(t, pprof.Lookup("allocs").WriteTo(f, 0))
		require.NoError(t, f.Close())
	}
	writeProfile(".allocs0")
	p0 := pkts()
	runtime.ReadMemStats(&m0)
	time.Sleep(5 * time.Second)
	runtime.ReadMemStats(&m1)
	p1 := pkts()
	writeProfile(".allocs1")

	legsN := float64(2 * n)
	t.Logf("calls: %d (%d legs); setup of all: %v = %.0f calls/s", n, 2*n, setup.Round(time.Millisecond), float64(n)/setup.Seconds())
	t.Logf("goroutines per leg: %.2f (%d → %d)", float64(g1-g0)/legsN, g0, g1)
	t.Logf("heap per leg: %.1f KiB; RSS per leg: %.1f KiB", float64(heap1-heap0)/legsN/1024, float64(rss1-rss0)/legsN/1024)
	t.Logf("RTP packets in 5 s: %d (%.0f/s); allocations per packet: %.3f (%d allocs)",
		p1-p0, float64(p1-p0)/5, float64(m1.Mallocs-m0.Mallocs)/float64(max(p1-p0, 1)), m1.Mallocs-m0.Mallocs)

	var hw sync.WaitGroup
	for _, c := range calls {
		hw.Add(1)
		go func() { defer hw.Done(); _ = c.Hangup(ctx, sip.CauseNormalClearing) }()
	}
	hw.Wait()
	require.Eventually(t, func() bool { return a.Calls() == 0 && b.Calls() == 0 }, time.Minute, 10*time.Millisecond)
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(f), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkCallSetup measures a whole call between two Switchboards: INVITE, 100, 200
// with SDP, ACK, media started on both legs, then BYE and 200; reported as calls/s.
//
//	go test -run '^$' -bench CallSetup -benchtime 2000x .
func BenchmarkCallSetup(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := switchboard.Config{Logger: quiet, MediaTimeout: -1, SessionExpires: -1, Codecs: media.CodecSet{media.PCMU()}}
	acfg := cfg
	acfg.RTPPorts = rtpsession.PortRange{Min: 20000, Max: 29999}
	acfg.Handler = answer
	bcfg := cfg
	bcfg.RTPPorts = rtpsession.PortRange{Min: 40000, Max: 49999}
	a, err := switchboard.New(acfg)
	require.NoError(b, err)
	require.NoError(b, a.Start(listen(b)))
	defer a.Close()
	c, err := switchboard.New(bcfg)
	require.NoError(b, err)
	require.NoError(b, c.Start(listen(b)))
	defer c.Close()
	ctx := context.Background()
	b.ResetTimer()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cl, err := c.Dial(ctx, a.URI("bench"), call.DialOptions{})
			if err != nil {
				b.Error(err)
				return
			}
			_ = cl.Hangup(ctx, sip.CauseNormalClearing)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
