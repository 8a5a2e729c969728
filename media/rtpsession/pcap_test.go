package rtpsession

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/jitter"
)

// The sip-tester package (SIPp) ships captures of real RTP streams that SIPp plays
// with its play_pcap_audio action: a G.711 A-law call leg with 30 ms packets, and one
// RFC 2833 telephone-event per DTMF key. Replaying them at their captured pace checks
// the session against packets it did not produce itself. The replay runs in a
// synctest bubble on the in-memory network, so the captured timing is reproduced
// exactly whatever the load of the machine.
const sippPcapDir = "/usr/share/sip-tester"

type pcapRecord struct {
	at      time.Duration // since the first record
	payload []byte        // the UDP payload: one RTP packet
}

// readPcap reads the UDP payloads of a classic little-endian Ethernet pcap file.
func readPcap(t *testing.T, name string) []pcapRecord {
	t.Helper()
	b, err := os.ReadFile(sippPcapDir + "/" + name)
	if os.IsNotExist(err) {
		t.Fatalf("%s not installed: install the Debian package sip-tester (make test does)", name)
	}
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 24)
	require.Equal(t, uint32(0xa1b2c3d4), binary.LittleEndian.Uint32(b), "pcap magic")
	require.Equal(t, uint32(1), binary.LittleEndian.Uint32(b[20:]), "Ethernet link type")
	var out []pcapRecord
	var t0 time.Duration
	for off := 24; off+16 <= len(b); {
		sec, usec := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		frame := b[off+16 : off+16+n]
		off += 16 + n
		at := time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		if len(out) == 0 {
			t0 = at
		}
		// Ethernet (14) + IPv4 (IHL) + UDP (8).
		require.Equal(t, []byte{0x08, 0x00}, frame[12:14], "IPv4")
		ihl := int(frame[14]&0x0f) * 4
		require.Equal(t, byte(17), frame[14+9], "UDP")
		out = append(out, pcapRecord{at: at - t0, payload: frame[14+ihl+8:]})
	}
	return out
}

// replay sends the records to dst from conn at their captured pace.
func replay(t *testing.T, conn net.PacketConn, dst net.Addr, recs []pcapRecord, offset time.Duration) {
	t.Helper()
	start := time.Now()
	for _, r := range recs {
		time.Sleep(time.Until(start.Add(r.at + offset)))
		_, err := conn.WriteTo(r.payload, dst)
		require.NoError(t, err)
	}
}

func TestSIPpPcapG711Stream(t *testing.T) {
	recs := readPcap(t, "g711a.pcap")[:50] // 1.5 s of 30 ms packets
	synctest.Test(t, func(t *testing.T) { testPcapG711(t, recs) })
}

func testPcapG711(t *testing.T, recs []pcapRecord) {
	var first rtp.Packet
	require.NoError(t, first.Unmarshal(recs[0].payload))
	require.EqualValues(t, 8, first.PayloadType)
	// Our ptime is 20 ms; the far end sends 30 ms packets (ptime is a receive
	// preference). The playout must follow the stream's packet size.
	n := newMemNet()
	sender, conn := n.listen(), n.listen()
	defer sender.Close()
	s, err := New(conn, Config{Codec: media.PCMA(), RemoteAddr: sender.LocalAddr(), RTCPInterval: -1, OwnConns: true,
		Jitter: jitter.Config{Mode: jitter.Fixed, Depth: 300 * time.Millisecond}})
	require.NoError(t, err)
	defer s.Close()
	stop := make(chan struct{})
	got := collect(s, stop)
	replay(t, sender, conn.LocalAddr(), recs, 0)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	frames := <-got

	st := s.Stats()
	assert.EqualValues(t, len(recs), st.PacketsReceived)
	assert.Zero(t, st.Lost)
	assert.Equal(t, first.SSRC, st.RemoteSSRC)
	assert.Zero(t, st.DroppedGarbage+st.DroppedPayloadType+st.DroppedSource+st.DroppedSSRC)

	// The decoded stream holds exactly the A-law decode of the captured payloads,
	// in order, unbroken.
	var want []int16
	dec := media.PCMA().NewDecoder()
	for _, r := range recs {
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(r.payload))
		want = dec.Decode(want, p.Payload)
	}
	var out []int16
	for _, f := range frames {
		require.Len(t, f.Samples, 160)
		out = append(out, f.Samples...)
	}
	at := -1
	for i := 0; i+len(want) <= len(out); i++ {
		if slices.Equal(out[i:i+240], want[:240]) {
			at = i
			break
		}
	}
	require.GreaterOrEqual(t, at, 0, "first packet's audio not found in the output")
	assert.True(t, slices.Equal(want, out[at:at+len(want)]), "decoded stream differs from the capture")
}

func TestSIPpPcapDTMF(t *testing.T) {
	readPcap(t, "dtmf_2833_1.pcap") // skips when not installed
	synctest.Test(t, testPcapDTMF)
}

func testPcapDTMF(t *testing.T) {
	keys := []struct {
		file  string
		digit rune
	}{{"dtmf_2833_1.pcap", '1'}, {"dtmf_2833_5.pcap", '5'}, {"dtmf_2833_9.pcap", '9'},
		{"dtmf_2833_star.pcap", '*'}, {"dtmf_2833_pound.pcap", '#'}, {"dtmf_2833_0.pcap", '0'}}
	n := newMemNet()
	sender, conn := n.listen(), n.listen()
	defer sender.Close()
	s, err := New(conn, Config{Codec: media.PCMU(), TelephoneEventPT: 101, RemoteAddr: sender.LocalAddr(),
		RTCPInterval: -1, OwnConns: true})
	require.NoError(t, err)
	defer s.Close()
	// The captures are key presses cut from one stream (one SSRC, sequence numbers
	// and timestamps increasing in this order): played back to back they make that
	// stream again.
	for _, k := range keys {
		recs := readPcap(t, k.file)
		replay(t, sender, conn.LocalAddr(), recs, 0)
		time.Sleep(60 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []rune
	for range keys {
		d, err := s.ReadDTMF(ctx)
		require.NoError(t, err)
		got = append(got, d.Digit)
		assert.Greater(t, d.Duration, 50*time.Millisecond)
	}
	want := make([]rune, len(keys))
	for i, k := range keys {
		want[i] = k.digit
	}
	assert.Equal(t, string(want), string(got))
	time.Sleep(100 * time.Millisecond)
	_, more := s.PollDTMF()
	assert.False(t, more, "each key once")
}
