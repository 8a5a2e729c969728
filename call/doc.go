// Package call is the call object of Switchboard and everything an application does with
// a call: answer, reject, ring, early media, hang up with a Q.850 cause, hold and
// unhold, send DTMF, read and write audio, record, and watch a channel of typed events.
//
// # Usage
//
// Inbound calls arrive at a Handler, the way HTTP requests arrive at an http.Handler:
//
//	h := call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
//		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
//			return err
//		}
//		w, _ := c.AudioWriter() // paced playout queue
//		// ... write frames, read c.AudioReader(0), watch c.Events() ...
//		<-ctx.Done() // the caller hung up
//		return nil
//	})
//
// Outbound calls come from switchboard.Switchboard.Dial (or Dial here, on any
// sip.Endpoint) and are returned once answered. Hangup(ctx, cause) ends a call with a BYE
// whose Reason header carries the Q.850 cause (RFC 3326); before answer it rejects with
// the SIP status RFC 3398 maps the cause to.
//
// # Session upkeep
//
// Calls keep themselves healthy without application code: RFC 4028 session timers
// (refreshed by re-INVITE, or the call ends when the peer stops refreshing), a media
// timeout (no RTP for Config.MediaTimeout while the peer is not on hold), hold and unhold
// in both directions (no RTP is sent while the peer does not want it), and RFC 4733 or
// SIP INFO digits delivered as DTMF events, each once.
//
// # Concurrency
//
// Every method of Call is safe for concurrent use. Each inbound call's handler runs on
// its own goroutine; the call owns one goroutine that delivers events, one that watches
// its media (digits, inactivity) and the RTP session's reader. Close and the end of the
// handler stop and wait for all of them.
//
// # Cancellation
//
// Blocking methods take a ctx first. Cancelling it stops that operation, not the call
// (Answer keeps retransmitting its 200 OK until the ACK, but stops waiting). The call
// itself ends with Hangup, Close, the remote side's BYE or CANCEL, a media timeout, or the
// handler's return; then the handler's ctx (and Context()) is cancelled and
// context.Cause returns a *HangupCause, testable with errors.Is against CauseRemoteBye,
// CauseCancelled, CauseMediaTimeout and the others.
//
// # Events
//
// Events() delivers every event in order — Initiated, Ringing, EarlyMedia, Answered,
// Hold, Unhold, DTMF, MediaTimeout, Hangup — and is closed after Hangup. Sending an event
// never blocks SIP or media: events queue without bound and one goroutine per call hands
// them to the channel. If the application stops reading, what is still queued a few
// seconds after the call ended (Config.EventGrace) is dropped, so nothing leaks. Each
// event's Name is the reference platforms' name ("call.answered", "call.hangup",
// "call.dtmf.received", ...). Every state is also readable by a method (State,
// Negotiated), so a missed event loses nothing.
//
// # Verbs
//
// Play, Speak and Gather are what an IVR is made of:
//
//	if err := c.Speak(ctx, "Welcome.", call.SpeakOptions{}); err != nil {
//		return err
//	}
//	res, err := c.Gather(ctx, call.GatherOptions{
//		Prompt:      call.Prompt{Text: "For sales press 1, for support press 2."},
//		MaxDigits:   1,
//		ValidDigits: "12",
//		MaxAttempts: 3,
//		InvalidPrompt: call.Prompt{Text: "Sorry, that is not an option."},
//	})
//
// Play plays a WAV file (any encoding, rate and channel count media/wav reads,
// resampled to the call's rate), a WAV io.Reader, an http(s) URL of a WAV file
// (downloaded once into a URLCache, bounded, shared by a Switchboard's calls), a
// generated tone, or any FrameReader, Loop times. PlayBackground does the same on a
// goroutine of the call and returns a *Playback to Stop, Pause, Resume and Wait for (hold
// music). Speak speaks text (or SSML) through Config.TTS; the default is espeak-ng
// (tts/espeak), found on PATH, and without it Speak fails with an error wrapping
// tts.ErrUnavailable that names the package to install. Speech is streamed: frames go
// to the playout queue as the engine produces them, so the caller hears the start of a
// long text before its end is synthesized (about 10 ms of espeak-ng start-up, then the
// pacer's next 20 ms tick; see BenchmarkSpeakFirstPacket in package switchboard).
//
// Play and Speak return once their audio has played out (the last packet is on the
// wire), not when it was queued. Audio verbs on one call take turns in the order they
// were called, as consecutive plays queue up on the reference platforms; a background
// playback keeps its turn until it ends. Cancelling a verb's ctx stops it within a
// frame: the playout queue is cleared at once (rtpsession's Clear), and the call goes on.
//
// BargeIn stops a Play or Speak early on a received digit (optionally only some keys)
// and/or when the caller starts speaking (media/vad on the caller's audio): the verb
// returns an *InterruptError (errors.Is(err, ErrInterrupted)) and the queue is cleared,
// so the caller hears at most the packet already being sent. The reaction itself takes
// microseconds; the rest is the wait for the pacer's next tick, 0 to 20 ms (see
// BenchmarkBargeInSIPp).
//
// Gather collects digits with a prompt that the first digit interrupts (digits pressed
// during the prompt count), minimum and maximum digits, valid keys, a terminating key,
// first-digit, inter-digit and overall timeouts, and attempts with an invalid-input
// prompt. Its GatherResult says what was gathered, the status (valid, invalid, timeout,
// call_hangup, cancelled, or failed when a prompt could not be played) and why the input
// ended (terminator, max_digits, a timeout, an invalid key). Its timing is a pure state
// machine tested on a fake clock.
//
// Gather takes spoken answers too (Input InputSpeech, or InputBoth for keys or speech,
// whichever comes first; SpeechOptions). Each attempt opens a session on the recognizer
// (SpeechOptions.Recognizer or Config.STT; ErrNoRecognizer without one) and feeds it the
// caller's audio through Listen, at the codec's rate (8 kHz for G.711, so that an engine
// can apply its narrowband settings; 16 kHz for G.722), behind a media/vad detector. The
// detector's start of speech interrupts the prompt; the first recognised word makes
// speech win (a key first makes keys win and stops the recognizer); the utterance's final
// result is the answer, valid when it has words and, with SpeechOptions.Phrases, holds
// one of them (the recognizer is given stt.WordListGrammar of the phrases). NoInputTimeout,
// MaxSpeechTime and EndSilence bound the answer; Transcript, Confidence and Phrase are in
// the result and in call.gather.ended. The recognizer's results are drained on a
// goroutine the Gather owns and stops before it returns, whatever ends it. The detector
// learns the line's noise from the first 100 ms of each attempt, so speech already under
// way when a Gather starts is not seen to start (the recognizer may still catch it). With
// pocketsphinx and a grammar, an answer comes about 0.56 s after the caller's last word,
// EndSilence (600 ms) after the detector's last speech-like frame (examples/ivr).
//
// Each verb reports itself in events named as on the reference platforms:
// PlaybackStarted/PlaybackEnded ("call.playback.started", "call.playback.ended", with
// status completed, stopped, interrupted, failed or call_hangup), SpeakStarted/SpeakEnded
// ("call.speak.started", "call.speak.ended") and GatherEnded ("call.gather.ended"). A
// verb cut short by the end of the call reports its end (status call_hangup) before the
// Hangup event, which stays the last.
//
// A blocking verb runs on its caller's goroutine, with one more for a DTMF barge-in
// watcher or a Gather's prompt while they last; PlayBackground's playback runs on a
// goroutine the call owns (Close waits for it). Speech barge-in and in-band DTMF
// detection run as listeners on the call's audio goroutine (see Live audio).
//
// # DTMF
//
// Digits arrive as RFC 4733 events, SIP INFO requests (application/dtmf-relay or
// application/dtmf) and, with Config.InbandDTMF, as tones in the caller's audio (ITU-T
// Q.24 detection, media/dtmf). Each key press is delivered once, as a DTMF event
// ("call.dtmf.received") and to a running Gather or barge-in: a peer that reports a press
// two ways (events and the tone, or events and INFO) has the second report dropped when
// it is the same key from another source and overlaps the first in time, give or take
// 150 ms (matched one to one, so a key pressed twice stays two digits). SendDTMF sends
// RFC 4733 events, or SIP INFO (one request per key, each after the previous one's
// response) when Config.DTMFMode says so or the peer did not negotiate telephone-event;
// 'w' and 'W' in the digits pause 0.5 s and 1 s. Concurrent SendDTMF calls take turns.
//
// # Live audio
//
// The caller's decoded audio has one source, the RTP session's playout (one frame per
// ptime), and any number of consumers at once: a recorder, speech recognition, in-band
// DTMF detection, the application. Listen(w) hands every frame to w on the call's own
// audio goroutine without copying it (all listeners see the same samples, read-only),
// resampling only for a listener at another rate; AudioReader(rate) gives a pull-style
// FrameReader with a buffer of its own (one copy per frame, into a preallocated ring),
// so a slow reader loses its own oldest audio (Overruns) and holds up nobody. The byte
// adapters are PCMReader(rate), an io.ReadCloser of s16le PCM that ends with io.EOF
// when the call does, and PCMWriter(rate), an io.WriteCloser into the same paced
// playout queue as AudioWriter, Play and Speak: io.Copy from a file plays it in real
// time.
//
// # Recording
//
// Record(ctx, RecordOptions) returns a *Recording handle (Pause, Resume, Stop, Wait) once
// recording has begun, after an optional beep. It records the caller (mono), the caller
// and us mixed (mono), or both side by side (stereo: caller left, us right), as WAV with
// 16-bit PCM or μ-law at the call's codec rate, to a file or any io.Writer. It stops on
// Stop, MaxLength, SilenceTimeout of silence after the first sound (media/vad or an
// energy threshold), a termination digit, ctx's end or the end of the call, and then
// emits RecordingSaved ("call.recording.saved") with what was written and why it
// stopped; a recording running when the call ends is written out before the Hangup
// event. Pause leaves the paused audio out of the file, as the reference platforms do by
// default. TrimSilence keeps 100 ms of silence at each end: leading silence is dropped as
// it comes, trailing silence is held back in memory (up to 30 s) and written only if
// sound follows.
//
// A file is a valid WAV file at every moment: media/wav rewrites its header every second
// of audio, after that audio, so a crash loses at most about a second. A plain io.Writer,
// which cannot be rewound, gets a header whose sizes say "unknown" (0xFFFFFFFF); an
// io.WriteSeeker gets exact ones.
//
// No file I/O runs on the media paths. The caller's frames reach a recording through
// Listen, ours through rtpsession's OnSent hook on the pacing clock; each side is copied
// into a preallocated single-producer ring (2 s deep) and the recording's own goroutine
// writes them out every 100 ms of audio. Both sides produce exactly one frame per tick,
// so pairing them frame by frame keeps the channels in step (to within one frame at the
// start); a frame lost because the recording fell 2 s behind is replaced by silence and
// counted (RecordingResult.FramesLost). The per-frame path allocates nothing.
//
// # Errors
//
// Dial returns a *DialError whose Outcome says busy, rejected, no answer, cancelled or
// failed, carrying the final *StatusError (SIP code, reason, Q.850 cause); errors.Is(err,
// &call.StatusError{Code: 486}) works. Handlers reject calls by returning Rejection(code,
// reason), or with Reject(ctx, cause). Verbs on an ended call return ErrCallEnded; verbs
// that need media before answer return ErrNotAnswered.
package call
