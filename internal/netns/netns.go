//go:build linux

package netns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchboard-go/switchboard/internal/peer"
)

// Debian packages that provide the programs this package runs.
const (
	IPPackage  = "iproute2" // ip
	NFTPackage = "nftables" // nft
)

// Prefix starts the name of every namespace this package creates: "sbt", the creating
// process's PID, a dash, a per-process counter and "a" or "b" (e.g. "sbt4242-3a"). The
// PID lets a later run recognise and delete namespaces left by a process that crashed.
const Prefix = "sbt"

// Device is the name of the veth end inside each namespace.
const Device = "sbt0"

// Errors wrapped by what this package returns.
var (
	// ErrNotRoot: creating namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
	ErrNotRoot = errors.New("netns: must run as root")
	// ErrLeftover: a namespace was still listed after it was deleted.
	ErrLeftover = errors.New("netns: namespace left behind")
)

// table is the nftables table (family inet) holding the loss rules in each namespace.
const table = "sbt"

// Namespace is one end of a Pair.
type Namespace struct {
	// Name is the namespace's name, as `ip netns list` shows it.
	Name string
	// Addr is its address on the link (10.x.y.1 for A, 10.x.y.2 for B, prefix /24).
	Addr netip.Addr

	ip, nft string // program paths
}

// Pair is two network namespaces, A and B, joined by a veth link. Each has its loopback
// up and an empty nftables table ready for SetLoss. Nothing is visible in the host's own
// namespace: the veth ends are created directly inside A and B, and deleting the
// namespaces deletes them.
type Pair struct {
	A, B *Namespace

	closeOnce sync.Once
	closeErr  error
}

// counter numbers the pairs of this process; with the PID it makes names unique.
var counter atomic.Uint32

// New creates a pair for a test and deletes it in t.Cleanup (after the cleanups of
// processes the test started later, which must leave the namespaces first). Namespaces
// left by crashed earlier runs are deleted first. It fails the test if not root or if ip
// or nft is missing (naming the Debian package to install); it never skips.
func New(t testing.TB) *Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("%v: network namespace tests create namespaces, veth links and nftables rules; run them as root", ErrNotRoot)
	}
	peer.RequireProgram(t, "ip", IPPackage)
	peer.RequireProgram(t, "nft", NFTPackage)
	p, err := Create()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Create is New without a testing.TB: the caller must Close the pair.
