package sip

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/switchboard-go/switchboard/media"
)

// ErrNotAcceptable means no media in an SDP offer or answer could be accepted. An
// incoming INVITE that fails this way gets 488 Not Acceptable Here (RFC 3261 §21.4.26).
var ErrNotAcceptable = errors.New("sip: no acceptable media")

// ErrBadSDP wraps a parse or validation failure of a remote session description.
var ErrBadSDP = errors.New("sip: malformed SDP")

// Direction is an SDP media direction attribute (RFC 3264 §5.1), seen from the side that
// wrote it.
type Direction uint8

// Directions. The zero value is SendRecv.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "sendrecv"
	}
}

// Sends reports whether the side with this direction sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with this direction receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// reverse is the direction an answerer takes for an offer of d, when willing to do
// everything the offer allows.
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	default:
		return d
	}
}

// intersect narrows d to what both d and the other direction allow.
func (d Direction) intersect(o Direction) Direction {
	send, recv := d.Sends() && o.Sends(), d.Receives() && o.Receives()
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	default:
		return Inactive
	}
}

// LocalMedia is what this side can do, used to build offers and answers.
type LocalMedia struct {
	// Addr is the address written in c= (the advertised RTP address).
	Addr netip.Addr
	// Port is the local RTP port.
	Port int
	// Codecs in preference order. Empty means media.DefaultCodecs().
	Codecs media.CodecSet
	// NoDTMF leaves telephone-event (RFC 4733) out of offers and answers.
	NoDTMF bool
	// PTime is the packetisation time we ask for. Zero means 20 ms.
	PTime time.Duration
	// Direction is what we want to do: SendRecv normally, SendOnly to put the peer on hold.
	Direction Direction
	// SessionID and Version fill the o= line. Version must grow with each new offer in a
	// dialog (RFC 3264 §8).
	SessionID, Version uint64
	// Username fills the o= line. Empty means "-".
	Username string
	// SRTP says whether media is secured with SRTP keyed by SDES (see SRTPMode).
	SRTP SRTPMode
	// Crypto is our SDES key for each crypto suite we accept, most preferred first:
	// offers list them all (RTP/SAVP), answers use the one whose suite the offer's
	// first usable a=crypto names, and ParseAnswer finds ours by the answer's tag.
	// Required unless SRTP is SRTPOff; NewCrypto makes fresh ones.
	Crypto []Crypto
}

// Negotiated is the outcome of an offer/answer exchange for the audio stream.
type Negotiated struct {
	// Codec and PayloadType are what both sides send audio with.
	Codec       media.Codec
	PayloadType uint8
	// DTMFPayloadType is the telephone-event payload type, or -1 if not negotiated.
	DTMFPayloadType int
	// DTMFClockRate is the telephone-event RTP clock rate (normally equal to the codec's).
	DTMFClockRate int
	// PTime is the packetisation time to send with.
	PTime time.Duration
	// Remote is where to send RTP; RemoteRTCP where to send RTCP.
	Remote, RemoteRTCP netip.AddrPort
	// Direction is ours after negotiation; RemoteDirection is the peer's.
	Direction, RemoteDirection Direction
	// RTCPMux is true when both sides agreed to multiplex RTCP on the RTP port.
	RTCPMux bool
	// SRTP holds the suite and both sides' keys when the media is SRTP (RTP/SAVP with
	// SDES); nil means plain RTP.
	SRTP *SRTPParams
}

// Hold reports whether the peer has put us on hold (it neither sends nor wants media,
// or only wants to send... i.e. it does not receive).
func (n Negotiated) Hold() bool { return !n.RemoteDirection.Receives() }

const (
	telephoneEvent = "telephone-event"
	firstDynamicPT = 96
)

