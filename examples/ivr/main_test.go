package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
	"github.com/switchboard-go/switchboard/media/wav"
)

// baresip calls the IVR, presses 2 and speaks a message (an espeak-ng recording played
// into the call), then goes quiet: the IVR saves the message when the caller stops
// talking. The WAV exists, is valid, holds what was said (the loudness envelopes of the
// recording and of the message correlate), and its sidecar says who called.
func TestBaresipLeavesAMessage(t *testing.T) {
	t.Parallel() // real time, mostly waiting
	dir := t.TempDir()
	sb, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler: Menu{Box: voicemail.Box{Dir: dir, Silence: 2 * time.Second}}})
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, sb.Start(conn))
	t.Cleanup(func() { _ = sb.Close() })

	// baresip's source: silence while the menu and greeting play, then the message.
	var audio []int16
	audio = append(audio, audiotest.Silence(8000, 16*time.Second)...)
	message := speech8k(t, "Hi, this is Robin. Please call me back about the invoice from last week. Thanks.")
	audio = append(audio, message...)
	ua := baresip.Start(t, baresip.Options{Codecs: []baresip.Codec{baresip.PCMU}, Audio: audio, Pad: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, ua.Dial(ctx, sb.URI("ivr")))
	_, err = ua.WaitEvent(ctx, baresip.EventCallEstablished)
	require.NoError(t, err)
	time.Sleep(2 * time.Second) // into the menu prompt
	require.NoError(t, ua.SendDTMF(ctx, "2"))
	_, err = ua.WaitEvent(ctx, baresip.EventCallClosed) // the IVR hangs up after the silence
	require.NoError(t, err)

	var sidecar string
	require.Eventually(t, func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(m) == 1 {
			sidecar = m[0]
		}
		return sidecar != ""
	}, 10*time.Second, 50*time.Millisecond)
	js, err := os.ReadFile(sidecar)
	require.NoError(t, err)
	var msg voicemail.Message
	require.NoError(t, json.Unmarshal(js, &msg))
	assert.Contains(t, msg.Caller, "baresip")
	assert.Equal(t, "silence", msg.EndedBy)

	r, err := wav.Open(filepath.Join(dir, msg.WAV), wav.Options{})
	require.NoError(t, err, "a valid WAV")
	defer r.Close()
	var x []int16
	for {
		f, err := r.ReadFrame()
		if err != nil {
			break
		}
		x = append(x, f.Samples...)
	}
	rate := r.SampleRate()
	require.Equal(t, 8000, rate)
	corr := envelopeCorrelation(envelope(message), envelope(x))
	assert.Greater(t, corr, 0.8, "the recording holds the message")
	msgDur := time.Duration(len(message)) * time.Second / 8000
	assert.InDelta(t, msgDur.Seconds(), float64(msg.DurationMS)/1000, 1.0, "about as long as the message (trimmed)")
	t.Logf("message %s: %d ms (said %v), envelope correlation %.2f, ended by %s", msg.WAV, msg.DurationMS, msgDur, corr, msg.EndedBy)
}

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
			return x
		}
		x = append(x, f.Samples...)
	}
}

// envelope is the RMS of each 10 ms of 8 kHz audio.
func envelope(x []int16) []float64 {
	var env []float64
	for off := 0; off+80 <= len(x); off += 80 {
		var s float64
		for _, v := range x[off : off+80] {
			s += float64(v) * float64(v)
		}
		env = append(env, math.Sqrt(s/80))
	}
	return env
}

// envelopeCorrelation is the best normalised correlation of a (the shorter) against b
// over every lag.
func envelopeCorrelation(a, b []float64) float64 {
	best := 0.0
	for lag := 0; lag+len(a) <= len(b); lag++ {
		var ab, aa, bb float64
		for i, v := range a {
			w := b[lag+i]
			ab += v * w
			aa += v * v
			bb += w * w
		}
		if aa > 0 && bb > 0 {
			best = max(best, ab/math.Sqrt(aa*bb))
		}
	}
	return best
}

// The other branches, from a Switchboard caller: 1 speaks the time (audio arrives), 3
// hangs up at once, and three invalid keys end the call too.
func TestMenuBranches(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ivr, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: quiet,
		Handler: Menu{Box: voicemail.Box{Dir: t.TempDir()}, Now: func() time.Time { return time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC) }}})
	require.NoError(t, err)
	caller, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: quiet})
	require.NoError(t, err)
	for _, sb := range []*switchboard.Switchboard{ivr, caller} {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, sb.Start(conn))
		t.Cleanup(func() { _ = sb.Close() })
	}
	for _, tc := range []struct {
		keys    string
		minCall time.Duration
	}{{"3", 0}, {"999", 0}, {"1", time.Second}} {
		t.Run(tc.keys, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, ivr.URI("menu"), call.DialOptions{})
			require.NoError(t, err)
			r, err := c.AudioReader(8000)
			require.NoError(t, err)
			defer r.Close()
			time.Sleep(time.Second)
			for _, k := range tc.keys {
				require.NoError(t, c.SendDTMF(ctx, string(k), 100*time.Millisecond))
				time.Sleep(1500 * time.Millisecond) // the invalid prompt plays between keys
			}
			sent := time.Now()
			var heard []int16
			for {
				f, err := r.ReadFrame()
				if err != nil {
					break
				}
				heard = append(heard, f.Samples...)
			}
			<-c.Done()
			assert.ErrorIs(t, context.Cause(c.Context()), call.CauseRemoteBye, "the IVR hung up")
			assert.GreaterOrEqual(t, time.Since(sent), tc.minCall)
			assert.Greater(t, audiotest.RMSdBFS(heard), -50.0, "the IVR spoke")
		})
	}
}
