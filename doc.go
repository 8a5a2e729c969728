// Package switchboard is an embeddable SIP voice endpoint for Go programs.
//
// A program that imports Switchboard becomes a SIP user agent itself: it answers and places
// phone calls, plays and speaks audio, gathers DTMF and speech, records, detects answering
// machines, transfers and bridges calls, all through typed Go methods on a call and a Go
// channel of typed events. Signalling runs on an embedded SIP stack and audio on an
// in-process RTP media engine, so the application sees every frame of audio with no network
// hop and no separate PBX.
//
// # Layout
//
//   - package switchboard: the user agent (serve inbound calls, dial, register, drain).
//   - [github.com/switchboard-go/switchboard/call]: the Call object, its verbs and events.
//   - [github.com/switchboard-go/switchboard/sip]: signalling, dialogs and SDP.
//   - [github.com/switchboard-go/switchboard/media]: frames, codecs, RTP, jitter buffer,
//     DTMF, resampling, WAV, VAD.
//   - [github.com/switchboard-go/switchboard/tts], [github.com/switchboard-go/switchboard/stt]:
//     speech synthesis and recognition providers.
//   - [github.com/switchboard-go/switchboard/amd]: answering machine and beep detection.
//
// Dependencies point one way: switchboard → call → {sip, media, tts, stt, amd}.
package switchboard
