package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
)

// Re-exported sipgo message types, so packages above this one name them without importing
// sipgo (this package is the only one that does).
type (
	Request           = sipgosip.Request
	Response          = sipgosip.Response
	ServerTransaction = sipgosip.ServerTransaction
	URI               = sipgosip.Uri
	Header            = sipgosip.Header
)

// ParseURI parses a SIP URI such as "sip:alice@127.0.0.1:5060".
func ParseURI(s string) (URI, error) {
	var u URI
	if err := sipgosip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("sip: bad URI %q: %w", s, err)
	}
	return u, nil
}

// NewHeader makes a header after checking it cannot inject anything (see CheckHeader).
func NewHeader(name, value string) (Header, error) {
	if err := CheckHeader(name, value); err != nil {
		return nil, err
	}
	return sipgosip.NewHeader(name, value), nil
}

// EndpointConfig configures an Endpoint.
type EndpointConfig struct {
	// Host is the address written in Contact and Via headers. Empty means the address
	// the socket is bound to.
	Host string
	// UserAgent is the User-Agent header value. Empty means "switchboard".
	UserAgent string
	// Logger receives the endpoint's logs. Nil means slog.Default().
	Logger *slog.Logger
	// Access restricts who may call in (source networks, digest credentials). The
	// zero value admits everyone.
	Access AccessControl
	// TLSConfig is used for outbound TLS connections (verification of the peer's
	// certificate). Nil means the system defaults.
	TLSConfig *tls.Config
}

// InviteHandler is called for each new (dialog-creating) INVITE, on a goroutine of its own.
// The INVITE transaction lives while the handler runs: it must respond (reject or answer)
// before returning, or the endpoint answers 480 on its behalf.
type InviteHandler func(d *ServerDialog)

// Endpoint is a SIP user agent on one socket: it receives requests, keeps the table of
// live dialogs and routes in-dialog requests to them, and sends requests.
type Endpoint struct {
	cfg     EndpointConfig
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dua     *sipgo.DialogUA
	contact sipgosip.ContactHeader

	onInvite  InviteHandler
	onOptions func() int
	auth      *authenticator

	mu       sync.Mutex
	dialogs  map[string]dialogRoute
	closed   bool
	contacts map[string]sipgosip.ContactHeader // by transport: "UDP", "TCP", "TLS"
	guard    *Guard

	inflight atomic.Int64 // request handlers running

	// bg tracks background work that outlives a caller (cancelling an INVITE the caller
	// gave up on); closing ends it.
	bg         sync.WaitGroup
	closing    context.Context
	endClosing context.CancelFunc
}

type dialogRoute interface {
	handleRequest(req *Request, tx ServerTransaction)
}

// NewEndpoint makes an endpoint. Call Serve to start it.
func NewEndpoint(cfg EndpointConfig, onInvite InviteHandler, onOptions func() int) (*Endpoint, error) {
	if cfg.UserAgent == "" {
		cfg.UserAgent = "switchboard"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(cfg.UserAgent)}
	if cfg.TLSConfig != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(cfg.TLSConfig))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	e := &Endpoint{
		cfg: cfg, log: log, ua: ua, srv: srv,
		onInvite: onInvite, onOptions: onOptions,
		dialogs: map[string]dialogRoute{}, contacts: map[string]sipgosip.ContactHeader{},
	}
	e.closing, e.endClosing = context.WithCancel(context.Background())
	if len(cfg.Access.AllowedNetworks) > 0 || cfg.Access.Credentials != nil {
		e.auth = newAuthenticator(cfg.Access)
	}
	srv.OnInvite(e.track(e.handleInvite))
	for _, m := range []sipgosip.RequestMethod{sipgosip.ACK, sipgosip.BYE, sipgosip.INFO, sipgosip.UPDATE,
		sipgosip.NOTIFY, sipgosip.REFER, sipgosip.MESSAGE, sipgosip.PRACK} {
		srv.OnRequest(m, e.track(e.handleInDialog))
	}
	srv.OnOptions(e.track(e.handleOptions))
	srv.OnNoRoute(func(req *Request, tx ServerTransaction) {
		res := sipgosip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sipgosip.NewHeader("Allow", allowHeader))
		_ = tx.Respond(res)
	})
	return e, nil
}

const allowHeader = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, PRACK"

