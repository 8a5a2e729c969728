//go:build cgo

package flite

/*
#cgo LDFLAGS: -lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_usenglish -lflite_cmulex -lflite -lm

#if defined(__has_include)
#if !__has_include(<flite/flite.h>)
#error "flite headers not found: install the Debian package flite1-dev"
#endif
#endif

#include <flite/flite.h>
#include <setjmp.h>
#include <stdlib.h>

// The voice registration functions are exported by the voice libraries but declared in
// no public header.
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);

static cst_voice *sb_register(int id) {
	switch (id) {
	case 0: return register_cmu_us_kal(NULL);
	case 1: return register_cmu_us_kal16(NULL);
	case 2: return register_cmu_us_slt(NULL);
	case 3: return register_cmu_us_rms(NULL);
	case 4: return register_cmu_us_awb(NULL);
	}
	return NULL;
}

// sb_stop is the streaming callback that lets a synthesis be interrupted: the
// waveform generators call it every min_buffsize samples, and the clustergen vocoder
// stops when it returns CST_AUDIO_STREAM_STOP. userdata points to a flag that Go sets.
static int sb_stop(const cst_wave *w, int start, int size, int last, cst_audio_streaming_info *asi) {
	return __atomic_load_n((int *)asi->userdata, __ATOMIC_RELAXED) ? CST_AUDIO_STREAM_STOP : CST_AUDIO_STREAM_CONT;
}

static float sb_voice_float(cst_voice *v, const char *name, float def) {
	return get_param_float(v->features, name, def);
}

// sb_synth synthesizes text with v and returns the utterance, whose wave the caller
// reads and then frees with delete_utterance; NULL when flite failed. Features set on
// the utterance override the voice's without changing the shared voice. flite reports
// internal errors through cst_error(), which longjmps to cst_errjmp when it is set and
// exits the process otherwise, so it is set for the duration of the call (the
// utterance of a failed call is leaked: flite leaves it in an unknown state).
//
// stop is polled during waveform generation (see sb_stop); *interrupted is set when
// that cut the synthesis short. stop belongs to Go, so the streaming hook that points
// to it is removed before returning.
static cst_utterance *sb_synth(cst_voice *v, const char *text, float stretch, float f0shift, int *stop, int *interrupted) {
	jmp_buf jb;
	cst_utterance *u;
	cst_audio_streaming_info *asi;
	cst_errjmp = &jb;
	if (setjmp(jb) != 0) {
		cst_errjmp = NULL;
		return NULL;
	}
	// Clustergen voices draw excitation noise from rand(): a fixed seed makes the
	// output a function of the input.
	srand(1);
	u = new_utterance();
	utt_set_input_text(u, text);
	utt_init(u, v);
	feat_set_float(u->features, "duration_stretch", stretch);
	// Both diphone and clustergen voices scale their mean pitch by f0_shift.
	feat_set_float(u->features, "f0_shift", f0shift);
	asi = new_audio_streaming_info();
	asi->asc = sb_stop;
	asi->min_buffsize = 1600;
	asi->userdata = stop;
	feat_set(u->features, "streaming_info", audio_streaming_info_val(asi));
	if (utt_synth(u) == NULL) {
		cst_errjmp = NULL;
		return NULL;
	}
	cst_errjmp = NULL;
	feat_remove(u->features, "streaming_info");
	*interrupted = feat_present(u->features, "Interrupted") || __atomic_load_n(stop, __ATOMIC_RELAXED);
	return u;
}

static int sb_wave_rate(cst_utterance *u) { return utt_wave(u)->sample_rate; }
static int sb_wave_len(cst_utterance *u) { return utt_wave(u)->num_samples; }
static short *sb_wave_samples(cst_utterance *u) { return utt_wave(u)->samples; }
*/
import "C"

import (
	"fmt"
	"math"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// flite keeps global state: the error handler (cst_errjmp), the voices, which are
// process-wide singletons whose feature lists synthesis reads, and the rand() seed. Its
// own source calls voice registration "thread unsafe". So every call into it, from all
// Synthesizers of the process, goes through this one lock, and the registered voices
// are kept here, as the library keeps them.
var engine struct {
	sync.Mutex
	initialized bool
	voices      [len(voiceTable)]*C.cst_voice
	stretch     [len(voiceTable)]float64 // each voice's own duration_stretch
}

// engineAvailable reports whether flite can be used: always, in a cgo build.
func engineAvailable() error { return nil }

// voiceLocked returns the flite voice, registering it on first use. The caller holds
// engine.
func voiceLocked(id int) (*C.cst_voice, error) {
	if !engine.initialized {
		C.flite_init()
		engine.initialized = true
	}
	if v := engine.voices[id]; v != nil {
		return v, nil
	}
	v := C.sb_register(C.int(id))
	if v == nil {
		return nil, fmt.Errorf("flite: registering voice %s failed", voiceTable[id].name)
	}
	stretch := C.CString("duration_stretch")
	defer C.free(unsafe.Pointer(stretch))
	engine.voices[id] = v
	engine.stretch[id] = float64(C.sb_voice_float(v, stretch, 1))
	return v, nil
}

// synthesize speaks text with voice id at the given speaking rate and pitch shift (in
// semitones), appending the samples, at the voice's native rate, to dst. Setting *stop
// to non-zero (atomically, from any goroutine) interrupts it, returning errInterrupted.
func synthesize(dst []int16, id int, text string, rate, pitch float64, stop *int32) ([]int16, error) {
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	engine.Lock()
	defer engine.Unlock()
	v, err := voiceLocked(id)
	if err != nil {
		return dst, err
	}
	factor := math.Pow(2, pitch/12)
	var interrupted C.int
	u := C.sb_synth(v, ctext, C.float(engine.stretch[id]/rate), C.float(factor), (*C.int)(unsafe.Pointer(stop)), &interrupted)
	if u == nil {
		return dst, fmt.Errorf("flite: synthesis failed for %q", abbreviate(text))
	}
	defer C.delete_utterance(u)
	if interrupted != 0 {
		return dst, errInterrupted
	}
	if got := int(C.sb_wave_rate(u)); got != voiceTable[id].rate {
		return dst, fmt.Errorf("flite: voice %s produced %d Hz, expected %d", voiceTable[id].name, got, voiceTable[id].rate)
	}
	if n := int(C.sb_wave_len(u)); n > 0 {
		dst = append(dst, unsafe.Slice((*int16)(unsafe.Pointer(C.sb_wave_samples(u))), n)...)
	}
	return dst, nil
}

func abbreviate(text string) string {
	const n = 40
	if len(text) <= n {
		return text
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}
