// Package wav reads and writes WAV files as streams of
// [github.com/switchboard-go/switchboard/media.Frame]s: prompts to play, recordings
// to keep.
//
// # Reading
//
// [Open] and [NewReader] parse a RIFF/WAVE header and return a [Reader] that yields
// mono 16-bit frames (20 ms by default). They read:
//
//   - integer PCM: 8-bit unsigned, 16-, 24- and 32-bit signed;
//   - IEEE float, 32 and 64 bits;
//   - G.711 μ-law (format 7) and A-law (format 6);
//   - WAVE_FORMAT_EXTENSIBLE wrappers of any of these, and RF64 files;
//   - one to [MaxChannels] channels, averaged to mono; any rate up to [MaxSampleRate].
//
// Frames come at the file's rate, or at [Options.SampleRate] through
// [github.com/switchboard-go/switchboard/media/resample]. The reader removes the
// resampler's delay and drains its tail, so a resampled file keeps its timing and
// length (to within a sample).
//
// The parser skips chunks it does not need (LIST, fact, cue, JUNK …) with their pad
// bytes, and takes a data size of 0 or 0xFFFFFFFF, as written by streaming writers, to
// mean "to the end of the file". A data chunk cut short, as left by a writer that died,
// reads up to the last whole sample. Anything structurally wrong fails at open with an
// error wrapping [ErrFormat] that says what; a valid file in an encoding this package
// does not decode fails with [ErrUnsupported]. The byte-rate field, redundant and often
// wrong in the wild, is not checked; block align is, since samples are located by it.
//
// # Writing
//
// [Create] and [NewWriter] return a [Writer] for 16-bit PCM or μ-law, mono or stereo.
// It writes mono frames ([Writer.WriteFrame], [Writer.Write]) or two streams side by
// side ([Writer.WriteStereo]: say the caller left and the application right).
//
// The file is valid at every moment. The header goes out first with an empty data
// chunk (which readers take as "to end of file"), and the RIFF and data sizes are
// rewritten in place every [WriterOptions.SyncInterval] of audio (one second by
// default), on [Writer.Flush] and on [Writer.Close], always after the audio they
// describe has been written. A second reader opening the file mid-recording, or the
// file left behind by a crash, shows all audio up to the last rewrite: at most one
// interval is lost. [WriterOptions.Fsync] extends that to machine crashes.
//
// Writer methods are safe for concurrent use, so the receive and send paths of a call
// can feed one recording. Close is idempotent.
//
// # Allocation
//
// Reader.ReadFrame and Writer.WriteFrame allocate nothing per frame in steady state;
// buffers are sized when the Reader or Writer is made.
package wav
