// Package amd tells whether a person or an answering machine picked up an outbound call,
// and finds the beep after a machine's greeting, from the audio frames that follow the
// answer.
//
// # Usage
//
// Make a [Detector] when the call is answered and write it every received frame (mono
// 16-bit PCM at 8 or 16 kHz, any frame length). After each write, [Detector.Next]
// returns what the frame decided: first an [EventDetection] with the [Detection]
// (Human, Machine, Silence or NotSure, the audio time of the decision, the rule that
// fired and its [Evidence]), then, in the beep modes after a Machine verdict, an
// [EventGreeting] with the [Greeting] (beep_detected with the beep's end, ended, or
// no_beep_detected). [Detector.Done] says when nothing more will come; call
// [Detector.Finish] if the stream stops first (hang-up), which settles what is still
// open. The same values are always readable through [Detector.Detection] and
// [Detector.Greeting].
//
//	d, _ := amd.New(8000, amd.Config{Mode: amd.DetectBeep})
//	for !d.Done() {
//		f, err := src.ReadFrame()
//		if err != nil { d.Finish(); break }
//		d.WriteFrame(f)
//		for e, ok := d.Next(); ok; e, ok = d.Next() { ... }
//	}
//
// A Detector is a [media.FrameWriter], so it can sit on a branch of a media tee. It
// runs no goroutine and reads no clock: every time it reports is audio time, counted in
// samples written since the answer, so a run is reproducible sample for sample and
// tests need no timers. It allocates nothing per frame (see the benchmarks), and costs
// about 4 µs of one core per 20 ms frame at 8 kHz, 7 µs at 16 kHz: two real FFTs of
// 256 (512) points per frame.
//
// # Modes
//
// [Detect] reports the verdict only. [DetectBeep] then waits up to BeepTimeout (30 s)
// for the end of a beep. [GreetingEnd] takes a beep, or GreetingSilence (1.5 s) of
// silence after the machine's speech, as the end of the greeting; [DetectWords] does
// the same with the shorter AfterGreetingSilence, reporting as soon as the machine
// stops talking. A beep heard before the verdict counts: it is reported right after
// the Machine verdict.
//
// # Rules
//
// Two rule sets share the analysis. [Classic] is the traditional one: a 10 ms hop is
// silent when its mean absolute amplitude is under SilenceThreshold (256), and the
// first limit reached decides: InitialSilence of silence (Silence), a word after
// which AfterGreetingSilence passes (Human), voiced time over Greeting, more than
// MaxWords words or one word over MaxWordLength (Machine), TotalAnalysis (NotSure).
//
// [Cadence], the default, keeps those timings but looks at the shape of the first
// utterance rather than at thresholds alone:
//
//   - Speech is found against the noise floor (the minimum of the smoothed speech-band
//     level over the last 2 s), not against a fixed level, so line noise is neither
//     taken for a long greeting nor allowed to hide a quiet "hello"; and tonal hops
//     (a beep) are not speech.
//   - Once someone is talking, any burst of 30 ms or more extends the utterance: at
//     low SNR only the loudest syllables of a machine's sentence clear the noise, and
//     the gaps between them must not read as a person's pause.
//   - A person says a few words and waits. A pause of AfterGreetingSilence (800 ms)
//     after the utterance means Human, and after a single word ("Hello?", under
//     800 ms) five eighths of it (500 ms) is enough.
//   - A machine keeps going: an utterance running past Greeting + GreetingSlack (2 s)
//     without such a pause, at least 30% voiced, means Machine. Word counts are not
//     used: they depend on the level more than on what was said.
//   - A beep heard before any verdict means Machine, and no Human verdict is given
//     while a tone is sounding.
//
// # Beep detection
//
// Each hop's 32 ms Hann-windowed spectrum (256 points at 8 kHz) gives the strongest
// peak between MinFrequency and MaxFrequency (400-2000 Hz), its frequency refined by
// log-parabolic interpolation, and its tonality: the share of the 250-3600 Hz energy
// within two bins of it (a sine scores 0.99, speech rarely 0.5). Consecutive tonal hops
// at the same frequency make a run; a run becomes a [Beep] when its plateau (hops within
// 2 dB of its peak level) fills at least MinDuration (100 ms), its frequency neither
// scatters nor drifts by more than Stability (1%), and its mean tonality exceeds
// Tonality by 0.1. Held vowels and liquid consonants can be as pure as a tone for
// 100 ms; they fail on drift or level. The beep's start and end are placed where its
// level crosses half amplitude, interpolated between hops: within a few milliseconds.
// The end is reported about 30 ms after it happens. [BeepDetector] runs the same
// detector on its own.
//
// # Evaluation
//
// The tests render a corpus of 234 cases (the manifest testdata/corpus.jsonl, made by
// amd/internal/corpus): 115 machine greetings of 1 to 12 s from espeak-ng and flite in
// nine voices, 72 of them followed by a beep of 440-1850 Hz lasting 100-1000 ms; 100
// people answering with a short greeting, then silence or a second try after a pause;
// 24 with nobody (silence, or noise alone); telephone-band noise at 10-30 dB SNR on
// most, and μ-law on 85%. Ten cases are marked hard: a machine that says one sentence
// and stops, a person who answers like a receptionist. With default settings
// (testdata/eval.md has the full tables):
//
//	rules    correct        without hard   human median/p90   machine median/p90
//	classic  194/234 82.9%  193/220 87.7%  2.31 s / 3.23 s    2.05 s / 2.92 s
//	cadence  218/234 93.2%  218/220 99.1%  2.47 s / 3.57 s    2.67 s / 3.10 s
//
// Classic mostly calls people who say more than "hello" machines (28 of 95). With a
// Machine verdict, 66 of the 72 beeps are reported with their end within 5 ms (all
// six misses are machines taken for people); the beep detector alone finds the end of
// every one within 5 ms, and reports 2 false beeps over the corpus (a vowel at about
// 480 Hz, once inside a greeting, which in DetectBeep mode ends the greeting early).
// The cadence timings were tuned on this corpus; on corpora generated with other seeds
// (2, 3, 4: go test -run TestEvaluation -eval.seed=N), Cadence scores 91.0-93.6%
// (97.7-99.1% without hard cases) against 78.2-80.8% for Classic, with a median human
// decision of 2.36-2.53 s.
//
// The corpus audio is not committed: the tests run internal/corpus/cmd/render (a
// separate process, so that synthesis is not slowed by the race detector) to fill
// testdata/cache the first time, about 20 s; later runs read the cache. espeak-ng and
// flite must be installed (Debian packages espeak-ng and flite); without them the
// evaluation fails and says so.
//
// # Limitations
//
// A machine whose greeting is one short sentence followed by silence cannot be told
// from a person by timing, nor can a person who answers with a long sentence; nothing
// here understands words. Beeps made of several tones in a row, or sweeping in
// frequency, are not recognised; the first steady tone of 100 ms counts. The corpus
// is synthetic speech: real greetings, with music, laughter and room noise, will score
// lower.
package amd
