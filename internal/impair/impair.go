package impair

import (
	"log/slog"
	"time"
)

// Distribution is the shape of the jitter added to each packet's delay.
type Distribution int

const (
	// Uniform jitter is drawn uniformly from [-Jitter, +Jitter].
	Uniform Distribution = iota
	// Normal jitter is drawn from a normal distribution with standard deviation Jitter,
	// clamped to ±3 Jitter so a rare sample cannot hold a packet for seconds (the clamp
	// lowers the standard deviation by a quarter of a percent).
	Normal
)

// String names the distribution.
func (d Distribution) String() string {
	switch d {
	case Uniform:
		return "uniform"
	case Normal:
		return "normal"
	default:
		return "Distribution(?)"
	}
}

// Impairment describes what happens to packets travelling in one direction. The zero
// value forwards every packet at once, unchanged and in order.
type Impairment struct {
	// Loss is the probability in [0, 1] that a packet is dropped.
	Loss float64
	// Delay is added to every packet. Negative values count as zero.
	Delay time.Duration
	// Jitter varies the delay of each packet around Delay (see Distribution). A packet's
	// total delay never goes below zero.
	Jitter time.Duration
	// Distribution is the shape of the jitter. The default is Uniform.
	Distribution Distribution
	// Reorder lets a packet with a short delay overtake one that arrived earlier with a
	// longer delay. When false, a packet never leaves before the one that arrived before
	// it: its release time is max(arrival + delay, previous release), so jitter bunches
	// packets up instead of reordering them (and the mean delay grows a little when the
	// packet interval is shorter than the jitter).
	Reorder bool
	// Duplicate is the probability in [0, 1] that a forwarded packet is sent twice; the
	// copy gets its own delay draw.
	Duplicate float64
}

// Config configures a relay: the impairment of each direction and the random seed.
type Config struct {
	// Upstream is applied to packets from a client to the target.
	Upstream Impairment
	// Downstream is applied to packets from the target back to a client.
	Downstream Impairment
	// Seed makes the impairment reproducible: the same seed and the same sequence of
	// packets in a direction give the same drops, duplicates and delays. Zero is a valid
	// seed like any other. Loss and duplication use a random stream separate from the
	// delays, so changing Delay, Jitter or Distribution does not change which packets
	// are dropped.
	Seed uint64
	// MaxClients caps the number of distinct client addresses (each gets its own upstream
	// socket). Packets from further clients are counted in Stats.Rejected and dropped.
	// Zero means 64.
	MaxClients int
	// Logger receives debug messages (new clients, socket errors). Nil discards them.
	Logger *slog.Logger
}

// DirectionStats counts what happened to the packets of one direction. Received,
// Dropped, Duplicated and Reordered are counted when a packet arrives; Forwarded and
// Errors when its write returns, so they can lag behind a packet the far side already has.
type DirectionStats struct {
	Received   uint64 // packets that arrived at the relay
	Dropped    uint64 // packets discarded by Loss
	Duplicated uint64 // packets sent twice
	Reordered  uint64 // copies scheduled to leave before a copy that arrived earlier
	Forwarded  uint64 // copies written to the far side (duplicates included)
	Errors     uint64 // copies whose write failed (e.g. nobody listens at the target)
}

// Stats is a snapshot of a relay's counters.
type Stats struct {
	Upstream   DirectionStats // client → target
	Downstream DirectionStats // target → client
	Clients    int            // distinct client addresses seen
	Rejected   uint64         // packets from clients beyond Config.MaxClients
}
