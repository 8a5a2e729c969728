// IVR is a phone menu: say or press one for the time, two to leave a message, three to
// hang up.
//
// This example shows how to:
//  1. serve inbound calls with a handler that answers and speaks;
//  2. gather one answer, a key or a spoken word, with a spoken prompt that either
//     interrupts, retrying on invalid input or silence;
//  3. branch: speak the time, take a voicemail message (examples/internal/voicemail),
//     or hang up with a cause.
//
// # Speech
//
// With -stt (the default) the menu also takes spoken answers, recognised in-process by
// pocketsphinx (stt/pocketsphinx; Debian packages libpocketsphinx-dev and
// pocketsphinx-en-us) against a small JSGF grammar: the menu's words ("one", "time" or
// "the time" for 1; "two", "message" or "leave a message" for 2; "three", "goodbye" or
// "hang up" for 3) and a few dozen other words callers say at menus ("operator",
// "help", digits, ...). A grammar leaves the recognizer no way to say "none of these":
// with the menu's words alone, every word is heard as the nearest one ("operator" as
// "three"). The other words give it somewhere else to go, and the Gather takes them
// (which are not among its Phrases) as invalid, so the menu asks again. When
// pocketsphinx cannot load (no model, or a build without cgo) the menu says so on
// stderr and takes keys only.
//
// The recognizer gets the call's audio at the codec's own rate. On a wideband call
// (G.722) that is the 16 kHz the model was trained on. On a narrowband call (G.711,
// 8 kHz, nothing above 3.4 kHz) pocketsphinx applies its narrowband tuning; open
// vocabulary would be poor there, but a small grammar holds up. Measured with baresip
// calling this menu over PCMU and over G.722 at once, each call saying the six words
// "one", "two", "three", "time", "message" and "goodbye" in flite's slt, kal16, awb and
// rms voices (24 utterances) and in two espeak-ng voices (6), the right branch was
// taken for 24/24 flite utterances on both codecs in every run; espeak-ng, whose
// voices pocketsphinx recognises badly in open vocabulary, scored 5/6 over PCMU and
// 6/6 over G.722. Of 40 words in neither list (ten words, four flite voices), the
// menu refuses 28 at 8 kHz and 31 at 16 kHz, against 0 and 1 with a grammar of the
// menu's words alone; the others are still taken for a menu word, so confirm a choice
// whose wrong branch would cost the caller (TestSpeechMenu/grammar). An answer is
// taken about 0.55 s after the caller's last word reaches the IVR (median): the 600 ms
// of silence that ends an utterance, counted from the last speech-like sound, plus
// well under 10 ms of decoding (TestSpeechMenu/accuracy).
//
// Usage: go run ./examples/ivr -listen 0.0.0.0:5060 -dir ./messages [-stt=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/examples/internal/voicemail"
	"github.com/switchboard-go/switchboard/sip"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "SIP address (UDP and TCP)")
	dir := flag.String("dir", "messages", "where voicemail messages are saved")
	speech := flag.Bool("stt", true, "accept spoken answers too (pocketsphinx), if it can load")
	flag.Parse()
	menu := Menu{Box: voicemail.Box{Dir: *dir}}
	cfg := switchboard.Config{ListenAddr: *listen}
	if *speech {
		// Grammars only: decoders load in a third of the time and memory.
		rec, err := pocketsphinx.New(pocketsphinx.Config{NoLanguageModel: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "ivr: speech input off:", err)
		} else {
			defer rec.Close()
			cfg.STT, menu.Speech = rec, true
		}
	}
	cfg.Handler = menu
	sb, err := switchboard.New(cfg)
	if err == nil {
		fmt.Printf("IVR listening on %s (UDP and TCP), messages to %s, speech input %v\n", *listen, *dir, menu.Speech)
		err = sb.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, "ivr:", err)
	os.Exit(1)
}

// Menu is the IVR's call handler.
type Menu struct {
	Box voicemail.Box
	// Now tells the time (time.Now if nil).
	Now func() time.Time
	// Speech accepts spoken answers as well as keys. The Switchboard's Config.STT
	// recognises them.
	Speech bool
}

// menuWords are what a caller may say, and the key each stands for.
var menuWords = []struct{ phrase, key string }{
	{"one", "1"}, {"time", "1"}, {"the time", "1"},
	{"two", "2"}, {"message", "2"}, {"leave a message", "2"},
	{"three", "3"}, {"goodbye", "3"}, {"hang up", "3"},
}

// otherWords are not answers, but callers say them (or things that sound like them) at
// menus. They are in the grammar so that the recognizer has somewhere to put them: a
// grammar of the menu words alone makes it hear every word as the nearest menu word
// ("operator" as "three"). The Gather takes them as invalid, since they are not in
// its Phrases.
var otherWords = []string{
	"zero", "oh", "four", "five", "six", "seven", "eight", "nine",
	"yes", "no", "okay", "please", "hello", "hi", "what", "help", "repeat", "menu",
	"operator", "agent", "representative", "sales", "billing", "support",
}

// speechGrammar is the JSGF grammar of the menu: its words and the other words.
func speechGrammar() string {
	var all []string
	for _, w := range menuWords {
		all = append(all, w.phrase)
	}
	g, err := stt.WordListGrammar(append(all, otherWords...)...)
	if err != nil {
		panic(err) // the lists above are fixed and valid
	}
	return g
}

// gatherOptions is the menu's question.
func (m Menu) gatherOptions() call.GatherOptions {
	o := call.GatherOptions{
		Prompt:        call.Prompt{Text: "Welcome. Press 1 to hear the time. Press 2 to leave a message. Press 3 to hang up."},
		InvalidPrompt: call.Prompt{Text: "Sorry, that is not an option."},
		MaxDigits:     1,
		ValidDigits:   "123",
		MaxAttempts:   3,
	}
	if m.Speech {
		o.Prompt.Text = "Welcome. Say or press one for the time, two to leave a message, three to hang up."
		o.Input = call.InputBoth
		for _, w := range menuWords {
			o.Speech.Phrases = append(o.Speech.Phrases, w.phrase)
		}
		o.Speech.Grammar = speechGrammar()
	}
	return o
}

// choice is the key an answer stands for: the key pressed, or the one of the phrase
// said; "" when the answer is not a valid choice.
func choice(res call.GatherResult) string {
	if res.Status != call.GatherValid {
		return ""
	}
	if res.Digits != "" {
		return res.Digits
	}
	for _, w := range menuWords {
		if w.phrase == res.Phrase {
			return w.key
		}
	}
	return ""
}

// ServeCall answers and runs the menu.
func (m Menu) ServeCall(ctx context.Context, c *call.Call) error {
	if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
		return err
	}
	res, err := c.Gather(ctx, m.gatherOptions())
	if err != nil {
		return err
	}
	switch choice(res) {
	case "1":
		now := time.Now
		if m.Now != nil {
			now = m.Now
		}
		if err := c.Speak(ctx, "The time is "+now().Format("3:04 PM")+". Goodbye.", call.SpeakOptions{}); err != nil {
			return err
		}
	case "2":
		if _, err := m.Box.Take(ctx, c); err != nil {
			return err
		}
	default: // 3, or no valid answer
		_ = c.Speak(ctx, "Goodbye.", call.SpeakOptions{})
	}
	return c.Hangup(ctx, sip.CauseNormalClearing)
}
