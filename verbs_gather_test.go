package switchboard_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// A spoken menu interrupted by the caller's first key; the keys typed while and after
// it played are gathered up to the terminator, each reported once.
func TestGatherPrompt(t *testing.T) {
	synth := &ttstest.Tone{Word: 300 * time.Millisecond}
	vc := verbsDial(t, switchboard.Config{TTS: synth}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		tap.waitLoud(t, 0) // the menu is playing
		_ = vc.caller.SendDTMF(ctx, "12#", 80*time.Millisecond)
	}()
	res, err := vc.callee.Gather(ctx, call.GatherOptions{
		Prompt: call.Prompt{Text: "for sales press one for support press two for anything else stay on the line"},
	})
	require.NoError(t, err)
	assert.Equal(t, call.GatherResult{Digits: "12", Status: call.GatherValid, Reason: call.GatherByTerminator, Attempts: 1}, res)

	gathered := vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.GatherEnded); return ok }).(call.GatherEnded)
	assert.Equal(t, res, gathered.Result)
	assert.Equal(t, []string{"call.speak.started", "call.dtmf.received", "call.speak.ended",
		"call.dtmf.received", "call.dtmf.received", "call.gather.ended"}, vc.events.names(verbEvent))
	for _, e := range vc.events.snapshot() {
		if se, ok := e.(call.SpeakEnded); ok {
			assert.Equal(t, call.PlaybackInterrupted, se.Status, "the first key stopped the menu")
		}
	}
}

