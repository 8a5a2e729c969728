//go:build !cgo

package pocketsphinx

import (
	"errors"
	"testing"
)

func TestNoCgo(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("New without cgo: %v, want ErrNoCgo", err)
	}
}
