package sipp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// SIPp UAC → SIPp UAS: 200 calls, every one succeeds, and the statistics say so.
func TestUACToUAS(t *testing.T) {
	uas := sipp.Start(t, sipp.Options{Scenario: "uas"})
	st, err := sipp.Run(t, sipp.Options{
		Scenario: "uac", Remote: uas.Addr,
		Rate: 100, Calls: 200, CallDuration: 100 * time.Millisecond,
		Timeout: 60 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, 200, st.CallsCreated)
	assert.Equal(t, 200, st.Successful)
	assert.Zero(t, st.Failed)
	assert.Greater(t, st.CallLength, 100*time.Millisecond, "calls last at least their pause")
	total := 0
	for _, n := range st.ResponseTimeHist {
		total += n
	}
	assert.Equal(t, 200, total, "every call has a response time")
	t.Logf("200 calls: response time %v ± %v, call length %v, retransmissions %d",
		st.ResponseTime, st.ResponseTimeDev, st.CallLength, st.Retransmissions)

	ust, err := uas.Stop()
	require.NoError(t, err)
	assert.Equal(t, 200, ust.CallsCreated, "the UAS saw every call")
}

// The built-in uac_pcap plays G.711 speech and an RFC 4733 digit; a UAS with -rtp_echo
// sends it back. The call succeeds and both sides counted it.
func TestPcapPlayWithEcho(t *testing.T) {
	uas := sipp.Start(t, sipp.Options{Scenario: "uas", RTPEcho: true})
	require.NotZero(t, uas.MediaPort)
	st, err := sipp.Run(t, sipp.Options{
		Scenario: "uac_pcap", Remote: uas.Addr, Calls: 1, Timeout: 30 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	// The call lasts as long as the pcap (7 s of speech and a digit).
	assert.Greater(t, st.CallLength, 7*time.Second)
}

// A UAC against a port where nobody answers fails, and the failure reason is reported.
func TestFailureIsReported(t *testing.T) {
	xml, err := sipp.BuiltinScenario("uac")
	require.NoError(t, err)
	require.True(t, strings.Contains(xml, "INVITE"))
	st, err := sipp.Run(t, sipp.Options{
		Scenario: "uac", Remote: "127.0.0.1:9", Calls: 1, Timeout: 10 * time.Second,
		ExtraArgs: []string{"-recv_timeout", "1000"},
	})
	require.Error(t, err)
	assert.Equal(t, 1, st.Failed)
	assert.NotEmpty(t, st.FailedReasons)
}

func TestParseStatsDuration(t *testing.T) {
	in := "ElapsedTime(C);TotalCallCreated;SuccessfulCall(C);FailedCall(C);FailedMaxUDPRetrans(C);ResponseTime1(C);\n" +
		"00:00:01;1;0;0;0;00:00:00:000000;\n" +
		"00:01:02;5;4;1;1;00:00:00:012500;\n"
	st, err := sipp.ParseStats(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, 62*time.Second, st.Elapsed)
	assert.Equal(t, 5, st.CallsCreated)
	assert.Equal(t, 4, st.Successful)
	assert.Equal(t, map[string]int{"MaxUDPRetrans": 1}, st.FailedReasons)
	assert.Equal(t, 12500*time.Microsecond, st.ResponseTime)
}
