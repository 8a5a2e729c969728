package baresip_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pidSet collects the PIDs of the peers a test started, to check afterwards that none
// is left running.
type pidSet struct {
	mu   sync.Mutex
	pids []int
}

func (s *pidSet) add(uas ...*baresip.UA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ua := range uas {
		s.pids = append(s.pids, ua.Process().PID())
	}
}

func (s *pidSet) requireGone(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.pids)
	for _, pid := range s.pids {
		// The driver reaps its children, so a PID that is gone gives ESRCH.
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "baresip PID %d still exists", pid)
	}
}

// toneReport is what analyzeTone measured in one recording.
type toneReport struct {
	freq, sfdr, rms float64       // of the tone's steady part
	toneLen         time.Duration // how much of the recording is loud
	after           float64       // RMS level after the tone
}

// analyzeTone finds the loud part of a recording (where the start of a recording
// falls depends on when the first packet arrived) and checks that it is a tone of freq
// Hz lasting about toneLen at -9 dBFS RMS, followed by silence.
func analyzeTone(t *testing.T, who string, samples []int16, rate int, freq float64, toneLen time.Duration) toneReport {
	t.Helper()
	from, to, ok := audiotest.ActiveSpan(samples, rate, 20*time.Millisecond, -30)
	require.True(t, ok, "%s: no audio above -30 dBFS in %d samples", who, len(samples))
	var r toneReport
	r.toneLen = time.Duration(to-from) * time.Second / time.Duration(rate)
	assert.InDelta(t, toneLen.Seconds(), r.toneLen.Seconds(), 0.25, "%s: tone length", who)
	// The steady part, without the edges where the codec and jitter buffer settle.
	edge := rate / 10
	require.Greater(t, to-from, 4*edge, "%s: tone too short to analyse", who)
	seg := samples[from+edge : to-edge]
	r.freq = audiotest.DominantFrequency(seg, rate, 100, float64(rate)/2-100, 1)
	r.sfdr = audiotest.SFDR(seg, rate, r.freq, 100)
	r.rms = audiotest.RMSdBFS(seg)
	assert.InDelta(t, freq, r.freq, 10, "%s: dominant frequency", who)
	assert.Greater(t, r.sfdr, 25.0, "%s: tone at %.0f Hz is not 25 dB above every other bin", who, r.freq)
	assert.InDelta(t, -9, r.rms, 3, "%s: a -6 dBFS sine is -9 dBFS RMS", who)
	// After the tone the sender plays its padding: silence (past a short decoder tail).
	tail := samples[min(to+rate/25, len(samples)):]
	require.GreaterOrEqual(t, len(tail), rate/10, "%s: the recording ends with the tone; the call lasted longer", who)
	r.after = audiotest.RMSdBFS(tail)
	assert.Less(t, r.after, -50.0, "%s: silence after the tone", who)
	return r
}

