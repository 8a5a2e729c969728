package sipp

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer"
)

// DebianPackage provides the sipp program.
const DebianPackage = "sip-tester"

// PcapDir is where Debian installs SIPp's sample pcaps (g711a.pcap, dtmf_2833_*.pcap).
const PcapDir = "/usr/share/sip-tester"

// Options describe one SIPp run. Exactly one of Scenario, ScenarioXML and ScenarioFile is set.
type Options struct {
	// Scenario is a built-in scenario name: "uac", "uas", "uac_pcap", "regexp", ...
	Scenario string
	// ScenarioXML is the text of a custom scenario.
	ScenarioXML string
	// ScenarioFile is the path of a custom scenario file.
	ScenarioFile string

	// Remote is host:port of the peer to call (UAC). Empty for a UAS.
	Remote string
	// Service is the user part of the request URI (-s). Default "service".
	Service string
	// Port is the local SIP port. Zero picks a free one.
	Port int
	// Transport is SIPp's -t value: "u1" (UDP, one socket; the default), "un", "t1", "tn".
	Transport string

	// MediaPort is the local RTP port (-mp). Zero picks a free one when RTP is used.
	MediaPort int
	// RTPEcho makes SIPp echo every RTP packet it receives back to the sender.
	RTPEcho bool

	// Rate is new calls per second (-r). Zero: SIPp's default (10).
	Rate float64
	// Limit caps simultaneous calls (-l). Zero: SIPp's default (3 × rate × call length).
	Limit int
	// Calls stops after this many calls (-m). Zero: unlimited (a UAS runs until stopped).
	Calls int
	// CallDuration is the length of the built-in scenarios' <pause/> (-d).
	CallDuration time.Duration
	// Timeout is SIPp's global timeout (-timeout); the process is also killed after it.
	// Zero: 2 minutes.
	Timeout time.Duration

	// Vars are passed as -key NAME VALUE, used in scenarios as [NAME].
	Vars map[string]string
	// ExtraArgs are appended verbatim.
	ExtraArgs []string
	// Files are written into SIPp's working directory before it starts (name → content),
	// for scenarios that reference injection files or audio by relative path.
	Files map[string][]byte

	// LocalIP is the address SIPp binds for SIP (-i) and RTP (-mi). Default 127.0.0.1.
	LocalIP string
	// Exec, if set, is a command prefix SIPp runs under: the SIPp command line is appended
	// to it, e.g. {"ip", "netns", "exec", "ns1"} runs SIPp in network namespace ns1. The
	// prefix must exec SIPp (keep its PID), so that stopping the process stops SIPp.
	Exec []string
	// PortBound reports whether SIPp's SIP port is bound yet; Start waits for it before
	// returning. The default tries to bind LocalIP:port in the test's own network
	// namespace, so set it when SIPp runs in another one.
	PortBound func(port int) bool
}

// Stats are SIPp's cumulative counters at the end of a run (from -trace_stat).
type Stats struct {
	CallsCreated    int            // TotalCallCreated
	Successful      int            // SuccessfulCall(C)
	Failed          int            // FailedCall(C)
	Retransmissions int            // Retransmissions(C)
	FailedReasons   map[string]int // non-zero Failed*(C) counters by name, e.g. "MaxUDPRetrans"
	ResponseTime    time.Duration  // mean ResponseTime1(C): first rtd="true" interval
	ResponseTimeDev time.Duration  // ResponseTime1StDev(C)
	CallLength      time.Duration  // mean CallLength(C)
	// ResponseTimeHist counts calls per response-time bucket, keyed by SIPp's bucket
	// label ("<10", "<20", ..., ">=200", in ms).
	ResponseTimeHist map[string]int
	// Elapsed is the run's wall time as SIPp measured it.
	Elapsed time.Duration
}

// Instance is a running SIPp.
type Instance struct {
	// Addr is host:port of SIPp's SIP socket.
	Addr string
	// Port is its SIP port and MediaPort its RTP port (0 if unused).
	Port, MediaPort int

	proc     *peer.Process
	dir      string
	scenario string
}

