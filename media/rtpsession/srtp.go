package rtpsession

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v3/replaydetector"
)

// SRTPProfile is an SRTP protection profile: cipher, authentication and tag length.
// Its names are the SDES crypto-suite names of RFC 4568 and RFC 7714.
type SRTPProfile uint8

// Protection profiles. The zero value means no SRTP.
const (
	// SRTPAESCM128HMACSHA1_80 is AES-128 in counter mode with an 80-bit HMAC-SHA1 tag
	// (RFC 3711), the profile every SRTP implementation has.
	SRTPAESCM128HMACSHA1_80 SRTPProfile = iota + 1
	// SRTPAESCM128HMACSHA1_32 is the same with a 32-bit tag on SRTP (SRTCP keeps 80).
	SRTPAESCM128HMACSHA1_32
	// SRTPAEADAES128GCM is AES-128 in Galois/counter mode with a 128-bit tag (RFC 7714).
	SRTPAEADAES128GCM
	// SRTPAEADAES256GCM is AES-256 in Galois/counter mode with a 128-bit tag (RFC 7714).
	SRTPAEADAES256GCM
)

// ErrSRTPProfile is wrapped by ParseSRTPProfile for a name it does not know.
var ErrSRTPProfile = errors.New("rtpsession: unknown SRTP profile")

// String is the profile's crypto-suite name, e.g. "AES_CM_128_HMAC_SHA1_80"; "" for the
// zero value.
func (p SRTPProfile) String() string {
	switch p {
	case SRTPAESCM128HMACSHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	case SRTPAESCM128HMACSHA1_32:
		return "AES_CM_128_HMAC_SHA1_32"
	case SRTPAEADAES128GCM:
		return "AEAD_AES_128_GCM"
	case SRTPAEADAES256GCM:
		return "AEAD_AES_256_GCM"
	case 0:
		return ""
	}
	return fmt.Sprintf("SRTPProfile(%d)", uint8(p))
}