// Every status and reason of a Gather on a real call: the timers run on the wall
// clock here, kept short (the state machine's timing is tested on a fake clock in
// package call).
func TestGatherStatuses(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	synth := &ttstest.Tone{Word: 100 * time.Millisecond, Gap: 20 * time.Millisecond}
	vc := verbsDial(t, switchboard.Config{TTS: synth}, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	short := 400 * time.Millisecond
	send := func(keys string, after time.Duration) {
		go func() {
			time.Sleep(after)
			if err := vc.caller.SendDTMF(ctx, keys, 60*time.Millisecond); err != nil {
				t.Logf("send %q: %v", keys, err)
			}
		}()
	}
	for _, tc := range []struct {
		name string
		opts call.GatherOptions
		keys string
		want call.GatherResult
	}{
		{"no input", call.GatherOptions{FirstDigitTimeout: short},
			"", call.GatherResult{Status: call.GatherTimeout, Reason: call.GatherByFirstDigitTimeout, Attempts: 1}},
		{"max digits", call.GatherOptions{MaxDigits: 3, FirstDigitTimeout: 5 * time.Second},
			"4242", call.GatherResult{Digits: "424", Status: call.GatherValid, Reason: call.GatherByMaxDigits, Attempts: 1}},
		{"pause after enough digits", call.GatherOptions{InterDigitTimeout: short, FirstDigitTimeout: 5 * time.Second},
			"77", call.GatherResult{Digits: "77", Status: call.GatherValid, Reason: call.GatherByInterDigitTimeout, Attempts: 1}},
		{"too few digits", call.GatherOptions{MinDigits: 4, InterDigitTimeout: short, FirstDigitTimeout: 5 * time.Second},
			"12#", call.GatherResult{Digits: "12", Status: call.GatherInvalid, Reason: call.GatherByTerminator, Attempts: 1}},
		{"invalid key", call.GatherOptions{ValidDigits: "123", FirstDigitTimeout: 5 * time.Second},
			"19", call.GatherResult{Digits: "19", Status: call.GatherInvalid, Reason: call.GatherByInvalidDigit, Attempts: 1}},
		{"overall timeout", call.GatherOptions{Timeout: 700 * time.Millisecond, InterDigitTimeout: 5 * time.Second, FirstDigitTimeout: 5 * time.Second},
			"3", call.GatherResult{Digits: "3", Status: call.GatherValid, Reason: call.GatherByTimeout, Attempts: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.keys != "" {
				send(tc.keys, 100*time.Millisecond)
			}
			res, err := vc.callee.Gather(ctx, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, res)
			time.Sleep(300 * time.Millisecond) // let stray keys arrive before the next case
		})
	}

	t.Run("invalid, then valid on the second attempt", func(t *testing.T) {
		var digitsAt []string
		var mu sync.Mutex
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Wait for the invalid prompt to start (after the first attempt) before
			// sending the good key.
			for range 2 {
				vc.events.waitEvent(t, func(e call.Event) bool {
					s, ok := e.(call.SpeakStarted)
					mu.Lock()
					defer mu.Unlock()
					if ok && !contains(digitsAt, s.Text) {
						digitsAt = append(digitsAt, s.Text)
						return true
					}
					return false
				})
			}
			_ = vc.caller.SendDTMF(ctx, "2", 60*time.Millisecond)
		}()
		send("9", 100*time.Millisecond)
		res, err := vc.callee.Gather(ctx, call.GatherOptions{
			Prompt: call.Prompt{Text: "menu"}, InvalidPrompt: call.Prompt{Text: "sorry"},
			ValidDigits: "123", MaxDigits: 1, MaxAttempts: 3, FirstDigitTimeout: 5 * time.Second,
		})
		<-done
		require.NoError(t, err)
		assert.Equal(t, call.GatherResult{Digits: "2", Status: call.GatherValid, Reason: call.GatherByMaxDigits, Attempts: 2}, res)
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, ccancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer ccancel()
		res, err := vc.callee.Gather(cctx, call.GatherOptions{Prompt: call.Prompt{Text: "a long menu that nobody answers"}})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, call.GatherCancelled, res.Status)
		assert.Equal(t, call.StateAnswered, vc.callee.State(), "the call goes on")
	})

	t.Run("failing prompt", func(t *testing.T) {
		res, err := vc.callee.Gather(ctx, call.GatherOptions{Prompt: call.Prompt{Play: &call.PlayOptions{File: "/nonexistent.wav"}}})
		assert.Error(t, err)
		assert.Equal(t, call.GatherFailed, res.Status)
	})

	t.Run("hangup", func(t *testing.T) {
		go func() {
			time.Sleep(200 * time.Millisecond)
			_ = vc.caller.SendDTMF(ctx, "5", 60*time.Millisecond)
			time.Sleep(200 * time.Millisecond)
			_ = vc.caller.Hangup(ctx, 0)
		}()
		res, err := vc.callee.Gather(ctx, call.GatherOptions{FirstDigitTimeout: 5 * time.Second})
		assert.ErrorIs(t, err, call.ErrCallEnded)
		assert.Equal(t, call.GatherResult{Digits: "5", Status: call.GatherCallHangup, Reason: call.GatherByHangup, Attempts: 1}, res)
		res, err = vc.callee.Gather(ctx, call.GatherOptions{Prompt: call.Prompt{Text: "anyone"}})
		assert.ErrorIs(t, err, call.ErrCallEnded)
		assert.Equal(t, call.GatherCallHangup, res.Status)
	})

	vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.Hangup); return ok })
	var statuses []string
	for _, e := range vc.events.snapshot() {
		if g, ok := e.(call.GatherEnded); ok {
			statuses = append(statuses, string(g.Result.Status))
		}
	}
	// One call.gather.ended per Gather on the live call, the last before call.hangup.
	assert.Equal(t, "timeout valid valid invalid invalid valid valid cancelled failed call_hangup",
		strings.Join(statuses, " "))
	names := vc.events.names(nil)
	assert.Equal(t, []string{"call.gather.ended", "call.hangup"}, names[len(names)-2:])
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// verbsPcapScenario is a SIPp UAC that offers PCMA with telephone-event/101, then
// plays the RFC 4733 captures of SIPp's package 400 ms apart (one key each, cut from
// one stream: played in this order they continue one another) and waits for our BYE.
func verbsPcapScenario(keys ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="RFC 4733 digits from pcaps">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
  <pause milliseconds="300"/>
`)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(`  <pause milliseconds="400"/>
`)
		}
		fmt.Fprintf(&b, `  <nop><action><exec play_pcap_audio="%s/dtmf_2833_%s.pcap"/></action></nop>
`, sipp.PcapDir, k)
	}
	b.WriteString(`  <recv request="BYE"/>
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
`)
	return b.String()
}

// A real peer's RFC 4733 digits into a Gather: SIPp plays captured key presses (with
// their repeated end packets); each digit comes out exactly once, the prompt is cut
// by the first, and the terminator ends the input.
func TestGatherSIPpPcapDTMF(t *testing.T) {
	type outcome struct {
		res    call.GatherResult
		err    error
		digits []string
	}
	out := make(chan outcome, 1)
	synth := &ttstest.Tone{Word: 300 * time.Millisecond}
	sb := startWith(t, switchboard.Config{TTS: synth, MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		var mu sync.Mutex
		var digits []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for e := range c.Events() {
				if d, ok := e.(call.DTMF); ok {
					mu.Lock()
					digits = append(digits, fmt.Sprintf("%c/%s", d.Digit, d.Source))
					mu.Unlock()
				}
			}
		}()
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		res, err := c.Gather(ctx, call.GatherOptions{Prompt: call.Prompt{Text: "please enter your account number then press hash"}})
		time.Sleep(500 * time.Millisecond) // any duplicate would be in by now
		_ = c.Hangup(ctx, 0)
		<-done
		mu.Lock()
		out <- outcome{res, err, digits}
		mu.Unlock()
		return nil
	})})
	st, err := sipp.Run(t, sipp.Options{ScenarioXML: verbsPcapScenario("1", "4", "7", "star", "pound"),
		Remote: sb.Addr().String(), Calls: 1, Timeout: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	o := <-out
	require.NoError(t, o.err)
	assert.Equal(t, call.GatherResult{Digits: "147*", Status: call.GatherValid, Reason: call.GatherByTerminator, Attempts: 1}, o.res)
	assert.Equal(t, []string{"1/rfc4733", "4/rfc4733", "7/rfc4733", "*/rfc4733", "#/rfc4733"}, o.digits, "each digit exactly once")
}

// The built-in uac_pcap scenario: 7 s of speech (PCMA), then the key 1 as RFC 4733.
func TestGatherSIPpBuiltinPcap(t *testing.T) {
	t.Parallel() // mostly waiting on real time
	got := make(chan call.GatherResult, 1)
	var heard time.Duration
	sb := startWith(t, switchboard.Config{MediaTimeout: -1, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		m, err := c.Media()
		if err != nil {
			return err
		}
		tap := &verbsTap{rate: m.SampleRate()}
		stop, err := c.Listen(tap)
		if err != nil {
			return err
		}
		res, _ := c.Gather(ctx, call.GatherOptions{MaxDigits: 1, FirstDigitTimeout: 15 * time.Second})
		stop()
		heard = speechIn(t, tap.since(0), tap.rate)
		got <- res
		<-ctx.Done() // SIPp hangs up
		return nil
	})})
	st, err := sipp.Run(t, sipp.Options{Scenario: "uac_pcap", Remote: sb.Addr().String(), Calls: 1, Timeout: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Successful)
	res := <-got
	assert.Equal(t, call.GatherResult{Digits: "1", Status: call.GatherValid, Reason: call.GatherByMaxDigits, Attempts: 1}, res)
	t.Logf("speech heard before the digit: %v", heard)
	assert.Greater(t, heard, 3*time.Second, "the capture's speech reached the call")
}

// slowStart is an engine that has produced nothing yet: Synthesize waits until ctx ends.
type slowStart struct{}

func (slowStart) Synthesize(ctx context.Context, _ string, _ tts.Options) (media.FrameReadCloser, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A key pressed before the prompt's engine has started still counts and stops the
// prompt; the Gather does not fail.
func TestGatherPromptInterruptedWhileStarting(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{TTS: slowStart{}}, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = vc.caller.SendDTMF(ctx, "7#", 60*time.Millisecond)
	}()
	res, err := vc.callee.Gather(ctx, call.GatherOptions{Prompt: call.Prompt{Text: "menu"}})
	require.NoError(t, err)
	assert.Equal(t, call.GatherResult{Digits: "7", Status: call.GatherValid, Reason: call.GatherByTerminator, Attempts: 1}, res)
	ended := vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.SpeakEnded); return ok }).(call.SpeakEnded)
	assert.Equal(t, call.PlaybackInterrupted, ended.Status)
}
