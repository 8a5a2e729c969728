package switchboard_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// startStream starts a Switchboard on UDP plus TCP or TLS on the same port number.
func startStream(t *testing.T, cfg switchboard.Config, transport string) (*switchboard.Switchboard, string) {
	t.Helper()
	sb, err := switchboard.New(cfg)
	require.NoError(t, err)
	conn := listen(t)
	require.NoError(t, sb.Start(conn))
	t.Cleanup(func() { require.NoError(t, sb.Close()) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	switch transport {
	case "tcp":
		require.NoError(t, sb.StartTCP(l))
	case "tls":
		require.NoError(t, sb.StartTLS(tls.NewListener(l, cfg.TLSConfig)))
	}
	return sb, l.Addr().String()
}

// Calls over TCP and over TLS: signalling on the stream, media checked by a tone, the
// in-dialog BYE back over the same transport.
func TestStreamTransports(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
			gotTransport := make(chan string, 1)
			handler := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
				if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
					return err
				}
				gotTransport <- c.Transport()
				playTone(t, c, 1000, time.Second)
				<-ctx.Done()
				return nil
			})
			a, aAddr := startStream(t, switchboard.Config{Handler: handler, TLSConfig: tlsCfg}, transport)
			b, _ := startStream(t, switchboard.Config{TLSConfig: tlsCfg}, transport)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := b.Dial(ctx, "sip:x@"+aAddr+";transport="+transport, call.DialOptions{})
			require.NoError(t, err)
			assert.Equal(t, strings.ToUpper(transport), <-gotTransport)
			assert.Equal(t, strings.ToUpper(transport), c.Transport())
			heard, rate := record(t, c, 800*time.Millisecond)
			checkTone(t, "over "+transport, heard, rate, 1000)
			require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
			_ = a
		})
	}
}
