package call

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/sip"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/tts"
)

// Direction says who placed the call.
type Direction uint8

// Directions.
const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}

// State is where a call is in its life. It only moves forward.
type State int32

// States.
const (
	StateInitiated State = iota // INVITE received or sent
	StateRinging                // 180 sent or received
	StateEarly                  // 183 with media
	StateAnswered               // 200 OK
	StateEnded                  // BYE, CANCEL, rejection, failure
)

func (s State) String() string {
	switch s {
	case StateRinging:
		return "ringing"
	case StateEarly:
		return "early"
	case StateAnswered:
		return "answered"
	case StateEnded:
		return "ended"
	}
	return "initiated"
}

// Config is what calls share: codecs, media addresses and ports, timeouts, logging.
// Package switchboard fills it from its own Config; the zero value of each field selects
// the documented default.
type Config struct {
	// Codecs in preference order. Empty means media.DefaultCodecs().
	Codecs media.CodecSet
	// RTPAddr is the local IP RTP sockets bind to. Zero means 127.0.0.1.
	RTPAddr netip.Addr
	// AdvertiseAddr is the IP written in SDP. Zero means RTPAddr.
	AdvertiseAddr netip.Addr
	// RTPPorts is the port range for RTP. Zero means 10000-20000.
	RTPPorts rtpsession.PortRange
	// Clock paces the media of every call that uses this Config. Nil: one per call.
	Clock *rtpsession.Clock
	// MediaTimeout hangs up a call when no RTP arrived for this long (while not on hold).
	// Zero means 60 s; negative disables it.
	MediaTimeout time.Duration
	// EventGrace is how long, after a call ended, undelivered events wait for the
	// application to read them before being dropped. Zero means 5 s.
	EventGrace time.Duration
	// SessionExpires is the RFC 4028 session interval we ask for on outbound calls and
	// grant on inbound ones whose caller supports timers. Zero means 30 minutes;
	// negative disables session timers.
	SessionExpires time.Duration
	// MinSE is the shortest session interval we accept (RFC 4028 Min-SE); shorter
	// requests get 422. Zero means 90 s, the RFC's floor (tests use less).
	MinSE time.Duration
	// SRTP secures media with SRTP keyed by SDES (RFC 4568): SRTPOff (the zero value)
	// is plain RTP; SRTPOffer offers RTP/SAVP with fresh keys for each call and
	// accepts plain answers, and either kind of offer; SRTPRequire accepts only
	// secure media: inbound offers without it get 488, and Dial fails on a plain
	// answer. SDES keys travel in the SDP, so they protect the media only as far as
	// the signalling is protected: use SIP over TLS (every call that keys SRTP over
	// UDP or TCP logs a warning), and trust every proxy on the way.
	SRTP sip.SRTPMode
	// Logger receives call logs. Nil means slog.Default().
	Logger *slog.Logger
	// STT is the speech recognizer Transcribe (and speech gathering) use. Nil means
	// none: Transcribe then needs one in its options.
	STT stt.Recognizer
	// TTS is the speech engine Speak uses. Nil means espeak-ng (tts/espeak), if the
	// program is installed; Speak fails with an error wrapping tts.ErrUnavailable if not.
	TTS tts.Synthesizer
	// URLCache keeps the files Play downloads by URL. Nil means one per call.
	URLCache *URLCache
	// InbandDTMF detects DTMF tones in the caller's audio (media/dtmf) and delivers them
	// as digits with Source "inband", once per key press also when the peer sends the
	// same key as RFC 4733 events or SIP INFO. It costs a detector per call.
	InbandDTMF bool
	// DTMFMode is how SendDTMF sends digits. Zero means DTMFAuto (RFC 4733 when
	// negotiated, else SIP INFO).
	DTMFMode DTMFMode
	// OnEvent, if set, sees every event of every call as it happens, before the call's
	// Events channel delivers it (for logging and metrics). It runs on the call's event
	// goroutine, never on SIP or media goroutines; it must not block for long, and it
	// must not call the call's blocking methods.
	OnEvent func(c *Call, ev Event)
}

