package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/media/dtmf"
)

func writeWAV(t *testing.T, name string, x []int16, rate int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, audiotest.WriteWAV(p, x, rate))
	return p
}

func TestDTMF(t *testing.T) {
	var x []int16
	for _, d := range "159#*0" {
		r, err := dtmf.Tone(d, 80*time.Millisecond, 8000, -10)
		require.NoError(t, err)
		for {
			f, err := r.ReadFrame()
			if err != nil {
				break
			}
			x = append(x, f.Samples...)
		}
		x = append(x, audiotest.Silence(8000, 80*time.Millisecond)...)
	}
	got, err := findDTMF(writeWAV(t, "keys.wav", x, 8000))
	require.NoError(t, err)
	assert.Equal(t, "159#*0", got)
}

func TestAMD(t *testing.T) {
	prog := peer.RequireProgram(t, "espeak-ng", "espeak-ng")
	speech := filepath.Join(t.TempDir(), "greeting.wav")
	require.NoError(t, exec.Command(prog, "-v", "en-us", "-w", speech,
		"Hello, you have reached the offices of Acme. Nobody is available to take your call. Please leave a message after the tone.").Run())
	voice, rate, err := audiotest.ReadWAV(speech)
	require.NoError(t, err)
	var x []int16
	x = append(x, audiotest.Silence(rate, 300*time.Millisecond)...)
	x = append(x, voice...)
	x = append(x, audiotest.Silence(rate, 300*time.Millisecond)...)
	x = append(x, audiotest.Sine(rate, 850, 400*time.Millisecond, -10)...)
	beepEnd := time.Duration(len(x)) * time.Second / time.Duration(rate)
	x = append(x, audiotest.Silence(rate, 2*time.Second)...)
	out, err := detectMachine(writeWAV(t, "machine.wav", x, rate))
	require.NoError(t, err)
	var res struct {
		Result     string `json:"result"`
		DecisionMS int64  `json:"decision_ms"`
		BeepEndMS  *int64 `json:"beep_end_ms"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.Equal(t, "machine", res.Result)
	assert.Positive(t, res.DecisionMS)
	require.NotNil(t, res.BeepEndMS, "%s", out)
	assert.InDelta(t, beepEnd.Milliseconds(), *res.BeepEndMS, 100)
}

func TestSTT(t *testing.T) {
	prog := peer.RequireProgram(t, "flite", "flite")
	p := filepath.Join(t.TempDir(), "digits.wav")
	require.NoError(t, exec.Command(prog, "-voice", "slt", "-t", "one two three four", "-o", p).Run())
	text, err := transcribe(p)
	require.NoError(t, err)
	assert.Equal(t, "one two three four", text)
}
