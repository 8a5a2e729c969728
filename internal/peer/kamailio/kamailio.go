package kamailio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer"
)

// DebianPackage provides the kamailio program.
const DebianPackage = "kamailio"

// ErrSurvivors is wrapped by the error Stop returns when processes of Kamailio's
// process group are still alive after it stopped.
var ErrSurvivors = errors.New("kamailio: processes survived stop")

// Proxy is a running Kamailio. Its methods are safe for concurrent use.
type Proxy struct {
	opts    Options // with defaults and the port filled in
	proc    *peer.Process
	confDir string
	runDir  string
	pgid    int

	rpcSeq   atomic.Uint64
	stopOnce sync.Once
	stopErr  error
}

// Start writes a configuration for opts, checks it with "kamailio -c" (a rejected one
// fails the test with Kamailio's complaints), runs Kamailio in the foreground on
// 127.0.0.1 and waits until it answers both its control socket and SIP OPTIONS. The
// proxy is stopped, its process group verified empty and its directories removed when
// the test ends; its log is printed if the test failed.
func Start(t testing.TB, opts Options) *Proxy {
	t.Helper()
	path := peer.RequireProgram(t, "kamailio", DebianPackage)
	if opts.Port == 0 {
		opts.Port = peer.FreePort(t)
	}
	opts = opts.withDefaults()
	confDir := t.TempDir()
	// The runtime directory holds the control socket, whose path must fit in a
	// sockaddr_un (108 bytes); test names make t.TempDir paths long, so use a short one.
	runDir, err := os.MkdirTemp("", "kam-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{opts: opts, confDir: confDir, runDir: runDir}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	cfg, err := Render(opts, confDir, runDir)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(confDir, ConfigFile)
	if err := os.WriteFile(cfgPath, []byte(cfg.Kamailio), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, DispatcherFile), []byte(cfg.DispatcherList), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := CheckConfig(ctx, path, cfgPath); err != nil {
		t.Fatalf("%v\n(configuration: %s)", err, cfgPath)
	}
	args := []string{
		"-f", cfgPath, "-DD", "-E",
		"-n", strconv.Itoa(opts.Workers),
		"-m", strconv.Itoa(opts.SharedMemoryMB),
		"-M", strconv.Itoa(opts.PrivateMemoryMB),
		"-Y", runDir,
	}
	// If the test binary dies (a -timeout panic, a kill), the child gets its parent-death
	// signal. Kamailio's workers are forked without one, and a SIGKILLed main process
	// leaves them running with the SIP port bound; on SIGTERM the main process stops
	// them. setpriv (util-linux) replaces the SIGKILL that peer.Start asks for with
	// SIGTERM and then execs Kamailio under the same PID.
	if setpriv, err := peer.LookPath("setpriv", "util-linux"); err == nil {
		args = append([]string{"--pdeathsig", "TERM", path}, args...)
		path = setpriv
	}
	p.proc = peer.Start(t, peer.Spec{
		Name:        "kamailio",
		Path:        path,
		Args:        args,
		Dir:         confDir,
		MaxLifetime: opts.MaxLifetime,
	})
	// Start puts the child in its own process group (Setpgid), so pgid == pid.
	p.pgid = p.proc.PID()
	if err := p.waitReady(ctx); err != nil {
		t.Fatalf("kamailio did not come up: %v\n%s", err, p.proc.Tail(8<<10))
	}
	return p
}

// waitReady waits until the control socket answers and a SIP OPTIONS gets 200.
func (p *Proxy) waitReady(ctx context.Context) error {
	for {
		select {
		case <-p.proc.Done():
			return errors.New("kamailio exited at start-up")
		default:
		}
		attempt, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, rerr := p.RPC(attempt, "core.version")
		perr := rerr
		if rerr == nil {
			perr = p.Ping(attempt)
		}
		cancel()
		if perr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), perr)
		case <-p.proc.Done():
			return errors.New("kamailio exited at start-up")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Addr is host:port of Kamailio's SIP socket (UDP).
func (p *Proxy) Addr() string { return peer.Addr(p.opts.Port) }

// Port is Kamailio's SIP port.
func (p *Proxy) Port() int { return p.opts.Port }

// URI is a SIP URI for user at the proxy ("sip:user@127.0.0.1:port"); an empty user
// gives the proxy's own URI.
func (p *Proxy) URI(user string) string {
	if user == "" {
		return "sip:" + p.Addr()
	}
	return "sip:" + user + "@" + p.Addr()
}

// Options are the options the proxy runs with (defaults and port filled in).
func (p *Proxy) Options() Options { return p.opts }

// Log returns Kamailio's log (stdout and stderr) so far.
func (p *Proxy) Log() string { return p.proc.Log() }

// Process is the underlying process (PID, log path). Its PID is also the process
// group of Kamailio's workers.
func (p *Proxy) Process() *peer.Process { return p.proc }

// RunDir is Kamailio's runtime directory (-Y), holding its control socket. Stop
// removes it.
func (p *Proxy) RunDir() string { return p.runDir }

// ConfigDir is the directory holding kamailio.cfg and dispatcher.list.
func (p *Proxy) ConfigDir() string { return p.confDir }

// Routes parses the routing decisions Kamailio has logged so far.
func (p *Proxy) Routes() []Route { return ParseRoutes(strings.NewReader(p.proc.Log())) }

// Stop terminates Kamailio (SIGTERM to its main process, SIGKILL to the group after 3
// s), waits until no process of its group is left, and removes its runtime directory.
// It is safe to call more than once; later calls return the first result.
func (p *Proxy) Stop() error {
	p.stopOnce.Do(func() {
		if p.proc != nil {
			_ = p.proc.Stop()
			if left := waitGroupGone(p.pgid, 3*time.Second); len(left) > 0 {
				p.stopErr = fmt.Errorf("%w: pids %v in group %d", ErrSurvivors, left, p.pgid)
			}
		}
		if err := os.RemoveAll(p.runDir); err != nil && p.stopErr == nil {
			p.stopErr = fmt.Errorf("kamailio: %w", err)
		}
	})
	return p.stopErr
}

// waitGroupGone polls until no live process is in group pgid, for at most d. It
// returns the pids still alive.
func waitGroupGone(pgid int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		left, err := ProcessesInGroup(pgid)
		if err == nil && len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ProcessesInGroup lists the live (not zombie) processes whose process group is pgid,
// from /proc.
func ProcessesInGroup(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("kamailio: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		state, pg, ok := parseStat(string(b))
		if ok && pg == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// parseStat reads the state and process group from a /proc/PID/stat line:
// "pid (comm) state ppid pgrp ...", where comm may contain spaces and parentheses.
func parseStat(s string) (state byte, pgrp int, ok bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}

// Ping sends one SIP OPTIONS to the proxy itself and waits for its 200 (or ctx).
func (p *Proxy) Ping(ctx context.Context) error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(peer.Loopback)})
	if err != nil {
		return fmt.Errorf("kamailio: ping: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	local := conn.LocalAddr().(*net.UDPAddr)
	tag := strconv.FormatUint(rand.Uint64(), 36)
	req := "OPTIONS " + p.URI("") + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local.String() + ";branch=z9hG4bK" + tag + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@" + local.String() + ">;tag=" + tag + "\r\n" +
		"To: <" + p.URI("") + ">\r\n" +
		"Call-ID: " + tag + "@" + peer.Loopback + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	raddr := &net.UDPAddr{IP: net.ParseIP(peer.Loopback), Port: p.opts.Port}
	if _, err := conn.WriteToUDP([]byte(req), raddr); err != nil {
		return fmt.Errorf("kamailio: ping: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("kamailio: ping: %w", ctx.Err())
			}
			return fmt.Errorf("kamailio: ping: %w", err)
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		if strings.HasPrefix(line, "SIP/2.0 1") {
			continue
		}
		if strings.HasPrefix(line, "SIP/2.0 200") {
			return nil
		}
		return fmt.Errorf("kamailio: ping: got %q", line)
	}
}

func readFileString(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
