package sip

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The RFC 4475 torture messages, byte-exact, with the archive's checksums and the
// expected handling of each (EXPECTED.tsv).
const tortureDir = "../testdata/rfc4475"

// tortureCase is what we do with one RFC 4475 message.
type tortureCase struct {
	// guard is the Guard's verdict: tPass (handed to the stack), tDrop (silence), or the
	// status it answers with.
	guard int
	// final is the final status the peer gets end to end, from the guard or from the
	// stack behind it (0: no answer).
	final int
	// why explains final where it needs it; "liberal:" marks a reject_or_liberal message we
	// accept, "deviation:" one where the stack misses EXPECTED.tsv.
	why string
}

const (
	tPass = 0
	tDrop = -1
)

// tortureCases covers all 49 messages. The end-to-end endpoint answers dialog-creating
// INVITEs with 486, OPTIONS with 200; it serves no REGISTER (a user agent, not a
// registrar), so the stack answers those 405.
var tortureCases = map[string]tortureCase{
	"wsinv.dat":      {tPass, 481, "the To tag names no dialog here: an in-dialog request for an unknown dialog; the guard canonicalises its whitespace for sipgo"},
	"intmeth.dat":    {501, 501, ""},
	"esc01.dat":      {tPass, 486, ""},
	"escnull.dat":    {tPass, 405, "REGISTER: we are not a registrar"},
	"esc02.dat":      {501, 501, ""},
	"lwsdisp.dat":    {tPass, 200, ""},
	"longreq.dat":    {tPass, 0, "deviation: sipgo refuses to send a UDP message over 1300 octets (sip.UDPMTUSize-200), and the 486 echoes 34 Vias: no answer"},
	"dblreq.dat":     {tPass, 405, "REGISTER: we are not a registrar; the trailing INVITE is cut off"},
	"semiuri.dat":    {tPass, 200, ""},
	"transports.dat": {tPass, 200, ""},
	"mpart01.dat":    {tPass, 405, "stack: we serve no MESSAGE outside a dialog: 405 with Allow"},
	"unreason.dat":   {tPass, 0, "a response matching no transaction"},
	"noreason.dat":   {tPass, 0, "a response matching no transaction"},
	"badinv01.dat":   {400, 400, ""},
	"clerr.dat":      {400, 400, ""},
	"ncl.dat":        {400, 400, ""},
	"scalar02.dat":   {400, 400, ""},
	"scalarlg.dat":   {tDrop, 0, ""},
	"quotbal.dat":    {400, 400, ""},
	"ltgtruri.dat":   {400, 400, ""},
	"lwsruri.dat":    {400, 400, ""},
	"lwsstart.dat":   {400, 400, ""},
	"trws.dat":       {400, 400, ""},
	"escruri.dat":    {400, 400, ""},
	"baddate.dat":    {tPass, 486, "liberal: the Date is not interpreted"},
	"regbadct.dat":   {400, 400, ""},
	"badaspec.dat":   {400, 400, ""},
	"baddn.dat":      {400, 400, ""},
	"badvers.dat":    {505, 505, ""},
	"mismatch01.dat": {400, 400, ""},
	"mismatch02.dat": {501, 501, ""},
	"bigcode.dat":    {tDrop, 0, ""},
	"badbranch.dat":  {400, 400, ""},
	"insuf.dat":      {400, 400, ""},
	"unkscm.dat":     {416, 416, ""},
	"novelsc.dat":    {416, 416, ""},
	"unksm2.dat":     {tPass, 405, "liberal: From/To/Contact may hold any URI scheme; REGISTER: not a registrar"},
	"bext01.dat":     {420, 420, ""},
	"invut.dat":      {415, 415, ""},
	"regaut01.dat":   {tPass, 405, "REGISTER: we are not a registrar"},
	"multi01.dat":    {400, 400, ""},
	"mcl01.dat":      {400, 400, ""},
	"bcast.dat":      {tDrop, 0, ""},
	"zeromf.dat":     {tPass, 200, ""},
	"cparam01.dat":   {tPass, 405, "REGISTER: we are not a registrar"},
	"cparam02.dat":   {tPass, 405, "REGISTER: we are not a registrar"},
	"regescrt.dat":   {tPass, 405, "REGISTER: we are not a registrar"},
	"sdp01.dat":      {406, 406, ""},
	"inv2543.dat":    {400, 400, "deviation: sipgo needs a Via branch cookie or a From tag to match a transaction (it would answer 400, even to the ACK); the guard answers 400 saying so"},
}

