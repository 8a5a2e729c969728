package switchboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/dtmf"
)

// digitsSeen lists the DTMF events seen, as "key/source".
func digitsSeen(ev *verbsEvents) []string {
	var out []string
	for _, e := range ev.snapshot() {
		if d, ok := e.(call.DTMF); ok {
			out = append(out, fmt.Sprintf("%c/%s", d.Digit, d.Source))
		}
	}
	return out
}

// waitDigits waits until n DTMF events have been seen, and a little longer for any
// duplicate, then returns them.
func waitDigits(t *testing.T, ev *verbsEvents, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(digitsSeen(ev)) >= n }, 10*time.Second, 5*time.Millisecond,
		"digits seen: %v", digitsSeen(ev))
	time.Sleep(400 * time.Millisecond)
	return digitsSeen(ev)
}

// SendDTMF in SIP INFO mode: one INFO per key (with 'w' pausing), each received once,
// in order, by the far end, whose Gather takes them like any other digits.
func TestSendDTMFInfo(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{DTMFMode: call.DTMFInfo})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gathered := make(chan call.GatherResult, 1)
	go func() {
		res, _ := vc.callee.Gather(ctx, call.GatherOptions{FirstDigitTimeout: 5 * time.Second})
		gathered <- res
	}()
	time.Sleep(100 * time.Millisecond)
	m, err := vc.caller.Media()
	require.NoError(t, err)
	began := time.Now()
	require.NoError(t, vc.caller.SendDTMF(ctx, "4w2*#", 150*time.Millisecond))
	t.Logf("4w2*# as INFO took %v (a 500 ms pause included)", time.Since(began).Round(time.Millisecond))
	assert.Zero(t, m.Stats().DTMFSent, "no RFC 4733 packets")
	assert.Equal(t, call.GatherResult{Digits: "42*", Status: call.GatherValid, Reason: call.GatherByTerminator, Attempts: 1}, <-gathered)
	assert.Equal(t, []string{"4/info", "2/info", "*/info", "#/info"}, waitDigits(t, vc.events, 4))
	for _, e := range vc.events.snapshot() {
		if d, ok := e.(call.DTMF); ok {
			assert.Equal(t, 150*time.Millisecond, d.Duration, "Duration travels in the INFO body")
		}
	}
	assert.Error(t, vc.caller.SendDTMF(ctx, "5x", 0), "not a key")
}

// sippUASNoDTMF answers with PCMU and no telephone-event, checks that the two INFOs
// it gets are application/dtmf-relay with Signal=7 and Signal=#, and waits for BYE.
const sippUASNoDTMF = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="UAS without RFC 4733 that takes INFO digits">
  <recv request="INVITE"/>
` + answerSDP + `m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv request="ACK"/>
  <recv request="INFO">
    <action>
      <ereg regexp="application/dtmf-relay" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct1"/>
      <ereg regexp="Signal=7" search_in="body" check_it="true" assign_to="sig1"/>
      <ereg regexp="Duration=120" search_in="body" check_it="true" assign_to="dur1"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <recv request="INFO">
    <action>
      <ereg regexp="Signal=#" search_in="body" check_it="true" assign_to="sig2"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
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
  <Reference variables="ct1,sig1,dur1,sig2"/>
</scenario>
`

// With the default mode, a peer that did not negotiate telephone-event gets the
// digits as SIP INFO; SIPp checks the requests.
func TestSendDTMFAutoFallsBackToInfo(t *testing.T) {
	uas := sipp.Start(t, sipp.Options{ScenarioXML: sippUASNoDTMF, Calls: 1, Timeout: 20 * time.Second})
	sb := startWith(t, switchboard.Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := sb.Dial(ctx, "sip:svc@"+uas.Addr, call.DialOptions{})
	require.NoError(t, err)
	assert.Negative(t, c.Negotiated().DTMFPayloadType)
	require.NoError(t, c.SendDTMF(ctx, "7#", 120*time.Millisecond))
	require.NoError(t, c.Hangup(ctx, 0))
	st, err := uas.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful, "SIPp's checks of the INFO requests passed")
}

// keyTones is a FrameReader of DTMF tones: each key for on, then off of silence.
func keyTones(t *testing.T, keys string, on, off time.Duration, rate int) media.FrameReader {
	t.Helper()
	var all []int16
	for _, k := range keys {
		r, err := dtmf.Tone(k, on, rate, -10)
		require.NoError(t, err)
		for {
			f, err := r.ReadFrame()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			all = append(all, f.Samples...)
		}
		all = append(all, make([]int16, media.SamplesPer(rate, off))...)
	}
	return media.NewSliceReader(all, rate, 0)
}

// In-band DTMF: tones in the caller's audio (played with Play) become digits with
// Source "inband", each once, and count in a Gather.
func TestInbandDTMF(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{InbandDTMF: true}, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	gathered := make(chan call.GatherResult, 1)
	go func() {
		res, _ := vc.callee.Gather(ctx, call.GatherOptions{FirstDigitTimeout: 5 * time.Second, InterDigitTimeout: 2 * time.Second})
		gathered <- res
	}()
	keys := "159*0D#"
	require.NoError(t, vc.caller.Play(ctx, call.PlayOptions{Frames: keyTones(t, keys, 100*time.Millisecond, 100*time.Millisecond, 8000)}))
	got := waitDigits(t, vc.events, len(keys))
	var want []string
	for _, k := range keys {
		want = append(want, string(k)+"/inband")
	}
	assert.Equal(t, want, got)
	res := <-gathered
	assert.Equal(t, "159*0D", res.Digits, "the gather stopped at D, not a valid digit: %+v", res)
	assert.Equal(t, call.GatherInvalid, res.Status)
	for _, e := range vc.events.snapshot() {
		if d, ok := e.(call.DTMF); ok {
			assert.InDelta(t, 100*time.Millisecond, d.Duration, float64(20*time.Millisecond), "tone length of %c", d.Digit)
		}
	}
}

// A peer that sends each key both ways (RFC 4733 events and the tone in its audio)
// gives one digit per press; a key pressed twice is still two digits.
func TestDTMFBothWaysOnce(t *testing.T) {
	dups := &logCounter{msg: "DTMF reported twice: dropped"}
	vc := verbsDial(t, switchboard.Config{InbandDTMF: true, Logger: slog.New(dups)}, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	keys := "1223"
	for _, k := range keys {
		done := make(chan error, 1)
		go func() {
			done <- vc.caller.Play(ctx, call.PlayOptions{Frames: keyTones(t, string(k), 100*time.Millisecond, 0, 8000)})
		}()
		require.NoError(t, vc.caller.SendDTMF(ctx, string(k), 100*time.Millisecond))
		require.NoError(t, <-done)
		time.Sleep(300 * time.Millisecond)
	}
	got := waitDigits(t, vc.events, len(keys))
	var keysGot strings.Builder
	for _, d := range got {
		keysGot.WriteByte(d[0])
	}
	assert.Equal(t, keys, keysGot.String(), "each press once: %v", got)
	assert.EqualValues(t, len(keys), dups.n.Load(), "every press was also reported the other way, and dropped")
	t.Logf("digits %v (the first report of each press wins)", got)
}

// logCounter is a slog handler that counts the records with message msg.
type logCounter struct {
	msg string
	n   atomic.Int32
}

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCounter) WithGroup(string) slog.Handler      { return h }
