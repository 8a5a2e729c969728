package baresip

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
)

// DebianPackage provides the baresip program and the modules the driver loads
// (aufile, aubridge, sndfile, ctrl_tcp, cons, g711, g722, l16).
const DebianPackage = "baresip-core"

// Program is the name of the baresip binary.
const Program = "baresip"

// ModuleDir is where Debian installs baresip's modules.
const ModuleDir = "/usr/lib/baresip/modules"

// DefaultSilence is how long the audio source lasts when Options has neither WAV nor
// Audio and Pad is zero. baresip ends a call when its source runs out, so this bounds
// every call the UA makes or answers.
const DefaultSilence = 2 * time.Minute

// Errors. Each is wrapped with details; test with errors.Is.
var (
	// ErrExited means baresip exited, or closed its control connection, while the
	// driver was waiting for it.
	ErrExited = errors.New("baresip: exited")
	// ErrCommand means baresip answered a control command with ok=false.
	ErrCommand = errors.New("baresip: command failed")
	// ErrAudioFormat means the WAV to play is not mono 16-bit PCM at the codec's rate.
	ErrAudioFormat = errors.New("baresip: audio source format")
	// ErrRegister means registration failed (a REGISTER_FAIL event).
	ErrRegister = errors.New("baresip: registration failed")
)

// Codec is a baresip audio codec name as written in an account's audio_codecs list.
type Codec string

// Codecs the Debian build of baresip 1.0.0 offers with the modules the driver loads.
const (
	PCMU     Codec = "pcmu"
	PCMA     Codec = "pcma"
	G722     Codec = "g722/16000/1" // baresip rejects a bare "g722"
	L16Mono8 Codec = "l16/8000/1"   // L16 at 8 kHz, mono (dynamic payload type)
	L16Mono  Codec = "l16/16000/1"  // L16 at 16 kHz, mono (dynamic payload type)
)

// Rate is the sample rate of the PCM the codec encodes and decodes (16000 for G.722,
// whose RTP clock says 8000). For "name/rate/channels" names it is the middle field;
// for unknown names without one it is 0.
func (c Codec) Rate() int {
	switch strings.ToLower(string(c)) {
	case "pcmu", "pcma":
		return 8000
	case "g722":
		return 16000
	}
	parts := strings.Split(string(c), "/")
	if len(parts) >= 2 {
		if r, err := strconv.Atoi(parts[1]); err == nil {
			return r
		}
	}
	return 0
}

// AnswerMode is what baresip does with an incoming call.
type AnswerMode string

// Answer modes.
const (
	AnswerAuto   AnswerMode = "auto"   // answer at once
	AnswerManual AnswerMode = "manual" // ring until Accept
	AnswerEarly  AnswerMode = "early"  // answer with early media (183) first
)

// Event types baresip 1.0.0 reports over ctrl_tcp (Event.Type). Others exist; these
// are the ones tests usually wait for.
const (
	EventCallIncoming    = "CALL_INCOMING"
	EventCallRinging     = "CALL_RINGING"
	EventCallProgress    = "CALL_PROGRESS"
	EventCallEstablished = "CALL_ESTABLISHED"
	EventCallRTPEstab    = "CALL_RTPESTAB"
	EventCallDTMFStart   = "CALL_DTMF_START"
	EventCallDTMFEnd     = "CALL_DTMF_END"
	EventCallClosed      = "CALL_CLOSED"
	EventRegistering     = "REGISTERING"
	EventRegisterOK      = "REGISTER_OK"
	EventRegisterFail    = "REGISTER_FAIL"
)

