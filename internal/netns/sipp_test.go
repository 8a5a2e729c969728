//go:build linux

package netns_test

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/netns"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

// The loss-tolerant SIPp scenarios of package impair (their comments explain why SIPp's
// built-in uac and uas fail calls under loss and what these change).
func scenario(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "impair", "testdata", "sipp", name))
	require.NoError(t, err)
	return p
}

// SIPp UAC in namespace A calls SIPp UAS in namespace B across the veth link, with 5 %
// random loss on both receivers' input hooks: every call completes, and the nftables
// counters show the loss that was realised.
func TestSIPpAcrossLossyLink(t *testing.T) {
	const calls = 300
	p := netns.New(t)
	for _, ns := range []*netns.Namespace{p.A, p.B} {
		require.NoError(t, ns.SetLoss(netns.Loss{Probability: 0.05}))
	}
	port := peer.FreePort(t) // any port is free in a fresh namespace; this one is also free on the host
	uas := sipp.Start(t, sipp.Options{
		ScenarioFile: scenario(t, "uas.xml"),
		Port:         port,
		LocalIP:      p.B.Addr.String(),
		Exec:         p.B.ExecPrefix(),
		PortBound:    p.B.UDPPortBound,
		Timeout:      80 * time.Second,
	})
	assert.Equal(t, net.JoinHostPort(p.B.Addr.String(), strconv.Itoa(port)), uas.Addr)
	st, err := sipp.Run(t, sipp.Options{
		ScenarioFile: scenario(t, "uac.xml"),
		Remote:       uas.Addr,
		Port:         port,
		LocalIP:      p.A.Addr.String(),
		Exec:         p.A.ExecPrefix(),
		PortBound:    p.A.UDPPortBound,
		Rate:         50, Calls: calls,
		Timeout: 70 * time.Second,
	})
	ca, cerr := p.A.Counters()
	require.NoError(t, cerr)
	cb, cerr := p.B.Counters()
	require.NoError(t, cerr)
	ust, _ := uas.Stop()
	t.Logf("UAC: %d/%d calls OK, %d failed %v, %d retransmissions", st.Successful, st.CallsCreated, st.Failed, st.FailedReasons, st.Retransmissions)
	t.Logf("UAS: %d calls seen, %d failed %v", ust.CallsCreated, ust.Failed, ust.FailedReasons)
	t.Logf("A→B: %d of %d packets dropped (%.2f%%); B→A: %d of %d (%.2f%%)",
		cb.Dropped, cb.Dropped+cb.Accepted, 100*float64(cb.Dropped)/float64(cb.Dropped+cb.Accepted),
		ca.Dropped, ca.Dropped+ca.Accepted, 100*float64(ca.Dropped)/float64(ca.Dropped+ca.Accepted))
	require.NoError(t, err)
	assert.Equal(t, calls, st.Successful)
	assert.Zero(t, ust.Failed)
	assert.Positive(t, ca.Dropped)
	assert.Positive(t, cb.Dropped)
	assert.Positive(t, st.Retransmissions)
}
