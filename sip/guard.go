package sip

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// GuardConfig configures NewGuard. The zero value is ready to use.
type GuardConfig struct {
	// Logger receives one Debug record per datagram the guard answers or discards (never
	// the datagram itself, which is remote input). Nil means slog.Default().
	Logger *slog.Logger
	// Supported lists the option tags a request may name in Require (RFC 3261 §8.2.2.3);
	// a request that requires any other tag is answered 420 with Unsupported. Tags compare
	// case-insensitively. Nil or empty means none: the endpoint implements no SIP
	// extension that a peer may insist on (100rel, timer, replaces, ...), and 420 makes a
	// conforming UAC retry without the Require.
	Supported []string
	// Allow is the Allow header value of the 501 sent for unknown methods. Empty means
	// the methods the Endpoint serves.
	Allow string
}

// GuardStats counts what a Guard did with the datagrams it read.
type GuardStats struct {
	// Passed is the guardNumber of messages handed to the reader (the SIP stack).
	Passed uint64
	// Keepalives is the guardNumber of datagrams made only of CR, LF, SP, HT or NUL (RFC 5626
	// §3.5.1 keep-alives and padding), swallowed silently.
	Keepalives uint64
	// Rejected counts the requests the guard answered itself, by status code.
	Rejected map[int]uint64
	// Acks is the number of ACKs of the guard's own answers, absorbed: the stack never
	// saw the INVITE they acknowledge. (The guard knows them by the To tag it gave.)
	Acks uint64
	// Dropped is the guardNumber of datagrams discarded without an answer: anything that is
	// not SIP, malformed responses, malformed ACKs, and malformed requests without a Via
	// to answer to.
	Dropped uint64
	// WriteErrors is the guardNumber of guard responses the socket refused to send.
	WriteErrors uint64
}

// Guard is a net.PacketConn that checks each datagram before the SIP stack parses it.
// See NewGuard.
type Guard struct {
	conn      net.PacketConn
	log       *slog.Logger
	supported []string
	allow     string
	agent     string // warn-agent of our Warning headers

	bufs sync.Pool // *[]byte response buffers

	passed, keepalives, acks, dropped, writeErrs atomic.Uint64
	rejected                                     [len(guardRejectCodes)]atomic.Uint64
}

// guardRejectCodes are the statuses a Guard answers with.
var guardRejectCodes = [...]int{400, 406, 415, 416, 420, 501, 505}

// NewGuard wraps conn, a UDP socket that a SIP stack reads with ReadFrom, so that each
// datagram is checked before the stack sees it:
//
//   - Well-formed messages are returned by ReadFrom in the caller's buffer, untouched (no
//     copy, no allocation), with three exceptions made in place, never growing the
//     message: octets after the end that Content-Length gives are cut off (RFC 3261
//     §18.3); CRLFs before the start-line are removed; and the linear whitespace of the
//     headers whose parameters the stack parses (Via, From, To, Contact, Route,
//     Record-Route, Refer-To, Referred-By, CSeq) is made canonical when the stack would
//     misread it: sipgo reads "tag = x" as a parameter named "tag " and loses the tag
//     (RFC 4475 wsinv). RFC 3261 §7.3.1 makes the two forms equivalent.
//   - Requests that RFC 3261 and the RFC 4475 torture tests say must be answered with an
//     error get that answer, written statelessly, and are not returned: 400 Bad Request
//     (with a Warning naming the problem), 505 for another SIP version, 416 for a
//     Request-URI that is not sip: or sips:, 501 (with Allow) for a method that is not a
//     SIP method (the stack would say 405), 420 (with Unsupported) for Require of an
//     option tag not in GuardConfig.Supported, 415 (with Accept) for an INVITE or UPDATE
//     whose body is not application/sdp, and 406 for an INVITE whose Accept excludes
//     application/sdp.
//   - The ACK of such an answer to an INVITE is absorbed: the stack never saw the
//     INVITE. The guard knows it, without keeping state, by the To tag it gave.
//   - Malformed responses, malformed ACKs, requests without a Via, and datagrams that
//     are not SIP are dropped silently; keep-alives (CRLF) are swallowed.
//
// ReadFrom never returns an error for a bad datagram: it reads the next one, so a
// hostile peer cannot stop the stack's read loop (sipgo stops serving on a read error).
// Every outcome is counted (Stats) and logged at Debug level.
//
// # What the guard decides, and what it leaves to the stack
//
// The guard parses only what it needs, strictly where it decides and leniently
// elsewhere: the start-line; the framing (CRLF line ends, folding, the empty line,
// Content-Length); the presence and uniqueness of Via, From, To, Call-ID and CSeq (and
// the uniqueness of Max-Forwards, Content-Length and Content-Type); the syntax of Via
// and of the address headers the stack parses: balanced quotes, no whitespace inside
// <URI>, no empty parameter, a URI with '?' only inside <>, no comma in an unquoted
// display name, and for SIP URIs a host and port the stack can read; the numbers (CSeq
// below 2^31, Max-Forwards at most 255, Content-Length within the datagram); CSeq's
// method against the request's; Require; Content-Type and Accept of INVITE. Display
// names and parameter values may hold any other octets (real user agents send unquoted
// UTF-8 names), and other headers are not looked at. Fuzzing checks that what the guard
// passes, sipgo parses: a message the stack would drop without a word gets an answer
// instead.
//
// Two rules exist only because of the stack: a request with neither an RFC 3261 branch
// in its Via nor a From tag (RFC 2543 style, RFC 4475 inv2543) gets 400, since sipgo
// cannot match it to a transaction and would answer 400 itself, even to its ACK; and a
// URI scheme with other characters than letters gets 400, since sipgo cannot parse it.
//
// For the RFC 4475 messages where either answer is allowed, the guard rejects with 400:
// extra or trailing SP in the Request-Line (lwsstart, trws), escaped headers in the
// Request-URI (escruri), a URI with '?' outside <> (regbadct), spaces inside <> (badaspec),
// an unquoted display name with a comma (baddn), a Via branch that is only the magic
// cookie (badbranch). It is liberal with an invalid Date (baddate: the Date is not
// interpreted) and with URIs of unknown schemes in From, To and Contact (unksm2: they
// are not routed on; tel: is common there).
//
// # Where answers go
//
// As the stack sends its own (RFC 3261 §18.2.2, RFC 3581): to the source IP address, at
// the source port if the top Via has rport, else at the Via's sent-by port (5060 if
// absent); to the source address and port when the top Via cannot be parsed. An answer
// carries the request's Via (received and rport filled in, RFC 3261 §18.2.1), From, To
// (with a tag derived from the request, so that a retransmission gets the same one,
// §8.2.7), Call-ID and CSeq, folded lines joined, and Content-Length: 0. It is at most a
// few hundred octets longer than the request, so the guard amplifies nothing.
//
// Responses with more than one Via are dropped (RFC 3261 §8.1.3.3: a UA is never the
// recipient of one); this guard is for a user agent, not for a proxy.
//
// The returned *Guard is a net.PacketConn; WriteTo, Close, LocalAddr and the deadlines
// are conn's. It is safe for concurrent use.
func NewGuard(conn net.PacketConn, cfg GuardConfig) *Guard {
	g := &Guard{conn: conn, log: cfg.Logger, supported: cfg.Supported, allow: cfg.Allow}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.allow == "" {
		g.allow = allowHeader
	}
	g.agent = "switchboard"
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok && ua.IP != nil && !ua.IP.IsUnspecified() {
		g.agent = ua.String()
	}
	g.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	return g
}