// Offer builds an SDP offer for lm. It also returns the payload-type map it used, which
// Answer's counterpart ParseAnswer needs.
func Offer(lm LocalMedia) ([]byte, error) {
	lm = lm.withDefaults()
	if !lm.Addr.IsValid() {
		return nil, errors.New("sip: offer: no local address")
	}
	sd := lm.session()
	md := lm.mediaDescription(lm.Port)
	next := firstDynamicPT
	used := map[int]bool{}
	for _, c := range lm.Codecs {
		if pt := c.StaticPayloadType(); pt >= 0 {
			used[pt] = true
		}
	}
	dynamic := func() int {
		for used[next] {
			next++
		}
		used[next] = true
		return next
	}
	dtmfRates := map[int]bool{}
	for _, c := range lm.Codecs {
		pt := c.StaticPayloadType()
		if pt < 0 {
			pt = dynamic()
		}
		addFormat(md, pt, c.Name(), c.ClockRate(), "")
		dtmfRates[c.ClockRate()] = true
	}
	if !lm.NoDTMF {
		// One telephone-event per clock rate in the offer, so whichever codec the peer
		// picks has a DTMF format at its rate (RFC 4733 §7.1.1).
		for _, c := range lm.Codecs {
			r := c.ClockRate()
			if dtmfRates[r] {
				delete(dtmfRates, r)
				addFormat(md, dynamic(), telephoneEvent, r, "0-16")
			}
		}
	}
	md.WithValueAttribute("ptime", strconv.Itoa(int(lm.PTime/time.Millisecond)))
	md.WithPropertyAttribute(lm.Direction.String())
	if lm.SRTP != SRTPOff {
		if err := lm.checkCrypto(); err != nil {
			return nil, fmt.Errorf("sip: offer: %w", err)
		}
		md.MediaName.Protos = []string{"RTP", "SAVP"}
		for _, c := range lm.Crypto {
			md.WithValueAttribute("crypto", c.Value())
		}
	}
	sd.MediaDescriptions = []*sdp.MediaDescription{md}
	return sd.Marshal()
}

// Answer answers a remote offer: it picks the first codec in the offer's order that lm
// supports, telephone-event at that codec's clock rate if offered, and the direction
// that satisfies both. With lm.SRTP set it also accepts RTP/SAVP streams, answering the
// first a=crypto of the offer whose suite lm.Crypto has with our key under the same
// tag; it prefers a secure stream to a plain one, and with SRTPRequire accepts no
// plain one. An offer with nothing acceptable returns ErrNotAcceptable (send 488),
// ErrNotSecure when only plain RTP was offered to SRTPRequire; an unparsable one
// ErrBadSDP (send 400).
func Answer(offer []byte, lm LocalMedia) ([]byte, Negotiated, error) {
	lm = lm.withDefaults()
	if !lm.Addr.IsValid() {
		return nil, Negotiated{}, errors.New("sip: answer: no local address")
	}
	if lm.SRTP != SRTPOff {
		if err := lm.checkCrypto(); err != nil {
			return nil, Negotiated{}, fmt.Errorf("sip: answer: %w", err)
		}
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(offer)); err != nil {
		return nil, Negotiated{}, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	var (
		chosen, plainAt = -1, -1
		neg, plainNeg   Negotiated
		plainOnly       bool  // a usable plain stream was refused for SRTPRequire
		cryptoErr       error // why the last secure stream had no usable a=crypto
		secureWanted    = lm.SRTP != SRTPOff
		searching       = true
	)
	for i, md := range sd.MediaDescriptions {
		if !searching || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		secure := isRTPSAVP(md.MediaName.Protos)
		if !secure && !isRTPAVP(md.MediaName.Protos) {
			continue
		}
		if secure && !secureWanted {
			continue
		}
		n, ok, err := lm.pick(&sd, md)
		if err != nil {
			if chosen < 0 && plainAt < 0 {
				return nil, Negotiated{}, err
			}
			continue // a stream after the one we take: it is rejected anyway
		}
		if !ok {
			continue
		}
		if !secure {
			if lm.SRTP == SRTPRequire {
				plainOnly = true
				continue
			}
			if plainAt < 0 {
				plainAt, plainNeg = i, n
			}
			// Only SRTPOffer goes on looking, for a secure stream it would prefer.
			searching = secureWanted
			continue
		}
		p, err := lm.answerCrypto(md)
		if err != nil {
			cryptoErr = err
			continue
		}
		n.SRTP = p
		chosen, neg = i, n
		searching = false
	}
	if chosen < 0 && plainAt >= 0 {
		chosen, neg = plainAt, plainNeg
	}
	if chosen < 0 {
		switch {
		case cryptoErr != nil:
			return nil, Negotiated{}, cryptoErr
		case plainOnly:
			return nil, Negotiated{}, ErrNotSecure
		}
		return nil, Negotiated{}, ErrNotAcceptable
	}
	ans := lm.session()
	for i, md := range sd.MediaDescriptions {
		if i != chosen {
			ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
			continue
		}
		n := neg
		out := lm.mediaDescription(lm.Port)
		out.MediaName.Protos = md.MediaName.Protos
		addFormat(out, int(n.PayloadType), n.Codec.Name(), n.Codec.ClockRate(), "")
		if n.DTMFPayloadType >= 0 {
			addFormat(out, n.DTMFPayloadType, telephoneEvent, n.DTMFClockRate, "0-16")
		}
		out.WithPropertyAttribute(n.Direction.String())
		out.WithValueAttribute("ptime", strconv.Itoa(int(n.PTime/time.Millisecond)))
		if n.RTCPMux {
			out.WithPropertyAttribute("rtcp-mux")
		}
		if n.SRTP != nil {
			ours := Crypto{Tag: n.SRTP.Tag, Suite: n.SRTP.Suite, Key: n.SRTP.LocalKey, Salt: n.SRTP.LocalSalt}
			out.WithValueAttribute("crypto", ours.Value())
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, out)
	}
	b, err := ans.Marshal()
	return b, neg, err
}

// ParseAnswer reads the answer to an offer built with Offer(lm). An RTP/SAVP answer
// must carry one a=crypto with the tag and suite of one of lm.Crypto; a plain answer
// is accepted to SRTPOffer and refused with ErrNotSecure to SRTPRequire.
func ParseAnswer(answer []byte, lm LocalMedia) (Negotiated, error) {
	lm = lm.withDefaults()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(answer)); err != nil {
		return Negotiated{}, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	insecure := false
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		secure := isRTPSAVP(md.MediaName.Protos)
		switch {
		case secure && lm.SRTP == SRTPOff:
			continue // not what we offered
		case !secure && lm.SRTP == SRTPRequire:
			insecure = true
			continue
		}
		n, ok, err := lm.pick(&sd, md)
		if err != nil {
			return Negotiated{}, err
		}
		if !ok {
			continue
		}
		if secure {
			if n.SRTP, err = lm.answeredCrypto(md); err != nil {
				return Negotiated{}, err
			}
		}
		return n, nil
	}
	if insecure {
		return Negotiated{}, ErrNotSecure
	}
	return Negotiated{}, ErrNotAcceptable
}

