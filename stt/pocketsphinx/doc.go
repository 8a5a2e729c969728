// Package pocketsphinx is an stt.Recognizer that runs CMU PocketSphinx in-process,
// offline, through cgo.
//
// # Requirements
//
// The package links libpocketsphinx and libsphinxbase (Debian packages
// libpocketsphinx-dev and libsphinxbase-dev, version 0.8+5prealpha) and reads the US
// English model of the Debian package pocketsphinx-en-us from DefaultModelDir. Built
// without cgo (CGO_ENABLED=0) it still compiles, and New returns ErrNoCgo; the rest of
// Switchboard does not depend on it.
//
// # Recognition modes
//
// Each session picks its search from its stt.Config:
//
//   - no Grammar and no Keywords: open vocabulary with the n-gram language model
//     (en-us.lm.bin, 134 000-word dictionary);
//   - Grammar: a JSGF grammar (see stt.DigitsGrammar, stt.YesNoGrammar,
//     stt.WordListGrammar); every word must be in the dictionary, which
//     Recognizer.CheckGrammar verifies up front;
//   - Keywords: keyword spotting; results hold the phrases heard, each with its own
//     threshold when written as "phrase /1e-10/" (Config.KeywordThreshold otherwise).
//     Spotting is sensitive to the threshold: tune it on your own audio.
//
// # Audio path
//
// Frames may come at any rate from 8 kHz up; the acoustic model needs 16 kHz, so they are
// converted with media/resample. Band-limited audio (8 kHz and below, e.g. G.711) gets
// Config.Narrowband treatment: by default the empty band above 4 kHz is filled with a
// faint mirror image of the band below it, and cepstral mean normalisation starts from
// the mean of narrowband speech rather than the model's wideband mean. Either helps
// alone; together they help most. A band-limited filter bank (-upperf 3800 in a copy
// of the model's feat.params), dither and a heavier language weight (-lw 10) were
// measured too and made things worse (TestNarrowbandVariants).
//
// # Utterances and results
//
// A voice activity detector (media/vad, on the 16 kHz stream) finds utterances. An
// utterance starts Config.PreRoll before the detected start of speech and ends when
// the caller has been silent for stt.Config.EndSilence (600 ms by default), when
// Config.MaxUtterance is reached, at Finalize, or at Close. Only utterances are
// decoded: silence costs the VAD only.
//
// While an utterance runs, a partial result is returned every Config.PartialInterval of
// audio when the hypothesis has changed. Its end produces one final result with word
// timings (10 ms resolution, in session time, with the resampler's delay removed).
// The confidence of a language-model or keyword result is the mean of the words'
// posterior probabilities from the decoder's word lattice; grammar searches report a
// posterior of 1 for every word, which carries no information, so grammar results
// have Confidence 0.
//
// # Where the work happens
//
// WriteFrame only copies the frame into the session's buffer (about 30 ns and no
// allocation for a 20 ms frame; see BenchmarkWriteFrame), so it is safe on a real-time
// media path. Recv does the recognition, on the goroutine that calls it; Close decodes
// what is still buffered, finishes the utterance and returns the decoder to the pool.
// The package starts no goroutines.
//
// # Decoders and concurrency
//
// A decoder (ps_decoder_t) holds the acoustic model, dictionary and language model; it
// is not safe for concurrent use, and this version of the library cannot share a loaded
// model between decoders. The Recognizer therefore keeps a pool: each session has a
// decoder to itself from Start to Close, loaded when none is idle (about 0.2-0.3 s and
// 90 MB with the language model; Preload loads ahead) and kept afterwards up to Config.MaxIdle. A
// session resets its decoder's cepstral mean when it starts, so its results do not
// depend on earlier sessions. Loading is serialised because the C library's log
// destination is process-global.
//
// # Measurements
//
// On this repository's reference machine (2 cores), with 25 utterances made by flite at
// test time (digit strings, yes/no answers, menu words, short sentences), decoded as one
// stream per voice with 0.8 s pauses (go test -run TestAccuracy -v -full):
//
//	configuration                         slt      kal16    awb      CPU RTF
//	16 kHz, language model                10.0 %    6.2 %   12.5 %   0.11-0.13
//	8 kHz μ-law, language model, plain    66.2 %   46.2 %   41.2 %   0.17-0.19
//	8 kHz μ-law, language model, tuned    52.5 %   12.5 %   31.2 %   0.14-0.15
//	8 kHz μ-law, digits grammar, plain    37.5 %   33.3 %   37.5 %   0.012-0.015
//	8 kHz μ-law, digits grammar, tuned    12.5 %    4.2 %    4.2 %   0.013
//	8 kHz μ-law, yes/no grammar, plain    50.0 %    8.3 %   25.0 %   0.010
//	8 kHz μ-law, yes/no grammar, tuned     8.3 %    0.0 %    8.3 %   0.010
//
// (word error rates, identical over repeated runs; CPU time per second of audio, medians
// of four runs; yes/no answers were classified right 8/8 for every voice when tuned). Open-vocabulary recognition of telephone audio remains poor for some voices:
// use a grammar, or a wideband codec (G.722, L16) where the caller's side allows.
//
// From the end of speech to the final result takes stt.Config.EndSilence of audio (plus
// up to 0.2 s while the detector's hangover runs out on a fading word), then the time
// to finish the utterance: about 70-90 ms with the language model (second pass and
// lattice) and under 1 ms with a grammar (TestEndOfSpeechDelay).
//
// # Limitations
//
// stt.Config.Hints are ignored. Grammar results carry no confidence. Only the US
// English model is supported (stt.Config.Language must be empty or English).
package pocketsphinx
