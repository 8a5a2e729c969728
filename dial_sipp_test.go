package switchboard_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/sip"
)

const uasHead = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="switchboard dial test">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
`

// finalUAS answers an INVITE with 180 then a final error response and its ACK.
func finalUAS(code int, reason string) string {
	return uasHead + fmt.Sprintf(`  <send><![CDATA[
SIP/2.0 %d %s
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Reason: Q.850;cause=%d
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
`, code, reason, sip.CauseForStatus(code))
}

// ringingUAS rings until the caller gives up: CANCEL gets 200, the INVITE 487.
const ringingUAS = uasHead + `  <recv request="CANCEL"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
`

// authUAS challenges the INVITE with 401, checks the digest of the retried INVITE,
// answers it with SDP, and takes the caller's BYE.
const authUAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="digest challenge">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="test.switchboard", nonce="4f6e63652d[call_number]", algorithm=MD5
Content-Length: 0

]]></send>
  <recv request="ACK"/>
  <recv request="INVITE">
    <action>
      <verifyauth assign_to="authok" username="alice" password="s3cret"/>
    </action>
  </recv>
  <nop condexec="authok" condexec_inverse="true">
    <action><error message="digest did not verify"/></action>
  </nop>
` + answerSDP + `m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
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

// Dial against SIPp UASes that refuse in different ways: each failure comes back as a
// typed *DialError with the SIP status and the Q.850 cause from the Reason header.
func TestDialSIPpFailures(t *testing.T) {
	b := start(t, nil)
	for _, tc := range []struct {
		code    int
		reason  string
		outcome call.Outcome
	}{
		{486, "Busy Here", call.OutcomeBusy},
		{603, "Decline", call.OutcomeRejected},
		{404, "Not Found", call.OutcomeFailed},
		{480, "Temporarily Unavailable", call.OutcomeNoAnswer},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			uas := sipp.Start(t, sipp.Options{ScenarioXML: finalUAS(tc.code, tc.reason), Calls: 1, Timeout: 20 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := b.Dial(ctx, "sip:bob@"+uas.Addr, call.DialOptions{})
			var de *call.DialError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.outcome, de.Outcome)
			require.NotNil(t, de.Status)
			assert.Equal(t, tc.code, de.Status.Code)
			assert.Equal(t, sip.CauseForStatus(tc.code), de.Status.Cause)
			assert.True(t, errors.Is(err, &call.StatusError{Code: tc.code}))
			st, err := uas.Wait(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, st.Successful, "SIPp got its ACK")
		})
	}
}

// A callee that only rings: Dial gives up after the ring timeout with CANCEL, SIPp sees
// the CANCEL and acknowledges, and the outcome is "no answer".
func TestDialSIPpRingTimeout(t *testing.T) {
	b := start(t, nil)
	uas := sipp.Start(t, sipp.Options{ScenarioXML: ringingUAS, Calls: 1, Timeout: 20 * time.Second})
	ctx := context.Background()
	began := time.Now()
	_, err := b.Dial(ctx, "sip:bob@"+uas.Addr, call.DialOptions{RingTimeout: time.Second})
	var de *call.DialError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, call.OutcomeNoAnswer, de.Outcome)
	assert.GreaterOrEqual(t, time.Since(began), time.Second)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	st, err := uas.Wait(wctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful, "SIPp received CANCEL and the ACK for its 487")
}

// A 401 challenge is answered with digest credentials; SIPp verifies them and answers.
func TestDialSIPpDigestAuth(t *testing.T) {
	b := start(t, nil)
	uas := sipp.Start(t, sipp.Options{ScenarioXML: authUAS, Calls: 1, Timeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, "sip:bob@"+uas.Addr, call.DialOptions{Username: "alice", Password: "s3cret"})
	require.NoError(t, err)
	assert.Equal(t, "PCMU", c.Negotiated().Codec.Name())
	assert.Equal(t, 101, c.Negotiated().DTMFPayloadType)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	st, err := uas.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)

	// Wrong password: the retried INVITE fails verification and SIPp gives up.
	uas2 := sipp.Start(t, sipp.Options{ScenarioXML: authUAS, Calls: 1, Timeout: 5 * time.Second})
	_, err = b.Dial(ctx, "sip:bob@"+uas2.Addr, call.DialOptions{Username: "alice", Password: "wrong", RingTimeout: 2 * time.Second})
	require.Error(t, err)
}
