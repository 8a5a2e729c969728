package switchboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/sip"
)

// Two Switchboards agree on a 2 s session timer: the caller refreshes every second with
// a re-INVITE, the callee counts the refreshes, and the call stays up.
func TestSessionTimerRefresh(t *testing.T) {
	calls := make(chan *call.Call, 1)
	cfg := switchboard.Config{SessionExpires: 2 * time.Second, MinSE: time.Second, MediaTimeout: -1}
	acfg := cfg
	acfg.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		calls <- c
		<-ctx.Done()
		return nil
	})
	a := startWith(t, acfg)
	b := startWith(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	callee := <-calls
	time.Sleep(3500 * time.Millisecond)
	assert.Equal(t, call.StateAnswered, callee.State(), "refreshed sessions stay up")
	assert.GreaterOrEqual(t, c.SessionRefreshes(), int64(2), "the caller refreshed")
	assert.GreaterOrEqual(t, callee.SessionRefreshes(), int64(2), "the callee saw the refreshes")
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
}

// A caller that asks for a 2 s session timer, says it will refresh, and never does:
// we end the call with a BYE when the interval runs out.
func TestSessionTimerExpires(t *testing.T) {
	causes := make(chan error, 1)
	sb := startWith(t, switchboard.Config{MinSE: time.Second, MediaTimeout: -1,
		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil
		})})
	xml := sessionUAC("2;refresher=uac") + answerBye
	began := time.Now()
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	cause := <-causes
	assert.True(t, errors.Is(cause, &call.HangupCause{Name: "session_timer_expired", By: call.Local}), "cause %v", cause)
	assert.Greater(t, time.Since(began), time.Second)
}

// A session interval below our Min-SE is refused with 422 and a Min-SE header.
func TestSessionTimerTooSmall(t *testing.T) {
	sb := startWith(t, switchboard.Config{MinSE: 5 * time.Second, Handler: answer})
	xml := `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="422">
` + sessionInvite("2") + `  <recv response="100" optional="true"/>
  <recv response="422">
    <action><ereg regexp="5" search_in="hdr" header="Min-SE:" check_it="true" assign_to="minse"/></action>
  </recv>
  <Reference variables="minse"/>
  <!-- The ACK of a non-2xx response belongs to the INVITE transaction: same branch
       as the INVITE, three scenario messages back. -->
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Content-Length: 0
]]></send>
</scenario>
`
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: xml, Remote: sb.Addr().String(), Calls: 1, Timeout: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
}

func sessionInvite(se string) string {
	return `  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Supported: timer
Session-Expires: ` + se + `
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
`
}

func sessionUAC(se string) string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="session timer">
` + sessionInvite(se) + `  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200">
    <action><ereg regexp="2;refresher=uac" search_in="hdr" header="Session-Expires:" check_it="true" assign_to="se"/></action>
  </recv>
  <Reference variables="se"/>
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
}
