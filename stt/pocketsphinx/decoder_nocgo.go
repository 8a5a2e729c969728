//go:build !cgo

package pocketsphinx

// cgoAvailable is false: without cgo there is no decoder, and New returns ErrNoCgo.
const cgoAvailable = false

// psDecoder stands in for the cgo decoder so that the rest of the package compiles;
// New never creates one.
type psDecoder struct{ cmn []float32 }

func newDecoder([]string) (*psDecoder, error)         { return nil, ErrNoCgo }
func (d *psDecoder) free()                            {}
func (d *psDecoder) framesPerSecond() int             { return 100 }
func (d *psDecoder) resetCMN()                        {}
func (d *psDecoder) useLM() error                     { return ErrNoCgo }
func (d *psDecoder) useJSGF(string, string) error     { return ErrNoCgo }
func (d *psDecoder) useKeywords(string, string) error { return ErrNoCgo }
func (d *psDecoder) dropSearch(string)                {}
func (d *psDecoder) startUtt() error                  { return ErrNoCgo }
func (d *psDecoder) process([]int16) error            { return ErrNoCgo }
func (d *psDecoder) endUtt() error                    { return ErrNoCgo }
func (d *psDecoder) hyp() string                      { return "" }
func (d *psDecoder) segments() []word                 { return nil }
func (d *psDecoder) currentCMN() []float32            { return nil }
