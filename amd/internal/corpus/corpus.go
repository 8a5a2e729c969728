// Package corpus builds the evaluation corpus of the amd package: answering machine
// greetings (with and without beeps), people answering, silence and line noise, spoken
// by espeak-ng and flite, mixed with telephone-band noise and passed through μ-law.
//
// The corpus is defined by [Generate], a deterministic function of a seed, and listed
// in a committed manifest (testdata/corpus.jsonl) so that a change to it shows in
// review. The audio is rendered from the manifest when the tests run; synthesized
// speech is cached by content in a directory the caller names.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Kinds of case, and the verdict each should get.
const (
	KindMachine = "machine"
	KindHuman   = "human"
	KindSilence = "silence" // nothing but silence
	KindNoise   = "noise"   // nothing but line noise: nobody spoke, so also Silence
)

// Part is one piece of a case's timeline: speech, a pause or a beep.
type Part struct {
	// Text is spoken by Engine ("espeak-ng" or "flite") with Voice at Speed (words per
	// minute for espeak-ng, a duration stretch in percent for flite).
	Text   string `json:"text,omitempty"`
	Engine string `json:"engine,omitempty"`
	Voice  string `json:"voice,omitempty"`
	Speed  int    `json:"speed,omitempty"`
	// PauseMS is silence (line noise only).
	PauseMS int `json:"pause_ms,omitempty"`
	// BeepHz and BeepMS make a beep, at BeepDB relative to the speech level.
	BeepHz float64 `json:"beep_hz,omitempty"`
	BeepMS int     `json:"beep_ms,omitempty"`
	BeepDB float64 `json:"beep_db,omitempty"`
}

// Case is one recording of what follows the answer of a call.
type Case struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Hard marks cases that no detector working on timing alone can get right: a
	// person who answers with a long sentence, or a machine whose greeting is a single
	// word followed by a pause.
	Hard bool `json:"hard,omitempty"`
	// Parts, in order, after LeadMS of silence; TailMS of silence follows.
	LeadMS int    `json:"lead_ms"`
	Parts  []Part `json:"parts"`
	TailMS int    `json:"tail_ms"`
	// LevelDB is the active speech level in dBFS; SNR the speech to noise ratio in dB,
	// 0 meaning no noise. NoiseDB sets the noise level directly for speechless cases.
	LevelDB float64 `json:"level_db"`
	SNR     float64 `json:"snr,omitempty"`
	NoiseDB float64 `json:"noise_db,omitempty"`
	// ULaw passes the result through G.711 μ-law.
	ULaw bool `json:"ulaw"`
	// Seed drives the noise.
	Seed uint64 `json:"seed"`
}

// Texts.
var (
	names     = []string{"John Smith", "Mary", "Doctor Patel", "the Johnson family", "Alex", "Sarah Miller", "Carlos", "Linda and Tom"}
	companies = []string{"Acme Plumbing", "Blue Sky Dental", "Riverside Motors", "the law office of Baker and Green", "City Florist"}
	openers   = []string{
		"Hi, you've reached %s.", "Hello, this is %s.", "You have reached the voicemail of %s.",
		"Hey, it's %s.", "Hi, this is %s's phone.", "Thank you for calling %s.",
	}
	middles = []string{
		"I can't take your call right now.", "I'm away from the phone at the moment.",
		"Our office is currently closed.", "Our business hours are Monday to Friday, nine to five.",
		"Sorry I missed your call.", "Your call is important to us.", "I'm either on the other line or away from my desk.",
		"If this is an emergency, please hang up and dial nine one one.",
	}
	closers = []string{
		"Please leave a message after the tone.", "Leave your name and number and I'll get back to you.",
		"Please leave a message.", "At the tone, please record your message.", "I'll call you back as soon as I can.",
		"Leave a message after the beep.",
	}
	shortMachine = []string{"Leave a message.", "Please leave a message.", "Not available.", "Leave a message after the beep."}
	humanFirst   = []string{
		"Hello?", "Hello.", "Hi.", "Yes?", "Hello, who's this?", "Yes, this is Mary.", "Hi, this is John.",
		"Hello, Smith residence.", "Good morning.", "Hey.", "Speaking.", "Hello, Mike speaking.", "Yeah, hello?",
		"Hi there.", "Hello, yes?",
	}
	humanAgain = []string{"Hello? Is anybody there?", "Hello?", "Can you hear me?", "Who is this?", "Hello, anyone there?", "Hello? Hello?"}
	humanLong  = []string{
		"Hello, thank you for calling Smith and Sons, this is Mary speaking, how can I help you?",
		"Good afternoon, Riverside Motors service department, this is Dave, what can I do for you today?",
		"Hello, yes, this is John, sorry, I was just in the middle of something, who is this please?",
	}
	machineHard = []string{"Hello.", "Hi.", "Yes?"}
)

type voice struct{ engine, name string }

var voices = []voice{
	{"espeak-ng", "en-us"}, {"espeak-ng", "en-gb"}, {"espeak-ng", "en-us+f3"}, {"espeak-ng", "en-us+m3"},
	{"espeak-ng", "en-gb-x-rp+f2"},
	{"flite", "kal"}, {"flite", "slt"}, {"flite", "rms"}, {"flite", "awb"},
}