// ParseSRTPProfile returns the profile with the crypto-suite name s (as String writes
// it, case-insensitively).
func ParseSRTPProfile(s string) (SRTPProfile, error) {
	for p := SRTPAESCM128HMACSHA1_80; p <= SRTPAEADAES256GCM; p++ {
		if strings.EqualFold(s, p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrSRTPProfile, s)
}

// KeyLen and SaltLen are the lengths of the profile's master key and master salt in
// bytes; zero for an unknown profile.
func (p SRTPProfile) KeyLen() int {
	n, _ := p.pion().KeyLen()
	return n
}

// SaltLen is the length of the profile's master salt in bytes.
func (p SRTPProfile) SaltLen() int {
	n, _ := p.pion().SaltLen()
	return n
}

func (p SRTPProfile) pion() srtp.ProtectionProfile {
	switch p {
	case SRTPAESCM128HMACSHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80
	case SRTPAESCM128HMACSHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32
	case SRTPAEADAES128GCM:
		return srtp.ProtectionProfileAeadAes128Gcm
	case SRTPAEADAES256GCM:
		return srtp.ProtectionProfileAeadAes256Gcm
	}
	return 0
}

// SRTPConfig keys a session's SRTP (RFC 3711): what SDES (RFC 4568) negotiated in SDP.
// The session encrypts and authenticates what it sends with the local key, and
// authenticates and decrypts what it receives with the remote one. The slices are
// copied by New and SetSRTP.
type SRTPConfig struct {
	// Profile is the negotiated protection profile. Required.
	Profile SRTPProfile
	// LocalKey and LocalSalt are our master key and salt (the key we sent in SDP),
	// Profile.KeyLen and Profile.SaltLen bytes long.
	LocalKey, LocalSalt []byte
	// RemoteKey and RemoteSalt are the peer's master key and salt (the key it sent).
	RemoteKey, RemoteSalt []byte
	// RemoteMKI is the master key identifier the peer puts in each of its packets
	// (the MKI of its key in SDP), 1 to 4 bytes; nil when it uses none. We send none.
	RemoteMKI []byte
}

func (c *SRTPConfig) validate() error {
	p := c.Profile
	if p.pion() == 0 {
		return fmt.Errorf("%w: SRTP profile %d", ErrInvalidConfig, p)
	}
	if len(c.LocalKey) != p.KeyLen() || len(c.LocalSalt) != p.SaltLen() ||
		len(c.RemoteKey) != p.KeyLen() || len(c.RemoteSalt) != p.SaltLen() {
		return fmt.Errorf("%w: %s needs %d-byte keys and %d-byte salts", ErrInvalidConfig, p, p.KeyLen(), p.SaltLen())
	}
	if len(c.RemoteMKI) > 4 {
		return fmt.Errorf("%w: SRTP MKI of %d bytes", ErrInvalidConfig, len(c.RemoteMKI))
	}
	return nil
}

// srtpReplayWindow is how many packets back the receiver accepts out of order; older
// ones are dropped as replays. 128 packets is 2.56 s of 20 ms audio, more than the
// jitter buffer ever holds.
const srtpReplayWindow = 128

// maxSRTPSources bounds the per-SSRC state the receiving context keeps. The SSRC of
// a packet is in clear, and the context makes state for it before the packet is
// authenticated, so a flood of forged SSRCs would otherwise grow it without limit.
const maxSRTPSources = 8

// srtpState is a session's SRTP: one context per direction. A renegotiation replaces
// the whole state (Session.SetSRTP), reusing a direction whose keys did not change.
type srtpState struct {
	cfg SRTPConfig
	out *srtpOut
	in  *srtpIn
}

// srtpOut protects what the session sends. RTP is encrypted by the pacer, RTCP by the
// pacer or Close; mu makes them safe together.
type srtpOut struct {
	mu  sync.Mutex
	ctx *srtp.Context
	hdr rtp.Header // EncryptRTP's parse target, reused
}

func newSRTPOut(c *SRTPConfig) (*srtpOut, error) {
	ctx, err := srtp.CreateContext(clone(c.LocalKey), clone(c.LocalSalt), c.Profile.pion())
	if err != nil {
		return nil, fmt.Errorf("%w: SRTP: %w", ErrInvalidConfig, err)
	}
	return &srtpOut{ctx: ctx}, nil
}

// protectRTP encrypts the RTP packet in buf in place and appends the tag, growing buf
// only when its capacity is short.
func (o *srtpOut) protectRTP(buf []byte) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ctx.EncryptRTP(buf[:0], buf, &o.hdr)
}

// protectRTCP encrypts a compound RTCP packet (SRTCP, RFC 3711 3.4).
func (o *srtpOut) protectRTCP(b []byte) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ctx.EncryptRTCP(nil, b, nil)
}

// srtpIn authenticates and decrypts what the session receives. The RTP reader and
// the RTCP reader both use it; mu serialises them.
type srtpIn struct {
	mu      sync.Mutex
	profile srtp.ProtectionProfile
	key     []byte
	salt    []byte
	mki     []byte
	ctx     *srtp.Context
	hdr     rtp.Header
	// SSRCs the context holds state for, and whether a packet of theirs authenticated.
	srcs   [maxSRTPSources]srtpSource
	nsrcs  int
	replay bool // set by a replay window that refused the packet being decrypted
}

type srtpSource struct {
	ssrc uint32
	good bool
}

func newSRTPIn(c *SRTPConfig) (*srtpIn, error) {
	in := &srtpIn{profile: c.Profile.pion(), key: clone(c.RemoteKey), salt: clone(c.RemoteSalt), mki: clone(c.RemoteMKI)}
	in.hdr.CSRC = make([]uint32, 0, 15)
	in.hdr.Extensions = make([]rtp.Extension, 0, 4)
	ctx, err := in.newContext()
	if err != nil {
		return nil, fmt.Errorf("%w: SRTP: %w", ErrInvalidConfig, err)
	}
	in.ctx = ctx
	return in, nil
}