// Stats returns the counters so far.
func (g *Guard) Stats() GuardStats {
	s := GuardStats{
		Passed:      g.passed.Load(),
		Keepalives:  g.keepalives.Load(),
		Acks:        g.acks.Load(),
		Dropped:     g.dropped.Load(),
		WriteErrors: g.writeErrs.Load(),
		Rejected:    map[int]uint64{},
	}
	for i, c := range guardRejectCodes {
		if n := g.rejected[i].Load(); n > 0 {
			s.Rejected[c] = n
		}
	}
	return s
}

// ReadFrom reads the next datagram that is a well-formed SIP message into p, answering
// or dropping the others (see NewGuard). Errors are conn's.
func (g *Guard) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := g.conn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		v := g.inspect(p[:n])
		switch v.action {
		case actPass:
			g.passed.Add(1)
			if v.start > 0 || v.canon {
				return guardCanonicalize(p[:n], v), addr, nil
			}
			return v.end, addr, nil
		case actKeepalive:
			g.keepalives.Add(1)
		case actReject:
			g.reject(p[:n], v, addr)
		case actAbsorb:
			g.acks.Add(1)
		default:
			g.dropped.Add(1)
			if g.debug() {
				g.log.Debug("sip: guard dropped datagram", "problem", v.problem, "src", guardAddrString(addr), "len", n)
			}
		}
	}
}

// WriteTo writes to conn.
func (g *Guard) WriteTo(p []byte, addr net.Addr) (int, error) { return g.conn.WriteTo(p, addr) }

// Close closes conn.
func (g *Guard) Close() error { return g.conn.Close() }

// LocalAddr is conn's.
func (g *Guard) LocalAddr() net.Addr { return g.conn.LocalAddr() }

// SetDeadline sets conn's deadlines.
func (g *Guard) SetDeadline(t time.Time) error { return g.conn.SetDeadline(t) }

// SetReadDeadline sets conn's read deadline.
func (g *Guard) SetReadDeadline(t time.Time) error { return g.conn.SetReadDeadline(t) }

// SetWriteDeadline sets conn's write deadline.
func (g *Guard) SetWriteDeadline(t time.Time) error { return g.conn.SetWriteDeadline(t) }

var _ net.PacketConn = (*Guard)(nil)

// debug reports whether Debug records are wanted: building one allocates, and a flood of
// bad datagrams should cost no more than it must.
func (g *Guard) debug() bool { return g.log.Enabled(context.Background(), slog.LevelDebug) }

func guardAddrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (g *Guard) reject(d []byte, v guardVerdict, addr net.Addr) {
	bp := g.bufs.Get().(*[]byte)
	defer g.bufs.Put(bp)
	res, to, ok := g.appendResponse((*bp)[:0], d, v, addr)
	*bp = res[:0]
	if !ok {
		g.dropped.Add(1)
		if g.debug() {
			g.log.Debug("sip: guard dropped request without Via", "problem", v.problem, "src", guardAddrString(addr))
		}
		return
	}
	for i, c := range guardRejectCodes {
		if c == v.status {
			g.rejected[i].Add(1)
		}
	}
	if g.debug() {
		g.log.Debug("sip: guard rejected request", "status", v.status, "problem", v.problem, "src", guardAddrString(addr))
	}
	if _, err := g.conn.WriteTo(res, to); err != nil {
		g.writeErrs.Add(1)
		if g.debug() {
			g.log.Debug("sip: guard response not sent", "err", err, "to", guardAddrString(to))
		}
	}
}

// ---- inspection ----

type guardAction uint8

const (
	actPass guardAction = iota
	actKeepalive
	actReject
	actDrop
	actAbsorb
)

// guardVerdict is what inspect decided about one datagram.
type guardVerdict struct {
	action     guardAction
	start, end int    // actPass: the message is d[start:end]
	status     int    // actReject
	problem    string // actReject, actDrop: a constant naming the problem
	hdr        int    // offset of the first header line
	body       int    // actPass: offset of the body
	canon      bool   // actPass: rewrite whitespace before passing (guardCanonicalize)
}

// guardHdr names the headers the guard looks at.
type guardHdr uint8

const (
	hOther guardHdr = iota
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	hMaxForwards
	hContentLength
	hContentType
	hContact
	hRoute
	hRecordRoute
	hReferTo
	hReferredBy
	hRequire
	hAccept
	guardNumHdr
)

var guardHdrNames = [guardNumHdr]string{
	hOther: "", hVia: "Via", hFrom: "From", hTo: "To", hCallID: "Call-ID", hCSeq: "CSeq",
	hMaxForwards: "Max-Forwards", hContentLength: "Content-Length", hContentType: "Content-Type",
	hContact: "Contact", hRoute: "Route", hRecordRoute: "Record-Route", hReferTo: "Refer-To",
	hReferredBy: "Referred-By", hRequire: "Require", hAccept: "Accept",
}

// Problem texts per header, built once so that inspect does not allocate.
var (
	guardMissing   = guardHdrProblems("missing ", " header")
	guardMultiple  = guardHdrProblems("more than one ", " header")
	guardMalformed = guardHdrProblems("malformed ", " header")
)

func guardHdrProblems(pre, post string) (t [guardNumHdr]string) {
	for i := range t {
		t[i] = pre + guardHdrNames[i] + post
	}
	return t
}

// guardIdentify maps a header name, long or compact (RFC 3261 §7.3.3, RFC 3515, RFC 3892), to
// its guardHdr.
func guardIdentify(name []byte) guardHdr {
	if len(name) == 1 {
		switch name[0] | 0x20 {
		case 'v':
			return hVia
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'i':
			return hCallID
		case 'l':
			return hContentLength
		case 'c':
			return hContentType
		case 'm':
			return hContact
		case 'r':
			return hReferTo
		case 'b':
			return hReferredBy
		}
		return hOther
	}
	for id := hVia; id < guardNumHdr; id++ {
		if guardEqualFold(name, guardHdrNames[id]) {
			return id
		}
	}
	return hOther
}

