package baresip

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/peer"
)

// A missing program is reported with the Debian package that provides it. The real
// binary is installed here, so a bogus name goes through the same lookup.
func TestMissingProgramNamesPackage(t *testing.T) {
	_, err := findProgram("baresip-no-such-program")
	require.ErrorIs(t, err, peer.ErrNotInstalled)
	assert.Contains(t, err.Error(), "baresip-no-such-program")
	assert.Contains(t, err.Error(), "baresip-core")

	path, err := findProgram(Program)
	require.NoError(t, err)
	assert.NotEmpty(t, path)
}

func TestNetstring(t *testing.T) {
	stream := []byte(`5:hello,0:,14:{"event":true},`)
	r := bufio.NewReader(bytes.NewReader(stream))
	for _, want := range []string{"hello", "", `{"event":true}`} {
		got, err := readNetstring(r)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
	_, err := readNetstring(r)
	assert.Equal(t, io.EOF, err, "clean end between messages")

	for in, want := range map[string]error{
		"5:hel":           io.ErrUnexpectedEOF,
		"12":              io.ErrUnexpectedEOF,
		"3:abc;":          errNetstring,
		":abc,":           errNetstring,
		"x:abc,":          errNetstring,
		"99999999999:a,":  errNetstring,
		"-1:a,":           errNetstring,
		"3:abc":           io.ErrUnexpectedEOF,
		"2:{}":            io.ErrUnexpectedEOF,
		"1048577:" + "x,": errNetstring,
	} {
		_, err := readNetstring(bufio.NewReader(strings.NewReader(in)))
		assert.ErrorIs(t, err, want, "%q", in)
	}
}

// Messages split across reads at every byte position are reassembled.
func TestNetstringPartialReads(t *testing.T) {
	var stream []byte
	msgs := []string{`{"response":true,"ok":true,"data":"","token":"1"}`, `{"event":true,"type":"CALL_CLOSED","param":"x"}`}
	for _, m := range msgs {
		stream = appendNetstring(stream, []byte(m))
	}
	for split := 0; split <= len(stream); split++ {
		r := bufio.NewReaderSize(io.MultiReader(
			&oneByteReader{b: stream[:split]}, bytes.NewReader(stream[split:])), 16)
		for _, want := range msgs {
			got, err := readNetstring(r)
			require.NoError(t, err, "split %d", split)
			require.Equal(t, want, string(got))
		}
	}
}

type oneByteReader struct{ b []byte }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.b[0]
	o.b = o.b[1:]
	return 1, nil
}

