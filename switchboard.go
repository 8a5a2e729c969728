package switchboard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/sip"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/espeak"
)

// ErrServerClosed is returned by Serve, ListenAndServe and Dial after Shutdown or Close.
var ErrServerClosed = call.ErrServerClosed

// Config configures a Switchboard. The zero value of each field selects the documented
// default; a Config must not be modified after it is passed to New.
type Config struct {
	// Handler serves inbound calls. Nil rejects every inbound call with 480.
	Handler call.Handler
	// ListenAddr is the address ListenAndServe binds for UDP and TCP, host:port. Empty
	// means "127.0.0.1:5060".
	ListenAddr string
	// TLSAddr, when set, is where ListenAndServe also serves SIP over TLS (host:port,
	// conventionally 5061), with TLSConfig's certificate.
	TLSAddr string
	// TLSConfig holds our certificate for serving TLS and the roots for verifying the
	// peers we dial over TLS. Nil means no TLS serving and system roots for dialing.
	TLSConfig *tls.Config
	// AdvertiseAddr is the IP written in Contact, Via and SDP, for when the listening
	// address is not the one peers reach (NAT, 0.0.0.0). Empty means the listening IP.
	AdvertiseAddr string
	// RTPPorts is the UDP port range for media. Zero means 10000-20000.
	RTPPorts rtpsession.PortRange
	// Codecs in preference order. Empty means media.DefaultCodecs().
	Codecs media.CodecSet
	// Access restricts who may call in: source networks (others get 403) and digest
	// credentials (unauthenticated INVITEs get 401). The zero value admits everyone.
	Access sip.AccessControl
	// MaxCalls limits concurrent calls; INVITEs beyond it get 503. Zero means no limit.
	MaxCalls int
	// MediaTimeout hangs up calls that receive no RTP for this long. Zero means 60 s;
	// negative disables it.
	MediaTimeout time.Duration
	// SessionExpires is the RFC 4028 session interval (refreshes keep calls whose peer
	// vanished from living forever). Zero means 30 minutes; negative disables.
	SessionExpires time.Duration
	// MinSE is the shortest session interval accepted. Zero means 90 s.
	MinSE time.Duration
	// SRTP secures call media with SRTP keyed by SDES (see call.Config.SRTP):
	// sip.SRTPOff (the zero value) is plain RTP, sip.SRTPOffer prefers SRTP and falls
	// back to plain RTP, sip.SRTPRequire accepts only SRTP (488 for inbound offers
	// without it; Dial fails on a plain answer). The keys travel in the SDP: serve and
	// dial SIP over TLS (TLSAddr, StartTLS, ";transport=tls" targets), or they are
	// readable on the wire, and a warning is logged for each such call.
	SRTP sip.SRTPMode
	// STT is the speech recognizer calls use for Transcribe and speech Gather (e.g.
	// stt/pocketsphinx). Nil means none.
	STT stt.Recognizer
	// TTS is the speech engine of Speak. Nil means espeak-ng (tts/espeak), one instance
	// shared by all calls, when the program is installed; without it Speak fails with
	// an error wrapping tts.ErrUnavailable that says what to install. Wrap an engine in
	// tts/cache to synthesize repeated prompts once.
	TTS tts.Synthesizer
	// URLCache keeps the audio files Play downloads by URL. Nil means one cache for
	// this Switchboard with call.URLCacheOptions defaults (64 MiB).
	URLCache *call.URLCache
	// InbandDTMF detects DTMF tones in callers' audio as well (see call.Config).
	InbandDTMF bool
	// DTMFMode is how SendDTMF sends digits: call.DTMFAuto (zero: RFC 4733 when the peer
	// negotiated it, else SIP INFO), call.DTMFRFC4733 or call.DTMFInfo.
	DTMFMode call.DTMFMode
	// OnEvent, if set, sees every event of every call (inbound and outbound) as it
	// happens: the Switchboard-wide event stream, for logging and metrics. It runs on
	// the call's event goroutine and must not block for long.
	OnEvent func(c *call.Call, ev call.Event)
	// UserAgent is the User-Agent header. Empty means "switchboard".
	UserAgent string
	// Logger receives logs. Nil means slog.Default().
	Logger *slog.Logger
}