func (in *srtpIn) newContext() (*srtp.Context, error) {
	opts := []srtp.ContextOption{
		srtp.SRTPReplayDetectorFactory(func() replaydetector.ReplayDetector { return newReplayWindow(&in.replay) }),
		srtp.SRTCPReplayDetectorFactory(func() replaydetector.ReplayDetector { return newReplayWindow(&in.replay) }),
	}
	if len(in.mki) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(in.mki))
	}
	return srtp.CreateContext(in.key, in.salt, in.profile, opts...)
}

// srtpResult says what became of a received packet.
type srtpResult uint8

const (
	srtpOK srtpResult = iota
	srtpAuthFailed
	srtpReplayed
)

// unprotectRTP authenticates and decrypts the SRTP packet in b in place and returns
// the RTP packet.
func (in *srtpIn) unprotectRTP(b []byte) ([]byte, srtpResult) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ssrc := binary.BigEndian.Uint32(b[8:12]) // b holds at least an RTP header
	i := in.source(ssrc)
	in.replay = false
	out, err := in.ctx.DecryptRTP(b[:0], b, &in.hdr)
	return out, in.result(i, err)
}

// unprotectRTCP does the same for an SRTCP packet.
func (in *srtpIn) unprotectRTCP(b []byte) ([]byte, srtpResult) {
	if len(b) < 8 {
		return nil, srtpAuthFailed
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	i := in.source(binary.BigEndian.Uint32(b[4:8]))
	in.replay = false
	out, err := in.ctx.DecryptRTCP(b[:0], b, nil)
	return out, in.result(i, err)
}

func (in *srtpIn) result(i int, err error) srtpResult {
	switch {
	case err == nil:
		in.srcs[i].good = true
		return srtpOK
	case in.replay:
		return srtpReplayed
	}
	return srtpAuthFailed
}

// source returns the index of ssrc among the context's sources, adding it. When the
// table is full the context is rebuilt, keeping only the sources that authenticated
// (with their rollover counters), so forged SSRCs cannot grow it. Called with mu held.
func (in *srtpIn) source(ssrc uint32) int {
	for i := range in.nsrcs {
		if in.srcs[i].ssrc == ssrc {
			return i
		}
	}
	if in.nsrcs == len(in.srcs) {
		in.rebuild()
	}
	in.srcs[in.nsrcs] = srtpSource{ssrc: ssrc}
	in.nsrcs++
	return in.nsrcs - 1
}

func (in *srtpIn) rebuild() {
	ctx, err := in.newContext()
	if err != nil {
		// Cannot happen (the same parameters made the first context); forget the
		// table rather than index past it.
		in.nsrcs = 0
		return
	}
	keep := 0
	for _, s := range in.srcs[:in.nsrcs] {
		// At most half the table is kept, so a rebuild always frees room. A real
		// stream has one SSRC at a time; more good ones are old streams.
		if !s.good || keep == len(in.srcs)/2 {
			continue
		}
		if roc, ok := in.ctx.ROC(s.ssrc); ok {
			ctx.SetROC(s.ssrc, roc)
		}
		in.srcs[keep] = s
		keep++
	}
	in.nsrcs = keep
	in.ctx = ctx
}

// replayWindow is a sliding-window replay detector (RFC 3711 3.3.2) over the packet
// index. pion's own allocates a closure per packet; this one hands out a function
// bound once, so checking a packet allocates nothing.
type replayWindow struct {
	latest  uint64
	mask    [srtpReplayWindow / 64]uint64 // bit i: latest-i was received
	started bool
	pending uint64
	refused *bool
	acceptF func() bool
}

func newReplayWindow(refused *bool) *replayWindow {
	w := &replayWindow{refused: refused}
	w.acceptF = w.accept
	return w
}

func noAccept() bool { return false }

// Check refuses an index seen before or too old; otherwise it returns the function
// that records the index once the packet has authenticated.
func (w *replayWindow) Check(index uint64) (func() bool, bool) {
	if w.started && index <= w.latest {
		d := w.latest - index
		if d >= srtpReplayWindow || w.mask[d/64]&(1<<(d%64)) != 0 {
			*w.refused = true
			return noAccept, false
		}
	}
	w.pending = index
	return w.acceptF, true
}

func (w *replayWindow) accept() bool {
	index := w.pending
	if !w.started || index > w.latest {
		shift := uint64(srtpReplayWindow)
		if w.started {
			shift = min(index-w.latest, srtpReplayWindow)
		}
		w.shift(shift)
		w.mask[0] |= 1
		w.latest, w.started = index, true
		return true
	}
	d := w.latest - index
	w.mask[d/64] |= 1 << (d % 64)
	return false
}

// shift moves the window forward by n packets (n <= srtpReplayWindow).
func (w *replayWindow) shift(n uint64) {
	for ; n >= 64; n -= 64 {
		copy(w.mask[1:], w.mask[:len(w.mask)-1])
		w.mask[0] = 0
	}
	if n == 0 {
		return
	}
	for i := len(w.mask) - 1; i > 0; i-- {
		w.mask[i] = w.mask[i]<<n | w.mask[i-1]>>(64-n)
	}
	w.mask[0] <<= n
}

func newSRTPState(c *SRTPConfig, old *srtpState) (*srtpState, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	st := &srtpState{cfg: SRTPConfig{
		Profile:  c.Profile,
		LocalKey: clone(c.LocalKey), LocalSalt: clone(c.LocalSalt),
		RemoteKey: clone(c.RemoteKey), RemoteSalt: clone(c.RemoteSalt), RemoteMKI: clone(c.RemoteMKI),
	}}
	var err error
	if old != nil && old.cfg.Profile == c.Profile && bytes.Equal(old.cfg.LocalKey, c.LocalKey) && bytes.Equal(old.cfg.LocalSalt, c.LocalSalt) {
		// Same key: keep the context, whose rollover counter must go on (a new one
		// would restart it, and reuse keystream once the sequence number wrapped).
		st.out = old.out
	} else if st.out, err = newSRTPOut(c); err != nil {
		return nil, err
	}
	if old != nil && old.cfg.Profile == c.Profile && bytes.Equal(old.cfg.RemoteKey, c.RemoteKey) &&
		bytes.Equal(old.cfg.RemoteSalt, c.RemoteSalt) && bytes.Equal(old.cfg.RemoteMKI, c.RemoteMKI) {
		st.in = old.in
	} else if st.in, err = newSRTPIn(c); err != nil {
		return nil, err
	}
	return st, nil
}

// SetSRTP changes the session's SRTP after a renegotiation (re-INVITE): nil turns it
// off, otherwise a direction whose key changed gets a new context and one whose key
// did not keeps its state. Packets in flight under the old keys fail authentication
// and are counted in Stats.SRTPAuthFailures.
func (s *Session) SetSRTP(c *SRTPConfig) error {
	s.srtpMu.Lock()
	defer s.srtpMu.Unlock()
	if c == nil {
		s.srtp.Store(nil)
		return nil
	}
	st, err := newSRTPState(c, s.srtp.Load())
	if err != nil {
		return err
	}
	s.srtp.Store(st)
	return nil
}

// SRTPProfile is the protection profile in use, zero without SRTP.
func (s *Session) SRTPProfile() SRTPProfile {
	if st := s.srtp.Load(); st != nil {
		return st.cfg.Profile
	}
	return 0
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

func (s *Session) countSRTPDrop(r srtpResult) {
	if r == srtpReplayed {
		s.stats.srtpReplays.Add(1)
		return
	}
	s.stats.srtpAuthFailures.Add(1)
}