func (lm LocalMedia) withDefaults() LocalMedia {
	if len(lm.Codecs) == 0 {
		lm.Codecs = media.DefaultCodecs()
	}
	if lm.PTime == 0 {
		lm.PTime = media.DefaultFrameDuration
	}
	if lm.Username == "" {
		lm.Username = "-"
	}
	return lm
}

func (lm LocalMedia) session() *sdp.SessionDescription {
	return &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: lm.Username, SessionID: lm.SessionID, SessionVersion: lm.Version,
			NetworkType: "IN", AddressType: addrType(lm.Addr), UnicastAddress: lm.Addr.String(),
		},
		SessionName: "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType(lm.Addr), Address: &sdp.Address{Address: lm.Addr.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

func (lm LocalMedia) mediaDescription(port int) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:  "audio",
			Port:   sdp.RangedPort{Value: port},
			Protos: []string{"RTP", "AVP"},
		},
	}
	return md
}

// pick chooses what to use from a remote media description: the first remote format we
// support (the remote's order wins, as RFC 3264 asks of answerers and as offerers expect).
func (lm LocalMedia) pick(sd *sdp.SessionDescription, md *sdp.MediaDescription) (Negotiated, bool, error) {
	addr, err := connectionAddr(sd, md)
	if err != nil {
		return Negotiated{}, false, err
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return Negotiated{}, false, fmt.Errorf("%w: media port %d", ErrBadSDP, port)
	}
	maps := rtpmaps(md)
	n := Negotiated{DTMFPayloadType: -1, PTime: lm.PTime}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return Negotiated{}, false, fmt.Errorf("%w: payload type %q", ErrBadSDP, f)
		}
		name, rate, ok := maps[pt].name, maps[pt].rate, maps[pt].name != ""
		if !ok {
			name, rate, ok = staticFormat(pt)
		}
		if !ok || strings.EqualFold(name, telephoneEvent) {
			continue
		}
		if c := lm.Codecs.ByName(name, rate); c != nil {
			n.Codec, n.PayloadType = c, uint8(pt)
			break
		}
	}
	if n.Codec == nil {
		return Negotiated{}, false, nil
	}
	if !lm.NoDTMF {
		for _, f := range md.MediaName.Formats {
			pt, _ := strconv.Atoi(f)
			m := maps[pt]
			if strings.EqualFold(m.name, telephoneEvent) {
				if m.rate == n.Codec.ClockRate() || n.DTMFPayloadType < 0 {
					n.DTMFPayloadType, n.DTMFClockRate = pt, m.rate
				}
			}
		}
	}
	if v, ok := md.Attribute("ptime"); ok {
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms >= 10 && ms <= 60 {
			n.PTime = time.Duration(ms) * time.Millisecond
		}
	}
	n.RemoteDirection = mediaDirection(sd, md)
	n.Direction = n.RemoteDirection.reverse().intersect(lm.Direction)
	n.Remote = netip.AddrPortFrom(addr, uint16(port))
	rtcpPort := port + 1
	if v, ok := md.Attribute("rtcp"); ok {
		if p, err := strconv.Atoi(strings.Fields(v + " ")[0]); err == nil && p > 0 && p <= 65535 {
			rtcpPort = p
		}
	}
	if _, ok := md.Attribute("rtcp-mux"); ok {
		n.RTCPMux = true
		rtcpPort = port
	}
	if rtcpPort > 65535 {
		rtcpPort = port
	}
	n.RemoteRTCP = netip.AddrPortFrom(addr, uint16(rtcpPort))
	return n, true, nil
}