// Switchboard is an embedded SIP user agent: it serves inbound calls to a Handler and
// places outbound calls with Dial.
type Switchboard struct {
	cfg    Config
	log    *slog.Logger
	ep     *sip.Endpoint
	clocks *rtpsession.ClockPool // one pacing goroutine per CPU, shared by all calls

	mu        sync.Mutex
	calls     map[*call.Call]struct{}
	serving   bool
	draining  bool
	closed    bool
	callsWG   sync.WaitGroup
	serveWG   sync.WaitGroup
	listeners []net.Listener
	regs      []*sip.Registration
	ln        net.PacketConn
}

// New makes a Switchboard. Nothing is started until Serve or ListenAndServe.
func New(cfg Config) (*Switchboard, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:5060"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AdvertiseAddr != "" {
		if _, err := netip.ParseAddr(cfg.AdvertiseAddr); err != nil {
			return nil, fmt.Errorf("switchboard: AdvertiseAddr %q: %w", cfg.AdvertiseAddr, err)
		}
	}
	if cfg.TTS == nil {
		// Without the program each call reports it when it speaks.
		if e, err := espeak.New(espeak.Config{}); err == nil {
			cfg.TTS = e
		}
	}
	if cfg.URLCache == nil {
		cfg.URLCache = call.NewURLCache(call.URLCacheOptions{})
	}
	s := &Switchboard{cfg: cfg, log: cfg.Logger, calls: map[*call.Call]struct{}{}, clocks: rtpsession.NewClockPool(0, 0)}
	ep, err := sip.NewEndpoint(sip.EndpointConfig{
		Host: cfg.AdvertiseAddr, UserAgent: cfg.UserAgent, Logger: cfg.Logger, Access: cfg.Access, TLSConfig: cfg.TLSConfig,
	},
		s.serveInvite, s.optionsStatus)
	if err != nil {
		_ = s.clocks.Close()
		return nil, fmt.Errorf("switchboard: %w", err)
	}
	s.ep = ep
	return s, nil
}

// ListenAndServe listens on Config.ListenAddr (UDP and TCP) and Config.TLSAddr (TLS, if
// set) and serves until Shutdown or Close, then returns ErrServerClosed.
func (s *Switchboard) ListenAndServe() error {
	conn, err := net.ListenPacket("udp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("switchboard: %w", err)
	}
	if err := s.bind(conn); err != nil {
		return err
	}
	l, err := net.Listen("tcp", conn.LocalAddr().String())
	if err != nil {
		conn.Close()
		return fmt.Errorf("switchboard: %w", err)
	}
	if err := s.StartTCP(l); err != nil {
		conn.Close()
		return err
	}
	if s.cfg.TLSAddr != "" {
		if s.cfg.TLSConfig == nil {
			conn.Close()
			return errors.New("switchboard: TLSAddr set without TLSConfig")
		}
		tl, err := tls.Listen("tcp", s.cfg.TLSAddr, s.cfg.TLSConfig)
		if err != nil {
			conn.Close()
			return fmt.Errorf("switchboard: %w", err)
		}
		if err := s.StartTLS(tl); err != nil {
			conn.Close()
			return err
		}
	}
	return s.serveBound(conn)
}

// StartTCP serves SIP over TCP on l in the background. Start (UDP) must have been
// called first: the UDP socket sets the Switchboard's address.
func (s *Switchboard) StartTCP(l net.Listener) error {
	return s.startStream(l, s.ep.ServeTCP)
}

