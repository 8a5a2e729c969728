package sip

import (
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Known answer from RFC 2617 §3.5 (the "Mufasa" example), computed with our function.
func TestDigestResponseRFC2617(t *testing.T) {
	c := &digest.Credentials{
		Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		URI: "/dir/index.html", QOP: "auth", Nc: 1, Cnonce: "0a4f113b",
	}
	assert.Equal(t, "6629fae49393a05397450978507c4ef1", digestResponse(c, "Circle Of Life", "GET"))
}

func TestNonceLifetime(t *testing.T) {
	a := newAuthenticator(AccessControl{Credentials: func(string) (string, bool) { return "", false }, NonceLifetime: time.Minute})
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	n := a.nonce()
	assert.True(t, a.nonceValid(n))
	assert.False(t, a.nonceValid(n+"0"), "tampered")
	assert.False(t, a.nonceValid("deadbeef.00"), "forged")
	now = now.Add(2 * time.Minute)
	assert.False(t, a.nonceValid(n), "expired")
	v := a.challenge(true)
	require.Equal(t, 401, v.code)
	assert.Contains(t, v.challenge, `realm="switchboard"`)
	assert.Contains(t, v.challenge, "stale=true")
}