type rtpmap struct {
	name string
	rate int
}

func rtpmaps(md *sdp.MediaDescription) map[int]rtpmap {
	m := map[int]rtpmap{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		pt, err := strconv.Atoi(ptStr)
		if err != nil {
			continue
		}
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 {
			continue
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 {
			continue
		}
		m[pt] = rtpmap{name: parts[0], rate: rate}
	}
	return m
}

// staticFormat knows the RFC 3551 static payload types we might meet without an rtpmap.
func staticFormat(pt int) (string, int, bool) {
	switch pt {
	case 0:
		return "PCMU", 8000, true
	case 8:
		return "PCMA", 8000, true
	case 9:
		return "G722", 8000, true
	case 3:
		return "GSM", 8000, true
	case 18:
		return "G729", 8000, true
	}
	return "", 0, false
}

func addFormat(md *sdp.MediaDescription, pt int, name string, rate int, fmtp string) {
	md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(pt))
	md.WithValueAttribute("rtpmap", fmt.Sprintf("%d %s/%d", pt, name, rate))
	if fmtp != "" {
		md.WithValueAttribute("fmtp", fmt.Sprintf("%d %s", pt, fmtp))
	}
}

func rejected(md *sdp.MediaDescription) *sdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0},
		Protos: md.MediaName.Protos, Formats: formats[:1],
	}}
}

func isRTPAVP(protos []string) bool {
	return strings.EqualFold(strings.Join(protos, "/"), "RTP/AVP")
}

func isRTPSAVP(protos []string) bool {
	return strings.EqualFold(strings.Join(protos, "/"), "RTP/SAVP")
}

func connectionAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) (netip.Addr, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: no connection address", ErrBadSDP)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ci.Address.Address))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: connection address %q (host names are not supported)", ErrBadSDP, ci.Address.Address)
	}
	return a, nil
}

func mediaDirection(sd *sdp.SessionDescription, md *sdp.MediaDescription) Direction {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv":
				return SendRecv
			case "sendonly":
				return SendOnly
			case "recvonly":
				return RecvOnly
			case "inactive":
				return Inactive
			}
		}
	}
	// RFC 2543 hold: c=0.0.0.0 means the peer does not want to receive.
	if a, err := connectionAddr(sd, md); err == nil && a.IsUnspecified() {
		return SendOnly
	}
	return SendRecv
}

func addrType(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "IP6"
	}
	return "IP4"
}

// ---- SRTP keyed by SDES (RFC 4568) ----

// SRTPMode says whether calls secure their media with SRTP (RFC 3711) keyed by SDES
// (RFC 4568: the keys travel in the SDP, in a=crypto attributes). SDES keys are only
// as secret as the SDP: use it with SIP over TLS (and trusted proxies), or anyone on
// the signalling path can decrypt the media.
type SRTPMode uint8

// SRTP modes. The zero value is SRTPOff.
const (
	// SRTPOff offers and accepts plain RTP (RTP/AVP) only; RTP/SAVP streams offered
	// are rejected.
	SRTPOff SRTPMode = iota
	// SRTPOffer offers RTP/SAVP with a=crypto, and accepts a plain RTP/AVP answer to it
	// (from a peer that answers at all: many without SRTP reject an RTP/SAVP offer
	// with 488). Answering, it accepts either, preferring a secure stream.
	SRTPOffer
	// SRTPRequire offers RTP/SAVP and accepts only a secure answer; answering, it
	// rejects offers without a usable RTP/SAVP stream (488).
	SRTPRequire
)

