package sip

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRegistrar answers REGISTERs on a UDP socket: it grants expires seconds, or
// answers failCode while failing is set, and records what it saw.
type fakeRegistrar struct {
	conn    net.PacketConn
	expires int

	mu      sync.Mutex
	failing int // status to answer, 0 = 200
	seen    []string
	done    chan struct{}
}

func newFakeRegistrar(t *testing.T, expires int) *fakeRegistrar {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &fakeRegistrar{conn: conn, expires: expires, done: make(chan struct{})}
	go r.serve()
	t.Cleanup(func() { conn.Close(); <-r.done })
	return r
}

func (r *fakeRegistrar) serve() {
	defer close(r.done)
	buf := make([]byte, 65535)
	for {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		if !strings.HasPrefix(msg, "REGISTER ") {
			continue
		}
		var head []string
		expires := ""
		for _, line := range strings.Split(msg, "\r\n") {
			name, v, _ := strings.Cut(line, ":")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq":
				head = append(head, line)
			case "expires":
				expires = strings.TrimSpace(v)
			}
		}
		r.mu.Lock()
		r.seen = append(r.seen, "cseq="+cseqOf(msg)+" expires="+expires)
		code := r.failing
		r.mu.Unlock()
		res := "SIP/2.0 200 OK\r\n"
		if code != 0 {
			res = "SIP/2.0 " + itoa(code) + " Failing\r\n"
		}
		res += strings.Join(head, "\r\n") + "\r\n"
		if code == 0 && expires != "0" {
			res += "Contact: <sip:x@127.0.0.1>;expires=" + itoa(r.expires) + "\r\n"
		}
		res += "Content-Length: 0\r\n\r\n"
		_, _ = r.conn.WriteTo([]byte(res), from)
	}
}

func cseqOf(msg string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "cseq:") {
			return strings.Fields(line[5:])[0]
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func (r *fakeRegistrar) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func serveEndpoint(t *testing.T) *Endpoint {
	ep, err := NewEndpoint(EndpointConfig{}, func(d *ServerDialog) {}, nil)
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ep.Bind(conn.LocalAddr()))
	done := make(chan struct{})
	go func() { defer close(done); _ = ep.Serve(conn) }()
	t.Cleanup(func() { _ = ep.Close(); conn.Close(); <-done })
	return ep
}

// A binding granted for 2 s is refreshed about every second with a growing CSeq; while
// the registrar fails, attempts back off; when it recovers, the registration does too;
// Close unregisters with Expires: 0.
func TestRegistrationRefreshAndBackoff(t *testing.T) {
	reg := newFakeRegistrar(t, 2)
	ep := serveEndpoint(t)
	var mu sync.Mutex
	var states []RegistrationStatus
	r, err := ep.Register(context.Background(), RegisterOptions{
		Registrar: "sip:" + reg.conn.LocalAddr().String(), User: "bob", Expires: time.Hour,
		RetryMin: 200 * time.Millisecond, RetryMax: 400 * time.Millisecond,
		OnState: func(s RegistrationState) { mu.Lock(); states = append(states, s.Status); mu.Unlock() },
	})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, r.State().Expires, "granted lifetime comes from the Contact's expires")
	require.Eventually(t, func() bool { return len(reg.log()) >= 3 }, 5*time.Second, 20*time.Millisecond, "refreshes")

	reg.mu.Lock()
	reg.failing = 503
	reg.mu.Unlock()
	require.Eventually(t, func() bool { return r.State().Status == RegistrationFailed }, 5*time.Second, 20*time.Millisecond)
	before := len(reg.log())
	time.Sleep(time.Second)
	retries := len(reg.log()) - before
	assert.GreaterOrEqual(t, retries, 2, "keeps retrying")
	assert.LessOrEqual(t, retries, 10, "with backoff, not in a tight loop")
	var se *StatusError
	require.ErrorAs(t, r.State().Err, &se)
	assert.Equal(t, 503, se.Code)

	reg.mu.Lock()
	reg.failing = 0
	reg.mu.Unlock()
	require.Eventually(t, func() bool { return r.State().Status == Registered }, 5*time.Second, 20*time.Millisecond)

	require.NoError(t, r.Close(context.Background()))
	seen := reg.log()
	assert.Equal(t, "expires=0", strings.Fields(seen[len(seen)-1])[1])
	var last int
	for _, s := range seen {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.Fields(s)[0], "cseq="))
		require.NoError(t, err)
		assert.Greater(t, n, last, "CSeq grows across refreshes: %v", seen)
		last = n
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []RegistrationStatus{Registered, RegistrationFailed, Registered, Unregistered}, states)
}