// Options configure one baresip user agent. The zero value is a UA named "baresip"
// that auto-answers with PCMU or PCMA and sends silence.
type Options struct {
	// User is the user part of the UA's address. Default "baresip".
	User string
	// SIPPort is the local SIP port (UDP and TCP; baresip also takes SIPPort+1 for
	// TLS). Zero picks a free pair.
	SIPPort int
	// RTPPortMin and RTPPortMax bound the RTP/RTCP ports baresip picks from. Zero picks
	// a free range of 16 ports.
	RTPPortMin, RTPPortMax int
	// Codecs are offered and accepted in this order. Default PCMU, PCMA.
	Codecs []Codec
	// PTime is the packet time in milliseconds. Zero: baresip's default (20).
	PTime int
	// AnswerMode for incoming calls. Default AnswerAuto.
	AnswerMode AnswerMode

	// WAV is a file to play into every call: mono 16-bit PCM at the first codec's
	// rate (8000 for PCMU/PCMA, 16000 for G.722). baresip HANGS UP the call when it
	// reaches the end of the file, so set Pad to keep the call up after the audio.
	WAV string
	// Audio is played instead of WAV when set: mono samples at the first codec's rate.
	Audio []int16
	// Pad appends this much silence to the audio. With neither WAV nor Audio the
	// source is Pad of silence, or DefaultSilence when Pad is zero.
	Pad time.Duration

	// Registrar, when set, makes the UA register there, e.g. "sip:127.0.0.1:5060".
	// The address of record is sip:User@<Registrar's host:port> unless Domain is set.
	Registrar string
	// Domain overrides the host part of the address of record when registering;
	// REGISTER (and every other request) then goes to Registrar as outbound proxy.
	Domain string
	// RegisterInterval is the registration expiry baresip asks for and refreshes.
	// Default 60 s when Registrar is set.
	RegisterInterval time.Duration
	// AuthUser and AuthPassword answer digest challenges. Neither may contain ';',
	// '"' or whitespace. A user without a password is refused: baresip would prompt
	// on a terminal for it.
	AuthUser, AuthPassword string

	// QuitAfter makes baresip quit by itself this long after it starts (its -t flag,
	// rounded up to whole seconds); it hangs up any call first. Zero: run until Stop.
	QuitAfter time.Duration
	// HangupAfter makes the driver hang up every call this long after it is
	// established, unless it has ended by then. baresip hangs up its current call, so
	// with several calls up at once the wrong one may end. Zero: never.
	HangupAfter time.Duration
	// Console also loads cons.so, baresip's UDP console, on a free port (see
	// UA.Console).
	Console bool
	// ExtraConfig lines are appended to baresip's config file verbatim.
	ExtraConfig []string
	// AccountParams are appended to the account line, e.g. "mediaenc=srtp".
	AccountParams []string
}

// Event is one event baresip reported over ctrl_tcp.
type Event struct {
	Type       string // e.g. "CALL_ESTABLISHED"; see the Event* constants
	Class      string // "call", "register", "application", "other"
	AccountAOR string // the UA's address of record
	Direction  string // "incoming" or "outgoing", for call events
	PeerURI    string // the other party, for call events
	CallID     string // the SIP Call-ID, for call events
	// Param is the event's detail: the digit of CALL_DTMF_START, the reason of
	// CALL_CLOSED ("Connection reset by peer"), the status of REGISTER_OK/FAIL.
	Param string
	Time  time.Time // when the driver received it
}

// Recording is the pair of WAV files baresip's sndfile module writes for one call:
// 16-bit mono at the codec's rate. The header is only final once the call has closed;
// use UA.WaitRecording to wait for that.
type Recording struct {
	Received string // dump-<time>-dec.wav: what was decoded from the peer's RTP
	Sent     string // dump-<time>-enc.wav: what went into the encoder
}

// UA is a running baresip user agent driven over ctrl_tcp. Its methods are safe for
// concurrent use.
type UA struct {
	user       string
	aor        string
	sipPort    int
	ctrlPort   int
	consPort   int
	rtpMin     int
	rtpMax     int
	dir        string
	recDir     string
	sourcePath string

	proc *peer.Process
	conn net.Conn

	writeMu sync.Mutex
	token   atomic.Uint64

	mu         sync.Mutex
	pending    map[string]chan message
	events     []Event
	cursor     int
	notify     chan struct{} // closed and replaced when an event arrives
	readErr    error
	badMessage int

	readerDone  chan struct{}
	established chan string // call IDs, for hangupLoop
	stop        chan struct{}
	stopOnce    sync.Once
	wg          sync.WaitGroup
}