// guardScan holds what inspect learnt from the header section.
type guardScan struct {
	count          [guardNumHdr]uint8 // saturating
	vias           int                // Via values
	branch         []byte             // top Via branch
	cseqNum        uint64
	cseqMethod     []byte
	contentLength  int // -1: absent
	contentType    []byte
	acceptsSDP     bool
	acceptSeen     bool
	requireUnknown bool
	fromTag        bool
	canon          bool // some structured header needs its whitespace rewritten
	// The first Via, From, Call-ID and CSeq values and the To tag, which identify the
	// ACK of an answer of ours.
	topVia, from, callID, cseq, toTag []byte
}

// Character classes.
const (
	cToken  = 1 << iota // RFC 3261 token
	cHost               // hostname and IPv4 characters
	cScheme             // URI scheme characters after the first
	cAlpha
	cDigit
	cIPv6 // inside [ ]
)

var guardChars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if alpha {
			t[c] |= cAlpha
		}
		if digit {
			t[c] |= cDigit
		}
		if alpha || digit {
			t[c] |= cToken | cHost | cScheme
		}
		if c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || digit || c == ':' || c == '.' {
			t[c] |= cIPv6
		}
	}
	for _, c := range []byte("-.!%*_+`'~") {
		t[c] |= cToken
	}
	for _, c := range []byte("-._") {
		t[c] |= cHost
	}
	for _, c := range []byte("+-.") {
		t[c] |= cScheme
	}
	return t
}()

// guardMethods are the methods of RFC 3261 and its extensions (RFC 3262, 3265, 3311,
// 3428, 3515, 3903, 6086): a method outside this set is unknown (501); one inside it
// that the endpoint does not serve is the stack's to answer (405).
var guardMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK",
	"SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}

func guardKnownMethod(m []byte) bool {
	for _, k := range guardMethods {
		if string(m) == k { // methods are case-sensitive (RFC 3261 §7.1)
			return true
		}
	}
	return false
}

// inspect decides what to do with one datagram. It does not allocate.
func (g *Guard) inspect(d []byte) guardVerdict {
	// Keep-alives: only CR, LF, SP, HT or NUL.
	start := 0
	for start < len(d) && (d[start] == '\r' || d[start] == '\n') {
		start++
	}
	if guardIsKeepalive(d[start:]) {
		return guardVerdict{action: actKeepalive}
	}
	lineStop, next, ok := guardLineEnd(d, start)
	if !ok {
		return guardDrop("no CRLF-terminated start-line")
	}
	line := d[start:lineStop]
	if guardHasPrefixFold(line, "SIP/") {
		return g.inspectResponse(d, start, line, next)
	}
	return g.inspectRequest(d, start, line, next)
}

func guardDrop(problem string) guardVerdict { return guardVerdict{action: actDrop, problem: problem} }

func guardIsKeepalive(b []byte) bool {
	for _, c := range b {
		switch c {
		case '\r', '\n', ' ', '\t', 0:
		default:
			return false
		}
	}
	return true
}