// Serve serves SIP over UDP on conn until Close. The endpoint's Contact uses conn's
// address (or cfg.Host). Call Bind first to be able to send requests before Serve runs.
func (e *Endpoint) Serve(conn net.PacketConn) error {
	e.mu.Lock()
	bound := e.dua != nil
	e.mu.Unlock()
	if !bound {
		if err := e.Bind(conn.LocalAddr()); err != nil {
			return err
		}
	}
	// Malformed datagrams are answered (400, 505, 416, 420, ...) or dropped before the
	// stack parses them; see Guard.
	g := NewGuard(conn, GuardConfig{Logger: e.log, Supported: []string{"timer"}})
	e.mu.Lock()
	e.guard = g
	e.mu.Unlock()
	return e.srv.ServeUDP(g)
}

// Bind sets the endpoint's own address (Contact, Via) and readies it to send requests.
func (e *Endpoint) Bind(a net.Addr) error {
	host, portStr, err := net.SplitHostPort(a.String())
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	port, _ := strconv.Atoi(portStr)
	if e.cfg.Host != "" {
		host = e.cfg.Host
	}
	cli, err := sipgo.NewClient(e.ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port), sipgo.WithClientLogger(e.log))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cli = cli
	e.contact = sipgosip.ContactHeader{Address: sipgosip.Uri{Scheme: "sip", Host: host, Port: port}}
	e.contacts["UDP"] = e.contact
	e.dua = &sipgo.DialogUA{Client: cli, ContactHDR: e.contact}
	return nil
}

// ServeTCP serves SIP over TCP on l until Close. Bind (or Serve on UDP) must have set
// the endpoint's address first; the TCP contact uses l's port.
func (e *Endpoint) ServeTCP(l net.Listener) error {
	e.addContact("TCP", l.Addr())
	return e.srv.ServeTCP(l)
}

// ServeTLS serves SIP over TLS on l (a listener from tls.Listen or tls.NewListener)
// until Close.
func (e *Endpoint) ServeTLS(l net.Listener) error {
	e.addContact("TLS", l.Addr())
	return e.srv.ServeTLS(l)
}

func (e *Endpoint) addContact(transport string, a net.Addr) {
	host, portStr, _ := net.SplitHostPort(a.String())
	port, _ := strconv.Atoi(portStr)
	if e.cfg.Host != "" {
		host = e.cfg.Host
	}
	u := sipgosip.Uri{Scheme: "sip", Host: host, Port: port, UriParams: sipgosip.NewParams()}
	u.UriParams.Add("transport", strings.ToLower(transport))
	e.mu.Lock()
	e.contacts[transport] = sipgosip.ContactHeader{Address: u}
	e.mu.Unlock()
}

// contactFor is our Contact for a transport ("UDP", "TCP", "TLS"); the UDP one when we
// do not listen on that transport (the peer then reaches us over UDP).
func (e *Endpoint) contactFor(transport string) *sipgosip.ContactHeader {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.contacts[strings.ToUpper(transport)]
	if !ok {
		c = e.contact
	}
	return c.Clone()
}

// Contact is the endpoint's contact URI (valid once Serve has been called).
func (e *Endpoint) Contact() URI {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.contact.Address
}

// Close stops the endpoint and its transports. It is idempotent.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	cli := e.cli
	e.mu.Unlock()
	e.endClosing()
	// Let requests already being handled finish before the transports close: a
	// response written after that makes sipgo open a fresh socket (and a reader
	// goroutine nobody stops). New requests are refused meanwhile (see track).
	// Background work (cancelling an abandoned INVITE, taking down a late answer) gets
	// the same chance, since it too sends messages.
	deadline := time.Now().Add(2 * time.Second)
	for e.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	bgDone := make(chan struct{})
	go func() { e.bg.Wait(); close(bgDone) }()
	select {
	case <-bgDone:
	case <-time.After(time.Until(deadline)):
	}
	err := e.srv.Close()
	if cli != nil {
		err = errors.Join(err, cli.Close())
	}
	// Closing the user agent terminates its transactions, which ends background work
	// still waiting on one.
	err = errors.Join(err, e.ua.Close())
	<-bgDone // what did not finish in time ends now that its transactions are gone
	return err
}

// track counts a request handler in flight while it runs; once the endpoint is closing
// it drops the request instead (the peer retransmits to whoever serves it next).
func (e *Endpoint) track(h func(*Request, ServerTransaction)) func(*Request, ServerTransaction) {
	return func(req *Request, tx ServerTransaction) {
		e.inflight.Add(1)
		defer e.inflight.Add(-1)
		if e.closing.Err() != nil {
			return
		}
		h(req, tx)
	}
}

func (e *Endpoint) handleOptions(req *Request, tx ServerTransaction) {
	code := 200
	if e.onOptions != nil {
		code = e.onOptions()
	}
	res := sipgosip.NewResponseFromRequest(req, code, reasonPhrase(code), nil)
	res.AppendHeader(sipgosip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sipgosip.NewHeader("Accept", "application/sdp"))
	_ = tx.Respond(res)
}

