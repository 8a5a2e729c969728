//go:build linux

package netns_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/netns"
	"github.com/switchboard-go/switchboard/internal/peer"
)

// TestMain also checks that the tests left no namespace of this process behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(leftoverCheck{m}) }

type leftoverCheck struct{ m *testing.M }

func (l leftoverCheck) Run() int {
	code := l.m.Run()
	names, err := netns.List()
	if err != nil {
		fmt.Fprintln(os.Stderr, "listing namespaces:", err)
		return 1
	}
	mine := fmt.Sprintf("%s%d-", netns.Prefix, os.Getpid())
	for _, n := range names {
		if strings.HasPrefix(n, mine) {
			fmt.Fprintln(os.Stderr, "namespace left behind:", n)
			code = 1
		}
	}
	return code
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// A pair is two namespaces with loopback and the veth link up and addressed; nothing of
// it is visible in the host namespace, and Close removes it all.
func TestPairSetupAndTeardown(t *testing.T) {
	p, err := netns.Create()
	require.NoError(t, err)
	closed := false
	defer func() {
		if !closed {
			_ = p.Close()
		}
	}()
	assert.NotEqual(t, p.A.Name, p.B.Name)
	assert.True(t, p.A.Addr.Is4() && p.B.Addr.Is4())
	assert.Equal(t, netip.PrefixFrom(p.A.Addr, 24).Masked(), netip.PrefixFrom(p.B.Addr, 24).Masked(), "one /24")

	names, err := netns.List()
	require.NoError(t, err)
	assert.Contains(t, names, p.A.Name)
	assert.Contains(t, names, p.B.Name)

	for _, ns := range []*netns.Namespace{p.A, p.B} {
		out, err := ns.Exec(ctx(t), "ip", "-o", "addr", "show", "dev", netns.Device)
		require.NoError(t, err)
		assert.Contains(t, string(out), ns.Addr.String()+"/24")
		out, err = ns.Exec(ctx(t), "ip", "-o", "link", "show", "lo")
		require.NoError(t, err)
		assert.Contains(t, string(out), "UP")
	}
	host, err := exec.Command("ip", "-o", "link", "show").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(host), netns.Device, "no veth end in the host namespace")

	require.NoError(t, p.Close())
	closed = true
	require.NoError(t, p.Close(), "Close is idempotent")
	names, err = netns.List()
	require.NoError(t, err)
	assert.NotContains(t, names, p.A.Name)
	assert.NotContains(t, names, p.B.Name)
}

// Namespaces named after a process that no longer exists are deleted by the next New;
// those of live processes are kept.
func TestRemoveStale(t *testing.T) {
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	stale := fmt.Sprintf("%s%d-7a", netns.Prefix, dead.Process.Pid)
	live := fmt.Sprintf("%s%d-999b", netns.Prefix, os.Getpid())
	for _, n := range []string{stale, live} {
		out, err := exec.Command("ip", "netns", "add", n).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", live).Run()
		_ = exec.Command("ip", "netns", "del", stale).Run()
	})

	netns.New(t)
	names, err := netns.List()
	require.NoError(t, err)
	assert.NotContains(t, names, stale)
	assert.Contains(t, names, live)
}