// Start launches baresip for a test, in a config directory under t.TempDir(), and
// stops it when the test ends (its log is printed if the test failed). A missing
// program or a failed start fails the test.
func Start(t testing.TB, o Options) *UA {
	t.Helper()
	peer.RequireProgram(t, Program, DebianPackage)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ua, err := Launch(ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ua.Stop()
		if t.Failed() {
			t.Logf("---- log of %s (%s) ----\n%s", ua.proc.Name, ua.URI(), ua.proc.Tail(16<<10))
			t.Logf("---- events of %s ----\n%s", ua.URI(), formatEvents(ua.Events()))
			for _, r := range ua.Recordings() {
				t.Logf("recording: received %s, sent %s", fileInfo(r.Received), fileInfo(r.Sent))
			}
		}
	})
	return ua
}

// Launch starts baresip with its config, log and recordings in dir (created if
// needed), waits until it listens, and returns it. The caller must call Stop. ctx
// bounds the start-up only.
func Launch(ctx context.Context, dir string, o Options) (*UA, error) {
	path, err := findProgram(Program)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(dir, " \t\n") {
		return nil, fmt.Errorf("baresip: config dir %q contains whitespace, which baresip's config parser splits on", dir)
	}
	if st, err := os.Stat(ModuleDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s missing; install the Debian package %s", peer.ErrNotInstalled, ModuleDir, DebianPackage)
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	ua := &UA{
		user: o.User, sipPort: o.SIPPort, rtpMin: o.RTPPortMin, rtpMax: o.RTPPortMax,
		dir: dir, recDir: filepath.Join(dir, "rec"), sourcePath: filepath.Join(dir, "source.wav"),
		pending: map[string]chan message{}, notify: make(chan struct{}),
		readerDone: make(chan struct{}), established: make(chan string, 16), stop: make(chan struct{}),
	}
	if err := ua.allocPorts(o); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ua.recDir, 0o755); err != nil {
		return nil, fmt.Errorf("baresip: %w", err)
	}
	if err := writeSource(ua.sourcePath, o); err != nil {
		return nil, err
	}
	account, aor, err := o.account(ua.sipPort)
	if err != nil {
		return nil, err
	}
	ua.aor = aor
	files := map[string]string{
		"config": o.config(ua),
		// Accounts are added with uanew once the control connection is up, so that
		// the events of the first REGISTER reach the driver.
		"accounts": "",
		"contacts": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("baresip: %w", err)
		}
	}
	args := []string{"-f", dir}
	lifetime := 5 * time.Minute
	if o.QuitAfter > 0 {
		secs := int((o.QuitAfter + time.Second - 1) / time.Second)
		args = append(args, "-t", strconv.Itoa(secs))
		lifetime = time.Duration(secs)*time.Second + 30*time.Second
	}
	f := &statusFilter{}
	ua.proc, err = peer.StartProcess(peer.Spec{
		Name: "baresip-" + o.User, Path: path, Args: args, Dir: dir,
		MaxLifetime: lifetime, LogFilter: f.filter,
	}, dir)
	if err != nil {
		return nil, err
	}
	if err := ua.connect(ctx); err != nil {
		_ = ua.proc.Stop()
		return nil, err
	}
	ua.wg.Add(1)
	go ua.readLoop(bufio.NewReader(ua.conn))
	if o.HangupAfter > 0 {
		ua.wg.Add(1)
		go ua.hangupLoop(o.HangupAfter)
	}
	if _, err := ua.Command(ctx, "uanew", account); err != nil {
		_ = ua.Stop()
		return nil, err
	}
	return ua, nil
}

// findProgram is peer.LookPath with baresip's Debian package.
func findProgram(name string) (string, error) {
	return peer.LookPath(name, DebianPackage)
}

func (o *Options) defaults() error {
	if o.User == "" {
		o.User = "baresip"
	}
	if len(o.Codecs) == 0 {
		o.Codecs = []Codec{PCMU, PCMA}
	}
	if o.AnswerMode == "" {
		o.AnswerMode = AnswerAuto
	}
	if o.WAV != "" && o.Audio != nil {
		return errors.New("baresip: set WAV or Audio, not both")
	}
	if o.Registrar != "" && o.RegisterInterval == 0 {
		o.RegisterInterval = time.Minute
	}
	if o.AuthUser != "" && o.AuthPassword == "" {
		return errors.New("baresip: AuthUser without AuthPassword (baresip would prompt for it on a terminal)")
	}
	for _, s := range []string{o.User, o.AuthUser, o.AuthPassword, o.Domain} {
		if strings.ContainsAny(s, ";\"<>@ \t\r\n") {
			return fmt.Errorf("baresip: %q may not contain ; \" < > @ or whitespace", s)
		}
	}
	return nil
}

