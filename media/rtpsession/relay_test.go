package rtpsession

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/impair"
	"github.com/switchboard-go/switchboard/media"
)

// RTP through the test harness's impairment relay (real UDP, both directions impaired:
// 5% seeded loss, 40 ± 15 ms jitter with reordering): the tone arrives as an unbroken
// run of frames with the losses concealed, every DTMF digit arrives exactly once, and
// the receiver's loss count matches what the relay dropped.
func TestThroughImpairmentRelay(t *testing.T) {
	a, b := udpListen(t), udpListen(t)
	imp := impair.Impairment{Loss: 0.05, Delay: 40 * time.Millisecond, Jitter: 15 * time.Millisecond, Reorder: true}
	relay, err := impair.Listen("127.0.0.1:0", b.LocalAddr().String(), impair.Config{Upstream: imp, Downstream: imp, Seed: 42})
	require.NoError(t, err)
	t.Cleanup(func() { _ = relay.Close() })

	tx, err := New(a, Config{Codec: media.PCMU(), TelephoneEventPT: 101, RemoteAddr: net.UDPAddrFromAddrPort(relay.Addr()), RTCPInterval: -1, OwnConns: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Close() })
	// The receiver learns where to answer from the first packet (symmetric RTP): the
	// relay's socket for this client.
	var digits []rune
	digitsCh := make(chan rune, 16)
	rx, err := New(b, Config{Codec: media.PCMU(), TelephoneEventPT: 101, RTCPInterval: -1, OwnConns: true,
		OnDTMF: func(d Digit) { digitsCh <- d.Digit }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rx.Close() })

	stop := make(chan struct{})
	got := collect(rx, stop)
	for _, f := range toneFrames(8000, 20*time.Millisecond, 3*time.Second, 1000) {
		require.NoError(t, tx.WriteFrame(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, tx.WaitPlayout(ctx))
	require.NoError(t, tx.SendDTMF(ctx, "159#*0", 80*time.Millisecond, 10))
	deadline := time.After(5 * time.Second)
	for len(digits) < 6 {
		select {
		case d := <-digitsCh:
			digits = append(digits, d)
		case <-deadline:
			t.Fatalf("digits: %q", string(digits))
		}
	}
	time.Sleep(300 * time.Millisecond) // late copies of the end packets must not add digits
	close(stop)
	frames := <-got
	assert.Equal(t, "159#*0", string(digits))
	assert.Empty(t, digitsCh, "no digit twice")

	run := toneRun(t, frames, 1000)
	concealed := 0
	for _, f := range run {
		if f.Has(media.FlagConcealed) {
			concealed++
		}
	}
	rs, ts := relay.Stats(), rx.Stats()
	t.Logf("relay: %d of %d dropped upstream, %d reordered; receiver: %d lost, %d late, %d concealed in a %d-frame tone",
		rs.Upstream.Dropped, rs.Upstream.Received, rs.Upstream.Reordered, ts.Lost, ts.Late, concealed, len(run))
	t.Logf("receiver: received %d expected %d dup %d dropped src %d ssrc %d garbage %d pt %d seq %d; sender sent %d",
		ts.PacketsReceived, ts.Expected, ts.Duplicates, ts.DroppedSource, ts.DroppedSSRC, ts.DroppedGarbage, ts.DroppedPayloadType, ts.DroppedSequence, tx.Stats().PacketsSent)
	assert.NotZero(t, rs.Upstream.Dropped, "the relay did drop packets")
	assert.NotZero(t, rs.Upstream.Reordered, "and reordered some")
	assert.Greater(t, len(run), 140, "about 3 s of tone arrived as one run")
	assert.NotZero(t, concealed, "losses were concealed, not left as gaps")
	// Packets the relay dropped are lost to the receiver, or arrive too late to play
	// (counted late); trailing drops after the last received packet are not yet known.
	assert.InDelta(t, float64(rs.Upstream.Dropped), float64(ts.Lost)+float64(ts.Late), 4)
}
