package sip

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

var loop = netip.MustParseAddr("127.0.0.1")

func crlf(s string) string {
	s = strings.TrimLeft(s, "\n")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// SIPp's and baresip's offers, as they send them.
var sippOffer = crlf(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
`)

var baresipOffer = crlf(`
v=0
o=- 1431406935 2419398165 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 30010 RTP/AVP 9 0 8 100
b=AS:64
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:100 telephone-event/8000
a=fmtp:100 0-15
a=rtcp-rsize
a=ptime:20
a=sendrecv
`)

func TestAnswerHonoursOffererOrder(t *testing.T) {
	lm := LocalMedia{Addr: loop, Port: 40000, Codecs: media.CodecSet{media.PCMU(), media.PCMA(), media.G722()}}
	ans, n, err := Answer([]byte(baresipOffer), lm)
	require.NoError(t, err)
	assert.Equal(t, "G722", n.Codec.Name(), "the offer lists G722 first")
	assert.Equal(t, uint8(9), n.PayloadType)
	assert.Equal(t, 100, n.DTMFPayloadType, "telephone-event keeps the offerer's dynamic PT")
	assert.Equal(t, 8000, n.DTMFClockRate)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:30010"), n.Remote)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:30011"), n.RemoteRTCP)
	assert.Equal(t, SendRecv, n.Direction)
	assert.Equal(t, 20*time.Millisecond, n.PTime)

	s := string(ans)
	assert.Contains(t, s, "m=audio 40000 RTP/AVP 9 100\r\n")
	assert.Contains(t, s, "a=rtpmap:100 telephone-event/8000")
	assert.Contains(t, s, "c=IN IP4 127.0.0.1")
	assert.Contains(t, s, "a=sendrecv")
	assert.NotContains(t, s, "PCMU")
}

func TestAnswerStaticPTWithoutRtpmap(t *testing.T) {
	offer := strings.Replace(sippOffer, "a=rtpmap:8 PCMA/8000\r\n", "", 1)
	_, n, err := Answer([]byte(offer), LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU(), media.PCMA()}})
	require.NoError(t, err)
	assert.Equal(t, "PCMA", n.Codec.Name())
	assert.Equal(t, 101, n.DTMFPayloadType)
}

func TestAnswerNotAcceptable(t *testing.T) {
	_, _, err := Answer([]byte(sippOffer), LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}})
	assert.ErrorIs(t, err, ErrNotAcceptable)
	_, _, err = Answer([]byte("v=0\r\ngarbage"), LocalMedia{Addr: loop, Port: 4000})
	assert.ErrorIs(t, err, ErrBadSDP)
}

func TestAnswerDirections(t *testing.T) {
	for _, tc := range []struct {
		offer, want string
		local       Direction
		hold        bool
	}{
		{"sendrecv", "sendrecv", SendRecv, false},
		{"sendonly", "recvonly", SendRecv, true},
		{"recvonly", "sendonly", SendRecv, false},
		{"inactive", "inactive", SendRecv, true},
		{"sendrecv", "sendonly", SendOnly, false},
		{"sendonly", "inactive", SendOnly, true},
	} {
		offer := strings.Replace(baresipOffer, "a=sendrecv", "a="+tc.offer, 1)
		ans, n, err := Answer([]byte(offer), LocalMedia{Addr: loop, Port: 4000, Direction: tc.local, Codecs: media.CodecSet{media.PCMU()}})
		require.NoError(t, err)
		assert.Contains(t, string(ans), "a="+tc.want+"\r\n", "offer %s, local %s", tc.offer, tc.local)
		assert.Equal(t, tc.want, n.Direction.String())
		assert.Equal(t, tc.hold, n.Hold())
	}
}

// An offer with video and a second audio stream: the answer has as many m-lines, and
// rejects all but the first usable audio with port 0 (RFC 3264 §6).
func TestAnswerRejectsOtherStreams(t *testing.T) {
	offer := sippOffer + crlf(`
m=video 6002 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 6004 RTP/AVP 0
`)
	ans, n, err := Answer([]byte(offer), LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMA(), media.PCMU()}})
	require.NoError(t, err)
	assert.Equal(t, 6000, int(n.Remote.Port()))
	s := string(ans)
	assert.Equal(t, 3, strings.Count(s, "m="))
	assert.Contains(t, s, "m=video 0 RTP/AVP 96")
	assert.Contains(t, s, "m=audio 0 RTP/AVP 0")
}

func TestOfferAnswerRoundTrip(t *testing.T) {
	a := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.L16(16000), media.G722(), media.PCMU()}, SessionID: 7, Version: 1}
	offer, err := Offer(a)
	require.NoError(t, err)
	s := string(offer)
	assert.Contains(t, s, "m=audio 4000 RTP/AVP 96 9 0 97 98\r\n", "dynamic PTs skip static ones; one telephone-event per clock rate")
	assert.Contains(t, s, "a=rtpmap:96 L16/16000")
	assert.Contains(t, s, "a=rtpmap:97 telephone-event/16000")
	assert.Contains(t, s, "a=rtpmap:98 telephone-event/8000")

	b := LocalMedia{Addr: loop, Port: 5000, Codecs: media.CodecSet{media.PCMU(), media.G722()}}
	ans, nb, err := Answer(offer, b)
	require.NoError(t, err)
	assert.Equal(t, "G722", nb.Codec.Name(), "first codec of the offer both support")
	assert.Equal(t, 98, nb.DTMFPayloadType, "telephone-event at G.722's RTP clock rate")

	na, err := ParseAnswer(ans, a)
	require.NoError(t, err)
	assert.Equal(t, "G722", na.Codec.Name())
	assert.Equal(t, uint8(9), na.PayloadType)
	assert.Equal(t, 98, na.DTMFPayloadType)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:5000"), na.Remote)
}

func TestOldStyleHold(t *testing.T) {
	offer := strings.Replace(sippOffer, "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)
	_, n, err := Answer([]byte(offer), LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMA()}})
	require.NoError(t, err)
	assert.True(t, n.Hold())
}

func FuzzAnswer(f *testing.F) {
	f.Add([]byte(sippOffer))
	f.Add([]byte(baresipOffer))
	f.Add([]byte(baresipSRTPOffer))
	f.Add([]byte(multiSuiteOffer))
	f.Add([]byte(sippOffer + crlf(`
m=audio 6002 RTP/SAVP 0
a=crypto:7 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==|2^31|1:1 WSH=64
`)))
	plain := LocalMedia{Addr: loop, Port: 4000}
	keys, err := NewCrypto(nil, DefaultCryptoSuites()...)
	require.NoError(f, err)
	secure := LocalMedia{Addr: loop, Port: 4000, SRTP: SRTPOffer, Crypto: keys}
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, n, err := Answer(offer, plain)
		if err == nil {
			// Whatever we accept, we must be able to read back as the offerer would.
			require.NotNil(t, n.Codec)
			require.Nil(t, n.SRTP)
			_, err = ParseAnswer(ans, LocalMedia{Addr: loop, Port: 4000})
			require.NoError(t, err, "answer:\n%s", ans)
		}
		ans, n, err = Answer(offer, secure)
		if err != nil {
			return
		}
		require.NotNil(t, n.Codec)
		offerer := LocalMedia{Addr: loop, Port: 4000}
		if n.SRTP != nil {
			// The offerer's view: it offered the key we took, under that tag.
			offerer.SRTP = SRTPRequire
			offerer.Crypto = []Crypto{{Tag: n.SRTP.Tag, Suite: n.SRTP.Suite, Key: n.SRTP.RemoteKey, Salt: n.SRTP.RemoteSalt, MKI: n.SRTP.RemoteMKI}}
		}
		back, err := ParseAnswer(ans, offerer)
		require.NoError(t, err, "answer:\n%s", ans)
		if n.SRTP != nil {
			require.NotNil(t, back.SRTP)
			assert.Equal(t, n.SRTP.LocalKey, back.SRTP.RemoteKey)
			assert.Equal(t, n.SRTP.LocalSalt, back.SRTP.RemoteSalt)
			assert.Equal(t, n.SRTP.Suite, back.SRTP.Suite)
		}
	})
}

// baresip 1.0.0's offer with mediaenc=srtp-mand (its srtp module), as it sends it.
var baresipSRTPOffer = crlf(`
v=0
o=- 3413503431 1461844437 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
a=tool:baresip 1.0.0
m=audio 30170 RTP/SAVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ssrc:3865136508 cname:sip:baresip@127.0.0.1:21138
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:h8OS/kDx4cAnUbRx1On3Q2um1znGNf6fjHVCvloE
a=minptime:20
a=ptime:20
`)

// An offer of several suites, the 32-bit tag first.
var multiSuiteOffer = crlf(`
v=0
o=- 3416131313 1290397839 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 30012 RTP/SAVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9FqJd8oA/XR
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:7eHI3TzLKIRdn4tqFeuhIJWTkuxAaX4BWhQcttuS
a=crypto:3 AEAD_AES_256_GCM inline:XOB+Ptuh5hzSYC8f+fNeC5Kaw02Jzk5gyfyKcFSE4VQEj+40oztrIgAH+Eg=
a=crypto:4 AEAD_AES_128_GCM inline:ehNmoVLGXrEO+F4Ek3AbwQJXdv6DTnnQxaDHfA==
`)

func mustCrypto(t *testing.T, suites ...CryptoSuite) []Crypto {
	t.Helper()
	c, err := NewCrypto(nil, suites...)
	require.NoError(t, err)
	return c
}

func TestNewCrypto(t *testing.T) {
	a := mustCrypto(t, DefaultCryptoSuites()...)
	b := mustCrypto(t, DefaultCryptoSuites()...)
	require.Len(t, a, 3)
	for i, c := range a {
		assert.Equal(t, i+1, c.Tag)
		assert.Len(t, c.Key, c.Suite.KeyLen())
		assert.Len(t, c.Salt, c.Suite.SaltLen())
		assert.NotEqual(t, c.Key, b[i].Key, "fresh keys each time")
		if i > 0 {
			assert.NotEqual(t, c.Key, a[i-1].Key, "a key per suite")
		}
		assert.NotContains(t, c.String(), base64.StdEncoding.EncodeToString(c.Key)[:8], "String hides the key")
	}
	// Deterministic with injected randomness.
	x, err := NewCrypto(bytes.NewReader(make([]byte, 64)), AESCM128HMACSHA1_80)
	require.NoError(t, err)
	assert.Equal(t, "1 AES_CM_128_HMAC_SHA1_80 inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", x[0].Value())
	_, err = NewCrypto(bytes.NewReader(make([]byte, 10)), AESCM128HMACSHA1_80)
	assert.Error(t, err, "short randomness")
	_, err = NewCrypto(nil, "F8_128_HMAC_SHA1_80")
	assert.ErrorIs(t, err, ErrCryptoUnsupported)
}

func TestParseCrypto(t *testing.T) {
	key30 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	key28 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 28))
	for _, tc := range []struct {
		in       string
		err      error // nil: valid
		lifetime uint64
		mki      []byte
	}{
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30},
		{in: "999999999 AES_CM_128_HMAC_SHA1_32 inline:" + key30},
		{in: "1 aes_cm_128_hmac_sha1_80 inline:" + key30},
		{in: "2 AEAD_AES_128_GCM inline:" + key28},
		{in: "2 AEAD_AES_128_GCM inline:" + strings.TrimRight(key28, "="), err: nil}, // unpadded
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31", lifetime: 1 << 31},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1048576", lifetime: 1 << 20},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4", lifetime: 1 << 20, mki: []byte{0, 0, 0, 1}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|258:2", mki: []byte{1, 2}},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=0 WSH=128"},

		{in: "0 AES_CM_128_HMAC_SHA1_80 inline:" + key30, err: ErrBadSDP},
		{in: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key30, err: ErrBadSDP},
		{in: "+1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + key30, err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 uri:" + key30, err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key28, err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "AAAA", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30[:39] + "!", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^49", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|0", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:0", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|256:1", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:1|2^20", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:1|2:1", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^10|2^20", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=10", err: ErrBadSDP},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=x", err: ErrBadSDP},

		{in: "1 F8_128_HMAC_SHA1_80 inline:" + key30, err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4;inline:" + key30 + "|2^20|2:4", err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:5", err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=23", err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP", err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " FEC_ORDER=FEC_SRTP", err: ErrCryptoUnsupported},
		{in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " -FUTURE=1", err: ErrCryptoUnsupported},
	} {
		c, err := ParseCrypto(tc.in)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, tc.in)
			continue
		}
		if !assert.NoError(t, err, tc.in) {
			continue
		}
		assert.Equal(t, tc.lifetime, c.Lifetime, tc.in)
		assert.Equal(t, tc.mki, c.MKI, tc.in)
		assert.Equal(t, bytes.Repeat([]byte{7}, c.Suite.KeyLen()), c.Key)
		back, err := ParseCrypto(c.Value())
		require.NoError(t, err, c.Value())
		assert.Equal(t, c, back, "round trip through %q", c.Value())
	}
}

// negotiate runs offer and answer between an offerer and an answerer in the given
// modes, each with fresh keys for suites (nil: the defaults).
func negotiate(t *testing.T, offMode, ansMode SRTPMode, offSuites, ansSuites []CryptoSuite) (offN, ansN Negotiated, offer, answer []byte, ansErr, parseErr error) {
	t.Helper()
	if offSuites == nil {
		offSuites = DefaultCryptoSuites()
	}
	if ansSuites == nil {
		ansSuites = DefaultCryptoSuites()
	}
	off := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}, SRTP: offMode}
	ans := LocalMedia{Addr: loop, Port: 5000, Codecs: media.CodecSet{media.PCMU()}, SRTP: ansMode}
	if offMode != SRTPOff {
		off.Crypto = mustCrypto(t, offSuites...)
	}
	if ansMode != SRTPOff {
		ans.Crypto = mustCrypto(t, ansSuites...)
	}
	offer, err := Offer(off)
	require.NoError(t, err)
	answer, ansN, ansErr = Answer(offer, ans)
	if ansErr != nil {
		return
	}
	offN, parseErr = ParseAnswer(answer, off)
	return
}

// The offer/answer matrix of SRTP modes on both sides.
func TestSRTPModeMatrix(t *testing.T) {
	for _, tc := range []struct {
		offerer, answerer SRTPMode
		secure            bool
		err               error
	}{
		{SRTPOff, SRTPOff, false, nil},
		{SRTPOff, SRTPOffer, false, nil},
		{SRTPOff, SRTPRequire, false, ErrNotSecure},
		{SRTPOffer, SRTPOff, false, ErrNotAcceptable}, // a plain-only peer refuses RTP/SAVP
		{SRTPOffer, SRTPOffer, true, nil},
		{SRTPOffer, SRTPRequire, true, nil},
		{SRTPRequire, SRTPOff, false, ErrNotAcceptable},
		{SRTPRequire, SRTPOffer, true, nil},
		{SRTPRequire, SRTPRequire, true, nil},
	} {
		t.Run(fmt.Sprintf("%s-%s", tc.offerer, tc.answerer), func(t *testing.T) {
			offN, ansN, offer, answer, ansErr, parseErr := negotiate(t, tc.offerer, tc.answerer, nil, nil)
			if tc.offerer == SRTPOff {
				assert.Contains(t, string(offer), " RTP/AVP ")
				assert.NotContains(t, string(offer), "a=crypto")
			} else {
				assert.Contains(t, string(offer), "m=audio 4000 RTP/SAVP 0 96\r\n")
				assert.Contains(t, string(offer), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")
				assert.Contains(t, string(offer), "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:")
				assert.Contains(t, string(offer), "a=crypto:3 AEAD_AES_128_GCM inline:")
			}
			if tc.err != nil {
				require.ErrorIs(t, ansErr, tc.err)
				if errors.Is(tc.err, ErrNotSecure) {
					assert.ErrorIs(t, ansErr, ErrNotAcceptable, "ErrNotSecure is a 488 too")
				}
				return
			}
			require.NoError(t, ansErr)
			require.NoError(t, parseErr)
			if !tc.secure {
				assert.Nil(t, ansN.SRTP)
				assert.Nil(t, offN.SRTP)
				assert.Contains(t, string(answer), "m=audio 5000 RTP/AVP 0")
				assert.NotContains(t, string(answer), "a=crypto")
				return
			}
			require.NotNil(t, ansN.SRTP)
			require.NotNil(t, offN.SRTP)
			assert.Contains(t, string(answer), "m=audio 5000 RTP/SAVP 0")
			assert.Equal(t, 1, strings.Count(string(answer), "a=crypto:"), "an answer carries one key")
			assert.Contains(t, string(answer), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+
				base64.StdEncoding.EncodeToString(append(bytes.Clone(ansN.SRTP.LocalKey), ansN.SRTP.LocalSalt...)))
			assert.Equal(t, AESCM128HMACSHA1_80, offN.SRTP.Suite, "the offerer's first suite")
			assert.Equal(t, 1, offN.SRTP.Tag)
			assert.Equal(t, offN.SRTP.LocalKey, ansN.SRTP.RemoteKey)
			assert.Equal(t, offN.SRTP.LocalSalt, ansN.SRTP.RemoteSalt)
			assert.Equal(t, ansN.SRTP.LocalKey, offN.SRTP.RemoteKey)
			assert.Equal(t, ansN.SRTP.LocalSalt, offN.SRTP.RemoteSalt)
			assert.NotEqual(t, offN.SRTP.LocalKey, offN.SRTP.RemoteKey, "each side its own key")
			assert.Equal(t, "AES_CM_128_HMAC_SHA1_80 (tag 1)", offN.SRTP.String())
			assert.NotContains(t, fmt.Sprintf("%v", offN), base64.StdEncoding.EncodeToString(offN.SRTP.LocalKey)[:8],
				"printing a Negotiated does not leak the key")
		})
	}
}

// The answerer takes the first suite of the offer it has a key for, under the offer's
// tag.
func TestSRTPSuiteSelection(t *testing.T) {
	// Only GCM on the answering side: tag 3 of our offer.
	offN, ansN, _, answer, err, perr := negotiate(t, SRTPOffer, SRTPRequire, nil, []CryptoSuite{AEADAES128GCM})
	require.NoError(t, err)
	require.NoError(t, perr)
	assert.Contains(t, string(answer), "a=crypto:3 AEAD_AES_128_GCM inline:")
	assert.Equal(t, AEADAES128GCM, ansN.SRTP.Suite)
	assert.Equal(t, 3, offN.SRTP.Tag)
	assert.Len(t, offN.SRTP.RemoteKey, 16)
	assert.Len(t, offN.SRTP.RemoteSalt, 12)

	// No suite in common: 488.
	_, _, _, _, err, _ = negotiate(t, SRTPOffer, SRTPRequire, []CryptoSuite{AESCM128HMACSHA1_32}, []CryptoSuite{AEADAES256GCM})
	assert.ErrorIs(t, err, ErrNotAcceptable)

	// baresip's offer: one suite.
	lm := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}, SRTP: SRTPRequire, Crypto: mustCrypto(t, DefaultCryptoSuites()...)}
	answer, n, err := Answer([]byte(baresipSRTPOffer), lm)
	require.NoError(t, err)
	assert.Equal(t, AESCM128HMACSHA1_80, n.SRTP.Suite)
	assert.Contains(t, string(answer), "m=audio 4000 RTP/SAVP 0 101\r\n")
	assert.Contains(t, string(answer), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")

	// An offer listing the 32-bit tag first: that is what we take.
	answer, n, err = Answer([]byte(multiSuiteOffer), lm)
	require.NoError(t, err)
	assert.Equal(t, AESCM128HMACSHA1_32, n.SRTP.Suite)
	assert.Equal(t, 1, n.SRTP.Tag)
	assert.Equal(t, lm.Crypto[1].Key, n.SRTP.LocalKey, "our key for that suite")
	want, _ := base64.StdEncoding.DecodeString("QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9FqJd8oA/XR")
	assert.Equal(t, want[:16], n.SRTP.RemoteKey)
	assert.Equal(t, want[16:], n.SRTP.RemoteSalt)
	assert.Contains(t, string(answer), "m=audio 4000 RTP/SAVP 0 101\r\n")
	assert.Contains(t, string(answer), "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:")

	// Unknown and unusable attributes before a good one are skipped.
	offer := strings.Replace(multiSuiteOffer, "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:",
		"a=crypto:9 F8_128_HMAC_SHA1_80 inline:QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9FqJd8oA/XR\r\n"+
			"a=crypto:8 AES_CM_128_HMAC_SHA1_80 inline:QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9FqJd8oA/XR KDR=5\r\n"+
			"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:short\r\n"+
			"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:", 1)
	_, n, err = Answer([]byte(offer), lm)
	require.NoError(t, err)
	assert.Equal(t, 1, n.SRTP.Tag)
}

// Streams an answerer cannot secure, and answers an offerer cannot accept.
func TestSRTPRejections(t *testing.T) {
	lm := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}, SRTP: SRTPRequire, Crypto: mustCrypto(t, DefaultCryptoSuites()...)}
	noCrypto := strings.NewReplacer("a=crypto:1", "a=x-1", "a=crypto:2", "a=x-2", "a=crypto:3", "a=x-3", "a=crypto:4", "a=x-4").Replace(multiSuiteOffer)
	_, _, err := Answer([]byte(noCrypto), lm)
	assert.ErrorIs(t, err, ErrNotAcceptable, "RTP/SAVP without a=crypto")
	assert.NotErrorIs(t, err, ErrBadSDP)

	badKey := strings.Replace(noCrypto, "a=x-1 ", "a=crypto:1 ", 1)
	badKey = strings.Replace(badKey, "inline:QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9FqJd8oA/XR", "inline:QlC6ZrTCALhSdt4I6M/m0bGXqY2Ic9Fq", 1)
	_, _, err = Answer([]byte(badKey), lm)
	assert.ErrorIs(t, err, ErrNotAcceptable, "a key of the wrong length makes the stream unusable: 488, not 400")
	assert.NotErrorIs(t, err, ErrBadSDP)
	assert.Contains(t, err.Error(), "key is 24 bytes, want 30")

	_, _, err = Answer([]byte(baresipOffer), lm)
	assert.ErrorIs(t, err, ErrNotSecure, "plain RTP offered to SRTPRequire")

	_, err = Offer(LocalMedia{Addr: loop, Port: 4000, SRTP: SRTPOffer})
	assert.Error(t, err, "SRTP without keys")
	_, err = Offer(LocalMedia{Addr: loop, Port: 4000, SRTP: SRTPOffer, Crypto: []Crypto{{Tag: 1, Suite: AESCM128HMACSHA1_80, Key: make([]byte, 16)}}})
	assert.ErrorIs(t, err, ErrBadSDP, "a key without its salt")
	dup := mustCrypto(t, AESCM128HMACSHA1_80, AESCM128HMACSHA1_32)
	dup[1].Tag = 1
	_, err = Offer(LocalMedia{Addr: loop, Port: 4000, SRTP: SRTPOffer, Crypto: dup})
	assert.Error(t, err, "a tag twice")

	// The offerer's side.
	off := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}, SRTP: SRTPOffer, Crypto: mustCrypto(t, DefaultCryptoSuites()...)}
	plainAnswer := crlf(`
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 5000 RTP/AVP 0
a=sendrecv
`)
	n, err := ParseAnswer([]byte(plainAnswer), off)
	require.NoError(t, err, "SRTPOffer accepts a plain answer")
	assert.Nil(t, n.SRTP)
	req := off
	req.SRTP = SRTPRequire
	_, err = ParseAnswer([]byte(plainAnswer), req)
	assert.ErrorIs(t, err, ErrNotSecure)

	secureAnswer := func(crypto ...string) []byte {
		s := strings.Replace(plainAnswer, "RTP/AVP", "RTP/SAVP", 1)
		for _, c := range crypto {
			s += "a=crypto:" + c + "\r\n"
		}
		return []byte(s)
	}
	key := base64.StdEncoding.EncodeToString(make([]byte, 30))
	n, err = ParseAnswer(secureAnswer("2 AES_CM_128_HMAC_SHA1_32 inline:"+key), off)
	require.NoError(t, err)
	assert.Equal(t, AESCM128HMACSHA1_32, n.SRTP.Suite)
	assert.Equal(t, off.Crypto[1].Key, n.SRTP.LocalKey)
	for name, ans := range map[string][]byte{
		"no a=crypto":      secureAnswer(),
		"two a=crypto":     secureAnswer("1 AES_CM_128_HMAC_SHA1_80 inline:"+key, "2 AES_CM_128_HMAC_SHA1_32 inline:"+key),
		"tag not offered":  secureAnswer("9 AES_CM_128_HMAC_SHA1_80 inline:" + key),
		"suite of the tag": secureAnswer("1 AES_CM_128_HMAC_SHA1_32 inline:" + key),
		"bad key":          secureAnswer("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"),
	} {
		_, err := ParseAnswer(ans, off)
		assert.ErrorIs(t, err, ErrBadSDP, name)
	}
	plainOff := off
	plainOff.SRTP = SRTPOff
	_, err = ParseAnswer(secureAnswer("1 AES_CM_128_HMAC_SHA1_80 inline:"+key), plainOff)
	assert.ErrorIs(t, err, ErrNotAcceptable, "RTP/SAVP answer to a plain offer")
}

// An offer of the same audio twice, secured and plain (the classic way of offering
// SRTP with a fallback): each mode takes its stream and rejects the other.
func TestSRTPWithPlainFallbackStream(t *testing.T) {
	offer := crlf(`
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=sendrecv
m=audio 6002 RTP/SAVP 0
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:` + base64.StdEncoding.EncodeToString(make([]byte, 30)) + `
a=sendrecv
`)
	for _, tc := range []struct {
		mode   SRTPMode
		port   uint16
		secure bool
	}{{SRTPOff, 6000, false}, {SRTPOffer, 6002, true}, {SRTPRequire, 6002, true}} {
		lm := LocalMedia{Addr: loop, Port: 4000, Codecs: media.CodecSet{media.PCMU()}, SRTP: tc.mode}
		if tc.mode != SRTPOff {
			lm.Crypto = mustCrypto(t, DefaultCryptoSuites()...)
		}
		ans, n, err := Answer([]byte(offer), lm)
		require.NoError(t, err, tc.mode)
		assert.Equal(t, tc.port, n.Remote.Port(), tc.mode)
		assert.Equal(t, tc.secure, n.SRTP != nil, tc.mode)
		if tc.secure {
			assert.Contains(t, string(ans), "m=audio 0 RTP/AVP 0\r\n")
			assert.Contains(t, string(ans), "m=audio 4000 RTP/SAVP 0\r\n")
		} else {
			assert.Contains(t, string(ans), "m=audio 4000 RTP/AVP 0\r\n")
			assert.Contains(t, string(ans), "m=audio 0 RTP/SAVP 0\r\n")
		}
	}
}

// FuzzCrypto feeds arbitrary a=crypto values to the parser: it must not panic, and
// whatever it accepts must come back unchanged through Value.
func FuzzCrypto(f *testing.F) {
	key30 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4",
		"2 AEAD_AES_128_GCM inline:ehNmoVLGXrEO+F4Ek3AbwQJXdv6DTnnQxaDHfA==",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=0 WSH=128",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4;inline:" + key30 + "|2^20|2:4",
		"1 F8_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCrypto(v)
		if err != nil {
			require.True(t, errors.Is(err, ErrBadSDP) || errors.Is(err, ErrCryptoUnsupported), "%q: %v", v, err)
			return
		}
		require.Len(t, c.Key, c.Suite.KeyLen())
		require.Len(t, c.Salt, c.Suite.SaltLen())
		back, err := ParseCrypto(c.Value())
		require.NoError(t, err, "%q → %q", v, c.Value())
		require.Equal(t, c, back)
	})
}

// An SDES key as it appears in SDP, and what the parser makes of it.
func ExampleParseCrypto() {
	c, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^31")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Tag, c.Suite, len(c.Key), len(c.Salt), c.Lifetime == 1<<31)
	fmt.Println(c) // String leaves the key out, for logs
	// Output:
	// 1 AES_CM_128_HMAC_SHA1_80 16 14 true
	// 1 AES_CM_128_HMAC_SHA1_80 inline:<30-byte key>
}

// Keys stay out of logs: SRTPParams and Crypto log as their description.
func TestSRTPKeysNotLogged(t *testing.T) {
	_, ansN, _, _, err, _ := negotiate(t, SRTPOffer, SRTPOffer, nil, nil)
	require.NoError(t, err)
	keys := mustCrypto(t, AESCM128HMACSHA1_80)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("negotiated", "srtp", ansN.SRTP, "offer", keys[0])
	assert.Contains(t, buf.String(), `"srtp":"AES_CM_128_HMAC_SHA1_80 (tag 1)"`)
	assert.Contains(t, buf.String(), `"offer":"1 AES_CM_128_HMAC_SHA1_80 inline:<30-byte key>"`)
	for _, k := range [][]byte{ansN.SRTP.LocalKey, ansN.SRTP.RemoteKey, keys[0].Key} {
		assert.NotContains(t, buf.String(), base64.StdEncoding.EncodeToString(k)[:8])
	}
}