func (g *Guard) inspectResponse(d []byte, start int, line []byte, hdr int) guardVerdict {
	// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
	if len(line) < 12 || !guardEqualFold(line[:8], "SIP/2.0 ") || line[11] != ' ' {
		return guardDrop("malformed Status-Line")
	}
	code := 0
	for _, c := range line[8:11] {
		if guardChars[c]&cDigit == 0 {
			return guardDrop("malformed status code")
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || code > 699 {
		return guardDrop("status code out of range")
	}
	var s guardScan
	bodyStart, problem := g.scanHeaders(d, hdr, &s)
	if problem != "" {
		return guardDrop(problem)
	}
	for _, h := range [...]guardHdr{hVia, hFrom, hTo, hCallID, hCSeq} {
		if s.count[h] == 0 {
			return guardDrop(guardMissing[h])
		}
	}
	if s.vias != 1 {
		return guardDrop("response with more than one Via")
	}
	end, problem := guardFrame(d, bodyStart, &s)
	if problem != "" {
		return guardDrop(problem)
	}
	return guardVerdict{action: actPass, start: start, end: end, hdr: hdr, body: bodyStart, canon: s.canon}
}

func (g *Guard) inspectRequest(d []byte, start int, line []byte, hdr int) guardVerdict {
	// Request-Line = Method SP Request-URI SP SIP-Version
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !guardIsToken(line[:sp]) {
		return guardDrop("not a SIP message")
	}
	method, rest := line[:sp], line[sp+1:]
	if guardLastIndexFold(rest, "SIP/") < 0 {
		return guardDrop("not a SIP message")
	}
	reject := func(status int, problem string) guardVerdict {
		if string(method) == "ACK" {
			return guardDrop(problem) // an ACK is never answered (RFC 3261 §17.2.3)
		}
		return guardVerdict{action: actReject, status: status, problem: problem, hdr: hdr}
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 || bytes.IndexByte(rest[sp+1:], ' ') >= 0 {
		return reject(400, "malformed Request-Line (whitespace)")
	}
	uri, version := rest[:sp], rest[sp+1:]
	switch guardVersion(version) {
	case guardVersionBad:
		return reject(400, "malformed SIP-Version")
	case guardVersionOther:
		return reject(505, "SIP version not supported")
	}
	if status, problem := guardCheckRequestURI(uri); status != 0 {
		return reject(status, problem)
	}

	var s guardScan
	bodyStart, problem := g.scanHeaders(d, hdr, &s)
	if problem != "" {
		return reject(400, problem)
	}
	if s.count[hVia] == 0 {
		return guardDrop("request without Via")
	}
	for _, h := range [...]guardHdr{hFrom, hTo, hCallID, hCSeq} {
		if s.count[h] == 0 {
			return reject(400, guardMissing[h])
		}
	}
	end, problem := guardFrame(d, bodyStart, &s)
	if problem != "" {
		return reject(400, problem)
	}
	if string(method) == "ACK" && len(s.toTag) == guardTagLen && s.toTag[0] == guardTagMark {
		if tag := guardTag(s.topVia, s.from, s.callID, s.cseq); bytes.Equal(s.toTag, tag[:]) {
			// The ACK of a non-2xx answer of ours: it ends a transaction the stack never
			// saw (RFC 3261 §17.2.1), so it is ours to absorb.
			return guardVerdict{action: actAbsorb, problem: "ACK of a guard answer"}
		}
	}
	if !guardKnownMethod(method) {
		return reject(501, "unknown method")
	}
	if !bytes.Equal(method, s.cseqMethod) {
		return reject(400, "CSeq method does not match the Request-Line")
	}
	if string(s.branch) == "z9hG4bK" {
		return reject(400, "Via branch is only the magic cookie")
	}
	if !s.fromTag && (len(s.branch) <= 7 || !bytes.HasPrefix(s.branch, []byte("z9hG4bK"))) {
		// The stack matches such a request to no transaction; it would answer it (even an
		// ACK) with a bare 400.
		return reject(400, "RFC 2543 request (no branch cookie, no From tag) not supported")
	}
	isInvite := string(method) == "INVITE"
	if s.requireUnknown && string(method) != "ACK" && string(method) != "CANCEL" {
		return reject(420, "unsupported option tag in Require")
	}
	if isInvite || string(method) == "UPDATE" {
		if !guardIsKeepalive(d[bodyStart:end]) {
			if s.contentType == nil {
				return reject(400, "body without Content-Type")
			}
			if !guardIsSDP(s.contentType) {
				return reject(415, "body is not application/sdp")
			}
		}
	}
	if isInvite && s.acceptSeen && !s.acceptsSDP {
		return reject(406, "Accept excludes application/sdp")
	}
	return guardVerdict{action: actPass, start: start, end: end, hdr: hdr, body: bodyStart, canon: s.canon}
}

const (
	guardVersion20 = iota
	guardVersionBad
	guardVersionOther
)

// guardVersion classifies a SIP-Version: "SIP" "/" 1*DIGIT "." 1*DIGIT.
func guardVersion(v []byte) int {
	if !guardHasPrefixFold(v, "SIP/") {
		return guardVersionBad
	}
	n := v[4:]
	dot := bytes.IndexByte(n, '.')
	if dot <= 0 || dot == len(n)-1 || !guardIsDigits(n[:dot]) || !guardIsDigits(n[dot+1:]) {
		return guardVersionBad
	}
	if string(n) != "2.0" {
		return guardVersionOther
	}
	return guardVersion20
}

// guardCheckRequestURI returns 0 for a usable Request-URI, else the status and problem.
func guardCheckRequestURI(uri []byte) (int, string) {
	for _, c := range uri {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return 400, "malformed Request-URI"
		}
	}
	colon := guardSchemeEnd(uri)
	if colon < 0 {
		return 400, "Request-URI without scheme"
	}
	if !guardEqualFold(uri[:colon], "sip") && !guardEqualFold(uri[:colon], "sips") {
		return 416, "Request-URI scheme is not sip or sips"
	}
	rest := uri[colon+1:]
	if len(rest) == 0 || !guardSIPHostOK(rest) {
		return 400, "malformed Request-URI host or port"
	}
	// The userinfo ends at the first '@' (it cannot hold one unescaped); a '?' after it
	// starts headers, which a Request-URI must not carry (RFC 3261 §19.1.1, Table 1).
	if at := bytes.IndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if bytes.IndexByte(rest, '?') >= 0 {
		return 400, "Request-URI with escaped headers"
	}
	return 0, ""
}

// guardSchemeEnd returns the index of the ':' that ends a URI scheme at the start of u, or -1.
func guardSchemeEnd(u []byte) int {
	if len(u) == 0 || guardChars[u[0]]&cAlpha == 0 {
		return -1
	}
	for i := 1; i < len(u); i++ {
		switch {
		case u[i] == ':':
			return i
		case guardChars[u[i]]&cScheme == 0:
			return -1
		}
	}
	return -1
}

// guardFrame applies Content-Length (RFC 3261 §18.3): the message ends bodyStart+length into
// the datagram, and octets past it are ignored; with no Content-Length the message
// ends with the datagram.
func guardFrame(d []byte, bodyStart int, s *guardScan) (int, string) {
	if s.contentLength < 0 {
		return len(d), ""
	}
	if s.contentLength > len(d)-bodyStart {
		return 0, "Content-Length larger than the message"
	}
	return bodyStart + s.contentLength, ""
}

// guardLineEnd finds the CRLF ending the line at i: the line is d[i:stop] and the next one
// starts at next. ok is false when there is no CRLF, or a CR or LF appears alone.
func guardLineEnd(d []byte, i int) (stop, next int, ok bool) {
	j := bytes.IndexByte(d[i:], '\n')
	if j < 0 {
		return len(d), len(d), false
	}
	j += i
	if j == i || d[j-1] != '\r' {
		return j, j + 1, false
	}
	if bytes.IndexByte(d[i:j-1], '\r') >= 0 {
		return j - 1, j + 1, false
	}
	return j - 1, j + 1, true
}

// scanHeaders checks the header section starting at i and returns where the body
// starts, or the first problem.
func (g *Guard) scanHeaders(d []byte, i int, s *guardScan) (int, string) {
	s.contentLength = -1
	for {
		if i >= len(d) {
			return 0, "no empty line after the header section"
		}
		stop, next, ok := guardLineEnd(d, i)
		if !ok {
			if next >= len(d) && stop == len(d) {
				return 0, "no empty line after the header section"
			}
			return 0, "line not terminated by CRLF"
		}
		if stop == i {
			return next, "" // the empty line
		}
		if d[i] == ' ' || d[i] == '\t' {
			return 0, "header section starts with whitespace"
		}
		colon := bytes.IndexByte(d[i:stop], ':')
		if colon < 0 {
			return 0, "header line without colon"
		}
		colon += i
		name := guardTrim(d[i:colon])
		if len(name) == 0 || !guardIsToken(name) {
			return 0, "malformed header name"
		}
		// Unfold: continuation lines start with SP or HT (RFC 3261 §7.3.1).
		vend := stop
		for next < len(d) && (d[next] == ' ' || d[next] == '\t') {
			cstop, cnext, ok := guardLineEnd(d, next)
			if !ok {
				return 0, "line not terminated by CRLF"
			}
			vend, next = cstop, cnext
		}
		if problem := g.checkHeader(guardIdentify(name), d[colon+1:vend], s); problem != "" {
			return 0, problem
		}
		i = next
	}
}

// checkHeader checks one header value (raw, possibly folded) and records what it says.
func (g *Guard) checkHeader(id guardHdr, v []byte, s *guardScan) string {
	if s.count[id] < 255 {
		s.count[id]++
	}
	switch id {
	case hFrom, hTo, hCallID, hCSeq, hMaxForwards, hContentLength, hContentType:
		if s.count[id] > 1 {
			return guardMultiple[id]
		}
	}
	if guardStructured(id) && !s.canon {
		_, s.canon = guardCanonValue(v, 0, 0, len(v), id == hVia, false)
	}
	switch id {
	case hVia:
		if s.topVia == nil {
			s.topVia = v
		}
		return guardCheckVia(v, s)
	case hFrom, hTo, hReferTo, hReferredBy:
		tag, hasTag, ok := guardCheckAddrs(v, false, false)
		if !ok {
			return guardMalformed[id]
		}
		switch id {
		case hFrom:
			s.fromTag, s.from = hasTag, v
		case hTo:
			s.toTag = tag
		}
	case hContact:
		if _, _, ok := guardCheckAddrs(v, true, true); !ok {
			return guardMalformed[hContact]
		}
	case hRoute, hRecordRoute:
		if _, _, ok := guardCheckAddrs(v, true, false); !ok {
			return guardMalformed[id]
		}
	case hCallID:
		w := guardTrim(v)
		if len(w) == 0 {
			return "empty Call-ID"
		}
		for _, c := range w {
			if c <= ' ' || c == 0x7f {
				return "malformed Call-ID"
			}
		}
		s.callID = v
	case hCSeq:
		c := guardCursor{b: v}
		c.ws()
		digits := c.run(cDigit)
		if len(digits) == 0 || !c.ws() {
			return "malformed CSeq"
		}
		n, ok := guardDigits(digits)
		if !ok || n >= 1<<31 {
			return "CSeq guardNumber out of range"
		}
		m := c.run(cToken)
		c.ws()
		if len(m) == 0 || !c.eof() {
			return "malformed CSeq"
		}
		s.cseqNum, s.cseqMethod, s.cseq = n, m, v
	case hMaxForwards:
		n, ok := guardNumber(v)
		if !ok || n > 255 {
			return "malformed Max-Forwards"
		}
	case hContentLength:
		n, ok := guardNumber(v)
		if !ok || n >= 1<<31 {
			return "malformed Content-Length"
		}
		s.contentLength = int(n)
	case hContentType:
		s.contentType = guardTrim(v)
		if len(s.contentType) == 0 {
			return "empty Content-Type"
		}
	case hRequire:
		guardEachListItem(v, func(tag []byte) {
			if !g.supports(tag) {
				s.requireUnknown = true
			}
		})
	case hAccept:
		guardEachListItem(v, func(r []byte) {
			s.acceptSeen = true
			if semi := bytes.IndexByte(r, ';'); semi >= 0 {
				r = guardTrim(r[:semi])
			}
			if guardEqualFold(r, "application/sdp") || guardEqualFold(r, "application/*") || guardEqualFold(r, "*/*") {
				s.acceptsSDP = true
			}
		})
	}
	return ""
}

func (g *Guard) supports(tag []byte) bool {
	for _, t := range g.supported {
		if guardEqualFold(tag, t) {
			return true
		}
	}
	return false
}

// guardEachListItem calls f with each non-empty, trimmed element of a comma-separated
// header value (elements here hold no quoted strings).
func guardEachListItem(v []byte, f func([]byte)) {
	for len(v) > 0 {
		item := v
		if comma := bytes.IndexByte(v, ','); comma >= 0 {
			item, v = v[:comma], v[comma+1:]
		} else {
			v = nil
		}
		if item = guardTrim(item); len(item) > 0 {
			f(item)
		}
	}
}

// guardIsSDP reports whether a Content-Type value is application/sdp.
func guardIsSDP(ct []byte) bool {
	if semi := bytes.IndexByte(ct, ';'); semi >= 0 {
		ct = ct[:semi]
	}
	c := guardCursor{b: ct}
	c.ws()
	typ := c.run(cToken)
	c.ws()
	if !c.eat('/') {
		return false
	}
	c.ws()
	sub := c.run(cToken)
	c.ws()
	return c.eof() && guardEqualFold(typ, "application") && guardEqualFold(sub, "sdp")
}

// guardViaParm is what guardCheckVia learns about the first via-parm.
type guardViaParm struct {
	host     []byte // sent-by host
	port     int    // sent-by port; 0 if absent
	rportEnd int    // offset in the value just after a valueless "rport"; -1 if none
	received bool   // has a received parameter
	branch   []byte
	parmEnd  int // offset in the value where the via-parm's parameters end
}

// guardCheckVia checks a Via value: 1#( sent-protocol LWS sent-by *( SEMI via-params ) ).
func guardCheckVia(v []byte, s *guardScan) string {
	c := guardCursor{b: v}
	for {
		var p guardViaParm
		if !guardParseViaParm(&c, &p) {
			return "malformed Via header"
		}
		if s.vias == 0 {
			s.branch = p.branch
		}
		s.vias++
		c.ws()
		if c.eof() {
			return ""
		}
		if !c.eat(',') {
			return "malformed Via header"
		}
	}
}

// guardParseViaParm parses one via-parm at c (leading whitespace allowed).
func guardParseViaParm(c *guardCursor, p *guardViaParm) bool {
	p.rportEnd = -1
	c.ws()
	if !guardEqualFold(c.run(cToken), "SIP") { // protocol-name; "SIP" in practice
		return false
	}
	c.ws()
	if !c.eat('/') {
		return false
	}
	c.ws()
	if string(c.run(cToken)) != "2.0" {
		return false
	}
	c.ws()
	if !c.eat('/') {
		return false
	}
	c.ws()
	if len(c.run(cToken)) == 0 || !c.ws() {
		return false
	}
	// sent-by = host [ ":" port ]
	hs := c.i
	if c.eat('[') {
		c.run(cIPv6)
		if !c.eat(']') {
			return false
		}
	} else if len(c.run(cHost)) == 0 {
		return false
	}
	p.host = c.b[hs:c.i]
	if c.eat(':') {
		port, ok := guardDigits(c.run(cDigit))
		if !ok || port > 65535 {
			return false
		}
		p.port = int(port)
	}
	p.parmEnd = c.i
	for {
		save := c.i
		c.ws()
		if !c.eat(';') {
			c.i = save
			break
		}
		c.ws()
		name := c.run(cToken)
		if len(name) == 0 {
			return false
		}
		nameEnd := c.i
		save = c.i
		c.ws()
		var val []byte
		if c.eat('=') {
			c.ws()
			var ok bool
			if val, ok = c.genValue(); !ok {
				return false
			}
		} else {
			c.i = save
		}
		switch {
		case guardEqualFold(name, "branch"):
			p.branch = val
		case guardEqualFold(name, "rport") && val == nil:
			p.rportEnd = nameEnd
		case guardEqualFold(name, "received"):
			p.received = true
		}
		p.parmEnd = c.i
	}
	return true
}

// guardCheckAddrs checks a From, To, Contact, Route-like value: name-addr or addr-spec, then
// parameters; list allows several, star allows "*" (Contact). It reports whether a tag
// parameter is present, and its value.
func guardCheckAddrs(v []byte, list, star bool) (tag []byte, hasTag, ok bool) {
	c := guardCursor{b: v}
	c.ws()
	if star && c.peek() == '*' {
		c.i++
		c.ws()
		return nil, false, c.eof()
	}
	for {
		c.ws()
		if c.eof() {
			return nil, false, false
		}
		if c.peek() == '"' {
			if !c.quoted() {
				return nil, false, false // unterminated quoted string
			}
			c.ws()
			if c.peek() != '<' || !c.angleURI() {
				return nil, false, false
			}
		} else {
			// An unquoted display name runs to '<'; without '<' this is an addr-spec.
			k := c.i
			for k < len(c.b) && !guardIsAddrStop(c.b[k]) {
				k++
			}
			if k < len(c.b) && c.b[k] == '<' {
				c.i = k
				if !c.angleURI() {
					return nil, false, false
				}
			} else if !c.bareURI() {
				return nil, false, false
			}
		}
		for {
			save := c.i
			c.ws()
			if !c.eat(';') {
				c.i = save
				break
			}
			c.ws()
			name := c.run(cToken)
			if len(name) == 0 {
				return nil, false, false // empty parameter
			}
			isTag := guardEqualFold(name, "tag")
			hasTag = hasTag || isTag
			save = c.i
			c.ws()
			if c.eat('=') {
				c.ws()
				val, ok := c.genValue()
				if !ok {
					return nil, false, false
				}
				if isTag {
					tag = val
				}
			} else {
				c.i = save
			}
		}
		c.ws()
		if c.eof() {
			return tag, hasTag, true
		}
		if !list || !c.eat(',') {
			return nil, false, false
		}
	}
}

func guardIsAddrStop(c byte) bool {
	switch c {
	case '<', '>', '"', ',', ';':
		return true
	}
	return false
}

// ---- guardCursor ----

// guardCursor walks a header value. CR and LF inside a value only occur as part of folding
// (scanHeaders checked that), so they count as whitespace.
type guardCursor struct {
	b []byte
	i int
}

func (c *guardCursor) eof() bool { return c.i >= len(c.b) }

func (c *guardCursor) peek() byte {
	if c.i < len(c.b) {
		return c.b[c.i]
	}
	return 0
}

// ws skips linear whitespace and reports whether there was any.
func (c *guardCursor) ws() bool {
	s := c.i
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\r', '\n':
			c.i++
		default:
			return c.i > s
		}
	}
	return c.i > s
}