// B calls A (auto-answer). Each plays a different tone for 1.5 s and then silence; each
// side's recording of what it received holds the other's tone. B sends RFC 4733 DTMF
// "1234#", which A receives digit by digit, and B hangs up 4 s after the answer.
func TestBaresipToBaresip(t *testing.T) {
	const (
		toneLen     = 1500 * time.Millisecond
		hangupAfter = 4 * time.Second
	)
	cases := []struct {
		name         string
		codec        baresip.Codec
		toneA, toneB float64
	}{
		{"pcmu", baresip.PCMU, 1000, 600},
		// 5 and 6 kHz exist only in wideband audio: they prove G.722 carried 16 kHz.
		{"g722", baresip.G722, 5000, 6000},
		{"l16", baresip.L16Mono, 7000, 300},
	}
	var pids pidSet
	t.Run("calls", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				rate := tc.codec.Rate()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				a := baresip.Start(t, baresip.Options{
					User: "alice", Codecs: []baresip.Codec{tc.codec},
					Audio: audiotest.Sine(rate, tc.toneA, toneLen, -6), Pad: 10 * time.Second,
				})
				b := baresip.Start(t, baresip.Options{
					User: "bob", Codecs: []baresip.Codec{tc.codec},
					Audio: audiotest.Sine(rate, tc.toneB, toneLen, -6), Pad: 10 * time.Second,
					HangupAfter: hangupAfter,
				})
				pids.add(a, b)

				require.NoError(t, b.Dial(ctx, a.URI()))
				estA, err := a.WaitEvent(ctx, baresip.EventCallEstablished)
				require.NoError(t, err)
				estB, err := b.WaitEvent(ctx, baresip.EventCallEstablished)
				require.NoError(t, err)
				assert.Equal(t, "incoming", estA.Direction)
				assert.Equal(t, b.URI(), estA.PeerURI)
				assert.Equal(t, "outgoing", estB.Direction)
				assert.Equal(t, a.URI(), estB.PeerURI)
				assert.Equal(t, estA.CallID, estB.CallID, "both sides name the same SIP Call-ID")

				// Telephone-events replace B's audio while they play: send them after
				// B's tone, so that A's recording of it is whole.
				time.Sleep(time.Until(estB.Time.Add(toneLen + 300*time.Millisecond)))
				require.NoError(t, b.SendDTMF(ctx, "1234#"))
				for range 5 {
					_, err := a.WaitEvent(ctx, baresip.EventCallDTMFEnd)
					require.NoError(t, err)
				}
				assert.Equal(t, "1234#", a.ReceivedDTMF(), "DTMF digits A received, in order")
				assert.Empty(t, b.ReceivedDTMF())

				closedB, err := b.WaitEvent(ctx, baresip.EventCallClosed)
				require.NoError(t, err)
				closedA, err := a.WaitEvent(ctx, baresip.EventCallClosed)
				require.NoError(t, err)
				assert.Contains(t, closedA.Param, "peer", "A saw the remote side hang up")
				assert.Equal(t, estA.CallID, closedA.CallID)
				assert.Equal(t, estB.CallID, closedB.CallID)

				recvA, rateA, err := a.ReceivedAudio(ctx)
				require.NoError(t, err)
				recvB, rateB, err := b.ReceivedAudio(ctx)
				require.NoError(t, err)
				assert.Equal(t, rate, rateA)
				assert.Equal(t, rate, rateB)
				ra := analyzeTone(t, "A received", recvA, rateA, tc.toneB, toneLen)
				rb := analyzeTone(t, "B received", recvB, rateB, tc.toneA, toneLen)

				recA, err := a.WaitRecording(ctx)
				require.NoError(t, err)
				sent, sentRate, err := audiotest.ReadWAV(recA.Sent)
				require.NoError(t, err)
				fs := audiotest.DominantFrequency(audiotest.Cut(sent, sentRate, 0, toneLen), sentRate, 100, float64(sentRate)/2, 1)
				assert.InDelta(t, tc.toneA, fs, 1, "A's sent recording holds its own tone")

				for _, x := range []struct {
					who  string
					r    toneReport
					sent float64
					n    int
				}{{"A", ra, tc.toneB, len(recvA)}, {"B", rb, tc.toneA, len(recvB)}} {
					t.Logf("%s: %s received %.1f Hz (sent %.0f Hz): SFDR %.1f dB, %.1f dBFS RMS, tone %v of %v recorded, then %.1f dBFS",
						tc.name, x.who, x.r.freq, x.sent, x.r.sfdr, x.r.rms, x.r.toneLen,
						time.Duration(x.n)*time.Second/time.Duration(rate), x.r.after)
				}
				t.Logf("%s: DTMF received by A: %q", tc.name, a.ReceivedDTMF())
			})
		}
	})
	// Both calls' peers were stopped by their tests' cleanup: no process remains.
	pids.requireGone(t)
}

