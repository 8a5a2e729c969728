package dtmf

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutines; the check keeps it that way (the talk-off
// test runs external processes).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