func (e *Endpoint) handleInvite(req *Request, tx ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			e.handleInDialog(req, tx) // re-INVITE
			return
		}
	}
	e.mu.Lock()
	dua, closed := e.dua, e.closed
	e.mu.Unlock()
	if closed || dua == nil {
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	if e.auth != nil {
		if v := e.auth.check(req); v.code != 0 {
			res := sipgosip.NewResponseFromRequest(req, v.code, v.reason, nil)
			if v.challenge != "" {
				res.AppendHeader(sipgosip.NewHeader("WWW-Authenticate", v.challenge))
			}
			e.log.Info("sip: INVITE refused", "status", v.code, "source", req.Source())
			_ = tx.Respond(res)
			return
		}
	}
	sd, err := dua.ReadInvite(req, tx)
	if err != nil {
		e.log.Debug("sip: bad INVITE", "err", err)
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	d := &ServerDialog{DialogServerSession: sd, ep: e, inbox: newInbox()}
	e.register(sd.ID, d)
	defer e.unregister(sd.ID)
	e.onInvite(d)
	if !d.Finalized() && d.Context().Err() == nil {
		// The handler returned without a final response.
		_ = d.Respond(480, "Temporarily Unavailable", nil)
	}
}

func (e *Endpoint) register(id string, r dialogRoute) {
	e.mu.Lock()
	e.dialogs[id] = r
	e.mu.Unlock()
}

func (e *Endpoint) unregister(id string) {
	e.mu.Lock()
	delete(e.dialogs, id)
	e.mu.Unlock()
}

// GuardStats reports what the UDP guard passed, answered and dropped (zero before Serve).
func (e *Endpoint) GuardStats() GuardStats {
	e.mu.Lock()
	g := e.guard
	e.mu.Unlock()
	if g == nil {
		return GuardStats{}
	}
	return g.Stats()
}

// Dialogs is the number of live dialogs.
func (e *Endpoint) Dialogs() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.dialogs)
}

func (e *Endpoint) handleInDialog(req *Request, tx ServerTransaction) {
	var route dialogRoute
	if id, err := sipgosip.DialogIDFromRequestUAS(req); err == nil {
		e.mu.Lock()
		route = e.dialogs[id]
		e.mu.Unlock()
	}
	if route == nil {
		if id, err := sipgosip.DialogIDFromRequestUAC(req); err == nil {
			e.mu.Lock()
			route = e.dialogs[id]
			e.mu.Unlock()
		}
	}
	if route == nil {
		if req.IsAck() {
			return // a stray ACK gets no response (RFC 3261 §17.2.3)
		}
		if to := req.To(); to != nil && !to.Params.Has("tag") {
			// Outside any dialog: we do not serve this method there.
			res := sipgosip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
			res.AppendHeader(sipgosip.NewHeader("Allow", allowHeader))
			_ = tx.Respond(res)
			return
		}
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	route.handleRequest(req, tx)
}

// Invite sends an INVITE and returns the client dialog; the caller waits for the answer
// with WaitAnswer.
func (e *Endpoint) Invite(ctx context.Context, to URI, from *sipgosip.FromHeader, body []byte, headers ...Header) (*ClientDialog, error) {
	e.mu.Lock()
	dua := e.dua
	e.mu.Unlock()
	if dua == nil {
		return nil, errors.New("sip: endpoint not serving")
	}
	req := sipgosip.NewRequest(sipgosip.INVITE, to)
	if from != nil {
		req.AppendHeader(from)
	}
	req.AppendHeader(e.contactFor(req.Transport()))
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range headers {
		req.AppendHeader(h)
	}
	cs, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: invite: %w", err)
	}
	return &ClientDialog{DialogClientSession: cs, ep: e, inbox: newInbox()}, nil
}

func reasonPhrase(code int) string {
	switch code {
	case 200:
		return "OK"
	case 503:
		return "Service Unavailable"
	}
	return ""
}

// NewResponse builds a response to req.
func NewResponse(req *Request, code int, reason string, body []byte) *Response {
	return sipgosip.NewResponseFromRequest(req, code, reason, body)
}

// NewSDPResponse builds a 200 OK to req carrying an SDP body.
func NewSDPResponse(req *Request, body []byte) *Response {
	return sipgosip.NewSDPResponseFromRequest(req, body)
}

// FromHeader is a From header.
type FromHeader = sipgosip.FromHeader

// NewFromHeader makes a From header with a fresh tag.
func NewFromHeader(displayName string, u URI) *FromHeader {
	params := sipgosip.NewParams()
	params.Add("tag", sipgosip.GenerateTagN(16))
	return &FromHeader{DisplayName: displayName, Address: u, Params: params}
}