func (m SRTPMode) String() string {
	switch m {
	case SRTPOffer:
		return "offer"
	case SRTPRequire:
		return "require"
	}
	return "off"
}

// ErrNotSecure means secure media (SRTP) was required and the other side offered or
// answered plain RTP. It wraps ErrNotAcceptable (an INVITE gets 488).
var ErrNotSecure = fmt.Errorf("%w: secure media (RTP/SAVP) required", ErrNotAcceptable)

// ErrCryptoUnsupported wraps a well-formed a=crypto attribute that asks for something
// we do not do: an unknown crypto suite, several master keys, an MKI longer than 4
// bytes, a key derivation rate, unencrypted or unauthenticated SRTP, FEC, or an
// unknown session parameter. An answerer skips such an attribute (RFC 4568 §7.1.2).
var ErrCryptoUnsupported = errors.New("sip: unsupported a=crypto")

// CryptoSuite is an SDES crypto-suite name (RFC 4568 §6.2, RFC 7714 §12).
type CryptoSuite string

// Crypto suites we support.
const (
	AESCM128HMACSHA1_80 CryptoSuite = "AES_CM_128_HMAC_SHA1_80"
	AESCM128HMACSHA1_32 CryptoSuite = "AES_CM_128_HMAC_SHA1_32"
	AEADAES128GCM       CryptoSuite = "AEAD_AES_128_GCM"
	AEADAES256GCM       CryptoSuite = "AEAD_AES_256_GCM"
)

// DefaultCryptoSuites returns the suites offered by default, most preferred first:
// AES_CM_128_HMAC_SHA1_80, which every SRTP implementation has (RFC 4568 §6.2.1),
// then its 32-bit-tag variant and AES-GCM (RFC 7714).
func DefaultCryptoSuites() []CryptoSuite {
	return []CryptoSuite{AESCM128HMACSHA1_80, AESCM128HMACSHA1_32, AEADAES128GCM}
}

// KeyLen is the suite's master key length in bytes, 0 for a suite we do not support.
func (s CryptoSuite) KeyLen() int {
	switch s {
	case AESCM128HMACSHA1_80, AESCM128HMACSHA1_32, AEADAES128GCM:
		return 16
	case AEADAES256GCM:
		return 32
	}
	return 0
}

// SaltLen is the suite's master salt length in bytes, 0 for a suite we do not support.
func (s CryptoSuite) SaltLen() int {
	switch s {
	case AESCM128HMACSHA1_80, AESCM128HMACSHA1_32:
		return 14
	case AEADAES128GCM, AEADAES256GCM:
		return 12
	}
	return 0
}

func (s CryptoSuite) supported() bool { return s.KeyLen() > 0 }

// canonicalSuite returns the constant a suite name spells, whatever its case.
func canonicalSuite(name string) CryptoSuite {
	for _, s := range []CryptoSuite{AESCM128HMACSHA1_80, AESCM128HMACSHA1_32, AEADAES128GCM, AEADAES256GCM} {
		if strings.EqualFold(name, string(s)) {
			return s
		}
	}
	return CryptoSuite(name)
}

// Crypto is one SDES key: an a=crypto attribute with one inline master key.
type Crypto struct {
	// Tag identifies the attribute within its media description (1 to 999999999);
	// an answer uses the tag of the offer's attribute it accepts.
	Tag int
	// Suite is the crypto suite.
	Suite CryptoSuite
	// Key and Salt are the master key and salt, Suite.KeyLen and Suite.SaltLen bytes.
	Key, Salt []byte
	// Lifetime is how many packets the key may protect, zero when not stated.
	Lifetime uint64
	// MKI is the master key identifier the key's owner puts in each packet, nil for
	// none. We never use one in our own keys.
	MKI []byte
}

