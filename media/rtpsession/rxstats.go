package rtpsession

import "time"

// RFC 3550 A.1 sequence validation limits.
const (
	maxDropout  = 3000
	maxMisorder = 100
	dupWindow   = 128 // sequence numbers remembered for duplicate detection
)

type seqVerdict uint8

const (
	seqOK seqVerdict = iota
	seqDuplicate
	seqJump // first packet after a large jump; a second in-order one restarts the sequence
)

// rxStats keeps the reception statistics of one remote source: RFC 3550 A.1 (extended
// sequence numbers), A.3 (loss) and A.8 (interarrival jitter). Duplicates are detected
// over the last dupWindow sequence numbers and are not counted as received, so the
// cumulative loss does not go negative on duplication. Not safe for concurrent use.
type rxStats struct {
	started  bool
	maxSeq   uint16
	cycles   uint32 // sequence number cycles, shifted left 16
	baseSeq  uint32
	badSeq   uint32 // RFC 3550 bad_seq: expected next seq after a jump, 1<<16+1 when none
	received uint64 // unique packets
	dups     uint64

	expectedPrior uint64
	receivedPrior uint64

	haveTransit bool
	transit     uint32
	jitter      float64 // RFC 3550 J, in timestamp units

	seen [dupWindow / 64]uint64 // bit i: maxSeq-i was received
}

func (r *rxStats) reset() { *r = rxStats{} }

func (r *rxStats) restart(seq uint16) {
	r.started = true
	r.maxSeq = seq
	r.baseSeq = r.cycles + uint32(seq)
	r.badSeq = 1<<16 + 1
	r.seen = [dupWindow / 64]uint64{}
	r.setSeen(0)
}

// extMax is the extended highest sequence number received.
func (r *rxStats) extMax() uint32 { return r.cycles + uint32(r.maxSeq) }

func (r *rxStats) expected() uint64 {
	if !r.started {
		return 0
	}
	return uint64(r.extMax()-r.baseSeq) + 1
}

// lost is the cumulative number of packets lost (RFC 3550 A.3).
func (r *rxStats) lost() int64 { return int64(r.expected()) - int64(r.received) }

func (r *rxStats) setSeen(back uint16) { r.seen[back/64] |= 1 << (back % 64) }

func (r *rxStats) isSeen(back uint16) bool { return r.seen[back/64]&(1<<(back%64)) != 0 }

// shift moves the duplicate window forward by n sequence numbers.
func (r *rxStats) shift(n uint16) {
	if n >= dupWindow {
		r.seen = [dupWindow / 64]uint64{}
		return
	}
	for ; n > 0; n-- { // n < 128 and usually 1
		r.seen[1] = r.seen[1]<<1 | r.seen[0]>>63
		r.seen[0] <<= 1
	}
}

// update accounts one packet's sequence number.
func (r *rxStats) update(seq uint16) seqVerdict {
	if !r.started {
		r.restart(seq)
		r.received++
		return seqOK
	}
	udelta := seq - r.maxSeq
	switch {
	case udelta == 0:
		r.dups++
		return seqDuplicate
	case udelta < maxDropout:
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.shift(udelta)
		r.maxSeq = seq
		r.setSeen(0)
		r.received++
		return seqOK
	case udelta <= 1<<16-maxMisorder:
		// A large jump: the source restarted or is misbehaving. Restart the
		// sequence only when the next packet follows this one (RFC 3550 A.1).
		if uint32(seq) == r.badSeq {
			// Count this packet and the one before it, and move the base past the
			// numbers jumped over so that they do not count as lost.
			old := r.extMax()
			next := r.cycles + uint32(seq)
			for next <= old+1 {
				r.cycles += 1 << 16
				next += 1 << 16
			}
			r.baseSeq += next - old - 2
			r.maxSeq = seq
			r.seen = [dupWindow / 64]uint64{}
			r.setSeen(0)
			r.setSeen(1)
			r.received += 2
			r.badSeq = 1<<16 + 1
			return seqOK
		}
		r.badSeq = uint32(seq+1) & 0xffff
		return seqJump
	default:
		back := r.maxSeq - seq
		if back < dupWindow {
			if r.isSeen(back) {
				r.dups++
				return seqDuplicate
			}
			r.setSeen(back)
		}
		r.received++
		return seqOK
	}
}

// updateJitter folds one packet's transit time into the interarrival jitter (RFC 3550
// A.8). arrival is the arrival time in timestamp units on any fixed origin.
func (r *rxStats) updateJitter(arrival uint32, ts uint32) {
	transit := arrival - ts
	if r.haveTransit {
		d := int32(transit - r.transit)
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit = transit
	r.haveTransit = true
}

// reportBlock returns the fraction lost since the previous call, the cumulative loss
// clamped to 24 bits, the extended highest sequence and the jitter, and starts a new
// interval.
func (r *rxStats) reportBlock() (fraction uint8, cumulative uint32, extMax uint32, jitter uint32) {
	expected := r.expected()
	expInt := expected - r.expectedPrior
	recInt := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	if lostInt := int64(expInt) - int64(recInt); expInt > 0 && lostInt > 0 {
		fraction = uint8((lostInt << 8) / int64(expInt))
	}
	lost := r.lost()
	switch {
	case lost > 0x7fffff:
		lost = 0x7fffff
	case lost < -0x800000:
		lost = -0x800000
	}
	return fraction, uint32(lost) & 0xffffff, r.extMax(), uint32(r.jitter)
}

// ntpTime converts t to a 64-bit NTP timestamp (seconds since 1900 in the high word).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of the NTP timestamp of t, the unit of LSR and DLSR
// (1/65536 s).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// ntpShortToDuration converts a 16.16 fixed point NTP duration to a time.Duration.
func ntpShortToDuration(v uint32) time.Duration {
	return time.Duration(uint64(v) * uint64(time.Second) >> 16)
}

// durationToNTPShort converts d to 16.16 fixed point seconds.
func durationToNTPShort(d time.Duration) uint32 {
	if d < 0 {
		return 0
	}
	return uint32(uint64(d) << 16 / uint64(time.Second))
}
