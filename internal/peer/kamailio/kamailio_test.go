package kamailio_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend starts a SIPp UAS running xml on port (0: a free one), with per-message
// counts so that INVITEs can be told apart from OPTIONS probes.
//
// On this shared machine a port picked as free can be taken by someone else before
// SIPp binds it; SIPp then exits at once (typically "Unable to bind audio RTP
// socket"), possibly after sipp.Start saw its SIP port bound. Such a backend is
// started again (with fresh RTP ports) rather than left for Kamailio to find dead.
func backend(t *testing.T, xml string, port int) *sipp.Instance {
	t.Helper()
	for attempt := 1; ; attempt++ {
		in := sipp.Start(t, sipp.Options{
			ScenarioXML: xml, Port: port, Timeout: 90 * time.Second,
			ExtraArgs: append(kamailio.ReorderTolerantArgs(10*time.Second), "-trace_counts"),
		})
		select {
		case <-in.Process().Done():
			if attempt == 3 {
				t.Fatalf("SIPp backend exits at start-up:\n%s", in.Process().Tail(2<<10))
			}
			t.Logf("SIPp backend exited at start-up, starting it again:\n%s", in.Process().Tail(512))
		case <-time.After(300 * time.Millisecond):
			return in
		}
	}
}

// call runs n calls (at rate per second) from a SIPp UAC to user at the proxy. The UAC
// tolerates messages reordered by Kamailio's workers.
func call(t *testing.T, kam *kamailio.Proxy, user string, n int, rate float64) (sipp.Stats, error) {
	t.Helper()
	return sipp.Run(t, sipp.Options{
		ScenarioXML: uacScenario(t), Remote: kam.Addr(), Service: user,
		Rate: rate, Calls: n, Timeout: 60 * time.Second, CallDuration: minRun,
		ExtraArgs: kamailio.ReorderTolerantArgs(10 * time.Second),
	})
}

// minRun keeps short SIPp UAC runs alive for a while: sipp.Start waits until SIPp's
// socket is bound and treats an already exited SIPp as a start-up failure, so a run
// that is over within the driver's 20 ms polling (a single REGISTER) could be
// mistaken for one.
const minRun = 300 * time.Millisecond

// received is how many messages of the scenario column named like "N_INVITE_Recv"
// (summed over steps) SIPp has counted, from the last row of its -trace_counts file.
func received(t *testing.T, in *sipp.Instance, column string) int {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(in.Dir(), "*_counts.csv"))
	require.Len(t, matches, 1, "sipp counts file")
	f, err := os.Open(matches[0])
	require.NoError(t, err)
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2, "sipp counts file has no data row")
	head, last := rows[0], rows[len(rows)-1]
	n := 0
	for i, h := range head {
		if _, name, ok := strings.Cut(h, "_"); ok && name == column && i < len(last) {
			v, err := strconv.Atoi(last[i])
			require.NoError(t, err)
			n += v
		}
	}
	return n
}

func uacScenario(t *testing.T) string {
	t.Helper()
	xml, err := kamailio.UACScenario()
	require.NoError(t, err)
	return xml
}

func uasScenario(t *testing.T) string {
	t.Helper()
	xml, err := kamailio.UASScenario()
	require.NoError(t, err)
	return xml
}