// NewCrypto makes a fresh random key for each suite, with tags 1, 2, … in the order
// given. r is the randomness, nil meaning crypto/rand.
func NewCrypto(r io.Reader, suites ...CryptoSuite) ([]Crypto, error) {
	if r == nil {
		r = rand.Reader
	}
	out := make([]Crypto, 0, len(suites))
	for i, s := range suites {
		if !s.supported() {
			return nil, fmt.Errorf("%w: suite %q", ErrCryptoUnsupported, s)
		}
		b := make([]byte, s.KeyLen()+s.SaltLen())
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("sip: SRTP key: %w", err)
		}
		out = append(out, Crypto{Tag: i + 1, Suite: s, Key: b[:s.KeyLen():s.KeyLen()], Salt: b[s.KeyLen():]})
	}
	return out, nil
}

// Value is the attribute's value as written after "a=crypto:".
func (c Crypto) Value() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(string(c.Suite))
	b.WriteString(" inline:")
	b.WriteString(base64.StdEncoding.EncodeToString(append(bytes.Clone(c.Key), c.Salt...)))
	if c.Lifetime > 0 {
		b.WriteByte('|')
		if c.Lifetime&(c.Lifetime-1) == 0 {
			b.WriteString("2^" + strconv.Itoa(bits.TrailingZeros64(c.Lifetime)))
		} else {
			b.WriteString(strconv.FormatUint(c.Lifetime, 10))
		}
	}
	if len(c.MKI) > 0 {
		var v uint64
		for _, x := range c.MKI {
			v = v<<8 | uint64(x)
		}
		fmt.Fprintf(&b, "|%d:%d", v, len(c.MKI))
	}
	return b.String()
}

// String describes the attribute without its key, for logs.
func (c Crypto) String() string {
	return fmt.Sprintf("%d %s inline:<%d-byte key>", c.Tag, c.Suite, len(c.Key)+len(c.Salt))
}

// LogValue logs the attribute as String does, without its key.
func (c Crypto) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Crypto) check() error {
	if c.Tag < 1 || c.Tag > 999999999 {
		return fmt.Errorf("%w: a=crypto tag %d", ErrBadSDP, c.Tag)
	}
	if !c.Suite.supported() {
		return fmt.Errorf("%w: suite %q", ErrCryptoUnsupported, c.Suite)
	}
	if len(c.Key) != c.Suite.KeyLen() || len(c.Salt) != c.Suite.SaltLen() {
		return fmt.Errorf("%w: a=crypto %s needs a %d-byte key and a %d-byte salt, not %d and %d",
			ErrBadSDP, c.Suite, c.Suite.KeyLen(), c.Suite.SaltLen(), len(c.Key), len(c.Salt))
	}
	return nil
}

// maxLifetime is SRTP's limit on packets per master key (RFC 3711 §9.2).
const maxLifetime = 1 << 48

// ParseCrypto parses the value of an a=crypto attribute (RFC 4568 §9.1; what follows
// "a=crypto:"): tag, suite, one inline key (base64 of key and salt, exactly their
// length) with an optional lifetime and MKI, and session parameters. Malformed input
// returns an error wrapping ErrBadSDP; a well-formed attribute we cannot use one
// wrapping ErrCryptoUnsupported, along with what was parsed (the tag and suite at
// least).
func ParseCrypto(value string) (Crypto, error) {
	fields := strings.Fields(value)
	if len(fields) < 3 {
		return Crypto{}, fmt.Errorf("%w: a=crypto %q: want tag, suite and key", ErrBadSDP, value)
	}
	var c Crypto
	tag, err := strconv.Atoi(fields[0])
	if err != nil || len(fields[0]) > 9 || !allDigits(fields[0]) || tag < 1 {
		return Crypto{}, fmt.Errorf("%w: a=crypto tag %q", ErrBadSDP, fields[0])
	}
	c.Tag = tag
	c.Suite = canonicalSuite(fields[1])
	if !isVisible(fields[1]) {
		return Crypto{}, fmt.Errorf("%w: a=crypto suite %q", ErrBadSDP, fields[1])
	}
	keyParams := fields[2]
	if strings.Contains(keyParams, ";") {
		return c, fmt.Errorf("%w: several master keys (%q)", ErrCryptoUnsupported, keyParams)
	}
	info, ok := strings.CutPrefix(keyParams, "inline:")
	if !ok {
		return c, fmt.Errorf("%w: key method of %q (only inline)", ErrBadSDP, keyParams)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return c, fmt.Errorf("%w: a=crypto key %q", ErrBadSDP, "inline:…|"+strings.Join(parts[1:], "|"))
	}
	for _, p := range parts[1:] {
		switch {
		case strings.Contains(p, ":"):
			if c.MKI != nil {
				return c, fmt.Errorf("%w: two MKIs", ErrBadSDP)
			}
			if c.MKI, err = parseMKI(p); err != nil {
				return c, err
			}
		default:
			if c.Lifetime != 0 || c.MKI != nil { // the lifetime comes before the MKI
				return c, fmt.Errorf("%w: a=crypto lifetime %q", ErrBadSDP, p)
			}
			if c.Lifetime, err = parseLifetime(p); err != nil {
				return c, err
			}
		}
	}
	for _, sp := range fields[3:] {
		if err := checkSessionParam(sp); err != nil {
			return c, err
		}
	}
	if !c.Suite.supported() {
		return c, fmt.Errorf("%w: suite %q", ErrCryptoUnsupported, fields[1])
	}
	raw, err := decodeKey(parts[0])
	if err != nil {
		return c, err
	}
	if len(raw) != c.Suite.KeyLen()+c.Suite.SaltLen() {
		return c, fmt.Errorf("%w: a=crypto %s key is %d bytes, want %d", ErrBadSDP, c.Suite, len(raw), c.Suite.KeyLen()+c.Suite.SaltLen())
	}
	c.Key, c.Salt = raw[:c.Suite.KeyLen():c.Suite.KeyLen()], raw[c.Suite.KeyLen():]
	return c, nil
}

