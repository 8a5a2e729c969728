//go:build linux

package switchboard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/sip"
)

// sniffer captures the UDP datagrams on the loopback interface to or from a set of
// ports, with a packet socket (AF_PACKET, which needs CAP_NET_RAW: the tests run as
// root): what really went over the wire, not what a session says it sent.
type sniffer struct {
	fd   int
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	ports map[uint16]bool
	pkts  []sniffed
}

type sniffed struct {
	src, dst uint16
	payload  []byte
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startSniffer(t *testing.T) *sniffer {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
	require.NoError(t, err, "packet socket (needs CAP_NET_RAW; the test suite runs as root)")
	lo, err := net.InterfaceByName("lo")
	require.NoError(t, err)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: lo.Index}))
	// A short receive timeout lets the capture goroutine notice stop.
	require.NoError(t, syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &syscall.Timeval{Usec: 50000}))
	s := &sniffer{fd: fd, stop: make(chan struct{}), done: make(chan struct{}), ports: map[uint16]bool{}}
	go s.run()
	t.Cleanup(func() {
		close(s.stop)
		<-s.done
		_ = syscall.Close(fd)
	})
	return s
}

func (s *sniffer) run() {
	defer close(s.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(s.fd, buf, 0)
		if err != nil {
			continue // the timeout (EAGAIN), or EINTR
		}
		// Each loopback packet is seen leaving and arriving: keep the arrival.
		if ll, ok := from.(*syscall.SockaddrLinklayer); !ok || ll.Pkttype != syscall.PACKET_HOST {
			continue
		}
		f := buf[:n]
		// Ethernet (loopback frames carry a zeroed one), IPv4, UDP.
		if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != 17 {
			continue
		}
		ihl := int(f[14]&0x0f) * 4
		udp := f[14+ihl:]
		if len(udp) < 8 {
			continue
		}
		src, dst, ulen := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:]), int(binary.BigEndian.Uint16(udp[4:]))
		if ulen < 8 || ulen > len(udp) {
			continue
		}
		s.mu.Lock()
		if s.ports[src] || s.ports[dst] {
			s.pkts = append(s.pkts, sniffed{src: src, dst: dst, payload: slices.Clone(udp[8:ulen])})
		}
		s.mu.Unlock()
	}
}

// watch starts capturing datagrams from or to these ports.
func (s *sniffer) watch(ports ...uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ports {
		s.ports[p] = true
	}
}

// to returns the payloads of the datagrams captured on their way to port.
func (s *sniffer) to(port uint16) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, p := range s.pkts {
		if p.dst == port {
			out = append(out, p.payload)
		}
	}
	return out
}

// checkSRTPWire checks the RTP datagrams captured on their way to port: each is SRTP,
// its payload not the codec's bytes, and decrypted with the sender's SDES key (from
// its own Negotiated) they carry a tone of freq Hz.
func checkSRTPWire(t *testing.T, who string, datagrams [][]byte, n sip.Negotiated, freq float64) {
	t.Helper()
	require.NotNil(t, n.SRTP)
	profile, err := rtpsession.ParseSRTPProfile(string(n.SRTP.Suite))
	require.NoError(t, err)
	dec, err := srtp.CreateContext(n.SRTP.LocalKey, n.SRTP.LocalSalt, srtpProfiles[profile])
	require.NoError(t, err)
	type frame struct {
		seq uint16
		pcm []int16
	}
	var frames []frame
	plainSeen := 0
	for _, d := range datagrams {
		if len(d) < 12 || d[1] >= 192 && d[1] <= 223 { // RTCP
			continue
		}
		var h rtp.Header
		hl, err := h.Unmarshal(d)
		require.NoError(t, err, "%s: an RTP header in clear", who)
		if h.PayloadType != n.PayloadType {
			continue
		}
		plain, err := dec.DecryptRTP(nil, d, nil)
		require.NoError(t, err, "%s: the datagram authenticates under the sender's SDES key", who)
		payload := plain[hl:]
		if slices.Equal(payload, d[hl:hl+len(payload)]) {
			plainSeen++
		}
		frames = append(frames, frame{seq: h.SequenceNumber, pcm: n.Codec.NewDecoder().Decode(nil, payload)})
	}
	require.Greater(t, len(frames), 25, "%s: RTP captured", who)
	assert.Zero(t, plainSeen, "%s: no codec payload travels in clear", who)
	slices.SortFunc(frames, func(a, b frame) int { return int(int16(a.seq - b.seq)) })
	var pcm []int16
	for _, f := range frames {
		pcm = append(pcm, f.pcm...)
	}
	checkTone(t, who+" (decrypted from the wire)", pcm, n.Codec.SampleRate(), freq)
}