// 200 calls at 50 cps from a SIPp UAC through the dispatcher to two SIPp UAS: every
// call succeeds (ACK and BYE follow the Record-Route), and round-robin splits them.
func TestDispatcherRoundRobin(t *testing.T) {
	t.Parallel()
	uas := uasScenario(t)
	a, b := backend(t, uas, 0), backend(t, uas, 0)
	kam := kamailio.Start(t, kamailio.Options{Backends: []string{a.Addr, b.Addr}})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, be := range []*sipp.Instance{a, b} {
		d, err := kam.WaitDispatcher(ctx, be.Addr, kamailio.StateActive)
		require.NoError(t, err)
		assert.True(t, d.Probing, "backends are probed")
	}

	const calls = 200
	start := time.Now()
	st, err := call(t, kam, "service", calls, 50)
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, calls, st.Successful)
	assert.Zero(t, st.Failed)

	_, err = a.Stop()
	require.NoError(t, err)
	_, err = b.Stop()
	require.NoError(t, err)
	na, nb := received(t, a, "INVITE_Recv"), received(t, b, "INVITE_Recv")
	assert.Equal(t, calls, na+nb, "every INVITE reached exactly one backend")
	for _, n := range []int{na, nb} {
		assert.InDelta(t, calls/2, n, calls/10, "round-robin share (40-60%%): %d and %d", na, nb)
	}
	routed := kamailio.CountRoutes(kam.Routes(), "dispatch", "INVITE")
	ua, _ := kamailio.BackendURI(a.Addr)
	ub, _ := kamailio.BackendURI(b.Addr)
	assert.Equal(t, map[string]int{ua: na, ub: nb}, routed, "Kamailio's log agrees with the backends")
	assert.Empty(t, kamailio.CountRoutes(kam.Routes(), "failover", ""), "no failover needed")
	t.Logf("%d calls at 50 cps in %v: backend A %d INVITEs, backend B %d",
		calls, elapsed.Round(time.Millisecond), na, nb)
}

// After Stop, no process of Kamailio's group is left, and the runtime directory is gone.
func TestStopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	kam := kamailio.Start(t, kamailio.Options{Registrar: true, Workers: 3})
	pgid := kam.Process().PID()
	pids, err := kamailio.ProcessesInGroup(pgid)
	require.NoError(t, err)
	// main + 3 UDP workers + timers, RPC worker, ...
	assert.Greater(t, len(pids), 4, "kamailio forked its workers into its group")
	rpcDir := kam.RunDir()
	require.DirExists(t, rpcDir)

	stopStart := time.Now()
	require.NoError(t, kam.Stop())
	t.Logf("stop took %v", time.Since(stopStart).Round(time.Millisecond))
	pids, err = kamailio.ProcessesInGroup(pgid)
	require.NoError(t, err)
	assert.Empty(t, pids, "processes left in group %d", pgid)
	assert.NoDirExists(t, rpcDir)
	require.NoError(t, kam.Stop(), "Stop is idempotent")
}

