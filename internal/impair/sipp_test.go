package impair_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/impair"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

// Loss-tolerant SIPp scenarios (see the comments in the files for what they change
// relative to SIPp's built-in uac and uas, and why).
const (
	uacScenario = "testdata/sipp/uac.xml"
	uasScenario = "testdata/sipp/uas.xml"
)

func scenarioPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

func scenarioText(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// replaceOnce is strings.Replace that insists old occurs exactly once, so a scenario
// derived from another cannot silently stay unchanged.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "%q in scenario", old)
	return strings.Replace(s, old, new, 1)
}

// sippCalls runs the loss-tolerant UAC against the loss-tolerant UAS through a relay
// with cfg: calls calls at rate per second. It returns the UAC's statistics, the relay's
// counters and the UAC's error.
func sippCalls(t *testing.T, cfg impair.Config, calls int, rate float64) (sipp.Stats, impair.Stats, error) {
	t.Helper()
	uas := sipp.Start(t, sipp.Options{ScenarioFile: scenarioPath(t, uasScenario), Timeout: 80 * time.Second})
	relay, err := impair.Listen("", uas.Addr, cfg)
	require.NoError(t, err)
	defer relay.Close()
	st, uacErr := sipp.Run(t, sipp.Options{
		ScenarioFile: scenarioPath(t, uacScenario),
		Remote:       relay.Addr().String(),
		Rate:         rate, Calls: calls,
		Timeout: 70 * time.Second,
	})
	rst := relay.Stats()
	ust, _ := uas.Stop()
	t.Logf("UAS: %d calls seen, %d failed %v (calls still in their 32 s time-wait are neither)", ust.CallsCreated, ust.Failed, ust.FailedReasons)
	assert.Zero(t, ust.Failed, "the UAS failed calls: %v", ust.FailedReasons)
	return st, rst, uacErr
}

func logRelay(t *testing.T, st impair.Stats) {
	t.Helper()
	for _, d := range []struct {
		name string
		s    impair.DirectionStats
	}{{"UAC→UAS", st.Upstream}, {"UAS→UAC", st.Downstream}} {
		t.Logf("relay %s: %d packets, %d dropped (%.1f%%), %d reordered, %d forwarded",
			d.name, d.s.Received, d.s.Dropped, 100*float64(d.s.Dropped)/float64(max(d.s.Received, 1)), d.s.Reordered, d.s.Forwarded)
	}
}

// SIPp UAC → relay (5 % loss, 50 ± 20 ms in both directions) → SIPp UAS: every call
// completes. With SIPp's built-in uac/uas about 1 call in 200 fails under these
// conditions; the scenarios in testdata/sipp retransmit and absorb retransmissions the
// way RFC 3261 user agents do (see their comments).
func TestSIPpThroughLossyRelay(t *testing.T) {
	t.Parallel()
	imp := impair.Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}
	st, rst, err := sippCalls(t, impair.Config{Upstream: imp, Downstream: imp, Seed: 1}, 200, 20)
	logRelay(t, rst)
	t.Logf("UAC: %d/%d calls OK, %d retransmissions, response time %v ± %v, histogram %v",
		st.Successful, st.CallsCreated, st.Retransmissions, st.ResponseTime, st.ResponseTimeDev, st.ResponseTimeHist)
	require.NoError(t, err)
	assert.Equal(t, 200, st.CallsCreated)
	assert.Equal(t, 200, st.Successful)
	assert.Positive(t, rst.Upstream.Dropped, "the relay dropped requests")
	assert.Positive(t, rst.Downstream.Dropped, "the relay dropped responses")
	assert.Positive(t, st.Retransmissions, "SIPp retransmitted what was lost")
	assert.Zero(t, rst.Upstream.Reordered+rst.Downstream.Reordered)
	// INVITE → 200 crosses the relay twice: at least 2 × (50 - 20) ms.
	assert.GreaterOrEqual(t, st.ResponseTime, 60*time.Millisecond)
}

