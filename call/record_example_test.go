package call_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

// A voicemail: the callee beeps, then records the caller (who plays a tone) until '#'
// or two seconds, and reads the result; the same result comes as a RecordingSaved
// event.
func ExampleCall_Record() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, _ := os.MkdirTemp("", "voicemail")
	defer os.RemoveAll(dir)
	recording := make(chan struct{})
	saved := make(chan call.RecordingResult, 1)
	callee, _ := switchboard.New(switchboard.Config{Logger: quiet, Codecs: media.CodecSet{media.PCMU()}, Handler: call.HandlerFunc(
		func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			rec, err := c.Record(ctx, call.RecordOptions{
				Path:              filepath.Join(dir, "message.wav"),
				PlayBeep:          true,
				TerminationDigits: "#",
				MaxLength:         2 * time.Second,
			})
			if err != nil {
				return err
			}
			close(recording) // after the beep
			res, err := rec.Wait(ctx)
			if err != nil {
				return err
			}
			saved <- res
			return c.Hangup(ctx, sip.CauseNormalClearing)
		})})
	caller, _ := switchboard.New(switchboard.Config{Logger: quiet})
	for _, sb := range []*switchboard.Switchboard{callee, caller} {
		conn, _ := net.ListenPacket("udp", "127.0.0.1:0")
		_ = sb.Start(conn)
		defer sb.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, callee.URI("voicemail"), call.DialOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// After the beep, the caller leaves a "message" (half a second of 440 Hz), then
	// presses '#'.
	<-recording
	w, _ := c.AudioWriter()
	tone, _ := media.NewToneReader(media.Tone{Frequencies: []float64{440}, Level: -12, Duration: 500 * time.Millisecond}, w.SampleRate(), 0)
	for f, err := tone.ReadFrame(); err == nil; f, err = tone.ReadFrame() {
		_ = w.WriteFrame(f)
	}
	m, _ := c.Media()
	_ = m.WaitPlayout(ctx)
	_ = c.SendDTMF(ctx, "#", 100*time.Millisecond)

	res := <-saved
	fmt.Println("stopped by:", res.Reason, string(res.Digit))
	fmt.Println("file:", filepath.Base(res.Path), res.Format, res.Channels, "channel at", res.SampleRate, "Hz")
	fmt.Println("holds the message:", res.Duration >= 500*time.Millisecond && res.Duration < 2*time.Second)
	<-c.Done()
	// Output:
	// stopped by: digit #
	// file: message.wav wav 1 channel at 8000 Hz
	// holds the message: true
}