// Beep frequencies (Hz) and lengths (ms) drawn from.
var (
	beepHz = []float64{440, 800, 1000, 1400, 1850}
	beepMS = []int{100, 150, 250, 400, 600, 1000}
	snrs   = []float64{0, 0, 0, 30, 20, 15, 10}
)

// Generate returns the corpus for seed: n cases in all, in fixed proportions.
func Generate(seed uint64) []Case {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	speaker := func() Part {
		v := voices[r.IntN(len(voices))]
		p := Part{Engine: v.engine, Voice: v.name}
		if v.engine == "espeak-ng" {
			p.Speed = 140 + 10*r.IntN(7) // 140..200 wpm
		} else {
			p.Speed = 85 + 5*r.IntN(8) // 85..120 % duration
		}
		return p
	}
	common := func(c *Case) {
		c.LevelDB = -28 + float64(r.IntN(13))
		c.SNR = snrs[r.IntN(len(snrs))]
		c.ULaw = r.IntN(100) < 85
		c.Seed = r.Uint64()
	}
	var cases []Case
	add := func(c Case) {
		c.ID = fmt.Sprintf("%s-%03d", c.Kind, len(cases))
		cases = append(cases, c)
	}

	// Machines: 1 to 6 sentences (about 1 to 12 s), beeps on two in three.
	for i := range 110 {
		c := Case{Kind: KindMachine, LeadMS: 100 + 50*r.IntN(20)}
		sp := speaker()
		var sentences []string
		switch n := r.IntN(6); {
		case i%10 == 0:
			sentences = []string{pick(shortMachine)}
		default:
			who := pick(names)
			if r.IntN(3) == 0 {
				who = pick(companies)
			}
			sentences = append(sentences, fmt.Sprintf(pick(openers), who))
			for range n {
				sentences = append(sentences, pick(middles))
			}
			sentences = append(sentences, pick(closers))
		}
		if r.IntN(3) == 0 {
			// Recorded sentence by sentence, with the pauses a person leaves.
			for j, s := range sentences {
				if j > 0 {
					c.Parts = append(c.Parts, Part{PauseMS: 150 + 50*r.IntN(8)})
				}
				p := sp
				p.Text = s
				c.Parts = append(c.Parts, p)
			}
		} else {
			p := sp
			p.Text = strings.Join(sentences, " ")
			c.Parts = append(c.Parts, p)
		}
		c.TailMS = 3000
		if r.IntN(3) == 0 {
			// A one-sentence greeting and then silence is what a person does, too.
			c.Hard = len(sentences) == 1
		} else {
			c.Parts = append(c.Parts, Part{PauseMS: 150 + 50*r.IntN(16)},
				Part{BeepHz: beepHz[r.IntN(len(beepHz))], BeepMS: beepMS[r.IntN(len(beepMS))], BeepDB: -6 + float64(r.IntN(10))})
			c.TailMS = 1500
		}
		common(&c)
		add(c)
	}
	// Machines no detector can tell by timing: one word, a long pause, then the rest.
	for range 5 {
		sp := speaker()
		a, b := sp, sp
		a.Text = pick(machineHard)
		b.Text = fmt.Sprintf("You've reached %s. %s", pick(names), pick(closers))
		c := Case{Kind: KindMachine, Hard: true, LeadMS: 300 + 50*r.IntN(10), TailMS: 1500,
			Parts: []Part{a, {PauseMS: 1200 + 100*r.IntN(8)}, b, {PauseMS: 400},
				{BeepHz: beepHz[r.IntN(len(beepHz))], BeepMS: 400, BeepDB: -3}}}
		common(&c)
		add(c)
	}
	// People: a short greeting, then waiting; two in five speak again after a pause.
	for range 90 {
		sp := speaker()
		p := sp
		p.Text = pick(humanFirst)
		c := Case{Kind: KindHuman, LeadMS: 300 + 50*r.IntN(30), Parts: []Part{p}, TailMS: 5000}
		if r.IntN(5) < 2 {
			q := sp
			q.Text = pick(humanAgain)
			c.Parts = append(c.Parts, Part{PauseMS: 1000 + 100*r.IntN(16)}, q)
			c.TailMS = 3000
		}
		common(&c)
		add(c)
	}
	// People who answer like a receptionist: long and continuous.
	for range 5 {
		p := speaker()
		p.Text = pick(humanLong)
		c := Case{Kind: KindHuman, Hard: true, LeadMS: 300 + 50*r.IntN(10), Parts: []Part{p}, TailMS: 4000}
		common(&c)
		add(c)
	}
	// Nobody: digital silence, or line noise alone.
	for range 12 {
		c := Case{Kind: KindSilence, TailMS: 6000, ULaw: r.IntN(2) == 0, Seed: r.Uint64()}
		add(c)
	}
	for range 12 {
		c := Case{Kind: KindNoise, TailMS: 6000, NoiseDB: -60 + float64(r.IntN(21)), ULaw: r.IntN(100) < 85, Seed: r.Uint64()}
		add(c)
	}
	return cases
}

// WriteManifest writes cases as JSON lines.
func WriteManifest(w io.Writer, cases []Case) error {
	enc := json.NewEncoder(w)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}

// ReadManifest reads JSON lines written by WriteManifest.
func ReadManifest(data []byte) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("corpus: manifest line %d: %w", len(cases)+1, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}