// decodeKey reads base64 key material, padded or not, and nothing else.
func decodeKey(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil || s == "" {
		return nil, fmt.Errorf("%w: a=crypto key is not base64", ErrBadSDP)
	}
	return b, nil
}

// parseLifetime reads "2^n" or a decimal count of packets.
func parseLifetime(p string) (uint64, error) {
	var v uint64
	if exp, ok := strings.CutPrefix(p, "2^"); ok {
		n, err := strconv.ParseUint(exp, 10, 8)
		if err != nil || !allDigits(exp) || n > 48 {
			return 0, fmt.Errorf("%w: a=crypto lifetime %q", ErrBadSDP, p)
		}
		v = 1 << n
	} else {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || !allDigits(p) || n == 0 || n > maxLifetime {
			return 0, fmt.Errorf("%w: a=crypto lifetime %q", ErrBadSDP, p)
		}
		v = n
	}
	return v, nil
}

// parseMKI reads "value:length" into length big-endian bytes.
func parseMKI(p string) ([]byte, error) {
	vs, ls, _ := strings.Cut(p, ":")
	length, err := strconv.Atoi(ls)
	if err != nil || !allDigits(ls) || len(ls) > 3 || length < 1 || length > 128 {
		return nil, fmt.Errorf("%w: a=crypto MKI %q", ErrBadSDP, p)
	}
	if length > 4 {
		return nil, fmt.Errorf("%w: %d-byte MKI", ErrCryptoUnsupported, length)
	}
	v, err := strconv.ParseUint(vs, 10, 64)
	if err != nil || !allDigits(vs) || (length < 8 && v >= 1<<(8*length)) {
		return nil, fmt.Errorf("%w: a=crypto MKI %q", ErrBadSDP, p)
	}
	mki := make([]byte, length)
	for i := length - 1; i >= 0; i-- {
		mki[i] = byte(v)
		v >>= 8
	}
	return mki, nil
}

