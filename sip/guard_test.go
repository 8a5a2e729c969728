package sip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// guardServer runs a Guard on 127.0.0.1 and hands what ReadFrom returns to passed.
type guardServer struct {
	guard  *Guard
	passed chan []byte
	done   chan error
}

func startGuard(t *testing.T, cfg GuardConfig) *guardServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	s := &guardServer{guard: NewGuard(conn, cfg), passed: make(chan []byte, 16), done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := s.guard.ReadFrom(buf)
			if err != nil {
				s.done <- err
				return
			}
			s.passed <- slices.Clone(buf[:n])
		}
	}()
	t.Cleanup(func() {
		require.NoError(t, s.guard.Close())
		assert.ErrorIs(t, <-s.done, net.ErrClosed)
	})
	return s
}

// exchange sends msg from peer, then an OPTIONS probe, and returns what the guard passed
// before the probe and the responses peer got. The guard reads in order and answers
// before reading on, so once the probe is passed every answer to msg is in peer's queue.
func (s *guardServer) exchange(t *testing.T, peer net.PacketConn, msg []byte) (passed [][]byte, replies []*sipReply) {
	t.Helper()
	probe := tortureOptions(fmt.Sprintf("probe-%d", time.Now().UnixNano()))
	for _, m := range [][]byte{msg, probe} {
		_, err := peer.WriteTo(m, s.guard.LocalAddr())
		require.NoError(t, err)
	}
	for {
		select {
		case p := <-s.passed:
			if bytes.Equal(p, probe) {
				for {
					r, err := readReply(peer, time.Millisecond)
					if err != nil {
						return passed, replies
					}
					replies = append(replies, r)
				}
			}
			passed = append(passed, p)
		case <-time.After(10 * time.Second):
			t.Fatal("the probe never came through")
		}
	}
}

// TestGuardTorture drives a Guard alone with the 49 RFC 4475 messages over loopback UDP:
// each is passed (byte for byte, or framed or canonicalised where it must be), answered
// with the status tortureCases gives, or dropped in silence.
func TestGuardTorture(t *testing.T) {
	s := startGuard(t, GuardConfig{})
	ip := tortureLoopback(t)
	want := GuardStats{Rejected: map[int]uint64{}}
	for _, m := range loadTorture(t) {
		want.Passed++ // the probe
		c := tortureCases[m.file]
		t.Run(strings.TrimSuffix(m.file, ".dat"), func(t *testing.T) {
			peer := tortureSocket(t, ip, viaPort(m.data))
			passed, replies := s.exchange(t, peer, m.data)
			switch c.guard {
			case tPass:
				require.Len(t, passed, 1)
				assert.Empty(t, replies)
				checkPassed(t, m, passed[0])
			case tDrop:
				assert.Empty(t, passed)
				assert.Empty(t, replies)
			default:
				assert.Empty(t, passed)
				require.Len(t, replies, 1)
				checkRejection(t, m, c.guard, replies[0])
				// A retransmission gets the very same answer (same To tag: RFC 3261 §8.2.7).
				_, again := s.exchange(t, peer, m.data)
				require.Len(t, again, 1)
				assert.Equal(t, string(replies[0].raw), string(again[0].raw))
			}
		})
		switch {
		case c.guard == tPass:
			want.Passed++
		case c.guard == tDrop:
			want.Dropped++
		default:
			want.Rejected[c.guard] += 2 // and retransmitted
			want.Passed++               // with its probe
		}
	}
	assert.Equal(t, want, s.guard.Stats())
}

// checkPassed checks what the guard handed on for a message it passes.
func checkPassed(t *testing.T, m tortureMessage, got []byte) {
	t.Helper()
	switch m.file {
	case "dblreq.dat":
		// Content-Length: 0 ends the REGISTER; the INVITE after it is not handed on.
		end := bytes.Index(m.data, []byte("\r\n\r\n")) + 4
		assert.Equal(t, string(m.data[:end]), string(got))
	case "wsinv.dat":
		// Whitespace canonicalised so that sipgo reads the parameters right.
		assert.Less(t, len(got), len(m.data))
		checkWsinv(t, got)
	default:
		assert.Equal(t, string(m.data), string(got), "passed untouched")
	}
}

