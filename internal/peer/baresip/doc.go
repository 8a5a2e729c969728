// Package baresip runs baresip 1.0.0 (Debian package baresip-core) as a real softphone
// for tests: headless, on 127.0.0.1, with its own generated config directory, driven
// and observed over its ctrl_tcp JSON interface.
//
// # What the driver sets up
//
// Each [UA] gets a fresh directory (t.TempDir() with [Start]) holding baresip's config,
// an account added at run time, the WAV it plays and its recordings:
//
//   - no sound card: the audio source is the aufile module playing a WAV file
//     ([Options].WAV or [Options].Audio, plus [Options].Pad of silence); the player and
//     the ringtone go to aubridge's null device;
//   - recordings: the sndfile filter writes, per call, dump-<time>-dec.wav (what was
//     received and decoded) and dump-<time>-enc.wav (what was sent) — see
//     [UA.Recordings], [UA.WaitRecording] and [UA.ReceivedAudio];
//   - control: ctrl_tcp on a free port, netstring-framed JSON. The driver keeps one
//     connection open from start-up (baresip sends events only to clients connected when
//     they happen), matches command responses by token, and records every event;
//   - optionally cons.so, the UDP console ([Options].Console, [UA.Console]).
//
// Ports (SIP, RTP range, control, console) are free loopback ports unless given.
// Start-up returns once ctrl_tcp accepts and the SIP port is bound. baresip's
// once-per-frame call status line ("[0:00:01] audio=64/64 (bit/s)") is stripped from
// the process log.
//
// # Things baresip 1.0.0 does that tests must know
//
//   - It HANGS UP a call when its aufile source reaches the end of the file. Pad the
//     audio ([Options].Pad) to keep the call up, or use that as "play, then hang up".
//     With no audio at all the source is [DefaultSilence] of silence.
//   - aufile does not resample: the WAV must be mono 16-bit PCM at the codec's rate
//     (8000 Hz for PCMU/PCMA, 16000 Hz for G.722); the driver checks this against the
//     first codec and fails with [ErrAudioFormat] otherwise.
//   - DTMF is always RFC 4733 telephone-events, sent with [UA.SendDTMF] and received as
//     CALL_DTMF_START (param: the digit) and CALL_DTMF_END events.
//   - hangup, accept and sndcode act on the current call; a call-ID argument is ignored.
//   - Recording file names have one-second resolution, and a WAV header is only final
//     once its call has closed.
//   - quit waits for un-REGISTER to finish; [UA.Stop] falls back to SIGTERM and SIGKILL.
//
// # Registration
//
// With [Options].Registrar set the UA registers there (REGISTER_OK / REGISTER_FAIL
// events, [UA.WaitRegistered]), answering digest challenges with AuthUser/AuthPassword.
// Its address of record is sip:User@<registrar host:port>, or sip:User@Domain with the
// registrar as outbound proxy when [Options].Domain is set.
//
// # Events
//
// [UA.WaitEvent] reads the event history forward like a log: it returns the first
// matching event after the one the previous wait returned, so an event that came
// before the wait began is not missed. [UA.Events] returns the whole history.
//
// # Running one test against one peer
//
//	go test -race -run 'TestBaresipToBaresip/calls/pcmu' ./internal/peer/baresip -v
//	go test -race -run TestRegister ./internal/peer/baresip -v
//
// A failing test prints each UA's log (without status lines) and its events.
package baresip