// StartTLS serves SIP over TLS on l (from tls.Listen or tls.NewListener) in the
// background. Start (UDP) must have been called first.
func (s *Switchboard) StartTLS(l net.Listener) error {
	return s.startStream(l, s.ep.ServeTLS)
}

func (s *Switchboard) startStream(l net.Listener, serve func(net.Listener) error) error {
	s.mu.Lock()
	if s.closed || s.draining {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.ln == nil {
		s.mu.Unlock()
		l.Close()
		return errors.New("switchboard: Start (UDP) before StartTCP/StartTLS")
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := serve(l); err != nil && !s.stopped() {
			s.log.Error("switchboard: serve", "err", err)
		}
	}()
	return nil
}

// Start binds conn and serves it in the background (a goroutine the Switchboard owns;
// Close stops and waits for it). When Start returns, the Switchboard can place calls and
// URI is valid.
func (s *Switchboard) Start(conn net.PacketConn) error {
	if err := s.bind(conn); err != nil {
		return err
	}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := s.ep.Serve(conn); err != nil && !s.stopped() {
			s.log.Error("switchboard: serve", "err", err)
		}
	}()
	return nil
}

// Serve serves SIP on conn until Shutdown or Close, then returns ErrServerClosed. The
// Switchboard closes conn when it stops.
func (s *Switchboard) Serve(conn net.PacketConn) error {
	if err := s.bind(conn); err != nil {
		return err
	}
	return s.serveBound(conn)
}

func (s *Switchboard) serveBound(conn net.PacketConn) error {
	err := s.ep.Serve(conn)
	if s.stopped() {
		return ErrServerClosed
	}
	return err
}

func (s *Switchboard) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.draining
}

func (s *Switchboard) bind(conn net.PacketConn) error {
	s.mu.Lock()
	if s.closed || s.draining {
		s.mu.Unlock()
		conn.Close()
		return ErrServerClosed
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("switchboard: already serving")
	}
	s.serving = true
	s.mu.Unlock()
	if err := s.ep.Bind(conn.LocalAddr()); err != nil {
		conn.Close()
		return fmt.Errorf("switchboard: %w", err)
	}
	s.mu.Lock()
	s.ln = conn
	s.mu.Unlock()
	return nil
}

// Addr is the address Serve is serving on (nil before).
func (s *Switchboard) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.LocalAddr()
}

// URI returns a SIP URI that reaches this Switchboard for user (e.g. "sip:alice@127.0.0.1:5060").
func (s *Switchboard) URI(user string) string {
	u := s.ep.Contact()
	u.User = user
	return u.String()
}

func (s *Switchboard) callConfig() call.Config {
	cc := call.Config{
		Codecs: s.cfg.Codecs, RTPPorts: s.cfg.RTPPorts, Clock: s.clocks.Clock(),
		MediaTimeout: s.cfg.MediaTimeout, Logger: s.log,
		SessionExpires: s.cfg.SessionExpires, MinSE: s.cfg.MinSE, OnEvent: s.cfg.OnEvent,
		STT:  s.cfg.STT,
		SRTP: s.cfg.SRTP,
		TTS:  s.cfg.TTS, URLCache: s.cfg.URLCache, InbandDTMF: s.cfg.InbandDTMF, DTMFMode: s.cfg.DTMFMode,
	}
	if a := s.Addr(); a != nil {
		if ua, ok := a.(*net.UDPAddr); ok {
			if ip, ok := netip.AddrFromSlice(ua.IP); ok && !ip.IsUnspecified() {
				cc.RTPAddr = ip.Unmap()
			}
		}
	}
	if s.cfg.AdvertiseAddr != "" {
		cc.AdvertiseAddr = netip.MustParseAddr(s.cfg.AdvertiseAddr)
	}
	return cc
}

// admit registers a new call, or says why not.
func (s *Switchboard) admit() (ok bool, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.draining {
		return false, 503
	}
	if s.cfg.MaxCalls > 0 && len(s.calls) >= s.cfg.MaxCalls {
		return false, 503
	}
	s.callsWG.Add(1)
	return true, 0
}