func (ua *UA) allocPorts(o Options) error {
	var err error
	if ua.sipPort == 0 {
		// baresip listens on the SIP port (UDP, TCP) and the next one (TLS).
		if ua.sipPort, err = peer.AllocPorts(2); err != nil {
			return err
		}
	}
	if ua.rtpMin == 0 {
		if ua.rtpMin, err = peer.AllocPorts(16); err != nil {
			return err
		}
		ua.rtpMax = ua.rtpMin + 15
	} else if ua.rtpMax < ua.rtpMin+1 {
		ua.rtpMax = ua.rtpMin + 1
	}
	if ua.ctrlPort, err = peer.AllocPorts(1); err != nil {
		return err
	}
	if o.Console {
		if ua.consPort, err = peer.AllocPorts(1); err != nil {
			return err
		}
	}
	return nil
}

// writeSource writes the WAV baresip's aufile plays: the requested audio, validated,
// plus padding. It is always a copy in the config dir, so the path baresip sees has
// no commas or spaces.
func writeSource(path string, o Options) error {
	rate := o.Codecs[0].Rate()
	samples := o.Audio
	if o.WAV != "" {
		b, err := os.ReadFile(o.WAV)
		if err != nil {
			return fmt.Errorf("baresip: %w", err)
		}
		s, format, err := audiotest.DecodeWAV(b)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrAudioFormat, o.WAV, err)
		}
		if format.Channels != 1 {
			return fmt.Errorf("%w: %s has %d channels; baresip's aufile needs mono", ErrAudioFormat, o.WAV, format.Channels)
		}
		if rate == 0 {
			rate = format.Rate
		}
		if format.Rate != rate {
			return fmt.Errorf("%w: %s is %d Hz but codec %s runs at %d Hz (aufile does not resample)",
				ErrAudioFormat, o.WAV, format.Rate, o.Codecs[0], rate)
		}
		samples = s
	}
	if rate == 0 {
		rate = 8000
	}
	pad := o.Pad
	if o.WAV == "" && o.Audio == nil && pad == 0 {
		pad = DefaultSilence
	}
	samples = append(samples[:len(samples):len(samples)], audiotest.Silence(rate, pad)...)
	return audiotest.WriteWAV(path, samples, rate)
}

// account returns the account line for uanew and the address of record.
func (o *Options) account(sipPort int) (line, aor string, err error) {
	codecs := make([]string, len(o.Codecs))
	for i, c := range o.Codecs {
		codecs[i] = string(c)
	}
	params := []string{}
	if o.Registrar == "" {
		aor = fmt.Sprintf("sip:%s@%s", o.User, peer.Addr(sipPort))
		params = append(params, "regint=0")
	} else {
		u, perr := url.Parse(o.Registrar)
		if perr != nil || u.Scheme != "sip" || u.Opaque == "" {
			return "", "", fmt.Errorf("baresip: registrar %q is not a sip: URI such as sip:127.0.0.1:5060", o.Registrar)
		}
		hostport, _, _ := strings.Cut(u.Opaque, ";")
		domain := hostport
		if o.Domain != "" {
			domain = o.Domain
			params = append(params, fmt.Sprintf("outbound=%q", o.Registrar))
		}
		aor = fmt.Sprintf("sip:%s@%s", o.User, domain)
		params = append(params, fmt.Sprintf("regint=%d", int(o.RegisterInterval.Round(time.Second).Seconds())))
	}
	params = append(params, "answermode="+string(o.AnswerMode), "audio_codecs="+strings.Join(codecs, ","))
	if o.PTime > 0 {
		params = append(params, fmt.Sprintf("ptime=%d", o.PTime))
	}
	if o.AuthUser != "" {
		params = append(params, "auth_user="+o.AuthUser, "auth_pass="+o.AuthPassword)
	}
	params = append(params, o.AccountParams...)
	return "<" + aor + ">;" + strings.Join(params, ";"), aor, nil
}