var srtpProfiles = map[rtpsession.SRTPProfile]srtp.ProtectionProfile{
	rtpsession.SRTPAESCM128HMACSHA1_80: srtp.ProtectionProfileAes128CmHmacSha1_80,
	rtpsession.SRTPAESCM128HMACSHA1_32: srtp.ProtectionProfileAes128CmHmacSha1_32,
	rtpsession.SRTPAEADAES128GCM:       srtp.ProtectionProfileAeadAes128Gcm,
	rtpsession.SRTPAEADAES256GCM:       srtp.ProtectionProfileAeadAes256Gcm,
}

// logRecorder keeps the messages logged at Warn and above.
type logRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogRecorder() logRecorder { return logRecorder{mu: &sync.Mutex{}, msgs: new([]string)} }

func (r logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	*r.msgs = append(*r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r logRecorder) WithGroup(string) slog.Handler      { return r }

func (r logRecorder) count(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range *r.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

const insecureKeysWarning = "SRTP keys were exchanged over unencrypted signalling"

// Two Switchboards that require SRTP call each other over TLS: the call connects with
// RTP/SAVP, the tones get through both ways, both sessions report SRTP with no
// authentication failure, no warning about the keys is logged, and a capture of the
// loopback interface shows that every RTP packet on the wire is SRTP that only the
// negotiated keys turn back into the tones.
func TestSRTPOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	logs := newLogRecorder()
	type answered struct {
		neg   sip.Negotiated
		stats rtpsession.Stats
		heard []int16
		rate  int
	}
	got := make(chan answered, 1)
	handler := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		go playTone(t, c, 1000, time.Second)
		heard, rate := record(t, c, 1500*time.Millisecond)
		s, err := c.Media()
		if err != nil {
			return err
		}
		got <- answered{neg: c.Negotiated(), stats: s.Stats(), heard: heard, rate: rate}
		<-ctx.Done()
		return nil
	})
	cfg := switchboard.Config{Handler: handler, TLSConfig: tlsCfg, SRTP: sip.SRTPRequire, MediaTimeout: -1,
		Codecs: media.CodecSet{media.PCMU()}, Logger: slog.New(logs)}
	_, aAddr := startStream(t, cfg, "tls")
	cfg.Handler = nil
	b, _ := startStream(t, cfg, "tls")
	snif := startSniffer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, "sip:x@"+aAddr+";transport=tls", call.DialOptions{})
	require.NoError(t, err)
	n := c.Negotiated()
	require.NotNil(t, n.SRTP, "secure media negotiated")
	assert.Equal(t, sip.AESCM128HMACSHA1_80, n.SRTP.Suite, "the first suite of the offer")
	assert.Equal(t, "TLS", c.Transport())
	s, err := c.Media()
	require.NoError(t, err)
	ourPort := uint16(s.LocalAddr().(*net.UDPAddr).Port)
	snif.watch(ourPort, n.Remote.Port())

	go playTone(t, c, 600, time.Second)
	heard, rate := record(t, c, 1500*time.Millisecond)
	checkTone(t, "caller heard callee over SRTP", heard, rate, 1000)
	var a answered
	select {
	case a = <-got:
	case <-ctx.Done():
		t.Fatal("callee did not finish")
	}
	checkTone(t, "callee heard caller over SRTP", a.heard, a.rate, 600)

	st := s.Stats()
	assert.Equal(t, rtpsession.SRTPAESCM128HMACSHA1_80, st.SRTP)
	assert.Equal(t, rtpsession.SRTPAESCM128HMACSHA1_80, a.stats.SRTP)
	assert.Zero(t, st.SRTPAuthFailures+st.SRTPReplays+a.stats.SRTPAuthFailures+a.stats.SRTPReplays)
	assert.Positive(t, st.PacketsReceived)
	assert.Positive(t, a.stats.PacketsReceived)
	// Each side decrypts with what the other encrypts with.
	assert.Equal(t, n.SRTP.LocalKey, a.neg.SRTP.RemoteKey)
	assert.Equal(t, n.SRTP.RemoteKey, a.neg.SRTP.LocalKey)
	assert.Zero(t, logs.count(insecureKeysWarning), "keys went over TLS: no warning")

	checkSRTPWire(t, "caller → callee", snif.to(n.Remote.Port()), n, 600)
	checkSRTPWire(t, "callee → caller", snif.to(ourPort), a.neg, 1000)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}

