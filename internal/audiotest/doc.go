// Package audiotest holds small audio helpers for tests: it writes and reads 16-bit PCM
// WAV files, generates sine tones, multi-tones and silence, and measures what a
// recording holds (Goertzel power at one frequency, an FFT spectrum, the dominant
// frequency, the spurious-free dynamic range around a tone, RMS level in dBFS, where
// the loud part of a recording starts and ends).
//
// Tests use it to check audio by content rather than by byte count: play a known tone
// into a call, record what the far end received, and assert that the recording's
// dominant frequency is the tone's.
//
// # Levels and power
//
// Levels are relative to full scale (32768). A sine whose peak is full scale has an RMS
// level of -3.01 dBFS. [Goertzel] and [Spectrum] report power as the squared peak
// amplitude of the component, as a fraction of full scale, so a sine generated with
// [Sine] at -6 dBFS measures 10^(-6/10) ≈ 0.251 at its frequency. The analysis applies
// a Hann window, so frequencies need not fall on FFT bins.
//
// # WAV support
//
// The WAV reader is deliberately minimal: uncompressed 16-bit PCM (format tag 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), any rate, one or more channels, which
// are averaged to mono. Unknown chunks are skipped; a data chunk whose declared size runs
// past the end of the file (a recorder killed before it rewrote the header) is read up to
// the end. It is for test checks only; the media package has the real WAV codec.
package audiotest
