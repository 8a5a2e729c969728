// Package espeak is a tts.Synthesizer that runs the espeak-ng program (Debian package
// espeak-ng): about a hundred languages, small and fast, with a robotic voice. It is the
// default provider because it needs nothing but the program.
//
// # How it runs
//
// Each synthesis runs one espeak-ng process with --stdout. The text goes in on its
// standard input, never on the command line; the WAV stream comes out on its standard
// output and is parsed as it arrives (media/wav), so the first frame is returned as
// soon as espeak-ng has spoken 20 ms, long before a long text is finished: about 10 ms
// after Synthesize, process start-up included, on the reference machine, whatever the
// length of the text (see BenchmarkLatency). espeak-ng writes 22050 Hz (NativeRate);
// Options.SampleRate gets any other rate through media/resample.
//
// The process is killed when ctx ends or the reader is closed, and Close reaps it. What
// espeak-ng writes to standard error is kept and added to the error when it fails.
//
// # Options
//
//   - Voice: a language code ("en-us", "fr-fr"), a voice file ("gmw/en-US"), either
//     with a variant ("en-us+f3"; espeak-ng --voices=variant lists them). Checked
//     against the installed voices; unknown ones fail with tts.ErrUnknownVoice.
//     MBROLA voices are not offered.
//   - Language: a BCP 47 tag, lower-cased and shortened from the end until espeak-ng
//     has it: "en-US" → en-us, "de-DE" → de, "zh-TW" → zh. Used when Voice is empty.
//     Neither set: Config.Voice, by default en-us.
//   - Rate: -s, 175 words per minute times Rate. espeak-ng speaks no slower than 80,
//     so rates below about 0.46 are spoken at 80.
//   - Pitch: -p, mapped from semitones through a table measured on espeak-ng 1.51; its
//     range is about -6 to +9 semitones, beyond which the shift is clamped.
//   - SSML: -m.
//
// # Text streams
//
// StreamText runs one espeak-ng process in its line-by-line mode for the whole stream:
// each sentence is written to it as a line as soon as it is complete, and its audio
// follows in the same WAV stream (about 9 ms from the first complete sentence to its
// first frame, process start-up included). Write blocks when espeak-ng's input pipe is full, which happens only when the
// audio is not being read, so write and read from different goroutines.
//
// # Concurrency
//
// A Synthesizer is safe for concurrent use; the processes are independent. The voice
// list is read from espeak-ng once, on first use.
package espeak
