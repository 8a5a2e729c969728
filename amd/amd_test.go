package amd

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Greeting: 2 * time.Second}.WithDefaults()
	assert.Equal(t, 2*time.Second, c.Greeting, "set fields are kept")
	assert.Equal(t, 2500*time.Millisecond, c.InitialSilence)
	assert.Equal(t, 5*time.Second, c.TotalAnalysis)
	assert.Equal(t, 3, c.MaxWords)
	assert.Equal(t, "machine", Machine.String())
}