func (o *Options) config(ua *UA) string {
	lines := []string{
		"# written by the switchboard test driver for baresip 1.0.0: headless, no sound card",
		"poll_method epoll",
		"sip_listen " + peer.Addr(ua.sipPort),
		"net_interface " + peer.Loopback,
		"call_local_timeout 120",
		"call_max_calls 4",
		// The source is a WAV file; the player and the ringtone go to a null sink.
		"audio_source aufile," + ua.sourcePath,
		"audio_player aubridge,nil",
		"audio_alert aubridge,nil",
		"audio_buffer 20-160",
		fmt.Sprintf("rtp_ports %d-%d", ua.rtpMin, ua.rtpMax),
		"rtp_timeout 0",
		"jitter_buffer_delay 5-10",
		"module_path " + ModuleDir,
		"module g711.so",
		"module g722.so",
		"module l16.so",
		"module aufile.so",
		"module aubridge.so",
		// sndfile writes dump-<time>-enc.wav and dump-<time>-dec.wav into snd_path.
		"module sndfile.so",
	}
	if o.Console {
		lines = append(lines, "module cons.so", "cons_listen "+peer.Addr(ua.consPort))
	}
	lines = append(lines,
		"module_tmp account.so",
		"module_app menu.so",
		"module_app ctrl_tcp.so",
		"snd_path "+ua.recDir,
		"ctrl_tcp_listen "+peer.Addr(ua.ctrlPort),
	)
	lines = append(lines, o.ExtraConfig...)
	return strings.Join(lines, "\n") + "\n"
}

// connect opens the control connection as soon as ctrl_tcp listens (events go only to
// clients connected when they happen), then waits for the SIP port to be bound.
func (ua *UA) connect(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for ua.conn == nil {
		c, err := d.DialContext(ctx, "tcp4", peer.Addr(ua.ctrlPort))
		if err == nil {
			ua.conn = c
			break
		}
		if err := ua.waitTick(ctx, tick, "accept control connections on "+peer.Addr(ua.ctrlPort)); err != nil {
			return err
		}
	}
	for !udpBound(ua.sipPort) {
		if err := ua.waitTick(ctx, tick, "bind SIP port "+peer.Addr(ua.sipPort)); err != nil {
			ua.conn.Close()
			return err
		}
	}
	return nil
}

// udpBound reports whether a UDP socket is bound to port, from /proc/net/udp. Probing
// by binding the port ourselves could steal it from baresip for an instant.
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) > 1 && strings.HasSuffix(fields[1], suffix) {
			return true
		}
	}
	return false
}

func (ua *UA) waitTick(ctx context.Context, tick *time.Ticker, what string) error {
	select {
	case <-ua.proc.Done():
		return fmt.Errorf("%w at start-up before it would %s:\n%s", ErrExited, what, ua.proc.Tail(4<<10))
	case <-ctx.Done():
		return fmt.Errorf("baresip: did not %s: %w\n%s", what, ctx.Err(), ua.proc.Tail(4<<10))
	case <-tick.C:
		return nil
	}
}

// readLoop reads ctrl_tcp messages until the connection ends: responses go to the
// waiting Command, events to the history.
func (ua *UA) readLoop(r *bufio.Reader) {
	defer ua.wg.Done()
	defer close(ua.readerDone)
	for {
		b, err := readNetstring(r)
		if err != nil {
			ua.mu.Lock()
			ua.readErr = err
			ua.mu.Unlock()
			return
		}
		m, err := parseMessage(b)
		ua.mu.Lock()
		switch {
		case err != nil:
			ua.badMessage++
		case m.Response:
			if ch, ok := ua.pending[m.Token]; ok {
				ch <- m // buffered, one response per token
				delete(ua.pending, m.Token)
			}
		default:
			ua.events = append(ua.events, Event{
				Type: m.Type, Class: m.Class, AccountAOR: m.AccountAOR, Direction: m.Direction,
				PeerURI: m.PeerURI, CallID: m.ID, Param: m.Param, Time: time.Now(),
			})
			close(ua.notify)
			ua.notify = make(chan struct{})
			if m.Type == EventCallEstablished {
				select {
				case ua.established <- m.ID:
				default:
				}
			}
		}
		ua.mu.Unlock()
	}
}

