package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The menu with speech, from a Switchboard caller over PCMU: the caller says its choice
// while the menu is being read (which stops the prompt) and the IVR takes that branch:
// "time" speaks the time (the Menu asks its clock), "goodbye" hangs up at once.
func TestSpeechMenuBranches(t *testing.T) {
	t.Parallel()
	rec, err := pocketsphinx.New(pocketsphinx.Config{NoLanguageModel: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rec.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var asked atomic.Int32
	menu := Menu{Speech: true, Box: voicemail.Box{Dir: t.TempDir()}, Now: func() time.Time {
		asked.Add(1)
		return time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	}}
	var mu sync.Mutex
	var spoken []call.SpeakEnded
	ivr, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: quiet, STT: rec, Handler: menu,
		Codecs: media.CodecSet{media.PCMU()}, OnEvent: func(_ *call.Call, e call.Event) {
			if s, ok := e.(call.SpeakEnded); ok {
				mu.Lock()
				spoken = append(spoken, s)
				mu.Unlock()
			}
		}})
	require.NoError(t, err)
	caller, err := switchboard.New(switchboard.Config{MediaTimeout: -1, Logger: quiet, Codecs: media.CodecSet{media.PCMU()}})
	require.NoError(t, err)
	for _, sb := range []*switchboard.Switchboard{ivr, caller} {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, sb.Start(conn))
		t.Cleanup(func() { _ = sb.Close() })
	}
	flite := peer.RequireProgram(t, "flite", "flite")
	for _, tc := range []struct {
		say   string
		asked int32
	}{{"goodbye", 0}, {"time", 1}} {
		t.Run(tc.say, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "say.wav")
			require.NoError(t, exec.Command(flite, "-voice", "kal16", "-t", tc.say, "-o", p).Run())
			words := trimmed(t, wavFile(t, p, 8000), 8000)
			before := asked.Load()
			mu.Lock()
			spoken = nil
			mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, ivr.URI("menu"), call.DialOptions{})
			require.NoError(t, err)
			r, err := c.AudioReader(8000)
			require.NoError(t, err)
			defer r.Close()
			// Wait for the menu to be read, then answer a second into it.
			var heard []int16
			for audiotest.RMSdBFS(heard) < -40 {
				f, err := r.ReadFrame()
				require.NoError(t, err)
				heard = f.Samples
			}
			time.Sleep(time.Second)
			w, err := c.AudioWriter()
			require.NoError(t, err)
			for f := range slices.Chunk(words, 160) {
				require.NoError(t, w.WriteFrame(media.Frame{Samples: f, SampleRate: 8000}))
			}
			answered := time.Now()
			for {
				if _, err := r.ReadFrame(); err != nil {
					break
				}
			}
			<-c.Done()
			assert.ErrorIs(t, context.Cause(c.Context()), call.CauseRemoteBye, "the IVR hung up")
			assert.Equal(t, tc.asked, asked.Load()-before, "branch taken")
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, spoken)
			assert.Contains(t, spoken[0].Text, "Say or press")
			assert.Equal(t, call.PlaybackInterrupted, spoken[0].Status, "the answer stopped the menu")
			t.Logf("said %q; the IVR hung up %v later", tc.say, time.Since(answered).Round(time.Millisecond))
		})
	}
}