// tortureExpectation is one row of EXPECTED.tsv.
type tortureExpectation struct {
	file, section, title, kind, syntax, verdict, expected string
}

type tortureMessage struct {
	tortureExpectation
	data []byte
}

// loadTorture reads the messages, checks them against SHA256SUMS and returns them in
// EXPECTED.tsv order.
func loadTorture(t testing.TB) []tortureMessage {
	t.Helper()
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(tortureDir, "SHA256SUMS"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "SHA256SUMS line %q", sc.Text())
		sums[name] = sum
	}
	require.NoError(t, sc.Err())

	tsv, err := os.ReadFile(filepath.Join(tortureDir, "EXPECTED.tsv"))
	require.NoError(t, err)
	var msgs []tortureMessage
	for i, line := range strings.Split(strings.TrimRight(string(tsv), "\n"), "\n") {
		if i == 0 {
			continue // column names
		}
		col := strings.Split(line, "\t")
		require.Len(t, col, 7, "EXPECTED.tsv line %d", i+1)
		m := tortureMessage{tortureExpectation: tortureExpectation{col[0], col[1], col[2], col[3], col[4], col[5], col[6]}}
		m.data, err = os.ReadFile(filepath.Join(tortureDir, m.file))
		require.NoError(t, err)
		sum := sha256.Sum256(m.data)
		require.Equal(t, sums[m.file], hex.EncodeToString(sum[:]), "%s is not the archive's", m.file)
		msgs = append(msgs, m)
	}
	require.Len(t, msgs, 49)
	require.Len(t, sums, 49)
	return msgs
}

var statusCodes = regexp.MustCompile(`\b[1-6][0-9][0-9]\b`)

// TestTortureTable checks tortureCases against EXPECTED.tsv: every message has a case,
// and each case's final outcome is one the RFC allows, or is marked as a deviation.
func TestTortureTable(t *testing.T) {
	msgs := loadTorture(t)
	require.Len(t, tortureCases, len(msgs))
	rejections := []int{400, 406, 415, 416, 420, 505}
	for _, m := range msgs {
		c, ok := tortureCases[m.file]
		require.True(t, ok, "no case for %s", m.file)
		allowed := map[int]bool{}
		for _, s := range statusCodes.FindAllString(m.expected, -1) {
			n, _ := strconv.Atoi(s)
			allowed[n] = true
		}
		switch m.verdict {
		case "drop":
			assert.Equal(t, tDrop, c.guard, m.file)
			assert.Zero(t, c.final, m.file)
		case "reject":
			assert.True(t, allowed[c.final], "%s: %d is not among %v (%s)", m.file, c.final, allowed, m.expected)
			assert.Positive(t, c.guard, "%s: the guard answers it", m.file)
		case "reject_or_liberal":
			if !strings.HasPrefix(c.why, "liberal:") {
				assert.True(t, allowed[c.final], "%s: %d is not among %v (%s)", m.file, c.final, allowed, m.expected)
			}
		case "accept":
			if m.kind == "response" {
				assert.Zero(t, c.final, m.file)
				assert.Equal(t, tPass, c.guard, m.file)
				continue
			}
			if strings.HasPrefix(c.why, "deviation:") || allowed[c.final] {
				continue // e.g. 501 for an unknown method is what the RFC asks
			}
			assert.Equal(t, tPass, c.guard, "%s: a valid request reaches the stack", m.file)
			assert.NotContains(t, rejections, c.final, "%s: a valid request is not rejected as malformed", m.file)
		default:
			t.Errorf("%s: unknown verdict %q", m.file, m.verdict)
		}
	}
}

// ---- loopback peers ----

// tortureViaPort finds the sent-by port of a message's top Via (5060 if absent): where
// RFC 3261 §18.2.2 sends the responses of a UDP request without rport.
var tortureViaPort = regexp.MustCompile(`(?i)\r\n(?:via|v)[ \t]*:\s*SIP\s*/\s*[0-9.]+\s*/\s*[a-z]+\s+(?:\[[^\]]*\]|[^\s;:,]+)(?::(\d+))?`)

func viaPort(msg []byte) int {
	m := tortureViaPort.FindSubmatch(msg)
	if m == nil || len(m[1]) == 0 {
		return 5060
	}
	p, _ := strconv.Atoi(string(m[1]))
	return p
}

// tortureLoopback picks a loopback address of its own (127.x.y.z), so the peer can
// take whatever port a message's Via names without colliding with other tests.
func tortureLoopback(t testing.TB) net.IP {
	t.Helper()
	for range 50 {
		ip := net.IPv4(127, byte(64+rand.IntN(190)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))
		c, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), "5060"))
		if err == nil {
			require.NoError(t, c.Close())
			return ip
		}
	}
	t.Fatal("no free loopback address for port 5060")
	return nil
}

