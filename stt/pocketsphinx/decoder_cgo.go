//go:build cgo

package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/logmath.h>

// sb_init parses argv (name/value pairs) against the decoder's argument table and
// makes a decoder. The decoder keeps its own reference to the configuration.
static ps_decoder_t *sb_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (cfg == NULL) {
		return NULL;
	}
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

static long sb_int_arg(ps_decoder_t *ps, const char *name) {
	return cmd_ln_int_r(ps_get_config(ps), name);
}

static int sb_cmn_len(ps_decoder_t *ps) {
	return ps_get_feat(ps)->cmn_struct->veclen;
}

static void sb_cmn_set(ps_decoder_t *ps, const float *vec) {
	cmn_live_set(ps_get_feat(ps)->cmn_struct, vec);
}

static void sb_cmn_get(ps_decoder_t *ps, float *vec) {
	cmn_live_get(ps_get_feat(ps)->cmn_struct, vec);
}

static double sb_exp(ps_decoder_t *ps, int32 logp) {
	return logmath_exp(ps_get_logmath(ps), logp);
}

static const char *sb_hyp(ps_decoder_t *ps) {
	int32 score;
	return ps_get_hyp(ps, &score);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// cgoAvailable is true when the package was built with cgo, so recognizers work.
const cgoAvailable = true

// psDecoder owns one ps_decoder_t. It is not safe for concurrent use: the pool hands it
// to one session at a time.
type psDecoder struct {
	ps    *C.ps_decoder_t
	frate int       // frames per second of the front end
	cmn   []float32 // the initial cepstral means, restored at every session start
	words []word    // reused by segments
}

// newDecoder loads a decoder from name/value argument pairs ("-hmm", dir, ...).
func newDecoder(args []string) (*psDecoder, error) {
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	var argp **C.char
	if len(argv) > 0 {
		argp = &argv[0]
	}
	ps := C.sb_init(C.int(len(argv)), argp)
	runtime.KeepAlive(argv)
	if ps == nil {
		return nil, fmt.Errorf("%w: the decoder did not load (set Config.LogFile to see why)", ErrModel)
	}
	d := &psDecoder{ps: ps}
	d.frate = int(C.sb_int_arg(ps, cstr("-frate\x00")))
	if d.frate <= 0 {
		d.frate = 100
	}
	d.cmn = make([]float32, int(C.sb_cmn_len(ps)))
	C.sb_cmn_get(ps, (*C.float)(&d.cmn[0]))
	return d, nil
}

// cstr turns a NUL-terminated Go string constant into a C string without copying.
func cstr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

func (d *psDecoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

func (d *psDecoder) framesPerSecond() int { return d.frate }

// resetCMN restores the initial cepstral mean estimate, so a session's results do not
// depend on what the decoder heard in earlier sessions.
func (d *psDecoder) resetCMN() { C.sb_cmn_set(d.ps, (*C.float)(&d.cmn[0])) }

// currentCMN reads the live cepstral mean estimate.
func (d *psDecoder) currentCMN() []float32 {
	v := make([]float32, len(d.cmn))
	C.sb_cmn_get(d.ps, (*C.float)(&v[0]))
	return v
}

// useLM switches to the language model loaded with the decoder.
func (d *psDecoder) useLM() error {
	if C.ps_set_search(d.ps, cstr("_default\x00")) < 0 {
		return errors.New("no language model loaded")
	}
	return nil
}

// useJSGF compiles a JSGF grammar into the search name and switches to it.
func (d *psDecoder) useJSGF(name, grammar string) error {
	cn, cg := C.CString(name), C.CString(grammar)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cg))
	if C.ps_set_jsgf_string(d.ps, cn, cg) < 0 {
		return fmt.Errorf("grammar did not compile (a syntax error, or a word missing from the dictionary)")
	}
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("cannot switch to the grammar search")
	}
	return nil
}

// useKeywords loads a keyword list file into the search name and switches to it.
func (d *psDecoder) useKeywords(name, path string) error {
	cn, cp := C.CString(name), C.CString(path)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_set_kws(d.ps, cn, cp) < 0 {
		return fmt.Errorf("keyword list did not load (a word missing from the dictionary?)")
	}
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("cannot switch to the keyword search")
	}
	return nil
}

// dropSearch removes a search added for one session.
func (d *psDecoder) dropSearch(name string) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	C.ps_unset_search(d.ps, cn)
}

func (d *psDecoder) startUtt() error {
	C.ps_start_stream(d.ps)
	if C.ps_start_utt(d.ps) < 0 {
		return fmt.Errorf("ps_start_utt failed")
	}
	return nil
}

// process decodes 16-bit samples at the decoder's rate.
func (d *psDecoder) process(samples []int16) error {
	if len(samples) == 0 {
		return nil
	}
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, 0) < 0 {
		return fmt.Errorf("ps_process_raw failed")
	}
	return nil
}

func (d *psDecoder) endUtt() error {
	if C.ps_end_utt(d.ps) < 0 {
		return fmt.Errorf("ps_end_utt failed")
	}
	return nil
}

// hyp returns the current best hypothesis; during an utterance it is a partial one.
func (d *psDecoder) hyp() string {
	h := C.sb_hyp(d.ps)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

// segments returns the words of the final hypothesis with their frame spans and
// posterior probabilities, fillers included (the caller filters them). The slice is
// reused by the next call.
func (d *psDecoder) segments() []word {
	d.words = d.words[:0]
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		var ascr, lscr, lback C.int32
		p := C.ps_seg_prob(seg, &ascr, &lscr, &lback) // log posterior
		w := C.ps_seg_word(seg)
		d.words = append(d.words, word{
			text: C.GoString(w),
			from: int(sf),
			to:   int(ef),
			post: float64(C.sb_exp(d.ps, p)),
		})
	}
	return d.words
}
