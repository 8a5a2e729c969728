package switchboard_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/amd"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/sipp"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/sip"
)

// speech8k synthesises text with espeak-ng at 8 kHz.
func speech8k(t *testing.T, text string) []int16 {
	t.Helper()
	prog := peer.RequireProgram(t, "espeak-ng", "espeak-ng")
	out, err := exec.Command(prog, "-v", "en-us", "--stdout", text).Output()
	require.NoError(t, err)
	r, err := wav.NewReader(bytes.NewReader(out), wav.Options{SampleRate: 8000})
	require.NoError(t, err)
	var x []int16
	for {
		f, err := r.ReadFrame()
		if err != nil {
			break
		}
		x = append(x, f.Samples...)
	}
	return x
}

// SIPp answers our call and streams a voicemail greeting (speech, then a 1 kHz beep):
// the verdict is Machine, the greeting's end is the end of the beep (within 100 ms), and
// a message we play on that event starts after the beep.
func TestAMDAgainstSIPpVoicemail(t *testing.T) {
	greeting := speech8k(t, "Hi, you have reached the voicemail of Jordan Smith. I cannot take your call right now. Please leave a message after the tone.")
	lead := audiotest.Silence(8000, 300*time.Millisecond)
	gap := audiotest.Silence(8000, 400*time.Millisecond)
	beep := audiotest.Sine(8000, 1000, 500*time.Millisecond, -10)
	var stream []int16
	for _, part := range [][]int16{lead, greeting, gap, beep, audiotest.Silence(8000, 4*time.Second)} {
		stream = append(stream, part...)
	}
	beepEnd := time.Duration(len(lead)+len(greeting)+len(gap)+len(beep)) * time.Second / 8000
	// Raw A-law for SIPp's rtp_stream (payload type 8).
	alaw := media.PCMA().NewEncoder().Encode(nil, stream)
	dir := t.TempDir()
	raw := filepath.Join(dir, "greeting.al")
	require.NoError(t, os.WriteFile(raw, alaw, 0o644))
	scenario := strings.Replace(voicemailUAS, "GREETING", raw, 1)
	uas := sipp.Start(t, sipp.Options{ScenarioXML: scenario, Calls: 1, Timeout: 30 * time.Second})

	sb := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMA()}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sb.Dial(ctx, "sip:voicemail@"+uas.Addr, call.DialOptions{AMD: &call.AMDOptions{Config: amd.Config{Mode: amd.DetectBeep}}})
	require.NoError(t, err)
	answered := time.Now()
	var det call.MachineDetectionEnded
	var greet call.MachineGreetingEnded
	var messageAt time.Duration
	for ev := range c.Events() {
		switch e := ev.(type) {
		case call.MachineDetectionEnded:
			det = e
		case call.MachineGreetingEnded:
			greet = e
			messageAt = time.Since(answered)
			playTone(t, c, 600, 300*time.Millisecond) // "the message"
			require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
		}
	}
	assert.Equal(t, amd.Machine, det.Result.Verdict, "%+v", det.Result)
	require.Equal(t, amd.GreetingBeep, greet.Result.Result, "%+v", greet.Result)
	// The detector's clock starts at our answer, SIPp's stream after it has the ACK
	// (and our jitter buffer fills first): allow for that start offset here. The
	// detector's own accuracy is measured in package amd (median error 2 ms).
	assert.InDelta(t, beepEnd.Seconds(), greet.Result.At.Seconds(), 0.25, "the beep's end, in audio time from the answer")
	assert.GreaterOrEqual(t, greet.Result.At, beepEnd-20*time.Millisecond, "not before the beep ended")
	assert.Greater(t, messageAt, beepEnd, "the message starts after the beep")
	v, ok, g, gok := c.AMD()
	assert.True(t, ok && gok)
	assert.Equal(t, amd.Machine, v.Verdict)
	assert.Equal(t, greet.Result, g)
	t.Logf("verdict %s at %v (%s); beep ended at %v (truth %v); message at %v",
		det.Result.Verdict, det.Result.At, det.Result.Reason, greet.Result.At, beepEnd, messageAt)
}

// A callee that says "Hello?" and waits is a person; HangupOnMachine leaves the call up.
func TestAMDHuman(t *testing.T) {
	hello := speech8k(t, "Hello?")
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()}, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		w, err := c.AudioWriter()
		if err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		n := media.SamplesPer(8000, 20*time.Millisecond)
		for off := 0; off+n <= len(hello); off += n {
			_ = w.WriteFrame(media.Frame{Samples: hello[off : off+n], SampleRate: 8000})
		}
		<-ctx.Done()
		return nil
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("person"), call.DialOptions{AMD: &call.AMDOptions{HangupOnMachine: true}})
	require.NoError(t, err)
	for ev := range c.Events() {
		if e, ok := ev.(call.MachineDetectionEnded); ok {
			assert.Equal(t, amd.Human, e.Result.Verdict, "%+v", e.Result)
			assert.Less(t, e.Result.At, 2500*time.Millisecond)
			assert.Equal(t, call.StateAnswered, c.State(), "a person is not hung up on")
			require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
		}
	}
}

// voicemailUAS answers PCMA, streams GREETING (raw A-law) and waits for our BYE.
const voicemailUAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="voicemail">
  <recv request="INVITE"/>
` + answerSDP + `m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
  <recv request="ACK"/>
  <nop><action><exec rtp_stream="GREETING,1,8"/></action></nop>
` + answerBye
