package rtpsession

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

// The load measurements run only with -load: they take tens of seconds and their
// numbers are reports, not pass/fail thresholds.
//
//	go test -run 'TestLoad|TestClockComparison' -load -v ./media/rtpsession
var (
	loadFlag     = flag.Bool("load", false, "run the loopback load measurements")
	loadDuration = flag.Duration("load.duration", 10*time.Second, "duration of each load run")
)

// loadSizes are the session counts measured: 100 and 1000 with -load; without it a
// short run with 10 sessions, so the measurement code stays exercised by the suite.
func loadSizes() []int {
	if *loadFlag {
		return []int{100, 1000}
	}
	return []int{10}
}

// loadTime is how long each run lasts: -load.duration with -load, else 300 ms.
func loadTime() time.Duration {
	if *loadFlag {
		return *loadDuration
	}
	return 300 * time.Millisecond
}

var (
	_ = 0
)

// loadModes are the pacing arrangements compared: one Clock for all sessions, a
// ClockPool (one Clock per CPU), and a Clock (goroutine) per session.
var loadModes = []string{"shared", "sharded", "per-session"}

// clocks returns which Clock session i uses in mode (nil: a private one).
func clocks(t *testing.T, mode string) func(i int) *Clock {
	switch mode {
	case "shared":
		c := NewClock(0)
		t.Cleanup(func() { _ = c.Close() })
		return func(int) *Clock { return c }
	case "sharded":
		p := NewClockPool(0, 0)
		t.Cleanup(func() { _ = p.Close() })
		return func(int) *Clock { return p.Clock() }
	}
	return func(int) *Clock { return nil }
}

// loadAvg is the machine's 1-minute load average, to judge how noisy a run was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timingConn records, for each packet written, how far the interval since the
// previous one strays from ptime. Reads block until Close.
type timingConn struct {
	*nullConn
	ptime time.Duration
	mu    sync.Mutex // the clock writes, the test resets and reads
	last  time.Time
	dev   []time.Duration
	n     int
}

func (c *timingConn) reset() {
	c.mu.Lock()
	c.dev = c.dev[:0]
	c.mu.Unlock()
}

func (c *timingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if !c.last.IsZero() && len(c.dev) < cap(c.dev) {
		d := now.Sub(c.last) - c.ptime
		if d < 0 {
			d = -d
		}
		c.dev = append(c.dev, d)
	}
	c.last = now
	c.n++
	return len(b), nil
}

func percentiles(d []time.Duration) (p50, p99, maxD time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100], d[len(d)-1]
}

// TestClockComparison paces N sessions (no network: a conn that only timestamps
// writes) from one shared Clock, then from a Clock per session, and reports CPU per
// session, goroutines and the jitter of the send times.
func TestClockComparison(t *testing.T) {
	const ptime = 20 * time.Millisecond
	for _, n := range loadSizes() {
		for _, mode := range loadModes {
			t.Run(fmt.Sprintf("%s-%d", mode, n), func(t *testing.T) {
				clockFor := clocks(t, mode)
				conns := make([]*timingConn, n)
				sessions := make([]*Session, n)
				for i := range n {
					conns[i] = &timingConn{nullConn: newNullConn(), ptime: ptime,
						dev: make([]time.Duration, 0, int(loadTime()/ptime)+100)}
					s, err := New(conns[i], Config{Codec: media.PCMU(), Clock: clockFor(i), RTCPInterval: -1,
						RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, OwnConns: true})
					require.NoError(t, err)
					sessions[i] = s
				}
				time.Sleep(500 * time.Millisecond) // settle
				for _, c := range conns {
					c.reset()
				}
				runtime.GC()
				g := runtime.NumGoroutine()
				cpu0, wall0 := cpuTime(t), time.Now()
				time.Sleep(loadTime())
				cpu, wall := cpuTime(t)-cpu0, time.Since(wall0)
				for _, s := range sessions {
					require.NoError(t, s.Close())
				}
				var all []time.Duration
				for _, c := range conns {
					all = append(all, c.dev...)
				}
				p50, p99, mx := percentiles(all)
				t.Logf("loadavg=%s clock=%s sessions=%d: CPU %.3f%% of a core per session (%.1f%% total), "+
					"%d goroutines (%.2f per session), send interval deviation p50 %v p99 %v max %v over %d packets",
					loadAvg(), mode, n, 100*cpu.Seconds()/wall.Seconds()/float64(n), 100*cpu.Seconds()/wall.Seconds(),
					g, float64(g)/float64(n), p50, p99, mx, len(all))
			})
		}
	}
}