// hangupLoop hangs up d after each CALL_ESTABLISHED, unless that call has closed by
// then. baresip 1.0.0's hangup takes no call ID: with several calls up at once it ends
// the current one.
func (ua *UA) hangupLoop(d time.Duration) {
	defer ua.wg.Done()
	for {
		var callID string
		select {
		case <-ua.stop:
			return
		case callID = <-ua.established:
		}
		timer := time.NewTimer(d)
		select {
		case <-ua.stop:
			timer.Stop()
			return
		case <-timer.C:
		}
		if ua.closed(callID) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = ua.Command(ctx, "hangup", "") // it may have ended meanwhile: ignore errors
		cancel()
	}
}

// closed reports whether a CALL_CLOSED event for callID has arrived.
func (ua *UA) closed(callID string) bool {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	for _, e := range ua.events {
		if e.Type == EventCallClosed && e.CallID == callID {
			return true
		}
	}
	return false
}

// Command sends a ctrl_tcp command (a baresip long command name such as "dial",
// "accept", "hangup", "sndcode", "reginfo", "listcalls") and returns the text baresip
// printed in reply. A reply with ok=false is an error wrapping ErrCommand.
func (ua *UA) Command(ctx context.Context, command, params string) (string, error) {
	tok := strconv.FormatUint(ua.token.Add(1), 10)
	ch := make(chan message, 1)
	ua.mu.Lock()
	if ua.readErr != nil {
		err := ua.readErr
		ua.mu.Unlock()
		return "", fmt.Errorf("%w: %s: control connection: %w", ErrExited, command, err)
	}
	ua.pending[tok] = ch
	ua.mu.Unlock()
	defer func() {
		ua.mu.Lock()
		delete(ua.pending, tok)
		ua.mu.Unlock()
	}()

	ua.writeMu.Lock()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	_ = ua.conn.SetWriteDeadline(deadline)
	_, err := ua.conn.Write(encodeCommand(command, params, tok))
	ua.writeMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrExited, command, err)
	}
	select {
	case m := <-ch:
		if !m.OK {
			return m.Data, fmt.Errorf("%w: %s %s: %s", ErrCommand, command, params, strings.TrimSpace(m.Data))
		}
		return m.Data, nil
	case <-ua.readerDone:
		// The response may have arrived just before the connection closed.
		select {
		case m := <-ch:
			if m.OK {
				return m.Data, nil
			}
		default:
		}
		return "", fmt.Errorf("%w: %s: no response", ErrExited, command)
	case <-ctx.Done():
		return "", fmt.Errorf("baresip: %s: %w", command, ctx.Err())
	}
}

// Dial calls uri. It returns once baresip has started the call; wait for
// EventCallEstablished to know it was answered.
func (ua *UA) Dial(ctx context.Context, uri string) error {
	_, err := ua.Command(ctx, "dial", uri)
	return err
}

// Accept answers the ringing incoming call (AnswerManual).
func (ua *UA) Accept(ctx context.Context) error {
	_, err := ua.Command(ctx, "accept", "")
	return err
}

// Hangup ends baresip's current call (sending BYE or CANCEL, or rejecting it).
func (ua *UA) Hangup(ctx context.Context) error {
	_, err := ua.Command(ctx, "hangup", "")
	return err
}

// SendDTMF sends digits (0-9, *, #, A-D) as RFC 4733 telephone-events in the current
// call; baresip 1.0.0 has no SIP INFO or in-band mode.
func (ua *UA) SendDTMF(ctx context.Context, digits string) error {
	if digits == "" || strings.Trim(digits, "0123456789*#ABCDabcd") != "" {
		return fmt.Errorf("baresip: invalid DTMF digits %q", digits)
	}
	_, err := ua.Command(ctx, "sndcode", digits)
	return err
}