func Create() (*Pair, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	ipPath, err := peer.LookPath("ip", IPPackage)
	if err != nil {
		return nil, err
	}
	nftPath, err := peer.LookPath("nft", NFTPackage)
	if err != nil {
		return nil, err
	}
	if err := RemoveStale(); err != nil {
		return nil, err
	}
	pid, n := os.Getpid(), counter.Add(1)
	// The link never leaves the two namespaces, so addresses cannot clash with anything;
	// varying them by PID and counter still keeps logs of parallel runs apart.
	x, y := byte(100+pid%100), byte(n%250)
	p := &Pair{
		A: &Namespace{Name: fmt.Sprintf("%s%d-%da", Prefix, pid, n), Addr: netip.AddrFrom4([4]byte{10, x, y, 1}), ip: ipPath, nft: nftPath},
		B: &Namespace{Name: fmt.Sprintf("%s%d-%db", Prefix, pid, n), Addr: netip.AddrFrom4([4]byte{10, x, y, 2}), ip: ipPath, nft: nftPath},
	}
	if err := p.setup(); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

func (p *Pair) setup() error {
	a, b := p.A, p.B
	steps := [][]string{
		{"netns", "add", a.Name},
		{"netns", "add", b.Name},
		{"link", "add", Device, "netns", a.Name, "type", "veth", "peer", "name", Device, "netns", b.Name},
	}
	for _, ns := range []*Namespace{a, b} {
		steps = append(steps,
			[]string{"-n", ns.Name, "link", "set", "lo", "up"},
			[]string{"-n", ns.Name, "addr", "add", ns.Addr.String() + "/24", "dev", Device},
			[]string{"-n", ns.Name, "link", "set", Device, "up"},
		)
	}
	for _, args := range steps {
		if out, err := exec.Command(a.ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("netns: ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	for _, ns := range []*Namespace{a, b} {
		if err := ns.SetLoss(Loss{}); err != nil {
			return err
		}
	}
	return nil
}

// Close deletes both namespaces (which deletes the veth link) and checks that `ip netns
// list` no longer shows them. Processes still running inside keep a namespace alive
// without its name, so stop them first. Close is idempotent.
func (p *Pair) Close() error {
	p.closeOnce.Do(func() {
		var errs []error
		for _, ns := range []*Namespace{p.A, p.B} {
			if out, err := exec.Command(ns.ip, "netns", "del", ns.Name).CombinedOutput(); err != nil &&
				!bytes.Contains(out, []byte("No such file")) {
				errs = append(errs, fmt.Errorf("netns: ip netns del %s: %w: %s", ns.Name, err, bytes.TrimSpace(out)))
			}
		}
		names, err := list(p.A.ip)
		if err != nil {
			errs = append(errs, err)
		}
		for _, name := range names {
			if name == p.A.Name || name == p.B.Name {
				errs = append(errs, fmt.Errorf("%w: %s", ErrLeftover, name))
			}
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}

// list returns the names `ip netns list` shows.
func list(ipPath string) ([]string, error) {
	out, err := exec.Command(ipPath, "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("netns: ip netns list: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		// "name" or "name (id: 3)"
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// List returns the namespaces of this package that exist now (any process's).
func List() ([]string, error) {
	ipPath, err := peer.LookPath("ip", IPPackage)
	if err != nil {
		return nil, err
	}
	names, err := list(ipPath)
	if err != nil {
		return nil, err
	}
	var ours []string
	for _, n := range names {
		if _, ok := ownerPID(n); ok {
			ours = append(ours, n)
		}
	}
	return ours, nil
}

// ownerPID parses "sbt<pid>-<n><a|b>".
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	pidStr, tail, ok := strings.Cut(rest, "-")
	if !ok || len(tail) < 2 || (tail[len(tail)-1] != 'a' && tail[len(tail)-1] != 'b') {
		return 0, false
	}
	if _, err := strconv.ParseUint(tail[:len(tail)-1], 10, 32); err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// RemoveStale deletes namespaces of this package whose creating process no longer
// exists (left by a test binary that crashed or was killed before its cleanup ran).
// Namespaces of live processes, including other test binaries running now, are kept.
func RemoveStale() error {
	ipPath, err := peer.LookPath("ip", IPPackage)
	if err != nil {
		return err
	}
	names, err := list(ipPath)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		pid, ok := ownerPID(name)
		if !ok || processExists(pid) {
			continue
		}
		if out, err := exec.Command(ipPath, "netns", "del", name).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("netns: removing stale %s: %w: %s", name, err, bytes.TrimSpace(out)))
		}
	}
	return errors.Join(errs...)
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ExecPrefix is the command prefix that runs a program inside the namespace:
// ip netns exec NAME. `ip` execs the program, so its PID is the program's.
func (ns *Namespace) ExecPrefix() []string { return []string{ns.ip, "netns", "exec", ns.Name} }

// Command is exec.CommandContext for a program run inside the namespace.
func (ns *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, ns.ip, append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Exec runs a program inside the namespace and returns its combined output; a non-zero
// exit is an error that includes the output.
func (ns *Namespace) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := ns.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("netns: %s: %s %s: %w: %s", ns.Name, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Do runs fn on an OS thread that has joined the namespace. Sockets fn creates belong to
// the namespace for good and can be used from any goroutine afterwards; that is how a
// test puts a Go UDP endpoint inside a namespace without a helper process. fn must not
// start goroutines that expect to be in the namespace: only its own thread is.
//
// The thread returns to its original namespace afterwards and goes back to the runtime.
// It is not simply left locked to die with the goroutine: a thread that exits delivers
// the parent-death signal (Pdeathsig) to every child process it forked, and the peers
// that package peer starts use one, so a dying thread could kill a running SIPp.
func (ns *Namespace) Do(fn func() error) error {
	f, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: setns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stuck in the namespace: stay locked, so the runtime destroys the thread
			// with this goroutine rather than run other goroutines on it.
			errc <- errors.Join(ferr, fmt.Errorf("netns: leaving %s: %w", ns.Name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// ListenUDP opens a UDP socket inside the namespace on its link address (port 0: any
// free port), with large kernel buffers so that bursts are not dropped by the socket.
func (ns *Namespace) ListenUDP(port int) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := ns.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ns.Addr, uint16(port))))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: %s: %w", ns.Name, err)
	}
	growBuffers(c)
	return c, nil
}

// UDPPortBound reports whether a UDP socket holds the namespace's address and port (for
// sipp.Options.PortBound).
func (ns *Namespace) UDPPortBound(port int) bool {
	c, err := ns.ListenUDP(port)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

func growBuffers(c *net.UDPConn) {
	const size = 4 << 20
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size)
		})
	}
}

// Loss configures the packets dropped on a namespace's input hook: only IPv4 packets
// that arrive over the veth link are considered, so traffic on the namespace's loopback
// is never dropped. Dropping on the receiver's input hook loses packets silently; a drop
// on the sender's output hook would make sendto fail with EPERM instead.
type Loss struct {
	// Probability drops each packet independently with this probability (nftables
	// numgen random), in steps of one millionth.
	Probability float64
	// Every drops exactly one packet in Every, deterministically: the Every-th, the
	// 2×Every-th, … packet to arrive since SetLoss (nftables numgen inc). Zero: off.
	// Probability and Every cannot both be set.
	Every int
}

// ErrLoss is wrapped by the error SetLoss returns for an invalid Loss.
var ErrLoss = errors.New("netns: invalid loss")

// SetLoss replaces the namespace's loss rules and zeroes its counters. Loss{} drops
// nothing but still counts.
func (ns *Namespace) SetLoss(l Loss) error {
	if !(l.Probability >= 0 && l.Probability <= 1) || l.Every < 0 || (l.Probability > 0 && l.Every > 0) {
		return fmt.Errorf("%w: %+v", ErrLoss, l)
	}
	match := fmt.Sprintf("iifname %q meta nfproto ipv4", Device)
	var drop string
	switch {
	case l.Every > 0:
		drop = fmt.Sprintf("add rule inet %s in %s numgen inc mod %d == %d counter name dropped drop\n", table, match, l.Every, l.Every-1)
	case l.Probability > 0:
		const scale = 1000000
		drop = fmt.Sprintf("add rule inet %s in %s numgen random mod %d < %d counter name dropped drop\n",
			table, match, scale, int(math.Round(l.Probability*scale)))
	}
	// One transaction: delete and recreate the table, so the rules, their numgen state
	// and the counters start afresh.
	script := fmt.Sprintf("table inet %[1]s\ndelete table inet %[1]s\n", table) +
		fmt.Sprintf("add table inet %s\n", table) +
		fmt.Sprintf("add counter inet %s dropped\nadd counter inet %s accepted\n", table, table) +
		fmt.Sprintf("add chain inet %s in { type filter hook input priority 0; policy accept; }\n", table) +
		drop +
		fmt.Sprintf("add rule inet %s in %s counter name accepted\n", table, match)
	cmd := exec.Command(ns.ip, "netns", "exec", ns.Name, ns.nft, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netns: %s: nft: %w: %s\n%s", ns.Name, err, bytes.TrimSpace(out), script)
	}
	return nil
}

// Counters count the IPv4 packets that arrived over the link since the last SetLoss.
type Counters struct {
	Dropped  uint64 // dropped by the loss rule
	Accepted uint64 // let through to the namespace's sockets
}

// Counters reads the namespace's nftables counters (nft -j list counters).
func (ns *Namespace) Counters() (Counters, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := ns.Exec(ctx, ns.nft, "-j", "list", "counters", "table", "inet", table)
	if err != nil {
		return Counters{}, err
	}
	return parseCounters(out)
}

func parseCounters(out []byte) (Counters, error) {
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Name    string `json:"name"`
				Packets uint64 `json:"packets"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return Counters{}, fmt.Errorf("netns: nft counters: %w", err)
	}
	var c Counters
	found := 0
	for _, o := range doc.Nftables {
		if o.Counter == nil {
			continue
		}
		switch o.Counter.Name {
		case "dropped":
			c.Dropped = o.Counter.Packets
			found++
		case "accepted":
			c.Accepted = o.Counter.Packets
			found++
		}
	}
	if found != 2 {
		return c, fmt.Errorf("netns: nft counters: %d of 2 found in %q", found, out)
	}
	return c, nil
}
