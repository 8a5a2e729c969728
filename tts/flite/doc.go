// Package flite is a tts.Synthesizer that links the flite library (CMU Flite 2.2,
// Debian package flite1-dev) through cgo: US English, with voices more natural than
// espeak-ng's and well recognized by speech recognizers.
//
// # Voices
//
//   - kal: male, diphone, 8 kHz natively (ready for G.711), and the fastest (about
//     1000 times real time).
//   - kal16: the same at 16 kHz.
//   - slt (female, the default), rms and awb (male): clustergen voices at 16 kHz,
//     more natural, about 30 to 100 times real time.
//
// Options.SampleRate gets any other rate through media/resample. Rate sets flite's
// duration_stretch and Pitch its f0_shift, per synthesis, without touching the shared
// voice. Language must be English or empty; SSML is not supported
// (tts.ErrUnsupported).
//
// # Streaming
//
// flite synthesizes a whole utterance at a time. Synthesize splits the text into
// sentences and synthesizes each when the reader reaches it, so the first frame waits
// for the first sentence only, not the whole text (see BenchmarkLatency). StreamText
// does the same with text that is still being written (tts.NewSentenceStream). A
// sentence longer than 300 bytes is cut at a word boundary, digits counting 8 bytes
// each since flite reads numbers as words: that bounds a sentence to about 20 s of
// audio, 30 ms of synthesis with kal and 250 ms with slt.
//
// # Concurrency
//
// flite is not safe for concurrent use: it reports errors through a global jump
// buffer, keeps each voice as a process-wide singleton whose features synthesis reads,
// and its clustergen voices draw noise from the C library's rand(). This package
// therefore runs every synthesis of the process under one lock, and keeps the
// registered voices in package state, mirroring the library's own. Synthesizers may
// be used from any number of goroutines, but sentences are synthesized one at a time
// process-wide. Before each sentence the lock holder reseeds rand() with a fixed
// seed, which makes the audio a function of text and options (so caches and golden
// tests work) and resets the rand() sequence of any other C code in the process.
//
// Cancellation and Close interrupt the waveform generation of the clustergen voices
// (through flite's audio streaming callback, which polls a flag); flite's text
// analysis and parameter generation, and the diphone voices, run to the end of the
// sentence. So they take effect within one sentence's synthesis time at most.
//
// flite's internal errors, which would otherwise exit the process, are caught and
// returned as errors.
//
// # Building
//
// The package needs cgo and flite1-dev; a build with cgo but without the headers stops
// with "install the Debian package flite1-dev". With CGO_ENABLED=0 the package still
// builds, and New returns ErrNoCgo, so the rest of the module builds without a C
// toolchain.
package flite