// Go code can open sockets inside each namespace; traffic crosses the veth link.
func TestDoAndUDP(t *testing.T) {
	p := netns.New(t)
	srv, err := p.B.ListenUDP(0)
	require.NoError(t, err)
	defer srv.Close()
	cli, err := p.A.ListenUDP(0)
	require.NoError(t, err)
	defer cli.Close()

	assert.Equal(t, p.B.Addr, srv.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap())
	_, err = cli.WriteToUDPAddrPort([]byte("ping"), srv.LocalAddr().(*net.UDPAddr).AddrPort())
	require.NoError(t, err)
	buf := make([]byte, 16)
	require.NoError(t, srv.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, from, err := srv.ReadFromUDPAddrPort(buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf[:n]))
	assert.Equal(t, p.A.Addr, from.Addr().Unmap(), "came over the link from A")

	// The host namespace cannot reach B's address: the link is private.
	host, err := net.ListenUDP("udp4", nil)
	require.NoError(t, err)
	defer host.Close()
	_, err = host.WriteToUDPAddrPort([]byte("x"), srv.LocalAddr().(*net.UDPAddr).AddrPort())
	if err == nil {
		require.NoError(t, srv.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
		_, _, err = srv.ReadFromUDPAddrPort(buf)
		assert.Error(t, err, "a packet from the host namespace must not arrive")
	}

	wantErr := errors.New("from inside")
	assert.ErrorIs(t, p.A.Do(func() error { return wantErr }), wantErr)
	assert.True(t, p.B.UDPPortBound(srv.LocalAddr().(*net.UDPAddr).Port))
	assert.False(t, p.A.UDPPortBound(srv.LocalAddr().(*net.UDPAddr).Port), "the port is taken in B, not in A")
}

func TestSetLossInvalid(t *testing.T) {
	p := netns.New(t)
	for _, l := range []netns.Loss{{Probability: -0.1}, {Probability: 1.1}, {Probability: math.NaN()}, {Every: -1}, {Probability: 0.1, Every: 10}} {
		assert.ErrorIs(t, p.A.SetLoss(l), netns.ErrLoss, "%+v", l)
	}
}

// echoResult is what one UDP ping-pong run between the namespaces saw.
type echoResult struct {
	sent, reachedB, echoed int
	missingAtB             []int // sequence numbers B never saw
	a, b                   netns.Counters
}

// pingPong sends n numbered datagrams from A to a UDP echo server in B, one every
// interval, and collects the echoes at A. Wall time only decides when to stop listening.
func pingPong(t *testing.T, p *netns.Pair, n int, interval time.Duration) echoResult {
	t.Helper()
	srv, err := p.B.ListenUDP(0)
	require.NoError(t, err)
	defer srv.Close()
	cli, err := p.A.ListenUDP(0)
	require.NoError(t, err)
	defer cli.Close()

	seen := make([]bool, n)
	var res echoResult
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 64)
		for {
			k, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if k == 8 {
				if s := binary.BigEndian.Uint64(buf); s < uint64(n) && !seen[s] {
					seen[s] = true
					res.reachedB++
				}
			}
			_, _ = srv.WriteToUDPAddrPort(buf[:k], from)
		}
	})
	done := make(chan struct{})
	var echoed int
	wg.Go(func() {
		defer close(done)
		buf := make([]byte, 64)
		last := time.Now()
		for {
			_ = cli.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := cli.Read(buf); err != nil {
				if errors.Is(err, net.ErrClosed) || time.Since(last) > time.Second {
					return
				}
				continue
			}
			echoed++
			last = time.Now()
		}
	})
	to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := make([]byte, 8)
	next := time.Now()
	for i := range n {
		binary.BigEndian.PutUint64(pkt, uint64(i))
		_, err := cli.WriteToUDPAddrPort(pkt, to)
		require.NoError(t, err)
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	<-done
	srv.Close()
	wg.Wait()
	res.sent, res.echoed = n, echoed
	for i, ok := range seen {
		if !ok {
			res.missingAtB = append(res.missingAtB, i)
		}
	}
	res.a, err = p.A.Counters()
	require.NoError(t, err)
	res.b, err = p.B.Counters()
	require.NoError(t, err)
	return res
}

func binomialOK(k, n int, p, z float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-mean) <= z*sd
}

