//go:build race

package rtpsession

// raceEnabled: under the race detector sync.Pool drops a random share of what is put
// back, so pion/srtp's pooled CTR buffer is sometimes allocated anew.
const raceEnabled = true
