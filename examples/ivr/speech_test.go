package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSpeechMenu runs the tests of the menu's speech input at once, each as a subtest:
// they mostly wait on real time, and marked parallel they would wait for the package's
// parallel slots (GOMAXPROCS of them) behind one another.
func TestSpeechMenu(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for name, f := range map[string]func(*testing.T){
		"accuracy": testSpeechMenuAccuracy,
		"branches": testSpeechMenuBranches,
		"grammar":  testMenuGrammarOtherWords,
	} {
		wg.Go(func() { t.Run(name, f) })
	}
	wg.Wait()
}

// TestSpeechMenu/branches: the menu with speech, from a Switchboard caller over PCMU.
// The caller says its choice while the menu is being read (which stops the prompt) and
// the IVR takes that branch: "time" speaks the time (the Menu asks its clock),
// "goodbye" hangs up at once.
func testSpeechMenuBranches(t *testing.T) {
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

// TestSpeechMenu/grammar: the menu's grammar with and without the other words,
// decoded offline by pocketsphinx (flite's slt, kal16, awb and rms voices; 8 kHz audio
// through μ-law, and 16 kHz). The menu words are recognised either way; words that are
// neither menu words nor other words (none of them is in the grammar) are mostly
// refused only with the other words there. The decoder is deterministic, so the
// figures repeat exactly.
func testMenuGrammarOtherWords(t *testing.T) {
	rec, err := pocketsphinx.New(pocketsphinx.Config{NoLanguageModel: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rec.Close() })
	flite := peer.RequireProgram(t, "flite", "flite")
	menuOnly := func() string {
		var p []string
		for _, w := range menuWords {
			p = append(p, w.phrase)
		}
		g, err := stt.WordListGrammar(p...)
		require.NoError(t, err)
		return g
	}()
	o := Menu{Speech: true}.gatherOptions()
	require.Equal(t, speechGrammar(), o.Speech.Grammar)
	keys := map[string]string{}
	for _, w := range menuWords {
		keys[w.phrase] = w.key
	}
	said := []struct{ text, key string }{{"one", "1"}, {"two", "2"}, {"three", "3"}, {"time", "1"}, {"message", "2"}, {"goodbye", "3"}}
	others := []string{"banana", "weather", "account", "cancel", "payment", "problem", "question", "thanks", "customer", "morning"}
	dir := t.TempDir()
	audio := map[int]map[string][]int16{8000: {}, 16000: {}} // rate -> voice/text -> speech
	for _, v := range []string{"slt", "kal16", "awb", "rms"} {
		for _, w := range append([]string{"one", "two", "three", "time", "message", "goodbye"}, others...) {
			p := filepath.Join(dir, v+"-"+w+".wav")
			require.NoError(t, exec.Command(flite, "-voice", v, "-t", w, "-o", p).Run())
			x := wavFile(t, p, 16000)
			audio[16000][v+"/"+w] = x
			audio[8000][v+"/"+w] = mulaw8k(t, x)
		}
	}
	decode := func(grammar string, rate int, x []int16) string {
		x = append(append(make([]int16, rate/4), x...), make([]int16, rate/2)...)
		s, err := rec.Start(t.Context(), stt.Config{SampleRate: rate, Grammar: grammar})
		require.NoError(t, err)
		for f := range slices.Chunk(x, rate/50) {
			require.NoError(t, s.WriteFrame(media.Frame{Samples: f, SampleRate: rate}))
		}
		require.NoError(t, s.Close())
		var final []string
		for {
			r, err := s.Recv()
			if err != nil {
				require.ErrorIs(t, err, io.EOF)
				return strings.Join(final, " ")
			}
			if r.Final && r.Text != "" {
				final = append(final, r.Text)
			}
		}
	}
	for _, rate := range []int{8000, 16000} {
		refused := map[string]int{}
		for _, g := range []struct{ name, grammar string }{{"menu words only", menuOnly}, {"with other words", o.Speech.Grammar}} {
			right, refuse := 0, 0
			var wrong []string
			for _, v := range []string{"slt", "kal16", "awb", "rms"} {
				for _, w := range said {
					if h := decode(g.grammar, rate, audio[rate][v+"/"+w.text]); keys[h] == w.key {
						right++
					} else {
						wrong = append(wrong, fmt.Sprintf("%s/%s→%q", v, w.text, h))
					}
				}
				for _, w := range others {
					if keys[decode(g.grammar, rate, audio[rate][v+"/"+w])] == "" {
						refuse++
					}
				}
			}
			refused[g.name] = refuse
			t.Logf("%d Hz, %s: menu words right %d/%d %v; other words refused %d/%d",
				rate, g.name, right, 4*len(said), wrong, refuse, 4*len(others))
			assert.GreaterOrEqual(t, right, 4*len(said)-1, "%d Hz, %s: menu words", rate, g.name)
		}
		assert.Greater(t, refused["with other words"], refused["menu words only"]+4*len(others)/3,
			"%d Hz: the other words make the grammar refuse a good part of the words it does not hold", rate)
	}
}

// mulaw8k resamples 16 kHz audio to 8 kHz and passes it through G.711 μ-law, as a
// narrowband call would.
func mulaw8k(t *testing.T, x []int16) []int16 {
	t.Helper()
	rs, err := resample.New(16000, 8000)
	require.NoError(t, err)
	y := rs.Process(nil, x)
	b := make([]byte, 2*len(y))
	for i, v := range y {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	b = g711.DecodeUlaw(g711.EncodeUlaw(b))
	for i := range y {
		y[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return y
}