func TestParseMessage(t *testing.T) {
	m, err := parseMessage([]byte(`{"event":true,"type":"CALL_DTMF_START","class":"call","accountaor":"sip:a@127.0.0.1:5080",` +
		`"direction":"incoming","peeruri":"sip:b@127.0.0.1:5090","id":"cc9d","param":"1","rtcp_stats":{"rtt":0}}`))
	require.NoError(t, err)
	assert.Equal(t, message{Event: true, Type: "CALL_DTMF_START", Class: "call", AccountAOR: "sip:a@127.0.0.1:5080",
		Direction: "incoming", PeerURI: "sip:b@127.0.0.1:5090", ID: "cc9d", Param: "1"}, m)
	m, err = parseMessage([]byte(`{"response":true,"ok":false,"data":"command not found (x)\n","token":"7"}`))
	require.NoError(t, err)
	assert.False(t, m.OK)
	assert.Equal(t, "7", m.Token)
	for _, bad := range []string{``, `[]`, `{"type":"X"}`, `{"event":true,"response":true}`, `{"event":"yes"}`} {
		_, err := parseMessage([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestEncodeCommand(t *testing.T) {
	b := encodeCommand("uanew", `<sip:a@127.0.0.1:5060>;outbound="sip:127.0.0.1:5070"`, "3")
	want := `{"command":"uanew","params":"<sip:a@127.0.0.1:5060>;outbound=\"sip:127.0.0.1:5070\"","token":"3"}`
	got, err := readNetstring(bufio.NewReader(bytes.NewReader(b)))
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "no \\u003c escapes")
	assert.Equal(t, `{"command":"hangup","token":"4"}`, string(encodeCommand("hangup", "", "4")[3:len(encodeCommand("hangup", "", "4"))-1]))
}

// sample is real baresip output: status lines (stderr) interleaved with log lines.
const sample = "baresip is ready.\n" +
	"\r[0:00:00] audio=0/0 (bit/s)     \r\r[0:00:00] audio=0/0 (bit/s)     \r" +
	"call: answering call on line 1 from sip:bob@127.0.0.1:25090 with 200\n" +
	"\r[0:00:01] audio=64000/63872 (bit/s)     \r" +
	"[x] a log line that starts with a bracket\n" +
	"received event: '1' (end=0)\n" +
	"\r[12:34:56] audio=1/2 (bit/s)\r" +
	"terminated (duration: 5 secs)\n" +
	"\r[0:00:05] audio=0/0 (bit/s)     \r"

const sampleClean = "baresip is ready.\n" +
	"call: answering call on line 1 from sip:bob@127.0.0.1:25090 with 200\n" +
	"[x] a log line that starts with a bracket\n" +
	"received event: '1' (end=0)\n" +
	"terminated (duration: 5 secs)\n"

func TestStatusFilter(t *testing.T) {
	f := &statusFilter{}
	assert.Equal(t, sampleClean, string(f.filter([]byte(sample))))
	// Whatever the chunking, the result is the same.
	for i := 0; i <= len(sample); i++ {
		for _, j := range []int{i, (i + len(sample)) / 2, len(sample)} {
			f := &statusFilter{}
			var out []byte
			for _, chunk := range []string{sample[:i], sample[i:j], sample[j:]} {
				out = append(out, f.filter([]byte(chunk))...)
			}
			require.Equal(t, sampleClean, string(out), "split at %d and %d", i, j)
		}
	}
}

func TestIsStatusPrefix(t *testing.T) {
	for s, want := range map[string]bool{
		"":                               true,
		"[":                              true,
		"[0:0":                           true,
		"[0:00:01] audio=12/":            true,
		"[0:00:01] audio=12/3 (bit/s)  ": true,
		"[0:00:01] audio=1/3 (bit/s) \r": false,
		"[x":                             false,
		"[0:00:01] video":                false,
		"[0:00:01] audio=1/3 (bit/s) x":  false,
		"[0:00:01]\n":                    false,
	} {
		assert.Equal(t, want, isStatusPrefix([]byte(s)), "%q", s)
	}
}

func FuzzControlStream(f *testing.F) {
	f.Add([]byte(`50:{"response":true,"ok":true,"data":"","token":"t1"},`))
	f.Add([]byte(`190:{"event":true,"type":"CALL_DTMF_START","class":"call","accountaor":"sip:alice@127.0.0.1:25080","direction":"incoming","peeruri":"sip:bob@127.0.0.1:25090","id":"cc9dfc9c0d61b60e","param":"1"},`))
	f.Add([]byte("5:hello,0:,"))
	f.Add([]byte("3:abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			p, err := readNetstring(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errNetstring) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p) > maxMessage {
				t.Fatalf("payload of %d bytes", len(p))
			}
			// The payload re-encodes to a netstring that reads back the same.
			enc := appendNetstring(nil, p)
			again, err := readNetstring(bufio.NewReader(bytes.NewReader(enc)))
			if err != nil || !bytes.Equal(again, p) {
				t.Fatalf("round trip of %q: %q, %v", p, again, err)
			}
			if m, err := parseMessage(p); err == nil && m.Event == m.Response {
				t.Fatalf("accepted ambiguous message %q", p)
			}
		}
	})
}

func FuzzStatusFilter(f *testing.F) {
	f.Add([]byte(sample), uint16(10))
	f.Add([]byte("\r[0:00:01] audio=1/1 (bit/s) \r[y]\n"), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		whole := (&statusFilter{}).filter(b)
		i := int(split) % (len(b) + 1)
		g := &statusFilter{}
		parts := append(g.filter(b[:i]), g.filter(b[i:])...)
		// Output never grows, and splitting never lets a status line through.
		if len(whole) > len(b) || len(parts) > len(b) {
			t.Fatalf("output longer than input")
		}
		if statusLine.Match(whole) {
			t.Fatalf("status line left in %q", whole)
		}
	})
}

func TestUDPBound(t *testing.T) {
	port := peer.FreePort(t)
	assert.False(t, udpBound(port))
	c, err := net.ListenPacket("udp4", peer.Addr(port))
	require.NoError(t, err)
	assert.True(t, udpBound(port))
	require.NoError(t, c.Close())
	assert.False(t, udpBound(port))
}