// startUDP starts a Switchboard on UDP only with the given SRTP mode.
func startUDP(t *testing.T, mode sip.SRTPMode, h call.Handler, logger *slog.Logger) *switchboard.Switchboard {
	t.Helper()
	sb, err := switchboard.New(switchboard.Config{Handler: h, MediaTimeout: -1, SRTP: mode, Logger: logger})
	require.NoError(t, err)
	require.NoError(t, sb.Start(listen(t)))
	t.Cleanup(func() { require.NoError(t, sb.Close()) })
	return sb
}

// The SRTP modes of caller and callee between two Switchboards (over UDP, which logs
// the warning about keys in clear): what connects, with what media, and what is
// refused with 488.
func TestSRTPModesBetweenSwitchboards(t *testing.T) {
	for _, tc := range []struct {
		caller, callee sip.SRTPMode
		secure         bool
		refused        bool
	}{
		{sip.SRTPOff, sip.SRTPOff, false, false},
		{sip.SRTPOff, sip.SRTPOffer, false, false},
		{sip.SRTPOff, sip.SRTPRequire, false, true},
		{sip.SRTPOffer, sip.SRTPOff, false, true}, // a peer without SRTP refuses RTP/SAVP
		{sip.SRTPOffer, sip.SRTPOffer, true, false},
		{sip.SRTPRequire, sip.SRTPOffer, true, false},
		{sip.SRTPRequire, sip.SRTPOff, false, true},
	} {
		t.Run(tc.caller.String()+"-"+tc.callee.String(), func(t *testing.T) {
			logs := newLogRecorder()
			callee := startUDP(t, tc.callee, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
				if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
					return err
				}
				playTone(t, c, 1000, 600*time.Millisecond)
				<-ctx.Done()
				return nil
			}), slog.New(logs))
			caller := startUDP(t, tc.caller, nil, slog.New(logs))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, callee.URI("x"), call.DialOptions{})
			if tc.refused {
				var de *call.DialError
				require.ErrorAs(t, err, &de)
				require.NotNil(t, de.Status)
				assert.Equal(t, 488, de.Status.Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.secure, c.Negotiated().SRTP != nil)
			heard, rate := record(t, c, 700*time.Millisecond)
			checkTone(t, "caller heard callee", heard, rate, 1000)
			s, err := c.Media()
			require.NoError(t, err)
			if tc.secure {
				assert.NotZero(t, s.Stats().SRTP)
				assert.Zero(t, s.Stats().SRTPAuthFailures)
				assert.Equal(t, 2, logs.count(insecureKeysWarning), "both ends warn: the keys went over UDP")
			} else {
				assert.Zero(t, s.Stats().SRTP)
				assert.Zero(t, logs.count(insecureKeysWarning))
			}
			require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
		})
	}
}

// plainUAS answers whatever is offered with plain RTP/AVP (as a peer without SRTP that
// ignores the offer's profile would), then takes the ACK and a BYE.
const plainUAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="plain RTP answer">
  <recv request="INVITE"/>
