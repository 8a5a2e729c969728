// Package voicemail is a voicemail box: a greeting, a beep, a recording that ends on
// silence or '#', saved as a WAV file with a JSON sidecar. examples/voicemail serves it
// on its own; examples/ivr uses it for its "leave a message" branch.
package voicemail

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-go/switchboard/call"
)

// Message is the JSON sidecar written next to each recording.
type Message struct {
	Caller     string    `json:"caller"`
	Callee     string    `json:"callee"`
	CallID     string    `json:"call_id"`
	ReceivedAt time.Time `json:"received_at"`
	DurationMS int64     `json:"duration_ms"`
	EndedBy    string    `json:"ended_by"`
	WAV        string    `json:"wav"`
}

// Box records messages into Dir.
type Box struct {
	// Dir is where recordings and sidecars go; it is created if needed.
	Dir string
	// Greeting is spoken before the beep.
	Greeting string
	// MaxLength bounds a message. Zero means 2 minutes.
	MaxLength time.Duration
	// Silence ends a message after this much quiet. Zero means 3 s.
	Silence time.Duration
}

// Take plays the greeting and a beep on an answered call, records until silence, '#',
// the length limit or hangup, and saves the message. It returns the sidecar written.
func (b Box) Take(ctx context.Context, c *call.Call) (Message, error) {
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return Message{}, err
	}
	if b.MaxLength == 0 {
		b.MaxLength = 2 * time.Minute
	}
	if b.Silence == 0 {
		b.Silence = 3 * time.Second
	}
	greeting := b.Greeting
	if greeting == "" {
		greeting = "Please leave a message after the tone. Press the pound key when you are done."
	}
	if err := c.Speak(ctx, greeting, call.SpeakOptions{}); err != nil {
		return Message{}, err
	}
	received := time.Now().UTC()
	base := filepath.Join(b.Dir, fmt.Sprintf("%s-%s", received.Format("20060102T150405Z"), c.ID()))
	rec, err := c.Record(ctx, call.RecordOptions{
		Path: base + ".wav", PlayBeep: true, TerminationDigits: "#",
		MaxLength: b.MaxLength, SilenceTimeout: b.Silence, TrimSilence: true,
	})
	if err != nil {
		return Message{}, err
	}
	res, err := rec.Wait(context.WithoutCancel(ctx)) // a hangup ends the recording, not the save
	if err != nil {
		return Message{}, err
	}
	m := Message{
		Caller: c.From(), Callee: c.To(), CallID: c.CallID(), ReceivedAt: received,
		DurationMS: res.Duration.Milliseconds(), EndedBy: string(res.Reason), WAV: filepath.Base(res.Path),
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, os.WriteFile(base+".json", append(js, '\n'), 0o644)
}
