package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// AccessControl decides who may call in. The zero value admits everyone.
type AccessControl struct {
	// AllowedNetworks, when not empty, admits INVITEs only from source addresses in
	// these prefixes; others get 403 Forbidden.
	AllowedNetworks []netip.Prefix
	// Credentials, when set, requires digest authentication (RFC 3261 §22, MD5,
	// qop=auth) of every new INVITE: it returns the password of a user name, or false.
	// Unauthenticated INVITEs are challenged with 401; wrong credentials get 403.
	Credentials func(user string) (password string, ok bool)
	// Realm is the digest realm. Empty means "switchboard".
	Realm string
	// NonceLifetime bounds how long a challenge's nonce is accepted. Zero means 5 minutes.
	NonceLifetime time.Duration
}

// authenticator checks INVITEs against an AccessControl. Nonces are stateless: a
// timestamp and its HMAC under a per-process key, so nothing is stored per challenge and
// a nonce cannot be forged or used after its lifetime.
type authenticator struct {
	ac  AccessControl
	key [32]byte
	now func() time.Time
}

func newAuthenticator(ac AccessControl) *authenticator {
	a := &authenticator{ac: ac, now: time.Now}
	if a.ac.Realm == "" {
		a.ac.Realm = "switchboard"
	}
	if a.ac.NonceLifetime <= 0 {
		a.ac.NonceLifetime = 5 * time.Minute
	}
	_, _ = rand.Read(a.key[:])
	return a
}

// verdict is what to do with a request: admit (code 0), or respond with code and,
// for 401, a challenge header value.
type verdict struct {
	code      int
	reason    string
	challenge string
}

func (a *authenticator) check(req *Request) verdict {
	if len(a.ac.AllowedNetworks) > 0 {
		ip, ok := sourceIP(req.Source())
		allowed := false
		for _, p := range a.ac.AllowedNetworks {
			if ok && p.Contains(ip) {
				allowed = true
				break
			}
		}
		if !allowed {
			return verdict{code: 403, reason: "Forbidden"}
		}
	}
	if a.ac.Credentials == nil {
		return verdict{}
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		return a.challenge(false)
	}
	creds, err := digest.ParseCredentials(h.Value())
	if err != nil || creds.Username == "" {
		return verdict{code: 400, reason: "Bad Authorization Header"}
	}
	if !a.nonceValid(creds.Nonce) {
		return a.challenge(true)
	}
	pass, ok := a.ac.Credentials(creds.Username)
	if !ok || !strings.EqualFold(creds.Realm, a.ac.Realm) {
		return verdict{code: 403, reason: "Forbidden"}
	}
	want := digestResponse(creds, pass, string(req.Method))
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(creds.Response))) != 1 {
		return verdict{code: 403, reason: "Forbidden"}
	}
	return verdict{}
}

func (a *authenticator) challenge(stale bool) verdict {
	c := &digest.Challenge{Realm: a.ac.Realm, Nonce: a.nonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return verdict{code: 401, reason: "Unauthorized", challenge: c.String()}
}

func (a *authenticator) nonce() string {
	ts := strconv.FormatInt(a.now().Unix(), 16)
	return ts + "." + a.sign(ts)
}

func (a *authenticator) sign(ts string) string {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (a *authenticator) nonceValid(n string) bool {
	ts, sig, ok := strings.Cut(n, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(a.sign(ts))) {
		return false
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil {
		return false
	}
	age := a.now().Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= a.ac.NonceLifetime
}

// digestResponse computes the expected response of RFC 2617 §3.2.2 with MD5.
func digestResponse(c *digest.Credentials, password, method string) string {
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ha1 := md(c.Username + ":" + c.Realm + ":" + password)
	ha2 := md(method + ":" + c.URI)
	if c.QOP == "auth" || c.QOP == "auth-int" {
		return md(fmt.Sprintf("%s:%s:%08x:%s:%s:%s", ha1, c.Nonce, c.Nc, c.Cnonce, c.QOP, ha2))
	}
	return md(ha1 + ":" + c.Nonce + ":" + ha2)
}

func sourceIP(src string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(src)
	if err != nil {
		host = src
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}