` + answerSDP + `m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
`

// Against a real peer that answers an RTP/SAVP offer with plain RTP (SIPp): SRTPRequire
// refuses the call (ACK, then BYE: the peer sees the call end at once) with an error
// that says why, SRTPOffer accepts it as plain RTP.
func TestSRTPDialPlainAnswer(t *testing.T) {
	for _, mode := range []sip.SRTPMode{sip.SRTPRequire, sip.SRTPOffer} {
		t.Run(mode.String(), func(t *testing.T) {
			b := startUDP(t, mode, nil, slog.New(slog.DiscardHandler))
			uas := sipp.Start(t, sipp.Options{ScenarioXML: plainUAS, Calls: 1, Timeout: 20 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := b.Dial(ctx, "sip:bob@"+uas.Addr, call.DialOptions{})
			if mode == sip.SRTPRequire {
				require.Error(t, err)
				assert.ErrorIs(t, err, sip.ErrNotSecure)
				var de *call.DialError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, call.OutcomeFailed, de.Outcome)
			} else {
				require.NoError(t, err)
				assert.Nil(t, c.Negotiated().SRTP)
				s, err := c.Media()
				require.NoError(t, err)
				assert.Zero(t, s.Stats().SRTP)
				require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
			}
			st, err := uas.Wait(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, st.Successful, "SIPp got its ACK and BYE")
		})
	}
}

// baresipTLS returns the baresip options for SIP over TLS with mandatory SDES-SRTP:
// module srtp.so, the account's mediaenc=srtp-mand, our self-signed certificate as
// its CA (sip_cafile) and, for calls to it, as its own certificate and key
// (sip_certificate: baresip's TLS listener on SIPPort+1 serves it).
func baresipTLS(t *testing.T, cert tls.Certificate) baresip.Options {
	t.Helper()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o644))
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	certFile := filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(certFile, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...), 0o600))
	return baresip.Options{
		Codecs:        []baresip.Codec{baresip.PCMU},
		ExtraConfig:   []string{"module srtp.so", "sip_cafile " + caFile, "sip_certificate " + certFile},
		AccountParams: []string{"mediaenc=srtp-mand"},
	}
}

// checkBaresipSRTP checks our side of an SRTP call with baresip. baresip 1.0.0 opens
// its RTCP path with an RTCP APP packet ("PING") sent in clear, 16 bytes without the
// SRTCP trailer: SRTCP authentication drops it, so RTCP may show one failure; every
// RTP packet must authenticate.
func checkBaresipSRTP(t *testing.T, n sip.Negotiated, st rtpsession.Stats) {
	t.Helper()
	require.NotNil(t, n.SRTP, "RTP/SAVP negotiated with baresip")
	t.Logf("negotiated with baresip: %s, %s; received %d RTP, %d RTCP (%d dropped), %d authentication failures",
		n.SRTP, n.Codec.Name(), st.PacketsReceived, st.RTCPReceived, st.RTCPDropped, st.SRTPAuthFailures)
	assert.Equal(t, rtpsession.SRTPAESCM128HMACSHA1_80, st.SRTP)
	assert.LessOrEqual(t, st.SRTPAuthFailures, st.RTCPDropped, "only RTCP may fail authentication")
	assert.LessOrEqual(t, st.SRTPAuthFailures, uint64(1))
	assert.Zero(t, st.SRTPReplays)
	assert.Zero(t, st.Lost)
	assert.Greater(t, st.PacketsReceived, uint64(50))
}

// baresip calls a Switchboard that serves SIP over TLS and requires SRTP: baresip
// offers RTP/SAVP with its SDES key over TLS, we answer with ours, and the tones go
// both ways through SRTP.
func TestBaresipSRTPOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	logs := newLogRecorder()
	type result struct {
		neg       sip.Negotiated
		transport string
		stats     rtpsession.Stats
		heard     []int16
		rate      int
	}
	got := make(chan result, 1)
	_, tlsAddr := startStream(t, switchboard.Config{TLSConfig: tlsCfg, SRTP: sip.SRTPRequire, MediaTimeout: -1,
		Logger: slog.New(logs),
		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			go playTone(t, c, 1000, 1500*time.Millisecond)
			heard, rate := record(t, c, 2500*time.Millisecond)
			s, err := c.Media()
			if err != nil {
				return err
			}
			got <- result{neg: c.Negotiated(), transport: c.Transport(), stats: s.Stats(), heard: heard, rate: rate}
			<-ctx.Done()
			return nil
		})}, "tls")

	opts := baresipTLS(t, cert)
	opts.Audio, opts.Pad, opts.HangupAfter = audiotest.Sine(8000, 600, 1500*time.Millisecond, -9), 10*time.Second, 4*time.Second
	ua := baresip.Start(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, ua.Dial(ctx, "sip:ivr@"+tlsAddr+";transport=tls"))
	_, err := ua.WaitEvent(ctx, baresip.EventCallEstablished)
	require.NoError(t, err)
	var r result
	select {
	case r = <-got:
	case <-ctx.Done():
		t.Fatal("handler did not finish")
	}
	assert.Equal(t, "TLS", r.transport)
	checkBaresipSRTP(t, r.neg, r.stats)
	checkTone(t, "we heard baresip over SRTP", r.heard, r.rate, 600)
	_, err = ua.WaitEvent(ctx, baresip.EventCallClosed)
	require.NoError(t, err)
	rec, recRate, err := ua.ReceivedAudio(ctx)
	require.NoError(t, err)
	checkTone(t, "baresip heard us over SRTP", rec, recRate, 1000)
	assert.Zero(t, logs.count(insecureKeysWarning))
}

// A Switchboard that requires SRTP calls baresip over TLS (baresip answers on its TLS
// port with our certificate): baresip takes a suite from our offer of three, and the
// tones go both ways.
func TestSwitchboardCallsBaresipSRTPOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	sb, _ := startStream(t, switchboard.Config{TLSConfig: tlsCfg, SRTP: sip.SRTPRequire, MediaTimeout: -1}, "tls")
	opts := baresipTLS(t, cert)
	opts.Audio, opts.Pad = audiotest.Sine(8000, 600, 1500*time.Millisecond, -9), 10*time.Second
	ua := baresip.Start(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sb.Dial(ctx, fmt.Sprintf("sip:%s@127.0.0.1:%d;transport=tls", "baresip", ua.SIPPort()+1), call.DialOptions{})
	require.NoError(t, err)
	assert.Equal(t, "TLS", c.Transport())
	go playTone(t, c, 1000, 1500*time.Millisecond)
	heard, rate := record(t, c, 2500*time.Millisecond)
	s, err := c.Media()
	require.NoError(t, err)
	checkBaresipSRTP(t, c.Negotiated(), s.Stats())
	checkTone(t, "we heard baresip over SRTP", heard, rate, 600)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	_, err = ua.WaitEvent(ctx, baresip.EventCallClosed)
	require.NoError(t, err)
	rec, recRate, err := ua.ReceivedAudio(ctx)
	require.NoError(t, err)
	checkTone(t, "baresip heard us over SRTP", rec, recRate, 1000)
}

// Hold and unhold on an SRTP call: the re-INVITEs offer and answer the keys already in
// use (one a=crypto each way), so both sessions keep their SRTP contexts, and audio
// after the unhold still authenticates.
func TestSRTPHoldKeepsKeys(t *testing.T) {
	callee := make(chan *call.Call, 1)
	a := startUDP(t, sip.SRTPRequire, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		callee <- c
		<-ctx.Done()
		return nil
	}), slog.New(slog.DiscardHandler))
	b := startUDP(t, sip.SRTPOffer, nil, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	held := <-callee
	before, after := c.Negotiated().SRTP, held.Negotiated().SRTP
	require.NotNil(t, before)

	require.NoError(t, c.Hold(ctx))
	require.NoError(t, c.Unhold(ctx))
	n, hn := c.Negotiated(), held.Negotiated()
	require.NotNil(t, n.SRTP, "still secure after the re-INVITEs")
	assert.Equal(t, before.LocalKey, n.SRTP.LocalKey)
	assert.Equal(t, before.RemoteKey, n.SRTP.RemoteKey)
	assert.Equal(t, after.LocalKey, hn.SRTP.LocalKey)
	assert.Equal(t, sip.SendRecv, n.Direction)

	go playTone(t, held, 1000, 600*time.Millisecond)
	heard, rate := record(t, c, 700*time.Millisecond)
	checkTone(t, "after unhold, over SRTP", heard, rate, 1000)
	for _, x := range []*call.Call{c, held} {
		s, err := x.Media()
		require.NoError(t, err)
		assert.Zero(t, s.Stats().SRTPAuthFailures+s.Stats().SRTPReplays)
	}
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}