func (s *Switchboard) track(c *call.Call) {
	s.mu.Lock()
	s.calls[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Switchboard) untrack(c *call.Call) {
	s.mu.Lock()
	delete(s.calls, c)
	s.mu.Unlock()
	s.callsWG.Done()
}

func (s *Switchboard) serveInvite(d *sip.ServerDialog) {
	if ok, code := s.admit(); !ok {
		_ = d.Respond(code, "Service Unavailable", nil)
		return
	}
	h := s.cfg.Handler
	if h == nil {
		h = call.HandlerFunc(func(context.Context, *call.Call) error { return nil })
	}
	// The handler runs for every INVITE; tracking starts as it does, so Close can hang
	// up calls whose handler is running.
	tracked := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		s.track(c)
		return h.ServeCall(ctx, c)
	})
	c := call.Serve(d, s.callConfig(), tracked)
	// Wait for the call's goroutines (event delivery ends at most EventGrace later).
	_ = c.Wait(context.Background())
	s.untrack(c)
}

func (s *Switchboard) optionsStatus() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining || s.closed {
		return 503
	}
	return 200
}

// Dial places a call to target (a SIP URI such as "sip:bob@127.0.0.1:5080") and
// returns it once answered; see call.Dial for the errors.
func (s *Switchboard) Dial(ctx context.Context, target string, opts call.DialOptions) (*call.Call, error) {
	if ok, _ := s.admit(); !ok {
		return nil, ErrServerClosed
	}
	c, err := call.Dial(ctx, s.ep, target, s.callConfig(), opts)
	if err != nil {
		s.callsWG.Done()
		return nil, err
	}
	s.track(c)
	// No goroutine while the call lives: one starts when it ends, to wait for the
	// call's own goroutines before Close may return.
	context.AfterFunc(c.Context(), func() {
		_ = c.Wait(context.Background())
		s.untrack(c)
	})
	return c, nil
}

// Register binds an address of record at a registrar (a PBX or SIP trunk) to this
// Switchboard, answering digest challenges, and keeps it registered: it refreshes before
// expiry and retries with backoff after failures. It returns once the first REGISTER
// succeeded. Close (or the Registration's Close) removes the binding.
func (s *Switchboard) Register(ctx context.Context, opts sip.RegisterOptions) (*sip.Registration, error) {
	if s.stopped() {
		return nil, ErrServerClosed
	}
	r, err := s.ep.Register(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.regs = append(s.regs, r)
	s.mu.Unlock()
	return r, nil
}

// Calls is the number of live calls.
func (s *Switchboard) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Shutdown drains: new INVITEs get 503 and OPTIONS answer 503 (so a load balancer stops
// sending calls here), live calls continue until they end or ctx ends. Then it closes
// like Close. It returns ctx's error if calls were still up when ctx ended.
func (s *Switchboard) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.callsWG.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return errors.Join(err, s.Close())
}

// Close hangs up every call, stops serving and waits for every goroutine. It is
// idempotent.
func (s *Switchboard) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	calls := make([]*call.Call, 0, len(s.calls))
	for c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Hangup(ctx, sip.CauseNormalClearing)
		}()
	}
	wg.Wait()
	s.callsWG.Wait()
	s.mu.Lock()
	regs := s.regs
	s.mu.Unlock()
	for _, r := range regs {
		_ = r.Close(ctx) // unregister; a registrar that does not answer in time is not waited for
	}
	err := s.ep.Close()
	s.mu.Lock()
	ln, listeners := s.ln, s.listeners
	s.mu.Unlock()
	for _, l := range listeners {
		_ = l.Close()
	}
	if ln != nil {
		// sipgo does not close sockets handed to ServeUDP; Serve returns once it is closed.
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
	}
	s.serveWG.Wait()
	return errors.Join(err, s.clocks.Close())
}