// checkWsinv parses the canonicalised wsinv with sipgo, which gets every field right.
func checkWsinv(t *testing.T, got []byte) {
	t.Helper()
	msg, err := sipgosip.ParseMessage(got)
	require.NoError(t, err)
	req := msg.(*sipgosip.Request)
	tag, _ := req.From().Params.Get("tag")
	assert.Equal(t, "98asjd8", tag)
	tag, _ = req.To().Params.Get("tag")
	assert.Equal(t, "1918181833n", tag)
	assert.Equal(t, `J Rosenberg \\\"`, req.From().DisplayName)
	assert.Equal(t, uint32(9), req.CSeq().SeqNo)
	assert.Equal(t, sipgosip.INVITE, req.CSeq().MethodName)
	assert.Equal(t, uint32(68), uint32(*req.MaxForwards()))
	var vias []string
	for _, h := range req.GetHeaders("Via") {
		vias = append(vias, h.Value())
	}
	assert.Equal(t, []string{
		"SIP/2.0/UDP 192.0.2.2;branch=390skdjuw",
		"SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8",
		"SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239",
	}, vias)
	c := req.Contact()
	require.NotNil(t, c)
	assert.Equal(t, `Quoted string \"\"`, c.DisplayName)
	q, _ := c.Params.Get("q")
	assert.Equal(t, "0.33", q)
	nv, _ := c.Params.Get("newparam")
	assert.Equal(t, "newvalue", nv)
	assert.Len(t, req.Body(), 150)
}

// checkRejection checks the guard's answer to a message it rejects.
func checkRejection(t *testing.T, m tortureMessage, status int, r *sipReply) {
	t.Helper()
	assert.Equal(t, status, r.status, "%s", r.raw)
	assert.Equal(t, "0", r.header("Content-Length"))
	assert.True(t, bytes.HasSuffix(r.raw, []byte("\r\n\r\n")))
	assert.Contains(t, r.header("Warning"), "399 127.0.0.1:")
	if cid := callIDOf(m.data); cid != "" {
		assert.Equal(t, cid, r.header("Call-ID"))
	}
	require.NotEmpty(t, r.headers["via"])
	switch m.file {
	case "insuf.dat":
		assert.Empty(t, r.header("To"), "no To to echo")
	case "quotbal.dat", "badaspec.dat", "baddn.dat":
		assert.NotContains(t, r.header("To"), "tag=", "a malformed To is echoed as it came")
	default:
		assert.Contains(t, r.header("To"), "tag=", "To tag added")
	}
	switch status {
	case 501:
		assert.Equal(t, allowHeader, r.header("Allow"))
	case 420:
		assert.Equal(t, "nothingSupportsThis, nothingSupportsThisEither", r.header("Unsupported"))
	case 415:
		assert.Equal(t, "application/sdp", r.header("Accept"))
	}
	switch m.file {
	case "badaspec.dat":
		// The top Via is well formed: the source address is added (RFC 3261 §18.2.1).
		assert.Contains(t, r.header("Via"), ";branch=z9hG4bKkdju43234;received=127.")
	case "badinv01.dat":
		assert.Equal(t, "SIP/2.0/UDP 192.0.2.15;;,;,,", r.header("Via"), "echoed as it came")
	}
}

// TestGuardAbsorbsOwnAck: the ACK of the guard's own answer to an INVITE is absorbed (the
// stack never saw the INVITE), knowing it by the To tag; other ACKs go to the stack.
func TestGuardAbsorbsOwnAck(t *testing.T) {
	s := startGuard(t, GuardConfig{})
	peer := tortureSocket(t, net.IPv4(127, 0, 0, 1), 0)
	invite := []byte("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK77;rport\r\n" +
		"From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: absorb\r\nCSeq: 5 INVITE\r\n" +
		"Contact: <sip:x@127.0.0.1>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi")
	passed, replies := s.exchange(t, peer, invite)
	require.Empty(t, passed)
	require.Len(t, replies, 1)
	r := replies[0]
	require.Equal(t, 415, r.status)
	require.Regexp(t, `;tag=g[0-9a-f]{16}$`, r.header("To"))

	ack := ackFor(invite, r)
	passed, replies = s.exchange(t, peer, ack)
	assert.Empty(t, passed, "absorbed")
	assert.Empty(t, replies)
	assert.Equal(t, uint64(1), s.guard.Stats().Acks)

	for _, other := range [][]byte{
		bytes.Replace(ack, []byte("CSeq: 5 ACK"), []byte("CSeq: 6 ACK"), 1),
		bytes.Replace(ack, []byte("z9hG4bK77"), []byte("z9hG4bK78"), 1),
		bytes.Replace(ack, []byte(";tag=g"), []byte(";tag=h"), 1),
	} {
		passed, replies = s.exchange(t, peer, other)
		assert.Len(t, passed, 1, "%s", other)
		assert.Empty(t, replies)
	}
	assert.Equal(t, uint64(1), s.guard.Stats().Acks)
}