func (c *guardCursor) eat(ch byte) bool {
	if c.i < len(c.b) && c.b[c.i] == ch {
		c.i++
		return true
	}
	return false
}

func (c *guardCursor) run(class uint8) []byte {
	s := c.i
	for c.i < len(c.b) && guardChars[c.b[c.i]]&class != 0 {
		c.i++
	}
	return c.b[s:c.i]
}

// quoted consumes a quoted-string starting at '"'; false if it is not terminated.
func (c *guardCursor) quoted() bool {
	c.i++
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case '"':
			c.i++
			return true
		case '\\':
			// quoted-pair excludes CR and LF (RFC 3261 §25.1)
			if c.i+1 < len(c.b) && (c.b[c.i+1] == '\r' || c.b[c.i+1] == '\n') {
				return false
			}
			c.i += 2
		default:
			c.i++
		}
	}
	c.i = len(c.b)
	return false
}

// genValue consumes a parameter value: a quoted-string, or a run of octets other than
// whitespace and the separators , ; " < > (leniently wider than token / host).
func (c *guardCursor) genValue() ([]byte, bool) {
	s := c.i
	if c.peek() == '"' {
		if !c.quoted() {
			return nil, false
		}
		return c.b[s:c.i], true
	}
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\r', '\n', ',', ';', '"', '<', '>':
			return c.b[s:c.i], c.i > s
		}
		c.i++
	}
	return c.b[s:c.i], c.i > s
}