// Start launches SIPp in the background and stops it when the test ends. Use it for UAS
// roles; for a UAC that runs to completion, use Run.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	path := peer.RequireProgram(t, "sipp", DebianPackage)
	dir := t.TempDir()
	if opts.Port == 0 {
		opts.Port = peer.FreePort(t)
	}
	if (opts.RTPEcho || opts.MediaPort != 0 || usesMedia(opts)) && opts.MediaPort == 0 {
		// RTP port plus the next one: SIPp binds RTCP (and video) beside it.
		opts.MediaPort = peer.FreePortRange(t, 4)
	}
	args, scenario, err := buildArgs(opts, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Exec) > 0 {
		args = append(append(append([]string(nil), opts.Exec[1:]...), path), args...)
		path = opts.Exec[0]
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	proc := peer.Start(t, peer.Spec{
		Name:        "sipp-" + scenario,
		Path:        path,
		Args:        args,
		Dir:         dir,
		MaxLifetime: timeout + 10*time.Second,
	})
	inst := &Instance{
		Addr: net.JoinHostPort(localIP(opts), strconv.Itoa(opts.Port)), Port: opts.Port, MediaPort: opts.MediaPort,
		proc: proc, dir: dir, scenario: scenario,
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, pat := range []string{"*_errors.log", "*_screen.log"} {
				matches, _ := filepath.Glob(filepath.Join(dir, pat))
				for _, m := range matches {
					b, _ := os.ReadFile(m)
					if len(b) > 8<<10 {
						b = b[len(b)-8<<10:]
					}
					t.Logf("---- %s ----\n%s", filepath.Base(m), b)
				}
			}
		}
	})
	// SIPp binds its socket quickly; wait until it is up so callers can dial at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bound := opts.PortBound
	if bound == nil {
		ip := localIP(opts)
		bound = func(port int) bool { return portInUse(ip, port) }
	}
	if err := waitBound(ctx, proc, opts.Port, bound); err != nil {
		t.Fatal(err)
	}
	return inst
}

// Run runs SIPp to completion (a UAC with Calls set) and returns its statistics. A run
// in which some calls failed returns the stats and an error that says how many.
func Run(t testing.TB, opts Options) (Stats, error) {
	t.Helper()
	inst := Start(t, opts)
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	return inst.Wait(ctx)
}

// Wait waits for SIPp to exit and returns its final statistics. SIPp exits 0 when every
// call succeeded and 1 when some failed; both return Stats, the latter with an error.
func (in *Instance) Wait(ctx context.Context) (Stats, error) {
	werr := in.proc.Wait(ctx)
	if errors.Is(werr, context.DeadlineExceeded) || errors.Is(werr, context.Canceled) {
		return Stats{}, fmt.Errorf("sipp: %w", werr)
	}
	st, perr := in.Stats()
	if perr != nil {
		return st, fmt.Errorf("sipp: exit code %d, no statistics: %w", in.proc.ExitCode(), perr)
	}
	switch code := in.proc.ExitCode(); code {
	case 0:
		return st, nil
	case 1:
		return st, fmt.Errorf("sipp: %d of %d calls failed %v", st.Failed, st.CallsCreated, st.FailedReasons)
	default:
		return st, fmt.Errorf("sipp: exit code %d (see its log)", code)
	}
}

// Stop terminates SIPp (it writes its final statistics on SIGTERM... via SIGUSR1 first)
// and returns the statistics.
func (in *Instance) Stop() (Stats, error) {
	// SIGUSR1 asks SIPp to stop gracefully and dump final stats; SIGTERM is the fallback.
	_ = in.proc.Signal(sigusr1)
	select {
	case <-in.proc.Done():
	case <-time.After(3 * time.Second):
	}
	_ = in.proc.Stop()
	return in.Stats()
}

// Process is the underlying process (log, PID).
func (in *Instance) Process() *peer.Process { return in.proc }

// Dir is SIPp's working directory (its logs and statistics files are there).
func (in *Instance) Dir() string { return in.dir }

// Stats parses the statistics SIPp has written so far (the last row of its -trace_stat
// file; SIPp writes one each second and a final one when it exits).
func (in *Instance) Stats() (Stats, error) {
	matches, _ := filepath.Glob(filepath.Join(in.dir, "*_.csv"))
	if len(matches) == 0 {
		return Stats{}, errors.New("sipp: no statistics file")
	}
	f, err := os.Open(matches[0])
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	return ParseStats(f)
}

func usesMedia(o Options) bool {
	return o.Scenario == "uac_pcap" || strings.Contains(o.ScenarioXML, "play_pcap_audio") ||
		strings.Contains(o.ScenarioXML, "rtp_stream") || strings.Contains(o.ScenarioXML, "[media_port]")
}

