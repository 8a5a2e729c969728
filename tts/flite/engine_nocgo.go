//go:build !cgo

package flite

// engineAvailable reports why flite cannot be used: this build has no cgo.
func engineAvailable() error { return ErrNoCgo }

func synthesize(dst []int16, _ int, _ string, _, _ float64, _ *int32) ([]int16, error) {
	return dst, ErrNoCgo
}