// A answers manually: the call rings until Accept. Then the callee hangs up.
func TestManualAnswerCalleeHangsUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var pids pidSet
	t.Run("call", func(t *testing.T) {
		a := baresip.Start(t, baresip.Options{User: "alice", AnswerMode: baresip.AnswerManual})
		b := baresip.Start(t, baresip.Options{User: "bob", Codecs: []baresip.Codec{baresip.PCMA}})
		pids.add(a, b)
		require.NoError(t, b.Dial(ctx, a.URI()))
		in, err := a.WaitEvent(ctx, baresip.EventCallIncoming)
		require.NoError(t, err)
		assert.Equal(t, b.URI(), in.PeerURI)
		_, err = b.WaitEvent(ctx, baresip.EventCallRinging)
		require.NoError(t, err)
		for _, e := range a.Events() {
			assert.NotEqual(t, baresip.EventCallEstablished, e.Type, "answered before Accept")
		}
		require.NoError(t, a.Accept(ctx))
		_, err = a.WaitEvent(ctx, baresip.EventCallEstablished)
		require.NoError(t, err)
		_, err = b.WaitEvent(ctx, baresip.EventCallEstablished)
		require.NoError(t, err)
		require.NoError(t, a.Hangup(ctx))
		closed, err := b.WaitEvent(ctx, baresip.EventCallClosed)
		require.NoError(t, err)
		assert.Contains(t, closed.Param, "peer")
		_, err = a.WaitEvent(ctx, baresip.EventCallClosed)
		require.NoError(t, err)
		// The history is kept: an already consumed event is not returned again.
		short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancelShort()
		_, err = a.WaitEvent(short, baresip.EventCallEstablished)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// PCMA was negotiated; both recordings are 8 kHz.
		_, rate, err := a.ReceivedAudio(ctx)
		require.NoError(t, err)
		assert.Equal(t, 8000, rate)
	})
	pids.requireGone(t)
}

// Calling a user the peer does not have ends the call with the peer's error status.
func TestDialUnknownUser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := baresip.Start(t, baresip.Options{User: "alice"})
	b := baresip.Start(t, baresip.Options{User: "bob"})
	require.NoError(t, b.Dial(ctx, "sip:nobody@"+a.SIPAddr()))
	closed, err := b.WaitEvent(ctx, baresip.EventCallClosed)
	require.NoError(t, err)
	assert.Regexp(t, `^4\d\d `, closed.Param)
	t.Logf("dialing an unknown user: CALL_CLOSED %q", closed.Param)
	for _, e := range a.Events() {
		assert.NotEqual(t, baresip.EventCallEstablished, e.Type)
	}
}

// Commands that baresip refuses, bad input, the UDP console and quit-after.
func TestControlErrorsConsoleAndQuit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := baresip.Start(t, baresip.Options{User: "alice"})
	_, err := a.Command(ctx, "no-such-command", "")
	require.ErrorIs(t, err, baresip.ErrCommand)
	assert.Contains(t, err.Error(), "command not found")
	require.Error(t, a.SendDTMF(ctx, "12x"))
	require.Error(t, a.Console("/hangup"), "console not enabled")
	info, err := a.Command(ctx, "reginfo", "")
	require.NoError(t, err)
	assert.Contains(t, info, a.AOR())

	// B dials through its UDP console and quits by itself 3 s after it started.
	b := baresip.Start(t, baresip.Options{User: "bob", Console: true, QuitAfter: 3 * time.Second})
	require.NoError(t, b.Console("/dial "+a.URI()))
	_, err = b.WaitEvent(ctx, baresip.EventCallEstablished)
	require.NoError(t, err)
	_, err = b.WaitEvent(ctx, "EXIT")
	require.NoError(t, err)
	require.NoError(t, b.Process().Wait(ctx))
	assert.Equal(t, 0, b.Process().ExitCode())
	_, err = a.WaitEvent(ctx, baresip.EventCallClosed)
	require.NoError(t, err, "quitting hung up the call")
	_, err = b.WaitEvent(ctx, "NEVER")
	require.ErrorIs(t, err, baresip.ErrExited)
	_, err = b.Command(ctx, "reginfo", "")
	require.ErrorIs(t, err, baresip.ErrExited)
	assert.NotContains(t, b.Log(), "audio=", "status lines are filtered from the log")
	assert.Contains(t, b.Log(), "baresip is ready")
}

