// Package resample converts 16-bit mono PCM between sample rates: 8, 16 and 48 kHz both
// ways, and any other pair whose reduced ratio L/M has at most [MaxPhases] phases
// (11.025, 22.05, 44.1 kHz …).
//
// # Filter
//
// [New] designs, once, a polyphase windowed-sinc FIR low-pass (Kaiser window) at the
// virtual rate L·from. Its passband is flat to [DefaultPassband] (0.9) of the lower
// Nyquist frequency, min(from, to)/2, within ±0.001 dB; its stopband begins exactly at
// the lower Nyquist frequency and is attenuated by at least [DefaultAttenuation]
// (80 dB; the designed filters measure −80.6 dB or better across the whole stopband).
// Placing the stopband edge at Nyquist, not beyond it, means no component above the new
// Nyquist frequency folds back into the output with less than the full attenuation.
// [WithPassband] and [WithAttenuation] trade quality for a shorter filter.
//
// Each output sample is one dot product of Taps()/L coefficients (L = to/gcd(from, to)):
// 101 for 8→16 and 8→48 kHz, 202 for 16→8 kHz, 604 for 48→8 kHz. That is about 32 000
// multiply-adds per 20 ms frame for 8↔16 kHz and 97 000 for 8↔48 kHz: roughly 10 µs
// and 30 µs on one core of the reference machine (see the benchmarks).
//
// # Delay
//
// The filter is linear-phase: every frequency is delayed by the same
// [Resampler.Delay] output samples, about 6.3 ms with the default design (100.5 samples
// for 8→16 kHz, 50.25 for 16→8 kHz, 302.5 for 8→48 kHz, 50.25 for 48→8 kHz). The first
// output sample reflects the first input sample only partly; the stream is treated as if
// preceded by silence. [Resampler.Flush] drains the filter at the end of a stream so the
// output covers the whole input.
//
// # Streaming
//
// A [Resampler] carries its filter history from one [Resampler.Process] call to the
// next, so a stream split into 20 ms frames, or blocks of any size, converts to exactly
// the same samples (bit for bit) as the whole stream at once. n input samples always
// yield ceil(n·to/from) outputs over the stream; [Resampler.OutputLen] says how many the
// next call yields. With the usual rates and frame lengths every 20 ms frame gives a
// whole 20 ms frame.
//
// Process appends to a caller-owned slice and allocates only when that slice lacks
// capacity, so the per-frame path allocates nothing in steady state.
//
// # Stages
//
// [Writer] and [Reader] wrap a [github.com/switchboard-go/switchboard/media.FrameWriter]
// or FrameReader as a pipeline stage named like "resample(8k→16k)". Frames keep their
// RTP metadata; frames at the wrong rate fail with media.ErrRateMismatch.
package resample
