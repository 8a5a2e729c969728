package pocketsphinx

// word is one segment of a decoder's final hypothesis.
type word struct {
	text     string
	from, to int     // first and last frame, from the start of the utterance
	post     float64 // posterior probability, 0..1
}
