// Package cache puts a cache in front of any tts.Synthesizer: each distinct request —
// provider, text and options — is synthesized once and replayed afterwards. IVR
// prompts, greetings and menus repeat on every call; their audio should not.
//
// # Memory and disk
//
// Completed syntheses are kept in memory up to Options.MaxBytes, least recently used
// first out, and, with Options.Dir, also as WAV files named by the SHA-256 of their key
// (Cache.Key), written atomically (temporary file, fsync, rename), so that they
// survive restarts and can be shared by processes. A damaged file is removed and
// synthesized again. Nothing is removed from Dir otherwise: prune it from outside
// (by access time, say) if it must stay bounded.
//
// # Concurrent requests
//
// Requests for the same key while it is being synthesized join that synthesis instead
// of starting another: each reader gets the audio from the start, as fast as it is
// produced. The first caller's audio is streamed too, one frame behind the provider.
// The synthesis belongs to no caller in particular: it goes on while any of its readers
// reads, so the first caller hanging up does not fail the others; when every reader
// has left (closed, or its ctx ended) it is stopped and nothing is kept. No goroutine is
// started: the reader that needs the next frame pulls it from the provider.
//
// # What is not cached
//
// Blank text (passed to the provider, which returns an empty stream), failed
// syntheses, and text streams: the Cache has no StreamText, so tts.StreamText over a
// Cache uses tts.NewSentenceStream, which caches sentence by sentence.
//
// # Frames
//
// Replayed audio comes in 20 ms frames that alias the cached samples: read-only, as
// media's buffer rules require of every frame, and allocation-free.
package cache
