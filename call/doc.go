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