func (c Config) withDefaults() Config {
	if len(c.Codecs) == 0 {
		c.Codecs = media.DefaultCodecs()
	}
	if !c.RTPAddr.IsValid() {
		c.RTPAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if !c.AdvertiseAddr.IsValid() {
		c.AdvertiseAddr = c.RTPAddr
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = 60 * time.Second
	}
	if c.EventGrace == 0 {
		c.EventGrace = 5 * time.Second
	}
	if c.SessionExpires == 0 {
		c.SessionExpires = defaultSessionExpires
	}
	if c.MinSE == 0 {
		c.MinSE = defaultMinSE
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Call is one call leg. Its methods are safe for concurrent use.
type Call struct {
	cfg    Config
	log    *slog.Logger
	id     string
	dir    Direction
	callID string
	from   string
	to     string

	state  atomic.Int32
	events *eventQueue

	// ctx ends when the call ends; its cause is a *HangupCause.
	ctx    context.Context
	cancel context.CancelCauseFunc

	server *sip.ServerDialog // inbound
	client *sip.ClientDialog // outbound

	mu        sync.Mutex
	sess      *rtpsession.Session
	neg       sip.Negotiated
	local     sip.LocalMedia
	rtpConn   net.PacketConn
	rtcpConn  net.PacketConn
	finalSent bool   // a final response was sent (inbound)
	answer    []byte // our SDP answer (inbound)
	userState any
	idem      map[string]*idemEntry
	timer     *sessionTimer

	sessionRefreshes atomic.Int64 // refreshes sent or received

	wg           sync.WaitGroup
	endOnce      sync.Once
	released     chan struct{}
	dispatchOnce sync.Once
	dispatching  atomic.Bool
	audio        fanout // the caller's audio to its listeners
	// async tracks hang-ups started from the audio pump (answering machine
	// detection); waited for after the pump has stopped, so no Add races a Wait.
	async sync.WaitGroup

	amdMu      sync.Mutex
	amdDet     amd.Detection
	amdDecided bool
	amdGreet   amd.Greeting
	amdGreeted bool
	digits     digitHub // received digits to the verbs waiting for them
	verbs      verbState

	sent sentTap    // what we send, to the recordings
	recs recordings // running recordings, finished before the Hangup event
}

type idemEntry struct {
	done chan struct{}
	err  error
}

func newCall(cfg Config, dir Direction, callID, from, to string) *Call {
	cfg = cfg.withDefaults()
	c := &Call{
		cfg: cfg, dir: dir, callID: callID, from: from, to: to,
		id:       newID(),
		released: make(chan struct{}),
	}
	var hook func(Event)
	if cfg.OnEvent != nil {
		hook = func(ev Event) { cfg.OnEvent(c, ev) }
	}
	c.events = newEventQueue(cfg.EventGrace, hook)
	if hook != nil {
		c.startDispatcher()
	}
	c.log = cfg.Logger.With("call", c.id, "call_id", callID, "direction", dir.String())
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.events.push(Initiated{base: now(), Direction: dir, From: from, To: to})
	return c
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func now() base { return base{At: time.Now()} }

// ID is this leg's unique ID (the call_leg_id of the reference platforms).
func (c *Call) ID() string { return c.id }

// CallID is the SIP Call-ID.
func (c *Call) CallID() string { return c.callID }

// Transport is the SIP transport of the call's INVITE: "UDP", "TCP" or "TLS".
func (c *Call) Transport() string {
	if c.server != nil {
		return c.server.Invite().Transport()
	}
	if c.client != nil {
		return c.client.InviteRequest.Transport()
	}
	return ""
}

// Direction says whether we received or placed the call.
func (c *Call) Direction() Direction { return c.dir }

// From is the caller's URI; To is the callee's.
func (c *Call) From() string { return c.from }

// To is the callee's URI.
func (c *Call) To() string { return c.to }

// State is the call's current state.
func (c *Call) State() State { return State(c.state.Load()) }

// Context ends when the call ends; context.Cause returns the *HangupCause.
func (c *Call) Context() context.Context { return c.ctx }

// EventsDropped counts events that were still undelivered when the grace period after
// the call's end ran out (the application stopped reading Events).
func (c *Call) EventsDropped() int {
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	return c.events.dropped
}

// Events returns the call's event channel. Every event is delivered, in order, and the
// channel is closed after the Hangup event. Read it until it is closed; if the
// application stops reading, events still pending some seconds after the call ended are
// dropped (Config.EventGrace) so nothing leaks.
func (c *Call) Events() <-chan Event {
	c.startDispatcher()
	return c.events.out
}

// startDispatcher starts the goroutine that delivers events, the first time someone
// listens (Events, or a Config.OnEvent hook). A call nobody listens to keeps its few
// events in memory and costs no goroutine.
func (c *Call) startDispatcher() {
	c.dispatchOnce.Do(func() {
		c.dispatching.Store(true)
		go c.events.run()
	})
}

// SetUserState stores application data on the call (the in-process equivalent of the
// reference platforms' client_state); UserState returns it.
func (c *Call) SetUserState(v any) {
	c.mu.Lock()
	c.userState = v
	c.mu.Unlock()
}

// UserState returns what SetUserState stored.
func (c *Call) UserState() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userState
}

// Once runs f the first time it is called with key on this call, and returns that run's
// error to every caller with the same key (the reference platforms' command_id
// idempotency). Concurrent callers with the same key wait for the first.
func (c *Call) Once(key string, f func() error) error {
	c.mu.Lock()
	if c.idem == nil {
		c.idem = map[string]*idemEntry{}
	}
	if e, ok := c.idem[key]; ok {
		c.mu.Unlock()
		<-e.done
		return e.err
	}
	e := &idemEntry{done: make(chan struct{})}
	c.idem[key] = e
	c.mu.Unlock()
	defer close(e.done)
	e.err = f()
	return e.err
}

// SessionRefreshes counts RFC 4028 session refreshes sent or received so far.
func (c *Call) SessionRefreshes() int64 { return c.sessionRefreshes.Load() }

// Negotiated is the media agreed in SDP (zero before answer or early media).
func (c *Call) Negotiated() sip.Negotiated {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.neg
}

// setState moves the state forward (never back) and reports whether it moved.
func (c *Call) setState(s State) bool {
	for {
		old := c.state.Load()
		if State(old) >= s {
			return false
		}
		if c.state.CompareAndSwap(old, int32(s)) {
			return true
		}
	}
}

// ---- media ----

// Media returns the call's RTP session once media is up (answer or early media), or
// ErrNotAnswered. It plays audio (WriteFrame, paced; Clear; WaitPlayout) and reports
// statistics. Read the caller's audio with AudioReader or Listen, not with the session's
// ReadFrame, which they use.
func (c *Call) Media() (*rtpsession.Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		if c.State() == StateEnded {
			return nil, ErrCallEnded
		}
		return nil, ErrNotAnswered
	}
	return c.sess, nil
}

// AudioWriter returns the playout queue as a FrameWriter (see Media).
func (c *Call) AudioWriter() (media.FrameWriter, error) { return c.Media() }

// SendDTMF sends digits, each held for duration (zero means 100 ms), as RFC 4733
// telephone events or SIP INFO requests (Config.DTMFMode); 'w' in digits pauses 0.5 s
// and 'W' 1 s. It returns when they have been sent.
func (c *Call) SendDTMF(ctx context.Context, digits string, duration time.Duration) error {
	s, err := c.Media()
	if err != nil {
		return err
	}
	if duration == 0 {
		duration = 100 * time.Millisecond
	}
	return c.sendDTMF(ctx, s, digits, duration)
}

// allocMedia binds RTP (and RTCP) sockets and describes them for SDP.
func (c *Call) allocMedia() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rtpConn != nil {
		return nil
	}
	rtpConn, rtcpConn, err := rtpsession.Listen(c.cfg.RTPAddr, c.cfg.RTPPorts, false)
	if err != nil {
		return fmt.Errorf("call: media: %w", err)
	}
	c.rtpConn, c.rtcpConn = rtpConn, rtcpConn
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	sid := binary.BigEndian.Uint64(idb[:]) >> 2
	c.local = sip.LocalMedia{
		Addr: c.cfg.AdvertiseAddr, Port: port, Codecs: c.cfg.Codecs,
		SessionID: sid, Version: sid, SRTP: c.cfg.SRTP,
	}
	if c.cfg.SRTP != sip.SRTPOff {
		// Fresh keys for every call, one per suite we offer or accept.
		if c.local.Crypto, err = sip.NewCrypto(nil, sip.DefaultCryptoSuites()...); err != nil {
			return fmt.Errorf("call: media: %w", err)
		}
	}
	return nil
}

// startMedia starts the RTP session for negotiated media n.
func (c *Call) startMedia(n sip.Negotiated) error {
	fresh := false
	defer func() {
		if fresh {
			c.mediaStarted() // after the unlock: it reads the session through Media
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	var srtpCfg *rtpsession.SRTPConfig
	if p := n.SRTP; p != nil {
		profile, err := rtpsession.ParseSRTPProfile(string(p.Suite))
		if err != nil {
			return fmt.Errorf("call: media: %w", err)
		}
		srtpCfg = &rtpsession.SRTPConfig{
			Profile: profile, LocalKey: p.LocalKey, LocalSalt: p.LocalSalt,
			RemoteKey: p.RemoteKey, RemoteSalt: p.RemoteSalt, RemoteMKI: p.RemoteMKI,
		}
		if c.sess == nil && c.Transport() != "TLS" {
			c.log.Warn("SRTP keys were exchanged over unencrypted signalling: the media is only as private as the SIP path",
				"transport", c.Transport(), "suite", string(p.Suite))
		}
	}
	if c.sess == nil {
		// Later offers (hold, refresh) keep what this negotiation settled: the key in
		// use when secure, plain RTP when an SRTPOffer call fell back to it. Once
		// secure, a call stays secure: offers of plain RTP are refused from then on.
		switch {
		case n.SRTP != nil:
			c.local.SRTP = sip.SRTPRequire
			c.local.Crypto = []sip.Crypto{{Tag: n.SRTP.Tag, Suite: n.SRTP.Suite, Key: n.SRTP.LocalKey, Salt: n.SRTP.LocalSalt}}
		case c.local.SRTP == sip.SRTPOffer:
			c.local.SRTP, c.local.Crypto = sip.SRTPOff, nil
		}
	}
	c.neg = n
	if c.sess != nil {
		c.sess.SetRemoteAddr(net.UDPAddrFromAddrPort(n.Remote), net.UDPAddrFromAddrPort(n.RemoteRTCP))
		c.applyDirection(c.sess, n)
		// A renegotiation may have changed keys (a peer's new key in a re-INVITE);
		// unchanged keys keep their contexts.
		if err := c.sess.SetSRTP(srtpCfg); err != nil {
			return fmt.Errorf("call: media: %w", err)
		}
		return nil
	}
	cfg := rtpsession.Config{
		Codec: n.Codec, PayloadType: n.PayloadType, PTime: n.PTime,
		RemoteAddr:     net.UDPAddrFromAddrPort(n.Remote),
		RemoteRTCPAddr: net.UDPAddrFromAddrPort(n.RemoteRTCP),
		RTCPConn:       c.rtcpConn,
		OwnConns:       true,
		// Verbs push audio faster than real time and WriteFrame blocks while the queue
		// is full, so a short queue costs nothing in throughput; it keeps a call's
		// memory small and makes Clear (barge-in) drop little.
		QueueDuration: 240 * time.Millisecond,
		// Decoded frames wait this many ptimes for the application (or recorder, STT)
		// to read them; a consumer that keeps up needs one or two.
		ReadBuffer: 8,
		// 300 ms is as much jitter as a conversation tolerates; the buffer's memory is
		// sized from it.
		Jitter: rtpsession.JitterConfig{MaxDepth: 300 * time.Millisecond},
		Clock:  c.cfg.Clock,
		Logger: c.log,
		SRTP:   srtpCfg,
	}
	if n.DTMFPayloadType > 0 {
		cfg.TelephoneEventPT = uint8(n.DTMFPayloadType)
		cfg.TelephoneEventClockRate = n.DTMFClockRate
	}
	if c.cfg.MediaTimeout > 0 {
		cfg.InactivityTimeout = c.cfg.MediaTimeout
	} else {
		cfg.InactivityTimeout = -1
	}
	// Digits and inactivity arrive through hooks that only push an event (never
	// blocking the reader or the shared clock), so a call needs no goroutine to watch
	// its media.
	cfg.OnDTMF = func(d rtpsession.Digit) {
		c.receiveDigit(DTMF{base: base{At: d.At}, Digit: d.Digit, Duration: d.Duration, Source: "rfc4733"}, d.At)
	}
	cfg.OnInactive = c.mediaTimedOut
	cfg.OnSent = c.onSent // our side, for recordings; a no-op while none runs
	s, err := rtpsession.New(c.rtpConn, cfg)
	if err != nil {
		return fmt.Errorf("call: media: %w", err)
	}
	c.rtpConn, c.rtcpConn = nil, nil // owned by the session now
	c.applyDirection(s, n)
	c.sess = s
	fresh = true
	return nil
}

// applyDirection makes the session follow the negotiated directions: no RTP goes out
// when we must not send, and silence from a peer that does not send is not a media
// timeout.
func (c *Call) applyDirection(s *rtpsession.Session, n sip.Negotiated) {
	s.SetSending(n.Direction.Sends())
	s.SetHold(!n.RemoteDirection.Sends())
}

// mediaTimedOut runs on the pacing clock when no RTP arrived for MediaTimeout: it
// hangs up on a goroutine of its own (sending the BYE must not hold the clock).
func (c *Call) mediaTimedOut() {
	c.events.push(MediaTimeout{base: now()})
	c.log.Info("media timeout: hanging up")
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.hangup(ctx, &HangupCause{Name: "media_timeout", Q850: 102, By: Local})
	}()
}

// ---- in-dialog requests ----

func (c *Call) handleRequest(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case "ACK":
		// Consumed by the dialog layer (it confirms the dialog); nothing to answer.
	case "BYE":
		code := 200
		cause := &HangupCause{Name: "normal_clearing", Q850: sip.CauseNormalClearing, SIPCode: code, By: Remote}
		if h := req.GetHeader("Reason"); h != nil {
			if r, err := sip.ParseReason(h.Value()); err == nil && r.Protocol == "Q.850" && r.Cause < 128 {
				cause.Q850 = sip.Q850(r.Cause)
			}
		}
		c.end(cause)
	case "INFO":
		c.handleInfo(req, tx)
	case "INVITE":
		c.handleReinvite(req, tx)
	case "UPDATE":
		c.handleUpdate(req, tx)
	default:
		respond(tx, req, 501, "Not Implemented", nil)
	}
}

func (c *Call) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"), strings.HasPrefix(ct, "application/dtmf"):
		digit, dur, ok := parseDTMFInfo(string(req.Body()), strings.HasPrefix(ct, "application/dtmf-relay"))
		if !ok {
			respond(tx, req, 400, "Bad Request", nil)
			return
		}
		// The event goes in before the 200 leaves: the peer sends its next digit only
		// after our 200, and the stack handles each request on its own goroutine, so
		// this order is what keeps digits in order.
		c.receiveDigit(DTMF{base: now(), Digit: digit, Duration: dur, Source: "info"}, time.Now().Add(-dur))
		respond(tx, req, 200, "OK", nil)
	default:
		respond(tx, req, 200, "OK", nil)
	}
}