// checkSessionParam accepts the SRTP session parameters that change nothing for us
// (RFC 4568 §6.3): a zero key derivation rate and a window size hint.
func checkSessionParam(p string) error {
	name, v, hasValue := strings.Cut(p, "=")
	switch strings.ToUpper(name) {
	case "KDR":
		if hasValue && allDigits(v) && len(v) <= 2 {
			if n, _ := strconv.Atoi(v); n == 0 {
				return nil
			}
			return fmt.Errorf("%w: key derivation rate %s", ErrCryptoUnsupported, p)
		}
	case "WSH":
		if n, err := strconv.Atoi(v); hasValue && err == nil && allDigits(v) && n >= 64 {
			return nil
		}
	case "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP", "FEC_ORDER", "FEC_KEY":
		return fmt.Errorf("%w: session parameter %s", ErrCryptoUnsupported, p)
	default:
		if isVisible(p) {
			return fmt.Errorf("%w: session parameter %q", ErrCryptoUnsupported, p)
		}
	}
	return fmt.Errorf("%w: a=crypto session parameter %q", ErrBadSDP, p)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isVisible reports whether s is printable ASCII without spaces (the a=crypto grammar's
// characters for names and extension parameters).
func isVisible(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// SRTPParams is what SDES negotiated for a stream.
type SRTPParams struct {
	// Suite is the crypto suite both sides use; Tag the tag of its a=crypto.
	Suite CryptoSuite
	Tag   int
	// LocalKey and LocalSalt are ours: we encrypt what we send with them.
	LocalKey, LocalSalt []byte
	// RemoteKey and RemoteSalt are the peer's: what it sends decrypts with them.
	RemoteKey, RemoteSalt []byte
	// RemoteMKI is the MKI the peer puts in its packets, nil for none.
	RemoteMKI []byte
}

// String describes the parameters without the keys, for logs.
func (p *SRTPParams) String() string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%s (tag %d)", p.Suite, p.Tag)
}

// LogValue logs the parameters as String does, without the keys.
func (p *SRTPParams) LogValue() slog.Value { return slog.StringValue(p.String()) }

// checkCrypto validates our keys.
func (lm LocalMedia) checkCrypto() error {
	if len(lm.Crypto) == 0 {
		return fmt.Errorf("SRTP %s without keys (see NewCrypto)", lm.SRTP)
	}
	tags := map[int]bool{}
	for _, c := range lm.Crypto {
		if err := c.check(); err != nil {
			return err
		}
		if tags[c.Tag] {
			return fmt.Errorf("%w: a=crypto tag %d used twice", ErrBadSDP, c.Tag)
		}
		tags[c.Tag] = true
	}
	return nil
}

// ours returns our key for suite s.
func (lm LocalMedia) ours(s CryptoSuite) (Crypto, bool) {
	for _, c := range lm.Crypto {
		if c.Suite == s {
			return c, true
		}
	}
	return Crypto{}, false
}

// answerCrypto picks the first a=crypto of an offered RTP/SAVP stream whose suite we
// have a key for (the offerer's preference wins, RFC 4568 §7.1.1).
func (lm LocalMedia) answerCrypto(md *sdp.MediaDescription) (*SRTPParams, error) {
	var last error
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		theirs, err := ParseCrypto(a.Value)
		if err != nil {
			last = err
			continue
		}
		ours, ok := lm.ours(theirs.Suite)
		if !ok {
			continue
		}
		return &SRTPParams{
			Suite: theirs.Suite, Tag: theirs.Tag,
			LocalKey: bytes.Clone(ours.Key), LocalSalt: bytes.Clone(ours.Salt),
			RemoteKey: theirs.Key, RemoteSalt: theirs.Salt, RemoteMKI: theirs.MKI,
		}, nil
	}
	if last != nil {
		// The detail is not wrapped: an unusable a=crypto makes the stream unacceptable
		// (488), not the SDP malformed (400), RFC 4568 §7.1.2.
		return nil, fmt.Errorf("%w: no usable a=crypto (%v)", ErrNotAcceptable, last)
	}
	return nil, fmt.Errorf("%w: no a=crypto with a suite we support", ErrNotAcceptable)
}

// answeredCrypto reads the a=crypto of an RTP/SAVP answer: it must name one of the
// tags we offered, with that tag's suite (RFC 4568 §7.1.3).
func (lm LocalMedia) answeredCrypto(md *sdp.MediaDescription) (*SRTPParams, error) {
	n := 0
	var p *SRTPParams
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		n++
		theirs, err := ParseCrypto(a.Value)
		if err != nil {
			return nil, fmt.Errorf("sip: answer: %w", err)
		}
		var ours Crypto
		found := false
		for _, c := range lm.Crypto {
			if c.Tag == theirs.Tag {
				ours, found = c, true
			}
		}
		if !found || ours.Suite != theirs.Suite {
			return nil, fmt.Errorf("%w: answer's a=crypto %s matches no offered tag and suite", ErrBadSDP, theirs)
		}
		p = &SRTPParams{
			Suite: theirs.Suite, Tag: theirs.Tag,
			LocalKey: bytes.Clone(ours.Key), LocalSalt: bytes.Clone(ours.Salt),
			RemoteKey: theirs.Key, RemoteSalt: theirs.Salt, RemoteMKI: theirs.MKI,
		}
	}
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: RTP/SAVP answer without a=crypto", ErrBadSDP)
	case n > 1:
		return nil, fmt.Errorf("%w: RTP/SAVP answer with %d a=crypto attributes, want one", ErrBadSDP, n)
	}
	return p, nil
}