// The same with Reorder on: the relay reorders packets (mostly of different calls, and
// within a call the ACK and the BYE, sent back to back). The loss-tolerant UAS accepts a
// BYE before the ACK, and the UAC ignores provisional responses that arrive late. SIPp's
// built-in scenarios lose about 40 % of calls here (peers.md: 116/200), because SIPp
// aborts a call on any message it does not expect at that point of the scenario.
func TestSIPpThroughReorderingRelay(t *testing.T) {
	t.Parallel()
	imp := impair.Impairment{Loss: 0.05, Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: true}
	st, rst, err := sippCalls(t, impair.Config{Upstream: imp, Downstream: imp, Seed: 2}, 200, 20)
	logRelay(t, rst)
	t.Logf("UAC: %d/%d calls OK, %d failed %v, %d retransmissions", st.Successful, st.CallsCreated, st.Failed, st.FailedReasons, st.Retransmissions)
	assert.Positive(t, rst.Upstream.Reordered, "the relay reordered requests")
	assert.Positive(t, rst.Downstream.Reordered, "the relay reordered responses")
	// Success is reported, not asserted: which reorderings happen depends on timing, and
	// SIPp (not the relay) decides what it tolerates.
	if err != nil {
		t.Logf("SIPp under reordering: %v", err)
	}
}

// RTP through the relay: a group relays the SIP port and the RTP port of the callee. The
// callee's SDP answer names the relay's RTP port instead of its own, so the caller sends
// its media to the relay; SIPp's RTP echo answers the relay, which sends the echo back to
// the caller. Both directions of the media are impaired like the signalling.
func TestSIPpRTPThroughGroup(t *testing.T) {
	t.Parallel()
	uasMedia := peer.FreePortRange(t, 4)
	relayRTP := peer.FreePortRange(t, 2)
	uasSIP := peer.FreePort(t)

	imp := impair.Impairment{Loss: 0.05, Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}
	g, err := impair.ListenGroup(impair.Config{Upstream: imp, Downstream: imp, Seed: 3},
		impair.Route{Name: "sip", Target: peer.Addr(uasSIP)},
		impair.Route{Name: "rtp", Listen: peer.Addr(relayRTP), Target: peer.Addr(uasMedia)},
	)
	require.NoError(t, err)
	defer g.Close()

	// Callee: the loss-tolerant UAS, answering G.711 A-law at the relay's RTP port.
	uasXML := replaceOnce(t, scenarioText(t, uasScenario),
		"m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000",
		"m=audio "+strconv.Itoa(relayRTP)+" RTP/AVP 8\n      a=rtpmap:8 PCMA/8000")
	sipp.Start(t, sipp.Options{ScenarioXML: uasXML, Port: uasSIP, MediaPort: uasMedia, RTPEcho: true, Timeout: 60 * time.Second})

	// Caller: the loss-tolerant UAC offering A-law and playing 7 s of speech once the call
	// is up.
	uacXML := replaceOnce(t, scenarioText(t, uacScenario),
		"m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000",
		"m=audio [media_port] RTP/AVP 8\n      a=rtpmap:8 PCMA/8000")
	uacXML = replaceOnce(t, uacXML, "<pause/>",
		`<nop><action><exec play_pcap_audio="`+sipp.PcapDir+`/g711a.pcap"/></action></nop>
  <pause milliseconds="7500"/>`)
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: uacXML, Remote: g.Relay("sip").Addr().String(), Calls: 1, Timeout: 40 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)

	rtp := g.Stats()["rtp"]
	t.Logf("RTP caller→callee: %d packets, %d dropped; callee→caller (echo): %d packets, %d dropped",
		rtp.Upstream.Received, rtp.Upstream.Dropped, rtp.Downstream.Received, rtp.Downstream.Dropped)
	// g711a.pcap holds 236 packets of 30 ms.
	assert.Equal(t, uint64(236), rtp.Upstream.Received, "every RTP packet went through the relay")
	assert.Positive(t, rtp.Upstream.Dropped)
	assert.Equal(t, rtp.Upstream.Forwarded, rtp.Downstream.Received, "the callee echoed what the relay forwarded")
	assert.Equal(t, 1, rtp.Clients)
	assert.Positive(t, g.Stats()["sip"].Upstream.Received)
}