// The audio source must be mono 16-bit PCM at the codec's rate; padding is appended.
func TestAudioSource(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	wav16k := filepath.Join(dir, "tone16k.wav")
	require.NoError(t, audiotest.WriteWAV(wav16k, audiotest.Sine(16000, 440, 100*time.Millisecond, -6), 16000))
	_, err := baresip.Launch(ctx, filepath.Join(dir, "a"), baresip.Options{WAV: wav16k}) // PCMU: 8 kHz
	require.ErrorIs(t, err, baresip.ErrAudioFormat)
	assert.Contains(t, err.Error(), "16000 Hz")

	stereo := filepath.Join(dir, "stereo.wav")
	b := audiotest.EncodeWAV(make([]int16, 160), 8000)
	b[22] = 2 // channels
	require.NoError(t, os.WriteFile(stereo, b, 0o644))
	_, err = baresip.Launch(ctx, filepath.Join(dir, "b"), baresip.Options{WAV: stereo})
	require.ErrorIs(t, err, baresip.ErrAudioFormat)

	_, err = baresip.Launch(ctx, filepath.Join(dir, "c"), baresip.Options{AuthUser: "x"})
	require.Error(t, err, "a user without a password would make baresip prompt")

	ua := baresip.Start(t, baresip.Options{Codecs: []baresip.Codec{baresip.G722}, WAV: wav16k, Pad: time.Second})
	src, rate, err := audiotest.ReadWAV(ua.SourceWAV())
	require.NoError(t, err)
	assert.Equal(t, 16000, rate)
	assert.Len(t, src, 1600+16000)
	assert.Greater(t, audiotest.RMSdBFS(src[:1600]), -10.0)
	assert.True(t, audiotest.RMSdBFS(src[1600:]) < -200)

	silent := baresip.Start(t, baresip.Options{})
	src, rate, err = audiotest.ReadWAV(silent.SourceWAV())
	require.NoError(t, err)
	assert.Equal(t, 8000, rate)
	assert.Len(t, src, audiotest.NumSamples(8000, baresip.DefaultSilence))
}

func TestCodecRate(t *testing.T) {
	for c, want := range map[baresip.Codec]int{
		baresip.PCMU: 8000, baresip.PCMA: 8000, baresip.G722: 16000,
		baresip.L16Mono: 16000, baresip.L16Mono8: 8000, "opus/48000/2": 48000, "gsm": 0,
	} {
		assert.Equal(t, want, c.Rate(), string(c))
	}
}

// registrar is a minimal UDP SIP registrar for one test: it challenges each REGISTER
// without credentials with a digest 401, checks the digest response, and answers 200
// (or 403 for a wrong password). It keeps every REGISTER it received.
type registrar struct {
	conn           net.PacketConn
	user, password string
	done           chan struct{}
	mu             sync.Mutex
	requests       []string
}

const (
	testRealm = "switchboard.test"
	testNonce = "3f9a1c"
)

func startRegistrar(t *testing.T, user, password string) *registrar {
	t.Helper()
	c, err := net.ListenPacket("udp4", peer.Addr(peer.FreePort(t)))
	require.NoError(t, err)
	r := &registrar{conn: c, user: user, password: password, done: make(chan struct{})}
	go r.serve()
	t.Cleanup(func() {
		c.Close()
		<-r.done
	})
	return r
}

func (r *registrar) URI() string { return "sip:" + r.conn.LocalAddr().String() }

func (r *registrar) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

var digestParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r *registrar) serve() {
	defer close(r.done)
	buf := make([]byte, 65535)
	for {
		n, addr, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		req := string(buf[:n])
		if !strings.HasPrefix(req, "REGISTER ") {
			continue
		}
		r.mu.Lock()
		r.requests = append(r.requests, req)
		r.mu.Unlock()
		status, extra := "401 Unauthorized",
			fmt.Sprintf("WWW-Authenticate: Digest realm=%q, nonce=%q, algorithm=MD5\r\n", testRealm, testNonce)
		if auth := header(req, "Authorization"); auth != "" {
			p := map[string]string{}
			for _, m := range digestParam.FindAllStringSubmatch(auth, -1) {
				p[m[1]] = m[2]
			}
			ha1 := md5hex(r.user + ":" + testRealm + ":" + r.password)
			want := md5hex(ha1 + ":" + testNonce + ":" + md5hex("REGISTER:"+p["uri"]))
			status, extra = "403 Forbidden", ""
			if p["username"] == r.user && p["response"] == want {
				status, extra = "200 OK", "Contact: "+header(req, "Contact")+"\r\n"
			}
		}
		var resp strings.Builder
		resp.WriteString("SIP/2.0 " + status + "\r\n")
		for _, line := range strings.Split(req, "\r\n") {
			if strings.HasPrefix(line, "Via:") {
				resp.WriteString(line + "\r\n")
			}
		}
		fmt.Fprintf(&resp, "From: %s\r\nTo: %s;tag=reg1\r\nCall-ID: %s\r\nCSeq: %s\r\n%sContent-Length: 0\r\n\r\n",
			header(req, "From"), header(req, "To"), header(req, "Call-ID"), header(req, "CSeq"), extra)
		_, _ = r.conn.WriteTo([]byte(resp.String()), addr)
	}
}