// TestLoad runs N sessions as N/2 pairs sending 20 ms PCMU to each other over real
// UDP on 127.0.0.1 and reports process CPU per session, packets per second and
// goroutines per session, with a shared Clock and with a Clock per session.
func TestLoad(t *testing.T) {
	for _, n := range loadSizes() {
		for _, mode := range loadModes {
			t.Run(fmt.Sprintf("%s-%d", mode, n), func(t *testing.T) {
				clockFor := clocks(t, mode)
				sessions := make([]*Session, 0, n)
				defer func() {
					for _, s := range sessions {
						_ = s.Close()
					}
				}()
				frame := toneFrames(8000, 20*time.Millisecond, 20*time.Millisecond, 1000)[0]
				for range n / 2 {
					a := udpListen(t)
					b := udpListen(t)
					for _, c := range [][2]*net.UDPConn{{a, b}, {b, a}} {
						s, err := New(c[0], Config{Codec: media.PCMU(), Clock: clockFor(len(sessions)), RemoteAddr: c[1].LocalAddr(),
							RTCPMux: true, InactivityTimeout: -1})
						require.NoError(t, err)
						sessions = append(sessions, s)
					}
				}
				// Every session plays audio (not only silence): a feeder per session
				// would add goroutines that are not the session's, so one goroutine
				// keeps all queues topped up.
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					tk := time.NewTicker(100 * time.Millisecond)
					defer tk.Stop()
					for {
						for _, s := range sessions {
							for s.QueueDepth() < 200*time.Millisecond {
								_ = s.WriteFrame(frame)
							}
						}
						select {
						case <-stop:
							return
						case <-tk.C:
						}
					}
				})
				time.Sleep(time.Second) // settle
				runtime.GC()
				g := runtime.NumGoroutine()
				var ms0 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				sum := func() (sent, recv, lost, conc uint64) {
					for _, s := range sessions {
						st := s.Stats()
						sent += st.PacketsSent
						recv += st.PacketsReceived
						lost += uint64(max(st.Lost, 0))
						conc += st.Concealed
					}
					return
				}
				s0, r0, l0, c0 := sum()
				cpu0, wall0 := cpuTime(t), time.Now()
				time.Sleep(loadTime())
				cpu, wall := cpuTime(t)-cpu0, time.Since(wall0)
				s1, r1, l1, c1 := sum()
				var ms1 runtime.MemStats
				runtime.ReadMemStats(&ms1)
				close(stop)
				wg.Wait()
				t.Logf("loadavg=%s clock=%s sessions=%d over UDP: CPU %.3f%% of a core per session (%.1f%% total, feeder included), "+
					"sent %.0f pkt/s, received %.0f pkt/s, lost %d, concealed %d, %d goroutines (%.2f per session), "+
					"heap %.1f KiB per session, %.2f allocs per packet, %.1f µs CPU per packet sent or received",
					loadAvg(), mode, n, 100*cpu.Seconds()/wall.Seconds()/float64(n), 100*cpu.Seconds()/wall.Seconds(),
					float64(s1-s0)/wall.Seconds(), float64(r1-r0)/wall.Seconds(), l1-l0, c1-c0,
					g, float64(g)/float64(n), float64(ms1.HeapAlloc)/1024/float64(n),
					float64(ms1.Mallocs-ms0.Mallocs)/float64(max(1, s1-s0+r1-r0)),
					float64(cpu.Microseconds())/float64(max(1, s1-s0+r1-r0)))
			})
		}
	}
}
