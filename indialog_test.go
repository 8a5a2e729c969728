package switchboard_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

const uacHead = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="in-dialog requests">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
`

func infoDigit(cseq int, digit string) string {
	return `  <send retrans="500"><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ` + itoa(cseq) + ` INFO
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=` + digit + `
Duration=160
]]></send>
  <recv response="200"/>
`
}

func itoa(n int) string {
	const d = "0123456789"
	if n < 10 {
		return d[n : n+1]
	}
	return itoa(n/10) + d[n%10:n%10+1]
}

const uacBye = `  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 9 BYE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
</scenario>
`

// Digits sent as SIP INFO (application/dtmf-relay) arrive as DTMF events, once each.
func TestInfoDTMF(t *testing.T) {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	sb := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		defer close(done)
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		for ev := range c.Events() {
			if d, ok := ev.(call.DTMF); ok {
				mu.Lock()
				got = append(got, string(d.Digit)+"/"+d.Source+"/"+d.Duration.String())
				mu.Unlock()
			}
		}
		return nil
	}))
	xml := uacHead + infoDigit(2, "1") + infoDigit(3, "#") + infoDigit(4, "9") + `  <pause milliseconds="200"/>
` + uacBye
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	<-done
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"1/info/160ms", "#/info/160ms", "9/info/160ms"}, got)
}

// A caller that sends no RTP is hung up after the media timeout, with that cause.
func TestMediaTimeout(t *testing.T) {
	causes := make(chan error, 1)
	sb, err := switchboard.New(switchboard.Config{
		ListenAddr: "127.0.0.1:0", MediaTimeout: time.Second,
		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil
		}),
	})
	require.NoError(t, err)
	conn := listen(t)
	require.NoError(t, sb.Start(conn))
	t.Cleanup(func() { require.NoError(t, sb.Close()) })
	// SIPp's UAC sends no RTP and would hold the call for 10 s; it receives our BYE.
	xml := uacHead + answerBye
	began := time.Now()
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful, "SIPp received our BYE")
	cause := <-causes
	assert.True(t, errors.Is(cause, call.CauseMediaTimeout), "cause: %v", cause)
	assert.GreaterOrEqual(t, time.Since(began), time.Second)
}

func listen(t testing.TB) net.PacketConn {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	return conn
}

// 200 SIPp calls at 20 calls/s where our side hangs up: each handler answers, plays a
// second of audio and returns; SIPp receives and answers every BYE.
func TestSIPpCallsInWeHangUp(t *testing.T) {
	sb := startWith(t, switchboard.Config{MediaTimeout: -1,
		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			playTone(t, c, 440, time.Second)
			m, err := c.Media()
			if err != nil {
				return err
			}
			return m.WaitPlayout(ctx) // returning hangs up
		})})
	xml := uacHead + answerBye
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Rate: 20, Calls: 200, Timeout: 60 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 200, st.Successful)
	assert.Greater(t, st.CallLength, time.Second, "calls last as long as the audio")
	require.Eventually(t, func() bool { return sb.Calls() == 0 }, 10*time.Second, 10*time.Millisecond)
}