// Registration with digest authentication, a wrong password, and an AOR domain that
// differs from the registrar (which then serves as outbound proxy).
func TestRegister(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("digest", func(t *testing.T) {
		reg := startRegistrar(t, "alice-auth", "s3cret")
		var ua *baresip.UA
		t.Run("ua", func(t *testing.T) {
			ua = baresip.Start(t, baresip.Options{
				User: "alice", Registrar: reg.URI(), RegisterInterval: 90 * time.Second,
				AuthUser: "alice-auth", AuthPassword: "s3cret",
			})
			ev, err := ua.WaitRegistered(ctx)
			require.NoError(t, err)
			assert.Equal(t, "200 OK", ev.Param)
			assert.Equal(t, "sip:alice@"+strings.TrimPrefix(reg.URI(), "sip:"), ua.AOR())
			assert.Equal(t, ua.AOR(), ev.AccountAOR)
		})
		reqs := reg.Requests()
		require.GreaterOrEqual(t, len(reqs), 3, "challenge, authenticated REGISTER, un-REGISTER at stop")
		first, second := reqs[0], reqs[1]
		assert.Empty(t, header(first, "Authorization"))
		assert.Contains(t, header(second, "Authorization"), `username="alice-auth"`)
		assert.Contains(t, header(second, "To"), ua.AOR())
		assert.Contains(t, header(second, "Contact"), ua.SIPAddr())
		assert.Contains(t, header(second, "Contact"), "expires=90")
		// Stop quits gracefully, which unregisters.
		last := reqs[len(reqs)-1]
		assert.Contains(t, header(last, "Contact"), "expires=0")
	})

	t.Run("wrong password", func(t *testing.T) {
		reg := startRegistrar(t, "bob", "right")
		ua := baresip.Start(t, baresip.Options{User: "bob", Registrar: reg.URI(), AuthUser: "bob", AuthPassword: "wrong"})
		ev, err := ua.WaitRegistered(ctx)
		require.ErrorIs(t, err, baresip.ErrRegister)
		assert.Equal(t, baresip.EventRegisterFail, ev.Type)
		assert.Contains(t, ev.Param, "403")
	})

	t.Run("domain via outbound proxy", func(t *testing.T) {
		reg := startRegistrar(t, "carol", "pw")
		ua := baresip.Start(t, baresip.Options{
			User: "carol", Registrar: reg.URI(), Domain: "example.test", AuthUser: "carol", AuthPassword: "pw",
		})
		_, err := ua.WaitRegistered(ctx)
		require.NoError(t, err)
		assert.Equal(t, "sip:carol@example.test", ua.AOR())
		req := reg.Requests()[0]
		assert.True(t, strings.HasPrefix(req, "REGISTER sip:example.test SIP/2.0"), req)
		assert.Contains(t, header(req, "To"), "sip:carol@example.test")
	})
}

func TestHangupAfterIsPerCall(t *testing.T) {
	// HangupAfter ends every call; a second call is hung up as well.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := baresip.Start(t, baresip.Options{User: "alice", HangupAfter: 300 * time.Millisecond})
	b := baresip.Start(t, baresip.Options{User: "bob"})
	for i := range 2 {
		require.NoError(t, b.Dial(ctx, a.URI()), "call %d", i)
		_, err := b.WaitEvent(ctx, baresip.EventCallEstablished)
		require.NoError(t, err)
		closed, err := b.WaitEvent(ctx, baresip.EventCallClosed)
		require.NoError(t, err)
		assert.Contains(t, closed.Param, "peer", "call %d: A hung up", i)
	}
}