// parseDTMFInfo reads "Signal=5\r\nDuration=160" (application/dtmf-relay) or a bare
// digit (application/dtmf).
func parseDTMFInfo(body string, relay bool) (rune, time.Duration, bool) {
	var sig string
	dur := 100 * time.Millisecond
	if !relay {
		sig = strings.TrimSpace(body)
	} else {
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				sig = strings.TrimSpace(v)
			case "duration":
				var ms int
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &ms); err == nil && ms > 0 && ms < 60000 {
					dur = time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
	if len(sig) != 1 {
		return 0, 0, false
	}
	r := rune(strings.ToUpper(sig)[0])
	if !strings.ContainsRune("0123456789*#ABCD", r) {
		return 0, 0, false
	}
	return r, dur, true
}

func (c *Call) handleReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	local := c.local
	local.Version++
	c.local.Version = local.Version
	c.mu.Unlock()
	body := req.Body()
	if len(body) == 0 {
		respond(tx, req, 488, "Not Acceptable Here", nil) // offerless re-INVITE: not supported yet
		return
	}
	ans, n, err := sip.Answer(body, local)
	if err != nil {
		code, reason := 488, "Not Acceptable Here"
		if errors.Is(err, sip.ErrBadSDP) {
			code, reason = 400, "Bad Request"
		}
		respond(tx, req, code, reason, nil)
		return
	}
	wasHold := c.Negotiated().Hold()
	if err := c.startMedia(n); err != nil {
		respond(tx, req, 500, "Server Internal Error", nil)
		return
	}
	res := sip.NewSDPResponse(req, ans)
	c.sessionRefreshed(req, res)
	_ = tx.Respond(res)
	switch {
	case n.Hold() && !wasHold:
		c.events.push(Hold{base: now()})
	case !n.Hold() && wasHold:
		c.events.push(Unhold{base: now()})
	}
}

