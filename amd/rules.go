package amd

// minBurstHops is the shortest burst, in hops, that extends a greeting already under
// way.
const minBurstHops = 3

// talk follows speech and silence hop by hop: words, the first word's start, the last
// word's end, voiced time. Both rule sets keep one, fed with their own idea of speech.
type talk struct {
	minWord, between int64 // samples

	inWord  bool
	run     int64 // current burst, gaps shorter than between included
	runFrom int64
	gap     int64 // current silence
	voiced  int64
	words   int
	onset   int64 // start of the first word, -1 before it
	lastEnd int64 // end of the last hop of a word
	longest int64
}

func newTalk(minWord, between int64) talk {
	return talk{minWord: minWord, between: between, onset: -1}
}

func (t *talk) reset() { *t = newTalk(t.minWord, t.between) }

// step takes one hop of n samples ending at end.
func (t *talk) step(speech bool, end, n int64) {
	minBurst := minBurstHops * n
	if !speech {
		t.gap += n
		if t.gap >= t.between {
			t.inWord, t.run = false, 0
		}
		return
	}
	if t.run == 0 {
		t.runFrom = end - n
	} else {
		t.run += t.gap // a short gap inside a word
	}
	t.run += n
	t.gap = 0
	t.voiced += n
	if !t.inWord && t.run >= t.minWord {
		t.inWord = true
		t.words++
		if t.onset < 0 {
			t.onset = t.runFrom
		}
	}
	if t.inWord {
		t.longest = max(t.longest, t.run)
	}
	// Once someone is talking, shorter bursts count as talk too: at low SNR only the
	// loudest syllables rise above the noise.
	if t.inWord || (t.onset >= 0 && t.run >= minBurst) {
		t.lastEnd = end
	}
}

// silence is the silence since the last word at now (0 before any word).
func (t *talk) silence(now int64) int64 {
	if t.onset < 0 || t.inWord {
		return 0
	}
	return now - t.lastEnd
}

// span is the time from the start of the first word to the end of the last.
func (t *talk) span() int64 {
	if t.onset < 0 {
		return 0
	}
	return t.lastEnd - t.onset
}

// limits are Config's durations in samples.
type limits struct {
	initialSilence, greeting, afterGreeting, total, minWord, between, maxWord int64
	slack, greetingSilence, beepTimeout, shortGreeting                        int64
	maxWords                                                                  int
	threshold                                                                 float64
}

// classic is the traditional rule set: every hop is voiced or silent by its mean
// absolute amplitude, and the first limit reached decides.
type classic struct {
	l         limits
	t         talk
	greeting  bool // a word has been heard
	silence   int64
	voiced    int64
	consec    int64
	wordCount int
	inWord    bool
}

func (c *classic) reset() {
	*c = classic{l: c.l, t: c.t}
	c.t.reset()
}

func (c *classic) step(h *hop, n int64) (Verdict, Reason, bool) {
	silent := h.absMean < c.l.threshold
	c.t.step(!silent, h.end, n)
	if silent {
		c.silence += n
		if c.silence >= c.l.between {
			c.inWord, c.consec = false, 0
		}
		if !c.greeting && c.silence >= c.l.initialSilence {
			return Silence, ReasonInitialSilence, true
		}
		if c.greeting && c.silence >= c.l.afterGreeting {
			return Human, ReasonAfterGreetingSilence, true
		}
	} else {
		c.consec += n
		c.voiced += n
		if c.consec >= c.l.minWord && !c.inWord {
			c.inWord = true
			c.wordCount++
		}
		if c.consec >= c.l.maxWord {
			return Machine, ReasonMaxWordLength, true
		}
		if c.wordCount > c.l.maxWords {
			return Machine, ReasonMaxWords, true
		}
		if c.greeting && c.voiced >= c.l.greeting {
			return Machine, ReasonLongGreeting, true
		}
		if c.consec >= c.l.minWord {
			c.silence = 0
			c.greeting = true
		}
	}
	if h.end >= c.l.total {
		return NotSure, ReasonTooLong, true
	}
	return NotSure, 0, false
}

// cadence decides on the shape of the first utterance; see the package doc.
type cadence struct {
	l   limits
	t   talk
	act activity
}

func (c *cadence) reset() {
	c.t.reset()
	c.act.reset()
}

// observe follows speech; it runs on every hop, before and after the verdict (the
// greeting's end is found with it too).
func (c *cadence) observe(h *hop, n int64) {
	c.t.step(c.act.step(h), h.end, n)
}

// step decides, if it can, after observe has seen hop h.
func (c *cadence) step(h *hop, beep, toneActive bool) (Verdict, Reason, bool) {
	now := h.end
	if beep {
		return Machine, ReasonBeep, true
	}
	if c.t.onset < 0 {
		if now >= c.l.initialSilence && !toneActive {
			return Silence, ReasonInitialSilence, true
		}
	} else {
		span := c.t.span()
		// A person who said a single word ("Hello?") and stops is waiting for an
		// answer: a shorter pause says so. Machines rarely open with one word and a
		// pause (the evaluation corpus has them as hard cases).
		pause := c.l.afterGreeting
		if span < c.l.shortGreeting {
			pause = c.l.afterGreeting * 5 / 8
		}
		if c.t.silence(now) >= pause && !toneActive {
			return Human, ReasonAfterGreetingSilence, true
		}
		if c.t.silence(now) == 0 && span >= c.l.greeting+c.l.slack && 10*c.t.voiced >= 3*span {
			return Machine, ReasonLongGreeting, true
		}
	}
	if now >= c.l.total {
		return NotSure, ReasonTooLong, true
	}
	return NotSure, 0, false
}
