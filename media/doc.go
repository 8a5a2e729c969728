// Package media is Switchboard's audio engine: frames, codecs, RTP sessions, jitter
// buffering, loss concealment, pacing, DTMF, resampling, WAV, tones, voice activity
// detection and mixing.
//
// This package holds the core types and the building blocks that need nothing else;
// sub-packages (g722, dtmf, resample, wav, vad, jitter, rtpsession) build on them.
//
// # Frames
//
// The unit of audio is [Frame]: mono signed 16-bit PCM at a sample rate, normally 20 ms
// long, with the RTP timestamp and sequence number when it came from (or goes to) the
// network. Stages read frames ([FrameReader]) and write frames ([FrameWriter]). Frames do
// not own their samples and receivers treat them as read-only: see the buffer-reuse
// rules on [Frame]. Those rules are what let every per-frame path in this package run
// without allocating; the benchmarks report allocations to prove it.
//
// [NewSliceReader] turns a slice of samples into a FrameReader, which is handy for
// files loaded into memory and for tests.
//
// # Pipelines
//
// Per-call processing is a chain of stages built once when the call starts, not a set
// of goroutines joined by channels. A [Stage] wraps the writer that follows it, and
// [Chain] applies a list of stages to a destination, first stage first:
//
//	w := media.Chain(media.Tee(recorder, recognizer), media.Gain(-6), resampleTo16k)
//	// every w.WriteFrame(f) runs gain, then the resampler, then both consumers
//
// Frames then flow through plain method calls. [Tee] fans a stream out to several
// consumers without copying. Every stage prints with a short name and the chain prints
// as a whole ("gain(-6.0dB) → resample(8k→16k) → tee[recorder, stt]"; see [Describe]),
// which is what call debugging shows. [StageFunc] makes a stage from a function, and
// [Link] is the one method a stage implements to appear in that description.
//
// # Codecs
//
// A [Codec] describes an RTP payload format and makes per-stream [Encoder]s and
// [Decoder]s. [PCMU] and [PCMA] (G.711) are lookup tables, bit-exact with
// github.com/zaf/g711; [G722] is the wideband ITU-T G.722 codec of package
// media/g722, in pure Go; [L16] is uncompressed network-order PCM. A [CodecSet] is an
// ordered preference list passed in configuration; nothing registers itself by import
// side effect. [DefaultCodecs] explains its order.
//
// # Byte streams
//
// Frames are the API and bytes are the adapter. [NewPCMReader] and [NewPCMWriter] turn
// frames into little-endian 16-bit PCM and back, for io.Copy to files, pipes and
// libraries that want bytes. They accept reads and writes of any size, odd ones
// included, and keep leftovers internally.
//
// # Mixing
//
// A [Mixer] adds live streams with saturating arithmetic or an optional soft limiter.
// Each participant writes into its own [MixerInput] and can receive the mix of everyone
// else (an N-1 mix), which is what a conference bridge needs. The clock that drives the
// mix belongs to the caller: one ReadFrame per frame period.
//
// # Tones
//
// [NewToneReader] plays a [Tone]: a sum of sinusoids at a level in dBFS, with an
// optional on/off cadence and duration. [Beep], [Ringback] (by [Region]) and [Silence]
// are ready-made tones. DTMF tones live in media/dtmf.
package media
