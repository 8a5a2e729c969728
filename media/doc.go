// Package media is Switchboard's audio engine: frames, codecs, RTP sessions, jitter
// buffering, loss concealment, pacing, DTMF, resampling, WAV, tones, voice activity
// detection and mixing.
//
// # Frames
//
// The unit of audio is [Frame]: mono signed 16-bit PCM at a sample rate, normally 20 ms
// long, with the RTP timestamp and sequence number when it came from (or goes to) the
// network. Stages read frames ([FrameReader]) and write frames ([FrameWriter]). Frames do
// not own their samples: see the buffer-reuse rules on [Frame].
//
// # Codecs
//
// A [Codec] makes per-stream [Encoder]s and [Decoder]s. A [CodecSet] is an ordered value
// passed in configuration; nothing registers itself by import side effect.
package media