// angleURI consumes "<" scheme ":" ... ">" with no whitespace inside.
func (c *guardCursor) angleURI() bool {
	if !c.eat('<') {
		return false
	}
	s := c.i
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case '>':
			u := c.b[s:c.i]
			c.i++
			return guardURIOK(u)
		case ' ', '\t', '\r', '\n', '<', '"':
			return false
		}
		c.i++
	}
	return false
}

// bareURI consumes an addr-spec outside <>: it ends at whitespace, ';' or ','. A URI with
// '?' (headers) must be enclosed in <> (RFC 3261 §20.10).
func (c *guardCursor) bareURI() bool {
	s := c.i
	for c.i < len(c.b) {
		ch := c.b[c.i]
		if ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ';' || ch == ',' {
			break
		}
		if ch == '?' || ch == '<' || ch == '>' || ch == '"' {
			return false
		}
		c.i++
	}
	return guardURIOK(c.b[s:c.i])
}

// guardURIOK checks that u has a scheme and something after it and, for sip: and sips:,
// a well-formed host and port. The stack needs both: it drops a message whose SIP URI
// has, say, a port that is not a number, or whose URI scheme has other characters than
// letters (RFC 3261 also allows digits, '+', '-' and '.' after the first: such a URI in
// a header is answered 400 rather than dropped without a word).
func guardURIOK(u []byte) bool {
	e := guardSchemeEnd(u)
	if e <= 0 || e == len(u)-1 {
		return false
	}
	for _, c := range u[:e] {
		if guardChars[c]&cAlpha == 0 {
			return false
		}
	}
	if !guardEqualFold(u[:e], "sip") && !guardEqualFold(u[:e], "sips") {
		return true
	}
	return guardSIPHostOK(u[e+1:])
}

// guardSIPHostOK checks the hostport of the rest of a SIP URI after "sip:": after the
// userinfo (up to the first '@', which cannot occur unescaped in the rest of the URI), a
// hostname, IPv4 address or [IPv6 reference], an optional port of 1 to 5 digits up to
// 65535, then the end, parameters (';') or headers ('?').
func guardSIPHostOK(rest []byte) bool {
	if at := bytes.IndexByte(rest, '@'); at >= 0 {
		if bytes.ContainsAny(rest[:at], "[]") {
			return false // not userinfo characters; the stack takes '[' for an IPv6 host
		}
		rest = rest[at+1:]
	}
	c := guardCursor{b: rest}
	if c.eat('[') {
		c.run(cIPv6)
		if !c.eat(']') {
			return false
		}
	} else if len(c.run(cHost)) == 0 {
		return false
	}
	if c.eat(':') {
		port, ok := guardDigits(c.run(cDigit))
		if !ok || port > 65535 {
			return false
		}
	}
	if !c.eof() && c.peek() != ';' && c.peek() != '?' {
		return false
	}
	// Brackets in parameters and headers (an IPv6 maddr) must pair up, or the stack
	// rejects the URI.
	open := false
	for _, ch := range rest[c.i:] {
		switch {
		case ch == '[' && !open:
			open = true
		case ch == ']' && open:
			open = false
		case ch == '[' || ch == ']':
			return false
		}
	}
	return !open
}