// WaitEvent waits for an event of type typ and returns it. Waiting reads the event
// history forward: it returns the first matching event after the one the previous
// WaitEvent or WaitEventFunc returned, so an event that arrived before the call is
// found, and the same event is never returned twice.
func (ua *UA) WaitEvent(ctx context.Context, typ string) (Event, error) {
	ev, err := ua.WaitEventFunc(ctx, func(e Event) bool { return e.Type == typ })
	if err != nil {
		return ev, fmt.Errorf("baresip %s: waiting for %s: %w", ua.URI(), typ, err)
	}
	return ev, nil
}

// WaitEventFunc is WaitEvent for the first event for which match returns true. match
// runs without the UA's lock held.
func (ua *UA) WaitEventFunc(ctx context.Context, match func(Event) bool) (Event, error) {
	scanned := -1
	for {
		ua.mu.Lock()
		from := max(ua.cursor, scanned)
		evs := ua.events[from:len(ua.events):len(ua.events)] // append-only: safe to read unlocked
		notify, done := ua.notify, ua.readerDone
		ua.mu.Unlock()
		for i, e := range evs {
			if match(e) {
				ua.mu.Lock()
				ua.cursor = max(ua.cursor, from+i+1)
				ua.mu.Unlock()
				return e, nil
			}
		}
		scanned = from + len(evs)
		select {
		case <-notify:
		case <-done:
			ua.mu.Lock()
			more := len(ua.events) > scanned
			ua.mu.Unlock()
			if more {
				continue
			}
			return Event{}, fmt.Errorf("%w (events so far: %s)", ErrExited, ua.eventSummary())
		case <-ctx.Done():
			return Event{}, fmt.Errorf("%w (events so far: %s)", ctx.Err(), ua.eventSummary())
		}
	}
}

// WaitRegistered waits for the outcome of the next registration attempt: the
// REGISTER_OK event, or an error wrapping ErrRegister for REGISTER_FAIL.
func (ua *UA) WaitRegistered(ctx context.Context) (Event, error) {
	ev, err := ua.WaitEventFunc(ctx, func(e Event) bool {
		return e.Type == EventRegisterOK || e.Type == EventRegisterFail
	})
	if err != nil {
		return ev, fmt.Errorf("baresip %s: waiting for registration: %w", ua.aor, err)
	}
	if ev.Type == EventRegisterFail {
		return ev, fmt.Errorf("%w: %s: %s", ErrRegister, ua.aor, ev.Param)
	}
	return ev, nil
}

// Events returns a copy of every event received so far.
func (ua *UA) Events() []Event {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	return append([]Event(nil), ua.events...)
}

// ReceivedDTMF returns the digits of every CALL_DTMF_START event so far, in order.
func (ua *UA) ReceivedDTMF() string {
	var b strings.Builder
	for _, e := range ua.Events() {
		if e.Type == EventCallDTMFStart {
			b.WriteString(e.Param)
		}
	}
	return b.String()
}

func (ua *UA) eventSummary() string {
	ua.mu.Lock()
	bad := ua.badMessage
	ua.mu.Unlock()
	s := formatEvents(ua.Events())
	if bad > 0 {
		s += fmt.Sprintf(" [%d undecodable control messages]", bad)
	}
	return s
}

