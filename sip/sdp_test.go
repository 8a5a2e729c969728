package sip

import (
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
	lm := LocalMedia{Addr: loop, Port: 4000}
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, n, err := Answer(offer, lm)
		if err != nil {
			return
		}
		// Whatever we accept, we must be able to read back as the offerer would.
		require.NotNil(t, n.Codec)
		_, err = ParseAnswer(ans, LocalMedia{Addr: loop, Port: 4000})
		require.NoError(t, err, "answer:\n%s", ans)
	})
}