// TestGuardResponseAddress: answers go to the source IP, at the sent-by port, or at the
// source port with rport (RFC 3261 §18.2.2, RFC 3581), as sipgo sends its own.
func TestGuardResponseAddress(t *testing.T) {
	s := startGuard(t, GuardConfig{})
	ip := tortureLoopback(t)
	sender := tortureSocket(t, ip, 0)
	listener := tortureSocket(t, ip, 5099)
	bad := func(via string) []byte {
		return []byte("OPTIONS sip:a@b SIP/2.0\r\nVia: " + via + "\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n" +
			"Call-ID: addr\r\nCSeq: 1 OPTIONS\r\nRequire: foo\r\nContent-Length: 0\r\n\r\n")
	}
	for _, tc := range []struct {
		via      string
		atSender bool
		received string
	}{
		{"SIP/2.0/UDP " + ip.String() + ":5099;branch=z9hG4bK1", false, ""},
		{"SIP/2.0/UDP elsewhere.example.com:5099;branch=z9hG4bK2", false, ";received=" + ip.String()},
		{"SIP/2.0/UDP elsewhere.example.com:5099;branch=z9hG4bK3;rport", true, ";rport=" + portOf(sender) + ";received=" + ip.String()},
		{"SIP/2.0/UDP elsewhere.example.com;branch=z9hG4bK4;rport;x=1", true, ";rport=" + portOf(sender) + ";x=1;received=" + ip.String()},
		{"SIP/2.0/UDP " + ip.String() + ":5099;branch=z9hG4bK5;received=" + ip.String(), false, ""},
	} {
		_, replies := s.exchange(t, sender, bad(tc.via))
		if tc.atSender {
			require.Len(t, replies, 1, tc.via)
			noReply(t, listener)
		} else {
			assert.Empty(t, replies, tc.via)
			r, err := readReply(listener, 5*time.Second)
			require.NoError(t, err, tc.via)
			replies = []*sipReply{r}
		}
		assert.Equal(t, 420, replies[0].status)
		if tc.received != "" {
			assert.Contains(t, replies[0].header("Via"), tc.received, tc.via)
		} else {
			assert.NotContains(t, strings.TrimPrefix(replies[0].header("Via"), tc.via), "received", tc.via)
		}
	}
}

func portOf(c net.PacketConn) string { return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port) }

// TestGuardNonSIP: keep-alives are swallowed, anything that is not SIP is dropped, and
// CRLFs before a start-line are removed; nothing is ever answered.
func TestGuardNonSIP(t *testing.T) {
	s := startGuard(t, GuardConfig{})
	peer := tortureSocket(t, net.IPv4(127, 0, 0, 1), 0)
	options := tortureOptions("crlf-first")
	for _, tc := range []struct {
		name  string
		in    []byte
		pass  []byte
		stats GuardStats
	}{
		{"double CRLF keep-alive", []byte("\r\n\r\n"), nil, GuardStats{Keepalives: 1}},
		{"CRLF", []byte("\r\n"), nil, GuardStats{Keepalives: 1}},
		{"NUL padding", make([]byte, 8), nil, GuardStats{Keepalives: 1}},
		{"empty datagram", []byte{}, nil, GuardStats{Keepalives: 1}},
		{"STUN binding request", []byte("\x00\x01\x00\x00\x21\x12\xa4\x42abcdefghijkl"), nil, GuardStats{Dropped: 1}},
		{"HTTP", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), nil, GuardStats{Dropped: 1}},
		{"no CRLF", []byte("INVITE sip:a@b SIP/2.0"), nil, GuardStats{Dropped: 1}},
		{"LF line ends", []byte("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\n\n"), nil, GuardStats{Dropped: 1}},
		{"binary", []byte{0x80, 0xff, 0x13, 0x0d, 0x0a}, nil, GuardStats{Dropped: 1}},
		{"malformed ACK", []byte("ACK <sip:a@b> SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n"), nil, GuardStats{Dropped: 1}},
		{"request without Via", []byte("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"), nil, GuardStats{Dropped: 1}},
		{"CRLFs before the start-line", append([]byte("\r\n\r\n"), options...), options, GuardStats{Passed: 1}},
	} {
		before := s.guard.Stats()
		passed, replies := s.exchange(t, peer, tc.in)
		after := s.guard.Stats()
		if tc.pass != nil {
			require.Len(t, passed, 1, tc.name)
			assert.Equal(t, string(tc.pass), string(passed[0]), tc.name)
		} else {
			assert.Empty(t, passed, tc.name)
		}
		assert.Empty(t, replies, tc.name)
		got := GuardStats{
			Passed:     after.Passed - before.Passed - 1, // the probe
			Keepalives: after.Keepalives - before.Keepalives,
			Dropped:    after.Dropped - before.Dropped,
		}
		assert.Equal(t, tc.stats, got, tc.name)
	}
}