// handleUpdate answers an UPDATE (RFC 3311) without a body, which peers use to refresh
// a session timer cheaply; UPDATEs that change media are not supported yet.
func (c *Call) handleUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if len(req.Body()) > 0 {
		respond(tx, req, 488, "Not Acceptable Here", nil)
		return
	}
	res := sip.NewResponse(req, 200, "OK", nil)
	c.sessionRefreshed(req, res)
	_ = tx.Respond(res)
}

// sessionRefreshed notes that the peer refreshed the session (a re-INVITE or UPDATE,
// RFC 4028 §10) when a session timer runs, and restates the interval in our answer.
func (c *Call) sessionRefreshed(req *sip.Request, res *sip.Response) {
	c.mu.Lock()
	st := c.timer
	c.mu.Unlock()
	if st == nil {
		return
	}
	if v := headerValue(req, "Session-Expires", "x"); v != "" {
		if h, err := sip.NewHeader("Session-Expires", v); err == nil {
			res.AppendHeader(h)
		}
	}
	st.refreshed()
	c.sessionRefreshes.Add(1)
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte) {
	_ = tx.Respond(sip.NewResponse(req, code, reason, body))
}

// ---- ending ----

// Hangup ends the call with a Q.850 cause: an answered call with a BYE carrying the cause
// in a Reason header (RFC 3326), waiting for the peer's response or ctx; an inbound call
// not yet answered with the SIP status for the cause (RFC 3398; 480 for normal
// clearing). Zero means sip.CauseNormalClearing. It is safe to call more than once;
// later calls return nil.
func (c *Call) Hangup(ctx context.Context, cause sip.Q850) error {
	if cause == 0 {
		cause = sip.CauseNormalClearing
	}
	name := "normal_clearing"
	if cause != sip.CauseNormalClearing {
		name = "q850_" + strconv.Itoa(int(cause))
	}
	return c.hangup(ctx, &HangupCause{Name: name, Q850: cause, SIPCode: 200, By: Local})
}

