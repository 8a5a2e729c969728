package switchboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/audiotest"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// A digit from the caller stops a Play with DTMF barge-in: Play returns an
// *InterruptError naming the key, the queue is emptied, and the caller hears silence
// from then on. Keys outside BargeIn.Digits do not interrupt.
func TestBargeInDTMF(t *testing.T) {
	vc := verbsDial(t, switchboard.Config{}, switchboard.Config{})
	tap := tapAudio(t, vc.caller)
	m, err := vc.callee.Media()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tone := media.Beep(1000, 30*time.Second)
	done := make(chan error, 1)
	go func() {
		done <- vc.callee.Play(ctx, call.PlayOptions{Tone: &tone, BargeIn: call.BargeIn{DTMF: true, Digits: "#5"}})
	}()
	tap.waitLoud(t, 0)
	require.NoError(t, vc.caller.SendDTMF(ctx, "1", 80*time.Millisecond)) // not a barge-in key
	vc.events.waitEvent(t, func(e call.Event) bool { d, ok := e.(call.DTMF); return ok && d.Digit == '1' })
	select {
	case err := <-done:
		t.Fatalf("'1' interrupted: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cleared := m.Stats().SamplesCleared
	require.NoError(t, vc.caller.SendDTMF(ctx, "5", 80*time.Millisecond))
	err = <-done
	var ie *call.InterruptError
	require.ErrorAs(t, err, &ie)
	assert.ErrorIs(t, err, call.ErrInterrupted)
	assert.Equal(t, "dtmf", ie.By)
	assert.Equal(t, '5', ie.Digit)
	assert.Zero(t, m.QueueDepth(), "queue emptied")
	assert.Greater(t, m.Stats().SamplesCleared, cleared, "queued audio discarded, not played out")
	settle()
	mark := tap.mark()
	time.Sleep(300 * time.Millisecond)
	assert.Less(t, audiotest.RMSdBFS(tap.since(mark)), -50.0, "silence after the barge-in")

	ended := vc.events.waitEvent(t, func(e call.Event) bool { _, ok := e.(call.PlaybackEnded); return ok }).(call.PlaybackEnded)
	assert.Equal(t, call.PlaybackInterrupted, ended.Status)
	assert.ErrorAs(t, ended.Err, &ie)
	assert.Equal(t, []string{"call.playback.started", "call.dtmf.received", "call.dtmf.received", "call.playback.ended"},
		vc.events.names(verbEvent))
}

// Speak stops when the caller starts talking; without speech from the caller the
// same Speak plays to the end.
func TestBargeInSpeech(t *testing.T) {
	synth := &ttstest.Tone{Word: 500 * time.Millisecond}
	// The caller's side speaks with espeak-ng, the default engine.
	vc := verbsDial(t, switchboard.Config{TTS: synth}, switchboard.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bargeIn := call.SpeakOptions{BargeIn: call.BargeIn{Speech: true}}

	require.NoError(t, vc.callee.Speak(ctx, "one two", bargeIn), "a silent caller does not interrupt")

	tap := tapAudio(t, vc.caller)
	done := make(chan error, 1)
	go func() {
		done <- vc.callee.Speak(ctx, "please enter your pin again please enter your pin again", bargeIn)
	}()
	tap.waitLoud(t, 0)
	go func() { _ = vc.caller.Speak(ctx, "Hello? I would like to talk to someone.", call.SpeakOptions{}) }()
	var ie *call.InterruptError
	select {
	case err := <-done:
		require.ErrorAs(t, err, &ie)
	case <-time.After(5 * time.Second):
		t.Fatal("the caller's speech did not interrupt")
	}
	assert.Equal(t, "speech", ie.By)
	settle()
	mark := tap.mark()
	time.Sleep(300 * time.Millisecond)
	assert.Less(t, audiotest.RMSdBFS(tap.since(mark)), -50.0, "silence after the barge-in")
	var statuses []call.PlaybackStatus
	for _, e := range vc.events.snapshot() {
		if se, ok := e.(call.SpeakEnded); ok {
			statuses = append(statuses, se.Status)
		}
	}
	assert.Equal(t, []call.PlaybackStatus{call.PlaybackCompleted, call.PlaybackInterrupted}, statuses)
	assert.False(t, errors.Is(ie, context.Canceled))
}