// TestGuardRules covers the rules one message at a time, beyond the torture set.
func TestGuardRules(t *testing.T) {
	g := NewGuard(newFakeConn(), GuardConfig{Supported: []string{"timer"}})
	req := func(method, extra, body string) []byte {
		return []byte(method + " sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n" +
			"To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 " + method + "\r\n" + extra +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	for _, tc := range []struct {
		name   string
		msg    []byte
		status int // 0: passed, -1: dropped
	}{
		{"plain INVITE", req("INVITE", "Content-Type: application/sdp\r\n", "v=0\r\n"), 0},
		{"Require of a supported tag", req("INVITE", "Require: TIMER\r\n", ""), 0},
		{"Require of several tags", req("OPTIONS", "Require: timer, 100rel\r\n", ""), 420},
		{"Require in ACK is ignored", req("ACK", "Require: foo\r\n", ""), 0},
		{"Require in CANCEL is ignored", req("CANCEL", "Require: foo\r\n", ""), 0},
		{"Proxy-Require is ignored", req("OPTIONS", "Proxy-Require: foo\r\n", ""), 0},
		{"SDP with parameters", req("INVITE", "Content-Type: Application/SDP ; charset=utf-8\r\n", "v=0\r\n"), 0},
		{"multipart body", req("INVITE", "Content-Type: multipart/mixed;boundary=x\r\n", "--x\r\n"), 415},
		{"UPDATE with a non-SDP body", req("UPDATE", "Content-Type: text/plain\r\n", "hi"), 415},
		{"MESSAGE with a non-SDP body", req("MESSAGE", "Content-Type: text/plain\r\n", "hi"), 0},
		{"body without Content-Type", req("INVITE", "", "v=0\r\n"), 400},
		{"INVITE whose Accept has */*", req("INVITE", "Accept: text/plain, */*;q=0.1\r\n", ""), 0},
		{"INVITE whose Accept has application/*", req("INVITE", "Accept: application/*\r\n", ""), 0},
		{"OPTIONS whose Accept excludes SDP", req("OPTIONS", "Accept: text/plain\r\n", ""), 0},
		{"known method we do not serve", req("SUBSCRIBE", "", ""), 0},
		{"lower-case method is unknown", req("invite", "", ""), 501},
		{"tel Request-URI", bytes.Replace(req("INVITE", "", ""), []byte("sip:a@b"), []byte("tel:+123"), 1), 416},
		{"other SIP version", bytes.Replace(req("OPTIONS", "", ""), []byte("SIP/2.0\r\n"), []byte("SIP/2.1\r\n"), 1), 505},
		{"malformed SIP version", bytes.Replace(req("OPTIONS", "", ""), []byte("SIP/2.0\r\n"), []byte("SIP/x\r\n"), 1), 400},
		{"Max-Forwards over 255", req("OPTIONS", "Max-Forwards: 256\r\n", ""), 400},
		{"Contact *", req("REGISTER", "Contact: *\r\n", ""), 0},
		{"Contact list", req("REGISTER", "Contact: <sip:a@b>;expires=1, \"Q\" <sip:c@d>;q=0.5, sip:e@f\r\n", ""), 0},
		{"empty Call-ID", bytes.Replace(req("OPTIONS", "", ""), []byte("Call-ID: c"), []byte("Call-ID: "), 1), 400},
		{"Call-ID with a space", bytes.Replace(req("OPTIONS", "", ""), []byte("Call-ID: c"), []byte("Call-ID: c d"), 1), 400},
		{"no blank line", bytes.TrimSuffix(req("OPTIONS", "", ""), []byte("\r\n")), 400},
		{"header without colon", req("OPTIONS", "Bogus\r\n", ""), 400},
		{"folded header", req("OPTIONS", "Subject: a\r\n b\r\n", ""), 0},
		{"bare CR in a header", req("OPTIONS", "Subject: a\rb\r\n", ""), 400},
		{"RFC 2543 ACK", []byte("ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:x@y>\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n"), -1},
		{"2xx response", []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"), 0},
		{"response without Call-ID", []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCSeq: 1 INVITE\r\n\r\n"), -1},
		{"response of another version", []byte("SIP/3.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"), -1},
		{"response code 099", []byte("SIP/2.0 099 Odd\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"), -1},
		{"response with a short body", []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nabc"), -1},
	} {
		v := g.inspect(tc.msg)
		switch tc.status {
		case 0:
			assert.Equal(t, actPass, v.action, "%s: %s", tc.name, v.problem)
		case -1:
			assert.Equal(t, actDrop, v.action, "%s: %s", tc.name, v.problem)
		default:
			assert.Equal(t, actReject, v.action, tc.name)
			assert.Equal(t, tc.status, v.status, "%s: %s", tc.name, v.problem)
		}
	}
	names := []string{
		"From: Jürgen Müller <sip:x@y>;tag=1",      // unquoted non-ASCII display name: liberal
		"From: John Smith (Sales) <sip:x@y>;tag=1", // non-token characters: liberal
		"From: \"a\\\"b\" <sip:x@y>;tag=1",         // escaped quote
		"From: <sip:x@y>;tag=1;+sip.instance=\"<urn:uuid:1>\"",
		"From: sip:x@y;tag=1",
		"From: tel:+1234;tag=1",
		"From: <sip:x@[::1]:5060>;tag=1;maddr=[::1]",
	}
	for _, from := range names {
		msg := bytes.Replace(req("OPTIONS", "", ""), []byte("From: <sip:x@y>;tag=1"), []byte(from), 1)
		assert.Equal(t, actPass, g.inspect(msg).action, from)
	}
	for _, from := range []string{
		"From: Bell, Alexander <sip:x@y>;tag=1",
		"From: a \"b\" <sip:x@y>;tag=1",
		"From: <sip:x@y;tag=1",
		"From: <sip:x@y>;;tag=1",
		"From: <sip:x@y>;tag=",
		"From: <sip:x@y>, <sip:z@y>;tag=1",
		"From: <x@y>;tag=1",
		"From: sip:x@y?h=v;tag=1",
		"From: ",
	} {
		msg := bytes.Replace(req("OPTIONS", "", ""), []byte("From: <sip:x@y>;tag=1"), []byte(from), 1)
		v := g.inspect(msg)
		assert.Equal(t, 400, v.status, "%s: %s", from, v.problem)
	}
}

// TestGuardCanonical checks the whitespace rewriting of structured headers.
func TestGuardCanonical(t *testing.T) {
	for _, tc := range []struct {
		via     bool
		in, out string
		changed bool // matters to sipgo
	}{
		{false, " <sip:a@b>;tag=1", " <sip:a@b>;tag=1", false},
		{false, "  <sip:a@b> ;  tag = 1 ", " <sip:a@b>;tag=1", true},
		{false, "\r\n sip:a@b ;\r\n\ttag = 1", " sip:a@b;tag=1", true},
		{false, " \"J  R ; = \\\" x\"   <sip:a@b>", " \"J  R ; = \\\" x\" <sip:a@b>", true},
		{false, " <sip:a@b> , <sip:c@d>", " <sip:a@b>,<sip:c@d>", true},
		{false, "\r\n  <sip:a@b> \r\n", " <sip:a@b>", false},
		{false, " \"a\"\r\n <sip:a@b>", " \"a\" <sip:a@b>", false},
		{false, "0009\r\n  INVITE", "0009 INVITE", false},
		{false, "9  INVITE", "9 INVITE", true},
		{false, "9\tINVITE", "9 INVITE", true},
		{true, " SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw", " SIP/2.0/UDP 192.0.2.2;branch=390skdjuw", true},
		{false, " a / b", " a / b", false},
	} {
		d := []byte(tc.in)
		w, changed := guardCanonValue(d, 0, 0, len(d), tc.via, true)
		assert.Equal(t, tc.out, string(d[:w]), "%q", tc.in)
		assert.Equal(t, tc.changed, changed, "%q", tc.in)
	}

	// The stack gets wsinv wrong as it is and right canonicalised.
	wsinv := mustRead(t, "wsinv.dat")
	msg, err := sipgosip.ParseMessage(wsinv)
	require.NoError(t, err)
	_, ok := msg.(*sipgosip.Request).From().Params.Get("tag")
	assert.False(t, ok, "sipgo misreads the From tag of the message as sent")
	g := NewGuard(newFakeConn(), GuardConfig{})
	v := g.inspect(wsinv)
	require.Equal(t, actPass, v.action)
	require.True(t, v.canon)
	d := slices.Clone(wsinv)
	out := d[:guardCanonicalize(d, v)]
	checkWsinv(t, out)
	v2 := g.inspect(out)
	assert.Equal(t, guardVerdict{action: actPass, end: len(out), hdr: v2.hdr, body: v2.body}, v2, "canonical already")
}

// TestGuardPassAllocs: the pass path of ReadFrom allocates nothing, canonicalising
// included.
func TestGuardPassAllocs(t *testing.T) {
	for _, m := range loadTorture(t) {
		if tortureCases[m.file].guard != tPass {
			continue
		}
		conn := newFakeConn()
		conn.msg = m.data
		g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
		buf := make([]byte, 65535)
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, err := g.ReadFrom(buf); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, m.file)
	}
}

// TestGuardConn: the other PacketConn methods are conn's, and errors come through.
func TestGuardConn(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	assert.Equal(t, conn.LocalAddr(), g.LocalAddr())
	require.NoError(t, g.SetReadDeadline(time.Now().Add(time.Millisecond)))
	_, _, err = g.ReadFrom(make([]byte, 100))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	require.NoError(t, g.SetDeadline(time.Time{}))
	require.NoError(t, g.SetWriteDeadline(time.Time{}))
	peer := tortureSocket(t, net.IPv4(127, 0, 0, 1), 0)
	_, err = g.WriteTo([]byte("x"), peer.LocalAddr())
	require.NoError(t, err)
	require.NoError(t, g.Close())
	_, _, err = g.ReadFrom(make([]byte, 100))
	assert.ErrorIs(t, err, net.ErrClosed)
	_, err = g.WriteTo([]byte("x"), peer.LocalAddr())
	assert.ErrorIs(t, err, net.ErrClosed)
}

// TestGuardWriteError: a response the socket refuses is counted, and reading goes on.
func TestGuardWriteError(t *testing.T) {
	conn := newFakeConn()
	conn.msg = mustRead(t, "badvers.dat")
	conn.writeErr = errors.New("refused")
	conn.limit = 3
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	_, _, err := g.ReadFrom(make([]byte, 65535))
	assert.ErrorIs(t, err, io.EOF)
	st := g.Stats()
	assert.Equal(t, uint64(3), st.WriteErrors)
	assert.Equal(t, map[int]uint64{505: 3}, st.Rejected)
}

// TestGuardLogs: what the guard answers or drops is logged at Debug level with the
// problem, never with the datagram (remote input); at Info level nothing is logged.
func TestGuardLogs(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		conn := newFakeConn()
		conn.msg = bytes.Replace(mustRead(t, "mismatch01.dat"), []byte("Call-ID: "), []byte("Call-ID: MARKER"), 1)
		conn.limit = 1
		g := NewGuard(conn, GuardConfig{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))})
		_, _, err := g.ReadFrom(make([]byte, 65535))
		require.ErrorIs(t, err, io.EOF)
		conn.msg, conn.reads = []byte("GET / HTTP/1.1\r\nX: MARKER\r\n\r\n"), 0
		_, _, err = g.ReadFrom(make([]byte, 65535))
		require.ErrorIs(t, err, io.EOF)
		if level == slog.LevelInfo {
			assert.Empty(t, buf.String())
			continue
		}
		assert.Contains(t, buf.String(), `msg="sip: guard rejected request" status=400 problem="CSeq method does not match the Request-Line" src=192.0.2.1:5060`)
		assert.Contains(t, buf.String(), `msg="sip: guard dropped datagram" problem="not a SIP message"`)
		assert.NotContains(t, buf.String(), "MARKER")
	}
}

// TestCheckHeaderInjection: header values the application gives cannot add headers or a
// body to what we send.
func TestCheckHeaderInjection(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"X-Ok", "plain value; with=params, and \"quotes\""},
		{"X-Utf8", "Jürgen"},
		{"X-Empty", ""},
	} {
		assert.NoError(t, CheckHeader(tc.name, tc.value))
		h, err := NewHeader(tc.name, tc.value)
		require.NoError(t, err)
		assert.Equal(t, tc.name+": "+tc.value, h.String())
	}
	for _, tc := range []struct{ name, value string }{
		{"X-Inject", "a\r\nVia: SIP/2.0/UDP evil"},
		{"X-Inject", "a\nContact: <sip:evil>"},
		{"X-Inject", "a\rb"},
		{"X-Inject", "a\r\n\r\nv=0"},
		{"X-Nul", "a\x00b"},
		{"X-Bad Name", "v"},
		{"X-Bad:Name", "v"},
		{"X-Bad\r\nName", "v"},
		{"", "v"},
	} {
		err := CheckHeader(tc.name, tc.value)
		assert.ErrorIs(t, err, ErrHeaderValue, "%q: %q", tc.name, tc.value)
		h, err := NewHeader(tc.name, tc.value)
		assert.ErrorIs(t, err, ErrHeaderValue)
		assert.Nil(t, h)
	}
}

