package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
)

func speech(t *testing.T, text string) []int16 {
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

func start(t *testing.T, h call.Handler) *switchboard.Switchboard {
	t.Helper()
	sb, err := switchboard.New(switchboard.Config{Handler: h, MediaTimeout: -1, Codecs: media.CodecSet{media.PCMU()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, sb.Start(conn))
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

func play(c *call.Call, x []int16) {
	w, err := c.AudioWriter()
	if err != nil {
		return
	}
	n := media.SamplesPer(8000, 20*time.Millisecond)
	for off := 0; off+n <= len(x); off += n {
		if w.WriteFrame(media.Frame{Samples: x[off : off+n], SampleRate: 8000}) != nil {
			return
		}
	}
}

// A voicemail: greeting, beep; the dialer leaves its message after the beep.
func TestDialerMachine(t *testing.T) {
	greeting := speech(t, "Hi, you have reached Sam. I am not available right now. Please leave your message after the tone.")
	heardAfterBeep := make(chan float64, 1)
	vm := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		play(c, append(append(greeting, audiotest.Silence(8000, 300*time.Millisecond)...), audiotest.Sine(8000, 1000, 400*time.Millisecond, -10)...))
		m, err := c.Media()
		if err != nil {
			return err
		}
		if err := m.WaitPlayout(ctx); err != nil {
			return err
		}
		// From the end of the beep on: what the dialer says now is its message.
		r, err := c.AudioReader(8000)
		if err != nil {
			return err
		}
		defer r.Close()
		var x []int16
		for len(x) < 8000*3 {
			f, err := r.ReadFrame()
			if err != nil {
				break
			}
			x = append(x, f.Samples...)
		}
		heardAfterBeep <- audiotest.RMSdBFS(x)
		<-ctx.Done()
		return nil
	}))
	dialer := start(t, nil)
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, dialer, vm.URI("sam"), &out)
	require.NoError(t, err, out.String())
	assert.Equal(t, MessageLeft, res, out.String())
	assert.Contains(t, out.String(), "verdict: machine")
	assert.Contains(t, out.String(), "greeting ended (beep_detected)")
	assert.Greater(t, <-heardAfterBeep, -40.0, "the message was heard after the beep")
	t.Log(out.String())
}

// A person: says hello, hears the prompt and presses 1.
func TestDialerPerson(t *testing.T) {
	hello := speech(t, "Hello?")
	person := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
		play(c, hello)
		time.Sleep(3 * time.Second) // listening to the prompt
		_ = c.SendDTMF(ctx, "1", 100*time.Millisecond)
		<-ctx.Done()
		return nil
	}))
	dialer := start(t, nil)
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, dialer, person.URI("pat"), &out)
	require.NoError(t, err, out.String())
	assert.Equal(t, Confirmed, res, out.String())
	assert.Contains(t, out.String(), "verdict: human")
	t.Log(out.String())
}