func (c *Call) hangup(ctx context.Context, cause *HangupCause) error {
	var err error
	st := c.State()
	if st == StateEnded {
		return nil
	}
	code, reason := 480, "Temporarily Unavailable"
	if cause.Q850 != sip.CauseNormalClearing && cause.Q850 != 0 {
		code, reason = sip.StatusForCause(cause.Q850)
	}
	if st != StateAnswered && c.dir == Inbound {
		cause.SIPCode = code
	}
	// End first, so the dialog ending under the BYE is not taken for a remote hangup.
	c.end(cause)
	// Ending the call cancels the call's own context; a ctx derived from it (the
	// handler's, usually) must not cut short the wait for the BYE's answer.
	var hc *HangupCause
	if errors.As(context.Cause(ctx), &hc) {
		ctx = context.WithoutCancel(ctx)
	}
	switch {
	case st == StateAnswered:
		byeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if c.server != nil {
			err = c.server.Bye(byeCtx, cause.Q850)
		} else if c.client != nil {
			err = c.client.Bye(byeCtx, cause.Q850)
		}
	case c.dir == Inbound:
		err = c.rejectCause(code, reason, cause.Q850)
	}
	if err != nil {
		return fmt.Errorf("call: hangup: %w", err)
	}
	return nil
}

// Close ends the call at once: BYE (answered) or 480 (unanswered inbound) is sent without
// waiting for a response, media stops and every goroutine of the call is waited for. It
// is idempotent.
func (c *Call) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = c.hangup(ctx, &HangupCause{Name: "normal_clearing", Q850: sip.CauseNormalClearing, By: Local})
	c.wg.Wait()
	c.waitPump()
	c.async.Wait()
	if c.dispatching.Load() {
		<-c.events.done
	}
	return nil
}