func buildArgs(o Options, dir string) (args []string, scenario string, err error) {
	n := 0
	for _, s := range []string{o.Scenario, o.ScenarioXML, o.ScenarioFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, "", errors.New("sipp: set exactly one of Scenario, ScenarioXML, ScenarioFile")
	}
	switch {
	case o.Scenario != "":
		args = append(args, "-sn", o.Scenario)
		scenario = o.Scenario
	case o.ScenarioXML != "":
		p := filepath.Join(dir, "scenario.xml")
		if err := os.WriteFile(p, []byte(o.ScenarioXML), 0o644); err != nil {
			return nil, "", err
		}
		args = append(args, "-sf", p)
		scenario = "scenario"
	default:
		args = append(args, "-sf", o.ScenarioFile)
		scenario = strings.TrimSuffix(filepath.Base(o.ScenarioFile), filepath.Ext(o.ScenarioFile))
	}
	// The built-in uac_pcap plays "pcap/g711a.pcap" relative to the working directory.
	if err := os.Symlink(PcapDir, filepath.Join(dir, "pcap")); err != nil {
		return nil, "", err
	}
	for name, content := range o.Files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return nil, "", err
		}
	}
	if o.Remote != "" {
		args = append(args, o.Remote)
	}
	service := o.Service
	if service == "" {
		service = "service"
	}
	transport := o.Transport
	if transport == "" {
		transport = "u1"
	}
	args = append(args,
		"-s", service,
		"-i", localIP(o), "-p", strconv.Itoa(o.Port), "-bind_local",
		"-t", transport,
		"-nostdin", "-trace_stat", "-fd", "1", "-trace_screen", "-trace_err",
	)
	if o.MediaPort != 0 {
		args = append(args, "-mi", localIP(o), "-mp", strconv.Itoa(o.MediaPort))
	}
	if o.RTPEcho {
		args = append(args, "-rtp_echo")
	}
	if o.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(o.Rate, 'f', -1, 64))
	}
	if o.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(o.Limit))
	}
	if o.Calls > 0 {
		args = append(args, "-m", strconv.Itoa(o.Calls))
	}
	if o.CallDuration > 0 {
		args = append(args, "-d", strconv.FormatInt(o.CallDuration.Milliseconds(), 10))
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	args = append(args, "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds()+0.5)), "-timeout_error")
	for k, v := range o.Vars {
		args = append(args, "-key", k, v)
	}
	args = append(args, o.ExtraArgs...)
	return args, scenario, nil
}

func localIP(o Options) string {
	if o.LocalIP != "" {
		return o.LocalIP
	}
	return peer.Loopback
}

// waitBound waits until SIPp's SIP port is taken (it binds it at start-up).
func waitBound(ctx context.Context, p *peer.Process, port int, bound func(int) bool) error {
	for {
		if bound(port) {
			return nil
		}
		select {
		case <-p.Done():
			// A short run (one REGISTER, an immediate rejection) can finish before we
			// ever see its socket: exit codes 0 and 1 are results (all calls
			// succeeded, some failed), for Wait to report; anything else is a failed start.
			if code := p.ExitCode(); code == 0 || code == 1 {
				return nil
			}
			return fmt.Errorf("sipp exited at start-up:\n%s", p.Tail(4<<10))
		case <-ctx.Done():
			return fmt.Errorf("sipp did not bind port %d: %w", port, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ParseStats reads a SIPp -trace_stat CSV file (semicolon-separated, header row first)
// and returns the counters of its last row.
func ParseStats(r io.Reader) (Stats, error) {
	cr := csv.NewReader(r)
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return Stats{}, fmt.Errorf("sipp: stats header: %w", err)
	}
	var last []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("sipp: stats row: %w", err)
		}
		last = rec
	}
	if last == nil {
		return Stats{}, errors.New("sipp: stats file has no data row")
	}
	col := make(map[string]string, len(header))
	for i, h := range header {
		if i < len(last) {
			col[h] = last[i]
		}
	}
	num := func(name string) int {
		v, _ := strconv.Atoi(strings.TrimSpace(col[name]))
		return v
	}
	st := Stats{
		CallsCreated:     num("TotalCallCreated"),
		Successful:       num("SuccessfulCall(C)"),
		Failed:           num("FailedCall(C)"),
		Retransmissions:  num("Retransmissions(C)"),
		FailedReasons:    map[string]int{},
		ResponseTimeHist: map[string]int{},
	}
	for _, h := range header {
		if strings.HasPrefix(h, "Failed") && strings.HasSuffix(h, "(C)") && h != "FailedCall(C)" {
			if v := num(h); v > 0 {
				st.FailedReasons[strings.TrimSuffix(strings.TrimPrefix(h, "Failed"), "(C)")] = v
			}
		}
		if b, ok := strings.CutPrefix(h, "ResponseTimeRepartition1_"); ok {
			st.ResponseTimeHist[b] = num(h)
		}
	}
	st.ResponseTime = parseDuration(col["ResponseTime1(C)"])
	st.ResponseTimeDev = parseDuration(col["ResponseTime1StDev(C)"])
	st.CallLength = parseDuration(col["CallLength(C)"])
	st.Elapsed = parseDuration(col["ElapsedTime(C)"])
	return st, nil
}

// parseDuration reads SIPp's "HH:MM:SS:uuuuuu" (or "HH:MM:SS").
func parseDuration(s string) time.Duration {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 3 {
		return 0
	}
	var d time.Duration
	units := []time.Duration{time.Hour, time.Minute, time.Second, time.Microsecond}
	for i, p := range parts {
		if i >= len(units) {
			break
		}
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0
		}
		d += time.Duration(v) * units[i]
	}
	return d
}

// BuiltinScenario returns the XML of a built-in scenario (sipp -sd NAME), for tests that
// adapt one.
func BuiltinScenario(name string) (string, error) {
	path, err := peer.LookPath("sipp", DebianPackage)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "-sd", name).Output()
	// sipp -sd exits with status 99 after printing the scenario.
	if len(out) == 0 {
		return "", fmt.Errorf("sipp -sd %s: %w", name, err)
	}
	return string(out), nil
}

const sigusr1 = syscall.SIGUSR1

// portInUse reports whether a UDP socket already holds ip:port.
func portInUse(ip string, port int) bool {
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return true
	}
	c.Close()
	return false
}