// ---- small helpers (no allocation) ----

func guardEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

func guardHasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && guardEqualFold(b[:len(s)], s)
}

func guardLastIndexFold(b []byte, s string) int {
	for i := len(b) - len(s); i >= 0; i-- {
		if guardEqualFold(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}

func guardIsToken(b []byte) bool {
	for _, c := range b {
		if guardChars[c]&cToken == 0 {
			return false
		}
	}
	return len(b) > 0
}

func guardIsDigits(b []byte) bool {
	for _, c := range b {
		if guardChars[c]&cDigit == 0 {
			return false
		}
	}
	return len(b) > 0
}

// guardDigits parses up to 10 decimal digits.
func guardDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if guardChars[c]&cDigit == 0 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// guardNumber parses a value that is LWS 1*DIGIT LWS.
func guardNumber(v []byte) (uint64, bool) { return guardDigits(guardTrim(v)) }

func guardTrim(b []byte) []byte {
	for len(b) > 0 && guardIsLWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && guardIsLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func guardIsLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// ---- whitespace canonicalisation ----

// guardStructured reports whether the stack parses a header's parameters, and so needs
// its linear whitespace canonical: sipgo takes "tag = x" for a parameter named "tag "
// and a Via's "SIP / 2.0 / UDP" apart (RFC 4475 wsinv).
func guardStructured(id guardHdr) bool {
	switch id {
	case hVia, hFrom, hTo, hContact, hRoute, hRecordRoute, hReferTo, hReferredBy, hCSeq:
		return true
	}
	return false
}

func guardIsSep(c byte, via bool) bool {
	return c == ';' || c == '=' || c == ',' || via && c == '/'
}

// guardCanonValue rewrites the header value d[r:end] at d[w:] (w <= r; nothing is
// written unless write is set) with its linear whitespace canonical, which RFC 3261 §7.3.1
// makes equivalent: folded lines unfolded, each run of whitespace one SP, none at the end
// or around ';', '=', ',' (and '/' in Via), quoted strings untouched. It returns the new
// write offset and whether the rewriting matters to the stack (see below). The output is
// never longer than the input.
func guardCanonValue(d []byte, w, r, end int, via, write bool) (int, bool) {
	changed := false
	emit := func(c byte) {
		if write {
			d[w] = c
		}
		w++
	}
	var last byte
	for r < end {
		c := d[r]
		if guardIsLWS(c) {
			run := r
			fold := false
			for r < end && guardIsLWS(d[r]) {
				fold = fold || d[r] == '\n'
				r++
			}
			// sipgo trims a value and turns each fold into one SP itself: only runs next
			// to a separator, and runs of several SP or HT on one line, need rewriting.
			switch {
			case last == 0 || r == end:
				if last == 0 && r < end {
					emit(' ')
				}
			case guardIsSep(last, via) || guardIsSep(d[r], via):
				changed = true
			default:
				changed = changed || !fold && (r-run != 1 || c != ' ')
				emit(' ')
			}
			continue
		}
		if c == '"' {
			// Copy the quoted string as it is (it cannot end the value unterminated: the
			// value was checked).
			emit(c)
			r++
			for r < end {
				q := d[r]
				emit(q)
				r++
				if q == '\\' && r < end {
					emit(d[r])
					r++
				} else if q == '"' {
					break
				}
			}
			last = '"'
			continue
		}
		emit(c)
		last = c
		r++
	}
	return w, changed
}

// guardCanonicalize moves the message of a passed datagram to the start of d (dropping
// CRLFs before the start-line) and, if v.canon, rewrites the whitespace of its structured
// headers (guardCanonValue) in place. It returns the new length.
func guardCanonicalize(d []byte, v guardVerdict) int {
	w := copy(d, d[v.start:v.hdr])
	i := v.hdr
	for {
		stop, next, _ := guardLineEnd(d, i)
		if stop == i {
			break // the empty line
		}
		colon := i + bytes.IndexByte(d[i:stop], ':')
		for next < len(d) && (d[next] == ' ' || d[next] == '\t') {
			_, next, _ = guardLineEnd(d, next)
		}
		vend := next - 2
		if v.canon && guardStructured(guardIdentify(guardTrim(d[i:colon]))) {
			w += copy(d[w:], d[i:colon+1])
			w, _ = guardCanonValue(d, w, colon+1, vend, guardIdentify(guardTrim(d[i:colon])) == hVia, true)
			w += copy(d[w:], "\r\n")
		} else {
			w += copy(d[w:], d[i:next])
		}
		i = next
	}
	w += copy(d[w:], d[i:v.end]) // the empty line and the body
	return w
}

// ---- stateless responses ----

func guardReason(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 406:
		return "Not Acceptable"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 501:
		return "Not Implemented"
	case 505:
		return "Version Not Supported"
	}
	return "Error"
}

// appendResponse appends the response to the request d (verdict v), which came from src,
// to dst, and says where to send it. It walks the header section leniently (the request
// may be malformed), copying the first From, To, Call-ID and CSeq and every Via. ok is
// false when the request has no Via: a response could not be matched to it.
//
// The response goes where RFC 3261 §18.2.2 and RFC 3581 §4 send it for UDP, as the SIP
// stack does for its own responses: to the source IP address, at the source port if the
// top Via has rport, else at the sent-by port (5060 if absent). When the top Via cannot
// be parsed, it goes to the source address and port.
func (g *Guard) appendResponse(dst, d []byte, v guardVerdict, src net.Addr) (out []byte, to net.Addr, ok bool) {
	dst = append(dst, "SIP/2.0 "...)
	dst = strconv.AppendInt(dst, int64(v.status), 10)
	dst = append(dst, ' ')
	dst = append(dst, guardReason(v.status)...)
	dst = append(dst, "\r\n"...)

	var seen [guardNumHdr]bool
	var topVia []byte
	var unsupported []byte
	vias := 0
	var srcIP string
	var srcPort int
	srcUDP, isUDP := src.(*net.UDPAddr)
	if isUDP {
		srcIP, srcPort = srcUDP.IP.String(), srcUDP.Port
	}
	to = src
	guardWalkHeaders(d, v.hdr, func(id guardHdr, val []byte) {
		val = guardTrim(val)
		switch id {
		case hVia:
			if vias == 0 {
				topVia = val
				var port int
				dst, port = guardAppendTopVia(dst, val, srcIP, srcPort)
				if isUDP && port != srcPort {
					to = &net.UDPAddr{IP: srcUDP.IP, Port: port, Zone: srcUDP.Zone}
				}
			} else {
				dst = guardAppendHeader(dst, "Via", val)
			}
			vias++
		case hFrom, hTo, hCallID, hCSeq:
			if seen[id] {
				return
			}
			seen[id] = true
			if id == hTo {
				dst = guardAppendHeader(dst, "To", val)
				if _, hasTag, valid := guardCheckAddrs(val, false, false); valid && !hasTag {
					dst = dst[:len(dst)-2] // reopen the line for the tag
					dst = append(dst, ";tag="...)
					dst = guardAppendTag(dst, d, v.hdr)
					dst = append(dst, "\r\n"...)
				}
				return
			}
			dst = guardAppendHeader(dst, guardHdrNames[id], val)
		case hRequire:
			if v.status == 420 {
				guardEachListItem(val, func(tag []byte) {
					if g.supports(tag) || !guardIsToken(tag) {
						return
					}
					if len(unsupported) > 0 {
						unsupported = append(unsupported, ", "...)
					}
					unsupported = append(unsupported, tag...)
				})
			}
		}
	})
	if vias == 0 || topVia == nil {
		return dst, nil, false
	}
	switch v.status {
	case 501:
		dst = guardAppendHeader(dst, "Allow", []byte(g.allow))
	case 420:
		dst = guardAppendHeader(dst, "Unsupported", unsupported)
	case 415:
		dst = guardAppendHeader(dst, "Accept", []byte("application/sdp"))
	}
	dst = append(dst, "Warning: 399 "...)
	dst = append(dst, g.agent...)
	dst = append(dst, " \""...)
	dst = append(dst, v.problem...)
	dst = append(dst, "\"\r\nContent-Length: 0\r\n\r\n"...)
	return dst, to, true
}

// guardAppendHeader appends "name: value\r\n", turning folded lines into single spaces, so
// nothing from the request can start a header line of its own.
func guardAppendHeader(dst []byte, name string, val []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = guardAppendUnfolded(dst, val)
	return append(dst, "\r\n"...)
}

func guardAppendUnfolded(dst, val []byte) []byte {
	for i := 0; i < len(val); i++ {
		c := val[i]
		if c == '\r' || c == '\n' {
			for i+1 < len(val) && guardIsLWS(val[i+1]) {
				i++
			}
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// guardAppendTopVia appends the top Via with received and rport filled in (RFC 3261 §18.2.1,
// RFC 3581 §4) when its first via-parm is well formed, and returns the port to answer at:
// srcPort with rport or when the Via is malformed, else the sent-by port or 5060.
func guardAppendTopVia(dst, val []byte, srcIP string, srcPort int) ([]byte, int) {
	var p guardViaParm
	c := guardCursor{b: val}
	if srcIP == "" || !guardParseViaParm(&c, &p) {
		return guardAppendHeader(dst, "Via", val), srcPort
	}
	port := p.port
	switch {
	case p.rportEnd >= 0:
		port = srcPort
	case port == 0:
		port = 5060
	}
	host := string(bytes.Trim(p.host, "[]"))
	addReceived := !p.received && (host != srcIP || p.rportEnd >= 0)
	dst = append(dst, "Via: "...)
	cut := p.parmEnd
	if p.rportEnd >= 0 {
		dst = guardAppendUnfolded(dst, val[:p.rportEnd])
		dst = append(dst, '=')
		dst = strconv.AppendInt(dst, int64(srcPort), 10)
		dst = guardAppendUnfolded(dst, val[p.rportEnd:cut])
	} else {
		dst = guardAppendUnfolded(dst, val[:cut])
	}
	if addReceived {
		dst = append(dst, ";received="...)
		dst = append(dst, srcIP...)
	}
	dst = guardAppendUnfolded(dst, val[cut:])
	return append(dst, "\r\n"...), port
}

// The To tags of the guard's answers: a mark and 16 hex digits.
const (
	guardTagMark = 'g'
	guardTagLen  = 17
)

// guardAppendTag appends the To tag of the guard's answer to the request d.
func guardAppendTag(dst, d []byte, hdr int) []byte {
	var topVia, from, callID, cseq []byte
	guardWalkHeaders(d, hdr, func(id guardHdr, val []byte) {
		switch {
		case id == hVia && topVia == nil:
			topVia = val
		case id == hFrom && from == nil:
			from = val
		case id == hCallID && callID == nil:
			callID = val
		case id == hCSeq && cseq == nil:
			cseq = val
		}
	})
	tag := guardTag(topVia, from, callID, cseq)
	return append(dst, tag[:]...)
}

// guardTag derives a To tag from what identifies a request and stays the same in its
// retransmissions and in the ACK of a non-2xx answer: the top Via branch, the From tag,
// the Call-ID and the CSeq number (RFC 3261 §8.2.7 asks a stateless UAS for such a tag;
// §17.1.1.3 makes the ACK repeat them). It reads the values leniently and allocates
// nothing.
func guardTag(topVia, from, callID, cseq []byte) (tag [guardTagLen]byte) {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	mix := func(b []byte) {
		for _, c := range b {
			h = (h ^ uint64(c)) * prime
		}
		h = (h ^ 0x100) * prime // separator, outside the byte range
	}
	var p guardViaParm
	c := guardCursor{b: topVia}
	if guardParseViaParm(&c, &p) {
		mix(p.branch)
	} else {
		mix(nil)
	}
	fromTag, _, _ := guardCheckAddrs(from, false, false)
	mix(fromTag)
	mix(guardTrim(callID))
	n := guardTrim(cseq)
	end := 0
	for end < len(n) && guardChars[n[end]]&cDigit != 0 {
		end++
	}
	n = n[:end]
	for len(n) > 1 && n[0] == '0' {
		n = n[1:]
	}
	mix(n)
	const hex = "0123456789abcdef"
	tag[0] = guardTagMark
	for i := 1; i < guardTagLen; i++ {
		tag[i] = hex[(h>>uint(64-4*i))&0xf]
	}
	return tag
}

// guardWalkHeaders calls f for each header line of d from hdr to the empty line, leniently:
// lines with a lone CR or LF, or without a colon, are skipped; folded lines are joined.
func guardWalkHeaders(d []byte, hdr int, f func(id guardHdr, val []byte)) {
	i := hdr
	for i < len(d) {
		stop, next, ok := guardLineEnd(d, i)
		if ok && stop == i {
			return // the empty line
		}
		good := ok
		for next < len(d) && (d[next] == ' ' || d[next] == '\t') {
			cstop, cnext, cok := guardLineEnd(d, next)
			good = good && cok
			stop, next = cstop, cnext
		}
		if good {
			if colon := bytes.IndexByte(d[i:stop], ':'); colon > 0 {
				if name := guardTrim(d[i : i+colon]); guardIsToken(name) {
					f(guardIdentify(name), d[i+colon+1:stop])
				}
			}
		}
		if next <= i {
			return
		}
		i = next
	}
}