// ---- in-memory PacketConn for allocation tests and benchmarks ----

// fakeConn returns msg from each ReadFrom (limit times, then io.EOF, if limit > 0).
type fakeConn struct {
	msg      []byte
	from     net.Addr
	writeErr error
	limit    int
	reads    int
}

func newFakeConn() *fakeConn {
	return &fakeConn{from: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}}
}

func (c *fakeConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.limit > 0 && c.reads == c.limit {
		return 0, nil, io.EOF
	}
	c.reads++
	return copy(p, c.msg), c.from, nil
}

func (c *fakeConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return len(p), nil
}

func (c *fakeConn) Close() error                       { return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 5060} }
func (c *fakeConn) SetDeadline(_ time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(_ time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(_ time.Time) error { return nil }

// A typical INVITE from a PBX, with SDP, for the benchmarks.
var benchInvite = func() []byte {
	sdp := "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=call\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
	return []byte("INVITE sip:+4930123456@switchboard.example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---6a7f1f2a0c1b;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n" +
		"To: <sip:+4930123456@switchboard.example.com>\r\n" +
		"From: \"Alice\" <sip:alice@pbx.example.com>;tag=7b3c9e1f\r\n" +
		"Call-ID: 9f2c6d6e-2b1e-4d3a-8c2b-5a6f7e8d9c0b\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n" +
		"Supported: replaces, timer\r\n" +
		"User-Agent: PBX 1.0\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp)
}()

// BenchmarkGuardReadFrom measures the pass path: one well-formed INVITE per op, budget 0
// allocations. The fake conn's copy into the buffer is included.
func BenchmarkGuardReadFrom(b *testing.B) {
	conn := newFakeConn()
	conn.msg = benchInvite
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	if v := g.inspect(benchInvite); v.action != actPass || v.canon {
		b.Fatalf("benchmark INVITE not passed as is: %+v", v)
	}
	buf := make([]byte, 65535)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInvite)))
	for b.Loop() {
		if _, _, err := g.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardCanonicalize measures the pass path of a message whose whitespace is
// rewritten (RFC 4475 wsinv).
func BenchmarkGuardCanonicalize(b *testing.B) {
	conn := newFakeConn()
	conn.msg = mustRead(b, "wsinv.dat")
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	buf := make([]byte, 65535)
	b.ReportAllocs()
	b.SetBytes(int64(len(conn.msg)))
	for b.Loop() {
		if _, _, err := g.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardReject measures the reject path (a 420 answer built and written).
func BenchmarkGuardReject(b *testing.B) {
	conn := newFakeConn()
	conn.msg = mustRead(b, "bext01.dat")
	conn.limit = 1
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	buf := make([]byte, 65535)
	b.ReportAllocs()
	for b.Loop() {
		conn.reads = 0
		if _, _, err := g.ReadFrom(buf); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardDrop measures the drop path (a datagram that is not SIP, Debug logging
// off): what a flood of garbage costs.
func BenchmarkGuardDrop(b *testing.B) {
	conn := newFakeConn()
	conn.msg = []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
	conn.limit = 1
	g := NewGuard(conn, GuardConfig{Logger: discardLogger()})
	buf := make([]byte, 65535)
	b.ReportAllocs()
	for b.Loop() {
		conn.reads = 0
		if _, _, err := g.ReadFrom(buf); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}

// BenchmarkSipgoParse is the cost of the stack's own parse of the same INVITE, for
// comparison with BenchmarkGuardReadFrom.
func BenchmarkSipgoParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInvite)))
	for b.Loop() {
		if _, err := sipgosip.ParseMessage(benchInvite); err != nil {
			b.Fatal(err)
		}
	}
}

// ---- fuzzing ----

// FuzzGuard feeds arbitrary datagrams to the guard: it must not panic; what it passes is
// framed within the datagram and, canonicalised, is canonical, still passed, and parsed
// by sipgo; what it answers is a well-formed response, never to an ACK or a response, at
// most a few hundred octets longer than the request.
func FuzzGuard(f *testing.F) {
	for _, m := range loadTorture(f) {
		f.Add(m.data)
	}
	f.Add([]byte("\r\n\r\n"))
	f.Add(benchInvite)
	f.Add(tortureOptions("seed"))
	g := NewGuard(newFakeConn(), GuardConfig{Logger: discardLogger(), Supported: []string{"timer"}})
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}
	f.Fuzz(func(t *testing.T, d []byte) {
		v := g.inspect(d)
		require.Equal(t, v, g.inspect(d), "deterministic")
		switch v.action {
		case actPass:
			require.True(t, 0 <= v.start && v.start <= v.hdr && v.hdr <= v.body && v.body <= v.end && v.end <= len(d), "%+v", v)
			c := slices.Clone(d)
			out := c[:guardCanonicalize(c, v)]
			require.LessOrEqual(t, len(out), v.end-v.start)
			require.Equal(t, string(d[v.body:v.end]), string(out[len(out)-(v.end-v.body):]), "body kept")
			v2 := g.inspect(out)
			require.Equal(t, actPass, v2.action, "canonical form passed: %s", v2.problem)
			require.False(t, v2.canon, "canonical form is canonical")
			require.Equal(t, len(out), v2.end)
			_, err := sipgosip.ParseMessage(out)
			require.NoError(t, err, "what the guard passes, the stack parses: %q", out)
		case actReject:
			require.Contains(t, guardRejectCodes[:], v.status)
			require.NotEmpty(t, v.problem)
			require.False(t, bytes.HasPrefix(bytes.TrimLeft(d, "\r\n"), []byte("ACK ")), "an ACK is never answered")
			res, to, ok := g.appendResponse(nil, d, v, src)
			if !ok {
				return
			}
			require.NotNil(t, to)
			require.LessOrEqual(t, len(res), len(d)+512, "no amplification")
			checkResponseShape(t, res, v.status)
		case actDrop:
			require.NotEmpty(t, v.problem)
		case actKeepalive:
			require.True(t, guardIsKeepalive(d))
		case actAbsorb:
			require.True(t, bytes.HasPrefix(bytes.TrimLeft(d, "\r\n"), []byte("ACK ")), "only ACKs are absorbed")
		}
	})
}

// TestGuardPassesWhatSipgoParses mutates the messages the guard passes (seeded, so the
// same every run) and checks that whatever the guard still passes, sipgo parses: the
// guard turns what the stack would drop without a word into an answer or a counted drop.
func TestGuardPassesWhatSipgoParses(t *testing.T) {
	g := NewGuard(newFakeConn(), GuardConfig{})
	seeds := [][]byte{benchInvite, tortureOptions("x")}
	for _, m := range loadTorture(t) {
		if g.inspect(m.data).action == actPass {
			seeds = append(seeds, m.data)
		}
	}
	r := rand.New(rand.NewPCG(4475, 3261))
	alphabet := []byte(" \t;=,<>\"':/@?%\\\r\n[]abcSIP0129.-_*")
	passed := 0
	for range 20000 {
		d := slices.Clone(seeds[r.IntN(len(seeds))])
		for range 1 + r.IntN(3) {
			p := r.IntN(len(d))
			switch r.IntN(3) {
			case 0:
				d = slices.Insert(d, p, alphabet[r.IntN(len(alphabet))])
			case 1:
				d = slices.Delete(d, p, min(len(d), p+1+r.IntN(3)))
			default:
				d[p] = alphabet[r.IntN(len(alphabet))]
			}
		}
		v := g.inspect(d)
		if v.action != actPass {
			continue
		}
		passed++
		out := d[:guardCanonicalize(d, v)]
		_, err := sipgosip.ParseMessage(out)
		require.NoError(t, err, "%q", out)
	}
	t.Logf("%d of 20000 mutated messages passed, all parsed by sipgo", passed)
	assert.Greater(t, passed, 1000)
}

// checkResponseShape: a status line, header lines of the names the guard writes, each
// ending in CRLF with no other CR or LF, the empty line, nothing after.
func checkResponseShape(t *testing.T, res []byte, status int) {
	t.Helper()
	head, rest, ok := bytes.Cut(res, []byte("\r\n\r\n"))
	require.True(t, ok)
	require.Empty(t, rest)
	lines := strings.Split(string(head), "\r\n")
	require.Equal(t, "SIP/2.0 "+strconv.Itoa(status)+" "+guardReason(status), lines[0])
	allowed := []string{"Via", "From", "To", "Call-ID", "CSeq", "Allow", "Unsupported", "Accept", "Warning", "Content-Length"}
	for _, l := range lines[1:] {
		require.NotContains(t, l, "\r")
		require.NotContains(t, l, "\n")
		name, _, ok := strings.Cut(l, ": ")
		require.True(t, ok, "%q", l)
		require.Contains(t, allowed, name)
	}
	require.Equal(t, "Content-Length: 0", lines[len(lines)-1])
}

// ExampleNewGuard shows a malformed request answered by the guard, never reaching the
// reader.
func ExampleNewGuard() {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	guard := NewGuard(conn, GuardConfig{Logger: slog.New(slog.DiscardHandler)})
	defer guard.Close()

	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer peer.Close()
	// CSeq names another method than the Request-Line (RFC 4475 mismatch01), with rport so
	// the answer comes back to this socket; then a well-formed OPTIONS.
	bad := "OPTIONS sip:user@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1;rport\r\n" +
		"From: <sip:caller@example.net>;tag=1\r\nTo: <sip:user@example.com>\r\nCall-ID: ex1\r\n" +
		"CSeq: 8 INVITE\r\nContent-Length: 0\r\n\r\n"
	good := strings.NewReplacer("CSeq: 8 INVITE", "CSeq: 8 OPTIONS", "ex1", "ex2").Replace(bad)
	for _, m := range []string{bad, good} {
		if _, err := peer.WriteTo([]byte(m), guard.LocalAddr()); err != nil {
			panic(err)
		}
	}

	buf := make([]byte, 65535)
	n, _, err := guard.ReadFrom(buf) // the SIP stack's read: only the good one arrives
	if err != nil {
		panic(err)
	}
	fmt.Println("stack reads Call-ID ex2:", strings.Contains(string(buf[:n]), "Call-ID: ex2\r\n"))
	n, _, err = peer.ReadFrom(buf)
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(buf[:n]), "\r\n") {
		switch {
		case strings.HasPrefix(line, "SIP/2.0 "), strings.HasPrefix(line, "Call-ID:"):
			fmt.Println("peer gets:", line)
		case strings.HasPrefix(line, "Warning: 399 "):
			fmt.Println("peer gets a Warning:", line[strings.Index(line, `"`):])
		}
	}
	st := guard.Stats()
	fmt.Println("passed:", st.Passed, "rejected:", st.Rejected)
	// Output:
	// stack reads Call-ID ex2: true
	// peer gets: SIP/2.0 400 Bad Request
	// peer gets: Call-ID: ex1
	// peer gets a Warning: "CSeq method does not match the Request-Line"
	// passed: 1 rejected: map[400:1]
}