// tortureSocket binds ip:port.
func tortureSocket(t testing.TB, ip net.IP, port int) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// tortureOptions is a plain OPTIONS with rport, so its answer comes back to the socket
// that sends it.
func tortureOptions(callID string) []byte {
	return []byte("OPTIONS sip:guard@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-" + callID + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:peer@127.0.0.1>;tag=peer\r\n" +
		"To: <sip:guard@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n")
}

// sipReply is a response as a test peer reads it: leniently, since the guard echoes
// the request's (possibly malformed) headers.
type sipReply struct {
	status  int
	raw     []byte
	headers map[string][]string // by lower-case name
}

func (r *sipReply) header(name string) string {
	if v := r.headers[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func parseReply(b []byte) (*sipReply, error) {
	head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	var code int
	if _, err := fmt.Sscanf(lines[0], "SIP/2.0 %d", &code); err != nil {
		return nil, fmt.Errorf("status line %q: %w", lines[0], err)
	}
	r := &sipReply{status: code, raw: slices.Clone(b), headers: map[string][]string{}}
	for _, l := range lines[1:] {
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("header line %q", l)
		}
		n := strings.ToLower(strings.TrimSpace(name))
		r.headers[n] = append(r.headers[n], strings.TrimSpace(v))
	}
	return r, nil
}

// readReply reads the next datagram on c as a response, waiting at most d.
func readReply(c net.PacketConn, d time.Duration) (*sipReply, error) {
	buf := make([]byte, 65535)
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return nil, err
	}
	return parseReply(buf[:n])
}

// noReply reports whether nothing is waiting on c.
func noReply(t *testing.T, c net.PacketConn) {
	t.Helper()
	r, err := readReply(c, time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("unexpected datagram: %v %v", err, r)
	}
}

// finalReply reads responses on c until a final one (for up to 10 s, a deadlock guard).
func finalReply(t *testing.T, c net.PacketConn) *sipReply {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := readReply(c, time.Until(deadline))
		require.NoError(t, err)
		if r.status >= 200 {
			return r
		}
	}
}