// Random loss on both receivers' input hooks, measured from Go with a UDP echo between
// the namespaces and cross-checked against the nftables counters: every datagram is
// accounted for, and the realised loss is within binomial tolerance of the configured one.
func TestRandomLossMeasured(t *testing.T) {
	const n, loss = 3000, 0.05
	p := netns.New(t)
	require.NoError(t, p.A.SetLoss(netns.Loss{Probability: loss}))
	require.NoError(t, p.B.SetLoss(netns.Loss{Probability: loss}))
	r := pingPong(t, p, n, 100*time.Microsecond)

	// Every datagram A sent reached B's input hook: dropped there or delivered.
	assert.Equal(t, uint64(n), r.b.Dropped+r.b.Accepted)
	assert.Equal(t, int(r.b.Accepted), r.reachedB, "B's socket got what nftables let through")
	assert.Len(t, r.missingAtB, int(r.b.Dropped))
	// B echoed each one; A's hook saw them all.
	assert.Equal(t, r.b.Accepted, r.a.Dropped+r.a.Accepted)
	assert.Equal(t, int(r.a.Accepted), r.echoed)
	assert.Truef(t, binomialOK(int(r.b.Dropped), n, loss, 5), "A→B dropped %d of %d", r.b.Dropped, n)
	assert.Truef(t, binomialOK(int(r.a.Dropped), int(r.b.Accepted), loss, 5), "B→A dropped %d of %d", r.a.Dropped, r.b.Accepted)
	rt := 1 - float64(r.echoed)/n
	t.Logf("configured %.0f%% each way: A→B %.2f%% (%d/%d), B→A %.2f%% (%d/%d), round trip %.2f%% (expected %.2f%%)",
		100*loss, 100*float64(r.b.Dropped)/n, r.b.Dropped, n,
		100*float64(r.a.Dropped)/float64(r.b.Accepted), r.a.Dropped, r.b.Accepted,
		100*rt, 100*(1-(1-loss)*(1-loss)))
}

// The deterministic pattern drops exactly every N-th datagram.
func TestPatternLoss(t *testing.T) {
	const n, every = 1000, 10
	p := netns.New(t)
	require.NoError(t, p.B.SetLoss(netns.Loss{Every: every}))
	r := pingPong(t, p, n, 100*time.Microsecond)
	want := []int{}
	for i := every - 1; i < n; i += every {
		want = append(want, i)
	}
	assert.Equal(t, want, r.missingAtB, "the 10th, 20th, … datagram was dropped")
	assert.Equal(t, netns.Counters{Dropped: n / every, Accepted: n - n/every}, r.b)
	assert.Equal(t, netns.Counters{Accepted: n - n/every}, r.a, "no loss configured on A")
	assert.Equal(t, n-n/every, r.echoed)

	// SetLoss starts afresh: counters zeroed, nothing dropped.
	require.NoError(t, p.B.SetLoss(netns.Loss{}))
	c, err := p.B.Counters()
	require.NoError(t, err)
	assert.Equal(t, netns.Counters{}, c)
	r = pingPong(t, p, 100, 100*time.Microsecond)
	assert.Empty(t, r.missingAtB)
	assert.Equal(t, 100, r.echoed)
}

// Command and ExecPrefix run programs inside a namespace: they see only its interfaces.
func TestCommand(t *testing.T) {
	p := netns.New(t)
	out, err := p.B.Command(ctx(t), "ip", "-o", "-4", "addr", "show").CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), p.B.Addr.String())
	assert.NotContains(t, string(out), p.A.Addr.String())
	pre := p.A.ExecPrefix()
	out, err = exec.Command(pre[0], append(pre[1:], "ip", "-o", "-4", "addr", "show")...).CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), p.A.Addr.String())
	_, err = p.A.Exec(ctx(t), "false")
	assert.Error(t, err)
}

// Do returns its thread to the runtime instead of letting it exit: an exiting thread
// would deliver the parent-death signal to the processes it forked (package peer starts
// them with Pdeathsig), killing them at random.
func TestDoKeepsChildrenAlive(t *testing.T) {
	p := netns.New(t)
	child := peer.Start(t, peer.Spec{Name: "sleep", Path: "/bin/sleep", Args: []string{"30"}, MaxLifetime: time.Minute})
	for range 200 {
		require.NoError(t, p.A.Do(func() error { return nil }))
		p.B.UDPPortBound(5060)
	}
	select {
	case <-child.Done():
		t.Fatalf("child died: exit code %d", child.ExitCode())
	case <-time.After(100 * time.Millisecond):
	}
}
