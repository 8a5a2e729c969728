package sip

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCauseMapping(t *testing.T) {
	for _, tc := range []struct {
		code  int
		cause Q850
	}{
		{486, CauseUserBusy}, {600, CauseUserBusy}, {603, CauseCallRejected}, {403, CauseCallRejected},
		{404, CauseUnallocatedNumber}, {408, CauseRecoveryOnTimerExpiry}, {480, CauseNoUserResponding},
		{487, CauseNormalClearing}, {488, CauseIncompatibleDestination}, {503, CauseServiceUnavailable},
		{599, CauseTemporaryFailure}, {499, CauseInterworking},
	} {
		assert.Equal(t, tc.cause, CauseForStatus(tc.code), "status %d", tc.code)
	}
	// Each cause maps back to a status in the same class.
	for _, c := range []Q850{CauseUserBusy, CauseCallRejected, CauseUnallocatedNumber, CauseNoUserResponding, CauseServiceUnavailable} {
		code, reason := StatusForCause(c)
		assert.NotEmpty(t, reason)
		assert.Equal(t, c, CauseForStatus(code), "cause %d -> %d", c, code)
	}
}

func TestReasonHeader(t *testing.T) {
	r, err := ParseReason(`Q.850 ;cause=16 ;text="Terminated; by user", SIP;cause=200`)
	require.NoError(t, err)
	assert.Equal(t, Reason{Protocol: "Q.850", Cause: 16, Text: "Terminated; by user"}, r)
	assert.Equal(t, `Q.850;cause=17;text="Busy"`, Reason{Protocol: "Q.850", Cause: 17, Text: "Bu\r\nsy"}.String())
	for _, bad := range []string{"", "Q.850", "Q.850;cause=x", ";cause=1"} {
		_, err := ParseReason(bad)
		assert.Error(t, err, bad)
	}
}

func TestCheckHeader(t *testing.T) {
	assert.NoError(t, CheckHeader("X-Account", "42; tag=a"))
	assert.ErrorIs(t, CheckHeader("X-Account", "42\r\nBYE sip:x SIP/2.0"), ErrHeaderValue)
	assert.ErrorIs(t, CheckHeader("X Bad", "1"), ErrHeaderValue)
	assert.ErrorIs(t, CheckHeader("", "1"), ErrHeaderValue)
}

func FuzzParseReason(f *testing.F) {
	f.Add(`Q.850;cause=16;text="Normal"`)
	f.Add(`SIP ;cause=200 ;text="Call completed elsewhere"`)
	f.Fuzz(func(t *testing.T, v string) {
		r, err := ParseReason(v)
		if err != nil {
			return
		}
		// What we write back must parse to the same cause.
		r2, err := ParseReason(r.String())
		if r.Protocol != "" && !containsSep(r.Protocol) {
			require.NoError(t, err)
			require.Equal(t, r.Cause, r2.Cause)
		}
	})
}

func containsSep(s string) bool {
	for _, c := range s {
		if c == ';' || c == ',' || c == '"' || c == '=' {
			return true
		}
	}
	return false
}