// requestURI is the second field of a request's start-line.
func requestURI(msg []byte) string {
	line, _, _ := bytes.Cut(msg, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// ackFor builds the ACK of a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3):
// same Request-URI, top Via, From, Call-ID and CSeq number; To from the response.
func ackFor(invite []byte, r *sipReply) []byte {
	cseq := strings.Fields(r.header("CSeq"))
	return []byte("ACK " + requestURI(invite) + " SIP/2.0\r\n" +
		"Via: " + r.header("Via") + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: " + r.header("From") + "\r\n" +
		"To: " + r.header("To") + "\r\n" +
		"Call-ID: " + r.header("Call-ID") + "\r\n" +
		"CSeq: " + cseq[0] + " ACK\r\n" +
		"Content-Length: 0\r\n\r\n")
}

func isInvite(msg []byte) bool { return bytes.HasPrefix(msg, []byte("INVITE ")) }

// ---- end to end ----

// tortureEndpoint is a real sipgo endpoint served through a Guard on 127.0.0.1.
type tortureEndpoint struct {
	ep    *Endpoint
	guard *Guard

	mu      sync.Mutex
	invites map[string]*Request // by Call-ID
	errs    map[string]error    // what the handler's Respond returned, by Call-ID

	// responded gets the Call-ID of each INVITE once the handler's response returned
	// (for a 486, once it was ACKed); ended once the handler returned.
	responded, ended chan string
}

const tortureAnswerUser = "answer" // INVITEs to this user are answered 200; others 486

var tortureSDP = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

func startTortureEndpoint(t *testing.T) *tortureEndpoint {
	t.Helper()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	te := &tortureEndpoint{invites: map[string]*Request{}, errs: map[string]error{},
		responded: make(chan string, 100), ended: make(chan string, 100)}
	ep, err := NewEndpoint(EndpointConfig{Logger: discard}, func(d *ServerDialog) {
		inv := d.Invite()
		defer func() { te.ended <- inv.CallID().Value() }()
		var err error
		if inv.Recipient.User == tortureAnswerUser {
			err = d.RespondSDP(tortureSDP)
		} else {
			err = d.Respond(486, "Busy Here", nil)
		}
		te.mu.Lock()
		te.invites[inv.CallID().Value()] = inv
		te.errs[inv.CallID().Value()] = err
		te.mu.Unlock()
		te.responded <- inv.CallID().Value()
		if err == nil && inv.Recipient.User == tortureAnswerUser {
			<-d.Context().Done() // keep the dialog until BYE
		}
	}, nil)
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	te.ep, te.guard = ep, NewGuard(conn, GuardConfig{Logger: discard})
	served := make(chan error, 1)
	go func() { served <- ep.Serve(te.guard) }()
	t.Cleanup(func() {
		assert.NoError(t, ep.Close())
		assert.NoError(t, te.guard.Close())
		<-served
	})
	return te
}

// wait waits for callID on ch (for up to 10 s, a deadlock guard).
func (te *tortureEndpoint) wait(t *testing.T, ch chan string, callID string) {
	t.Helper()
	for {
		select {
		case id := <-ch:
			if id == callID {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the INVITE handler never got to %s", callID)
		}
	}
}

// handled is the INVITE with callID the handler got and what its response returned.
func (te *tortureEndpoint) handled(callID string) (*Request, error) {
	te.mu.Lock()
	defer te.mu.Unlock()
	return te.invites[callID], te.errs[callID]
}

// TestTortureEndToEnd sends each of the 49 messages to a real endpoint behind a Guard
// (a fresh one each: the messages reuse Via branches, which would make some
// retransmissions of others), from a socket at the port its Via names, and checks the
// final answer or the silence each gets; then an OPTIONS and a whole INVITE/ACK/BYE call
// still work.
func TestTortureEndToEnd(t *testing.T) {
	ip := tortureLoopback(t)
	for i, m := range loadTorture(t) {
		c := tortureCases[m.file]
		t.Run(strings.TrimSuffix(m.file, ".dat"), func(t *testing.T) {
			te := startTortureEndpoint(t)
			srv := te.guard.LocalAddr()
			peer := tortureSocket(t, ip, viaPort(m.data))
			_, err := peer.WriteTo(m.data, srv)
			require.NoError(t, err)
			if c.final != 0 {
				r := finalReply(t, peer)
				assert.Equal(t, c.final, r.status, "%s: %s", m.title, r.raw)
				if cid := callIDOf(m.data); cid != "" {
					assert.Equal(t, cid, r.header("Call-ID"))
				}
				if isInvite(m.data) {
					_, err := peer.WriteTo(ackFor(m.data, r), srv)
					require.NoError(t, err)
				}
			}
			if tortureHandled[m.file] {
				// The handler's 486 returns once ACKed: the stack is done with it.
				te.wait(t, te.ended, callIDOf(m.data))
			}
			// A probe from the same socket: once it is answered, the guard has read the
			// message (it reads in order), and so has the stack.
			probe := fmt.Sprintf("probe-%d", i)
			_, err = peer.WriteTo(tortureOptions(probe), srv)
			require.NoError(t, err)
			for {
				r := finalReply(t, peer)
				if r.header("Call-ID") == probe {
					assert.Equal(t, 200, r.status)
					break
				}
				assert.Equal(t, c.final, r.status, "only a retransmission of the final answer")
			}
			noReply(t, peer)

			st := te.guard.Stats()
			want := GuardStats{Passed: 1, Rejected: map[int]uint64{}} // the probe
			switch {
			case c.guard == tDrop:
				want.Dropped = 1
			case c.guard > 0:
				want.Rejected[c.guard] = 1
			default:
				want.Passed++
			}
			switch {
			case !isInvite(m.data) || c.final == 0:
			case c.guard > 0:
				// The ACK of the guard's answer is absorbed by the guard; dropped when it
				// echoes the INVITE's malformed headers; passed when the INVITE had a To
				// tag already (lwsruri), as the guard cannot tell it from an in-dialog ACK.
				// Never answered.
				require.Equal(t, want.Passed+want.Dropped+1, st.Acks+st.Dropped+st.Passed, "%+v", st)
				want.Acks, want.Dropped, want.Passed = st.Acks, st.Dropped, st.Passed
			default:
				want.Passed++ // the ACK, to the stack's transaction
			}
			assert.Equal(t, want, st)
			checkTortureHandler(t, te, m)
		})
	}

	t.Run("after", func(t *testing.T) {
		// All 49 on one endpoint, each answered before the next is sent (some are
		// retransmissions of others there: the messages reuse branches), then OPTIONS
		// and a call still work.
		te := startTortureEndpoint(t)
		srv := te.guard.LocalAddr()
		peer := tortureSocket(t, ip, 5060)
		for _, m := range loadTorture(t) {
			c := tortureCases[m.file]
			if viaPort(m.data) != 5060 && c.guard <= 0 {
				continue // its answers would go to another port
			}
			_, err := peer.WriteTo(m.data, srv)
			require.NoError(t, err)
			if c.final != 0 && viaPort(m.data) == 5060 {
				r := finalReply(t, peer)
				require.Equal(t, c.final, r.status, "%s: %s", m.file, r.raw)
				if isInvite(m.data) {
					_, err := peer.WriteTo(ackFor(m.data, r), srv)
					require.NoError(t, err)
				}
			}
			if tortureHandled[m.file] {
				te.wait(t, te.ended, callIDOf(m.data))
			}
		}
		_, err := peer.WriteTo(tortureOptions("after-options"), srv)
		require.NoError(t, err)
		for {
			r := finalReply(t, peer)
			if r.header("Call-ID") == "after-options" {
				assert.Equal(t, 200, r.status)
				break
			}
		}
		tortureCall(t, te, peer, srv)
	})
}

// tortureHandled are the messages that reach the INVITE handler.
var tortureHandled = map[string]bool{"esc01.dat": true, "baddate.dat": true, "longreq.dat": true}

// checkTortureHandler checks what the INVITE handler made of the messages that reach it.
func checkTortureHandler(t *testing.T, te *tortureEndpoint, m tortureMessage) {
	inv, err := te.handled(callIDOf(m.data))
	switch m.file {
	case "esc01.dat":
		require.NotNil(t, inv)
		require.NoError(t, err)
		// sipgo keeps the user part escaped; unescaped it is the RFC's sips:user@example.com.
		assert.Equal(t, "sips%3Auser%40example.com", inv.Recipient.User)
	case "baddate.dat":
		require.NotNil(t, inv)
		require.NoError(t, err)
	case "longreq.dat":
		require.NotNil(t, inv, "the INVITE reaches the handler")
		assert.ErrorIs(t, err, sipgosip.ErrUDPMTUCongestion, "but its 486 is too large for sipgo to send")
	default:
		assert.Nil(t, inv, "%s does not reach the INVITE handler", m.file)
	}
	assert.Equal(t, tortureHandled[m.file], inv != nil)
}

// tortureCall places a call to the endpoint: INVITE with SDP, 200 with SDP, ACK, BYE and
// its 200.
func tortureCall(t *testing.T, te *tortureEndpoint, peer net.PacketConn, srv net.Addr) {
	t.Helper()
	local := peer.LocalAddr().String()
	head := func(method, ruri, branch string, cseq int, to string) string {
		return method + " " + ruri + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + branch + ";rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:peer@" + local + ">;tag=caller\r\n" +
			"To: " + to + "\r\n" +
			"Call-ID: torture-call\r\n" +
			"CSeq: " + strconv.Itoa(cseq) + " " + method + "\r\n"
	}
	ruri := "sip:" + tortureAnswerUser + "@" + srv.String()
	invite := head("INVITE", ruri, "inv", 1, "<"+ruri+">") +
		"Contact: <sip:peer@" + local + ">\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(tortureSDP)) + "\r\n\r\n" + string(tortureSDP)
	_, err := peer.WriteTo([]byte(invite), srv)
	require.NoError(t, err)
	var ok *sipReply
	for ok == nil {
		r := finalReply(t, peer)
		if r.header("Call-ID") == "torture-call" {
			ok = r
		}
	}
	require.Equal(t, 200, ok.status, "%s", ok.raw)
	require.Equal(t, "application/sdp", ok.header("Content-Type"))
	contact := strings.Trim(ok.header("Contact"), "<>")
	to := ok.header("To")
	_, err = peer.WriteTo([]byte(head("ACK", contact, "ack", 1, to)+"Content-Length: 0\r\n\r\n"), srv)
	require.NoError(t, err)
	te.wait(t, te.responded, "torture-call") // the 200 was ACKed
	_, err = peer.WriteTo([]byte(head("BYE", contact, "bye", 2, to)+"Content-Length: 0\r\n\r\n"), srv)
	require.NoError(t, err)
	for {
		r := finalReply(t, peer)
		if r.header("Call-ID") == "torture-call" && strings.HasSuffix(r.header("CSeq"), "BYE") {
			assert.Equal(t, 200, r.status)
			te.wait(t, te.ended, "torture-call")
			return
		}
	}
}

var tortureCallID = regexp.MustCompile(`(?i)\r\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)\r\n`)

// callIDOf is a message's Call-ID (the first), or "".
func callIDOf(msg []byte) string {
	m := tortureCallID.FindSubmatch(msg)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

func mustRead(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tortureDir, file))
	require.NoError(t, err)
	return b
}