func formatEvents(evs []Event) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = e.Type
		if e.Param != "" {
			parts[i] += "(" + e.Param + ")"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Recordings returns the recordings sndfile has started so far, oldest first. File
// names have a one-second resolution: a second call starting within the same second
// overwrites the first one's files.
func (ua *UA) Recordings() []Recording {
	names, _ := filepath.Glob(filepath.Join(ua.recDir, "dump-*.wav"))
	byStamp := map[string]*Recording{}
	var stamps []string
	for _, n := range names {
		stamp, kind, ok := cutKind(n)
		if !ok {
			continue
		}
		r := byStamp[stamp]
		if r == nil {
			r = &Recording{}
			byStamp[stamp] = r
			stamps = append(stamps, stamp)
		}
		if kind == "dec" {
			r.Received = n
		} else {
			r.Sent = n
		}
	}
	sort.Strings(stamps)
	out := make([]Recording, len(stamps))
	for i, s := range stamps {
		out[i] = *byStamp[s]
	}
	return out
}

func cutKind(name string) (stamp, kind string, ok bool) {
	for _, k := range []string{"dec", "enc"} {
		if s, found := strings.CutSuffix(name, "-"+k+".wav"); found {
			return s, k, true
		}
	}
	return "", "", false
}

// WaitRecording waits until the newest recording is complete (sndfile rewrites the WAV
// header when the call closes) and returns it.
func (ua *UA) WaitRecording(ctx context.Context) (Recording, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if recs := ua.Recordings(); len(recs) > 0 {
			r := recs[len(recs)-1]
			if r.Received != "" && r.Sent != "" && wavComplete(r.Received) && wavComplete(r.Sent) {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return Recording{}, fmt.Errorf("baresip %s: no complete recording in %s: %w", ua.URI(), ua.recDir, ctx.Err())
		case <-tick.C:
		}
	}
}

// ReceivedAudio waits for the newest recording to be complete and returns what the UA
// received in it, with its sample rate.
func (ua *UA) ReceivedAudio(ctx context.Context) ([]int16, int, error) {
	r, err := ua.WaitRecording(ctx)
	if err != nil {
		return nil, 0, err
	}
	return audiotest.ReadWAV(r.Received)
}

// wavComplete reports whether a WAV file's RIFF size matches its length, which for
// sndfile's recordings means the header was finalised.
func wavComplete(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [8]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	riff := int64(h[4]) | int64(h[5])<<8 | int64(h[6])<<16 | int64(h[7])<<24
	return string(h[0:4]) == "RIFF" && riff+8 == st.Size()
}

// fileInfo describes a recording file for a failure log.
func fileInfo(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("%q (%v)", path, err)
	}
	return fmt.Sprintf("%s (%d bytes, header final: %v)", filepath.Base(path), st.Size(), wavComplete(path))
}

// Console sends one command line to baresip's UDP console (Options.Console), e.g.
// "/hangup". The console gives no reply; prefer Command.
func (ua *UA) Console(line string) error {
	if ua.consPort == 0 {
		return errors.New("baresip: console not enabled (Options.Console)")
	}
	c, err := net.Dial("udp4", peer.Addr(ua.consPort))
	if err != nil {
		return fmt.Errorf("baresip: console: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("baresip: console: %w", err)
	}
	return nil
}

// Stop ends baresip: it asks it to quit (which hangs up calls and unregisters), waits
// up to 3 s, then terminates the process, closes the control connection and waits for
// the driver's goroutines. It is safe to call more than once.
func (ua *UA) Stop() error {
	ua.stopOnce.Do(func() {
		close(ua.stop)
		select {
		case <-ua.proc.Done():
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = ua.Command(ctx, "quit", "")
			cancel()
			select {
			case <-ua.proc.Done():
			case <-time.After(3 * time.Second):
			}
		}
		_ = ua.proc.Stop()
		ua.conn.Close()
		ua.wg.Wait()
	})
	return nil
}

// URI is the UA's direct SIP URI, sip:User@127.0.0.1:SIPPort.
func (ua *UA) URI() string { return fmt.Sprintf("sip:%s@%s", ua.user, peer.Addr(ua.sipPort)) }

// AOR is the UA's address of record: URI, or the registered address when Registrar is
// set.
func (ua *UA) AOR() string { return ua.aor }

// SIPAddr is 127.0.0.1:SIPPort.
func (ua *UA) SIPAddr() string { return peer.Addr(ua.sipPort) }

// SIPPort is the UA's SIP port.
func (ua *UA) SIPPort() int { return ua.sipPort }

// RTPPorts is the range baresip picks RTP and RTCP ports from.
func (ua *UA) RTPPorts() (lo, hi int) { return ua.rtpMin, ua.rtpMax }

// Dir is the config directory; the recordings are in its "rec" subdirectory.
func (ua *UA) Dir() string { return ua.dir }

// SourceWAV is the file baresip plays into calls (the requested audio plus padding).
func (ua *UA) SourceWAV() string { return ua.sourcePath }

// Process is the baresip process (PID, exit, log).
func (ua *UA) Process() *peer.Process { return ua.proc }

// Log is baresip's output so far, without its call status lines.
func (ua *UA) Log() string { return ua.proc.Log() }