// end marks the call ended (once): cancels its context with cause, stops media, pushes the
// Hangup event and lets the event queue wind down.
func (c *Call) end(cause *HangupCause) {
	c.endOnce.Do(func() {
		c.setState(StateEnded)
		c.cancel(cause)
		c.mu.Lock()
		s := c.sess
		rtpConn, rtcpConn := c.rtpConn, c.rtcpConn
		c.rtpConn, c.rtcpConn = nil, nil
		c.mu.Unlock()
		if s != nil {
			_ = s.Close()
		}
		for _, pc := range []net.PacketConn{rtpConn, rtcpConn} {
			if pc != nil {
				_ = pc.Close()
			}
		}
		c.log.Info("call ended", "cause", cause.Name, "by", cause.By.String(), "q850", int(cause.Q850))
		c.finishRecordings() // their RecordingSaved events come before Hangup
		c.finishVerbs()      // so do the ended events of verbs the end cut short
		c.events.push(Hangup{base: now(), Cause: cause})
		c.events.release()
		close(c.released)
	})
}

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.released }

// Wait waits until the call ends and its goroutines are gone, or ctx ends.
func (c *Call) Wait(ctx context.Context) error {
	select {
	case <-c.released:
	case <-ctx.Done():
		return ctx.Err()
	}
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		c.waitPump()
		c.async.Wait()
		if c.dispatching.Load() {
			<-c.events.done
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