// One backend is down from the start: the calls Kamailio sends there fail over to the
// live one after the transaction timeout, so every call succeeds; probing marks the dead
// backend inactive, and active again once something answers on its port.
func TestFailoverAndRecovery(t *testing.T) {
	t.Parallel()
	uas := uasScenario(t)
	live := backend(t, uas, 0)
	deadPort := peer.FreePort(t)
	dead := peer.Addr(deadPort)
	// Hold the dead backend's port until it comes back, so that no other test on this
	// machine binds it meanwhile. Over UDP a port that swallows everything is as dead
	// as a closed one: Kamailio does not act on ICMP port-unreachable, it times out.
	hole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(peer.Loopback), Port: deadPort})
	require.NoError(t, err)
	defer hole.Close()
	kamStarted := time.Now()
	kam := kamailio.Start(t, kamailio.Options{Backends: []string{live.Addr, dead}})
	liveURI, _ := kamailio.BackendURI(live.Addr)
	deadURI, _ := kamailio.BackendURI(dead)

	// Call at once, before the first probe has had a chance to find the dead backend.
	start := time.Now()
	st, err := call(t, kam, "service", 20, 10)
	callsTook := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, 20, st.Successful)

	routes := kam.Routes()
	failed := kamailio.CountRoutes(routes, "failed", "INVITE")
	failover := kamailio.CountRoutes(routes, "failover", "INVITE")
	assert.Positive(t, failed[deadURI], "some calls went to the dead backend first")
	assert.Equal(t, map[string]int{deadURI: failed[deadURI]}, failed, "only the dead backend failed")
	assert.Equal(t, map[string]int{liveURI: failed[deadURI]}, failover, "each failure failed over to the live backend")
	for _, r := range routes {
		if r.Kind == "failed" {
			assert.Equal(t, 408, r.Status, "no answer is a local 408")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := kam.WaitDispatcher(ctx, dead, kamailio.StateInactive)
	require.NoError(t, err)
	inactiveAfter := time.Since(kamStarted)
	assert.Equal(t, "IP", d.Flags)
	d, err = kam.WaitDispatcher(ctx, live.Addr, kamailio.StateActive)
	require.NoError(t, err)
	assert.Equal(t, "AP", d.Flags)

	// While it is inactive, the dead backend is skipped: no call waits for it.
	before := len(kam.Routes())
	st, err = call(t, kam, "service", 10, 20)
	require.NoError(t, err)
	assert.Equal(t, 10, st.Successful)
	later := kam.Routes()[before:]
	assert.Equal(t, map[string]int{liveURI: 10}, kamailio.CountRoutes(later, "dispatch", "INVITE"))
	assert.Empty(t, kamailio.CountRoutes(later, "failed", ""))

	// The backend comes up: probing brings it back, and it gets calls again.
	require.NoError(t, hole.Close())
	revived := backend(t, uas, deadPort)
	upStart := time.Now()
	_, err = kam.WaitDispatcher(ctx, dead, kamailio.StateActive)
	require.NoError(t, err)
	upTook := time.Since(upStart)
	st, err = call(t, kam, "service", 20, 20)
	require.NoError(t, err)
	assert.Equal(t, 20, st.Successful)
	_, err = revived.Stop()
	require.NoError(t, err)
	assert.Equal(t, 10, received(t, revived, "INVITE_Recv"), "the revived backend takes its round-robin share")
	assert.Positive(t, kamailio.CountRoutes(kam.Routes(), "dst-up", "")[deadURI], "probing logged the backend up")
	t.Logf("20 calls with a dead backend took %v (%d failed over); dead backend inactive %v after start; revived backend active after %v",
		callsTook.Round(time.Millisecond), failed[deadURI], inactiveAfter.Round(time.Millisecond), upTook.Round(time.Millisecond))
}

// A draining backend answers the probes with 503: it is taken out before any call is
// sent to it, and returns when it answers 200 again.
func TestDrainingBackendIsSkipped(t *testing.T) {
	t.Parallel()
	uas := uasScenario(t)
	a := backend(t, uas, 0)
	drain := backend(t, kamailio.RejectingUASScenario(503, 503), 0)
	kam := kamailio.Start(t, kamailio.Options{Backends: []string{a.Addr, drain.Addr}})
	drainURI, _ := kamailio.BackendURI(drain.Addr)
	aURI, _ := kamailio.BackendURI(a.Addr)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := kam.WaitDispatcher(ctx, drain.Addr, kamailio.StateInactive)
	require.NoError(t, err)
	_, err = kam.WaitDispatcher(ctx, a.Addr, kamailio.StateActive)
	require.NoError(t, err)

	st, err := call(t, kam, "service", 20, 20)
	require.NoError(t, err)
	assert.Equal(t, 20, st.Successful)
	assert.Equal(t, map[string]int{aURI: 20}, kamailio.CountRoutes(kam.Routes(), "dispatch", "INVITE"))
	_, err = drain.Stop()
	require.NoError(t, err)
	assert.Zero(t, received(t, drain, "INVITE_Recv"), "no call reached the draining backend")
	assert.Positive(t, received(t, drain, "OPTIONS_Recv"), "but it was probed")

	// Back in service on the same port.
	b := backend(t, uas, drain.Port)
	_, err = kam.WaitDispatcher(ctx, b.Addr, kamailio.StateActive)
	require.NoError(t, err)
	assert.Positive(t, kamailio.CountRoutes(kam.Routes(), "dst-down", "")[drainURI])
	assert.Positive(t, kamailio.CountRoutes(kam.Routes(), "dst-up", "")[drainURI])
}

// A backend that passes the probes but rejects calls with 500: each call it gets fails
// over to the other backend, so every call still succeeds.
func TestFailoverOn5xx(t *testing.T) {
	t.Parallel()
	uas := uasScenario(t)
	good := backend(t, uas, 0)
	bad := backend(t, kamailio.RejectingUASScenario(200, 500), 0)
	kam := kamailio.Start(t, kamailio.Options{Backends: []string{good.Addr, bad.Addr}})
	goodURI, _ := kamailio.BackendURI(good.Addr)
	badURI, _ := kamailio.BackendURI(bad.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := kam.WaitDispatcher(ctx, bad.Addr, kamailio.StateActive)
	require.NoError(t, err)

	st, err := call(t, kam, "service", 20, 10)
	require.NoError(t, err)
	assert.Equal(t, 20, st.Successful)
	_, err = bad.Stop()
	require.NoError(t, err)
	rejected := received(t, bad, "INVITE_Recv")
	routes := kam.Routes()
	assert.Positive(t, rejected)
	assert.Equal(t, map[string]int{badURI: rejected}, kamailio.CountRoutes(routes, "failed", "INVITE"))
	assert.Equal(t, map[string]int{goodURI: rejected}, kamailio.CountRoutes(routes, "failover", "INVITE"))
	for _, r := range routes {
		if r.Kind == "failed" {
			assert.Equal(t, 500, r.Status)
		}
	}
	_, err = good.Stop()
	require.NoError(t, err)
	assert.Equal(t, 20, received(t, good, "INVITE_Recv"), "the good backend took every call in the end")
	t.Logf("20 calls: %d rejected with 500 by one backend and failed over", rejected)
}

// Without profiles it is a plain record-routing proxy: a request for another address
// is relayed to its Request-URI, and the dialog's ACK and BYE go through the proxy.
func TestPlainProxyRelays(t *testing.T) {
	t.Parallel()
	uas := backend(t, uasScenario(t), 0)
	kam := kamailio.Start(t, kamailio.Options{})
	st, err := sipp.Run(t, sipp.Options{
		ScenarioXML: uacScenario(t), Remote: uas.Addr, Calls: 3, Rate: 10, Timeout: 30 * time.Second,
		// Request-URI at the UAS, every packet sent to the proxy.
		ExtraArgs: append(kamailio.ReorderTolerantArgs(10*time.Second), "-rsa", kam.Addr()),
	})
	require.NoError(t, err)
	assert.Equal(t, 3, st.Successful)
	_, err = uas.Stop()
	require.NoError(t, err)
	assert.Equal(t, 3, received(t, uas, "INVITE_Recv"))
	routes := kam.Routes()
	assert.Equal(t, map[string]int{"sip:service@" + uas.Addr: 3}, kamailio.CountRoutes(routes, "relay", "INVITE"))
	assert.Empty(t, kamailio.CountRoutes(routes, "dispatch", ""))
	assert.Contains(t, kam.Log(), "route=relay", "the log is readable")
}

// register runs the SIPp REGISTER scenario for user with the given contact (host:port).
func register(t *testing.T, kam *kamailio.Proxy, user, contact string, extra ...string) (sipp.Stats, error) {
	t.Helper()
	return sipp.Run(t, sipp.Options{
		ScenarioXML: kamailio.RegisterScenario(), Remote: kam.Addr(), Service: user,
		Calls: 1, Timeout: 20 * time.Second, Vars: map[string]string{"contact": contact},
		ExtraArgs: extra, CallDuration: minRun,
	})
}

// carol registers the address of a SIPp UAS; a call to carol at the proxy reaches that
// UAS. A call to a user nobody registered gets 404.
func TestRegistrar(t *testing.T) {
	t.Parallel()
	carol := backend(t, uasScenario(t), 0)
	kam := kamailio.Start(t, kamailio.Options{Registrar: true})

	st, err := register(t, kam, "carol", carol.Addr)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	contacts, err := kam.Contacts(ctx, "carol")
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:carol@" + carol.Addr}, contacts)

	st, err = call(t, kam, "carol", 3, 10)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Successful)
	_, err = carol.Stop()
	require.NoError(t, err)
	assert.Equal(t, 3, received(t, carol, "INVITE_Recv"), "carol's UA got the calls")
	assert.Equal(t, map[string]int{"sip:carol@" + carol.Addr: 3},
		kamailio.CountRoutes(kam.Routes(), "location", "INVITE"))

	none, err := kam.Contacts(ctx, "dave")
	require.NoError(t, err)
	assert.Empty(t, none)
	// The tolerant UAC ignores the 404 and gives up after its receive timeout. (A strict
	// one would abort at once, and can exit before sipp.Start has seen it bind.)
	st, err = sipp.Run(t, sipp.Options{
		ScenarioXML: uacScenario(t), Remote: kam.Addr(), Service: "dave", Calls: 1, Timeout: 20 * time.Second,
		ExtraArgs: kamailio.ReorderTolerantArgs(time.Second),
	})
	require.Error(t, err)
	assert.Equal(t, 1, st.Failed, "nobody is registered as dave")
	// (Ignored, the 404 is not ACKed: SIPp retransmits the INVITE and gets it again.)
	assert.Positive(t, kamailio.CountRoutes(kam.Routes(), "notfound", "INVITE")[""])
}

// Both profiles at once, with digest authentication: carol registers with her password
// (a wrong one is refused); calls to carol go to her UA, other calls to the backend.
func TestRegistrarWithAuthAndDispatcher(t *testing.T) {
	t.Parallel()
	uas := uasScenario(t)
	carol, be := backend(t, uas, 0), backend(t, uas, 0)
	kam := kamailio.Start(t, kamailio.Options{
		Registrar: true, Users: map[string]string{"carol": "s3cret", "dave": "pw"},
		Backends: []string{be.Addr},
	})

	// The second 401 is ignored and the call times out after 1 s (see TestRegistrar).
	st, err := register(t, kam, "carol", carol.Addr, append(kamailio.ReorderTolerantArgs(time.Second), "-ap", "wrong")...)
	require.Error(t, err, "a wrong password is refused")
	assert.Equal(t, 1, st.Failed)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	contacts, err := kam.Contacts(ctx, "carol")
	require.NoError(t, err)
	assert.Empty(t, contacts)

	st, err = register(t, kam, "carol", carol.Addr, "-ap", "s3cret")
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	contacts, err = kam.Contacts(ctx, "carol")
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:carol@" + carol.Addr}, contacts)

	for _, user := range []string{"carol", "service"} {
		st, err = call(t, kam, user, 2, 10)
		require.NoError(t, err, user)
		assert.Equal(t, 2, st.Successful, user)
	}
	_, err = carol.Stop()
	require.NoError(t, err)
	_, err = be.Stop()
	require.NoError(t, err)
	assert.Equal(t, 2, received(t, carol, "INVITE_Recv"))
	assert.Equal(t, 2, received(t, be, "INVITE_Recv"))
	routes := kam.Routes()
	assert.Equal(t, []string{"carol"}, registeredUsers(routes))
}

func registeredUsers(routes []kamailio.Route) []string {
	var users []string
	for _, r := range routes {
		if r.Kind == "register" {
			users = append(users, r.User)
		}
	}
	return users
}

// helperEnv makes TestWorkersDieWithTestProcess play the child: start Kamailio, say
// where it is, and wait to be killed.
const helperEnv = "KAMAILIO_TEST_CHILD"

// When the test binary itself is killed (say, by -timeout), no Kamailio worker survives
// it: the child running Kamailio is SIGKILLed, and Kamailio's group must empty itself.
func TestWorkersDieWithTestProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		kam := kamailio.Start(t, kamailio.Options{Registrar: true})
		fmt.Printf("child pgid=%d rundir=%s\n", kam.Process().PID(), kam.RunDir())
		time.Sleep(time.Minute) // until the parent kills us
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkersDieWithTestProcess$", "-test.count=1")
	// The child is killed before its own cleanup can run: its temp dirs go under ours.
	cmd.Env = append(os.Environ(), helperEnv+"=1", "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var pgid int
	var runDir string
	sc := bufio.NewScanner(out)
	for pgid == 0 && sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "child pgid=%d rundir=%s", &pgid, &runDir); err != nil {
			pgid = 0
		}
	}
	require.NotZero(t, pgid, "the child reported Kamailio's process group")
	t.Cleanup(func() {
		// What the killed child could not clean up; and, had the test failed, the
		// survivors (our own process group).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = os.RemoveAll(runDir)
	})
	pids, err := kamailio.ProcessesInGroup(pgid)
	require.NoError(t, err)
	require.Greater(t, len(pids), 4, "Kamailio runs with its workers")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for len(pids) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		pids, err = kamailio.ProcessesInGroup(pgid)
		require.NoError(t, err)
	}
	assert.Empty(t, pids, "Kamailio processes outlived the test process")
}
