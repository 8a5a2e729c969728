package dtmf

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rtpIn is one received telephone-event packet.
type rtpIn struct {
	at     time.Duration // arrival, from the start of the test clock
	seq    uint16
	ts     uint32
	marker bool
	ev     Event
	raw    []byte // payload override (malformed input)
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// feed passes the packets to a fresh receiver and returns its reports (with a
// Tick at tickAt, if positive) and the receiver.
func feed(t *testing.T, cfg ReceiverConfig, in []rtpIn, tickAt time.Duration) ([]Received, *Receiver) {
	t.Helper()
	r, err := NewReceiver(cfg)
	require.NoError(t, err)
	var out []Received
	for _, p := range in {
		payload := p.raw
		if payload == nil {
			payload = p.ev.Marshal(nil)
		}
		out, _ = r.Receive(out, epoch.Add(p.at), p.seq, p.ts, p.marker, payload)
	}
	if tickAt > 0 {
		out = r.Tick(out, epoch.Add(tickAt))
	}
	return out, r
}

// keyPress is the packets a conformant sender emits for one 100 ms key press at
// 8 kHz with 20 ms packets, starting at arrival time at and sequence seq.
func keyPress(code uint8, ts uint32, seq uint16, at time.Duration) []rtpIn {
	var ps []rtpIn
	durs := []uint16{160, 320, 480, 640, 800, 800, 800}
	for i, d := range durs {
		ps = append(ps, rtpIn{
			at: at + time.Duration(i)*20*ms, seq: seq + uint16(i), ts: ts, marker: i == 0,
			ev: Event{Code: code, End: i >= 4, Volume: 10, Duration: d},
		})
	}
	return ps
}

func start(code uint8, ts uint32, dur time.Duration, late bool) Received {
	d, _ := CodeDigit(code)
	return Received{Kind: DigitStart, Code: code, Digit: d, Timestamp: ts, Duration: dur, Volume: 10, Late: late}
}

func end(code uint8, ts uint32, dur time.Duration, timedOut bool) Received {
	d, _ := CodeDigit(code)
	return Received{Kind: DigitEnd, Code: code, Digit: d, Timestamp: ts, Duration: dur, Volume: 10, TimedOut: timedOut}
}

func pick(ps []rtpIn, idx ...int) []rtpIn {
	var out []rtpIn
	for _, i := range idx {
		out = append(out, ps[i])
	}
	return out
}

func concat(lists ...[]rtpIn) []rtpIn {
	var out []rtpIn
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestReceiverScenarios(t *testing.T) {
	a := keyPress(1, 8000, 100, 0)
	b := keyPress(CodePound, 8000+2400, 110, 300*ms)
	cases := []struct {
		name   string
		in     []rtpIn
		tickAt time.Duration
		want   []Received
	}{
		{"clean", a, 0, []Received{start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false)}},
		{"two keys", concat(a, b), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
			start(CodePound, 10400, 20*ms, false), end(CodePound, 10400, 100*ms, false),
		}},
		{"first packets lost", pick(a, 2, 3, 4, 5, 6), 0, []Received{start(1, 8000, 60*ms, true), end(1, 8000, 100*ms, false)}},
		{"only one end copy", pick(a, 5), 0, []Received{start(1, 8000, 100*ms, true), end(1, 8000, 100*ms, false)}},
		{"duplicates", pick(a, 0, 0, 1, 1, 2, 3, 4, 4, 5, 6, 6, 6), 0, []Received{start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false)}},
		{"reordered", pick(a, 1, 0, 3, 2, 5, 4, 6), 0, []Received{start(1, 8000, 40*ms, true), end(1, 8000, 100*ms, false)}},
		{"end before updates", pick(a, 0, 4, 1, 2, 3, 5, 6), 0, []Received{start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false)}},
		{"end copies after next key", concat(pick(a, 0, 1, 2, 3, 4), pick(b, 0), pick(a, 5, 6), pick(b, 1, 2, 3, 4, 5, 6)), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
			start(CodePound, 10400, 20*ms, false), end(CodePound, 10400, 100*ms, false),
		}},
		{"all end packets lost, next key", concat(pick(a, 0, 1, 2), b), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 60*ms, true),
			start(CodePound, 10400, 20*ms, false), end(CodePound, 10400, 100*ms, false),
		}},
		{"all end packets lost, timeout", pick(a, 0, 1, 2), time.Second + 40*ms, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 60*ms, true),
		}},
		{"not yet timed out", pick(a, 0, 1, 2), time.Second + 39*ms, []Received{start(1, 8000, 20*ms, false)}},
		{"late packets after timeout", concat(pick(a, 0, 1, 2), []rtpIn{{at: 2 * time.Second, seq: 104, ts: 8000, ev: Event{Code: 1, End: true, Volume: 10, Duration: 800}}}), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 60*ms, true),
		}},
		{"older event after newer", concat(b, pick(a, 0, 1, 2, 3, 4, 5, 6)), 0, []Received{
			start(CodePound, 10400, 20*ms, false), end(CodePound, 10400, 100*ms, false),
		}},
		{"timestamp wrap", concat(keyPress(2, 0xfffffc00, 500, 0), keyPress(3, 0x00000200, 520, 300*ms), pick(keyPress(2, 0xfffffc00, 500, 0), 6)), 0, []Received{
			start(2, 0xfffffc00, 20*ms, false), end(2, 0xfffffc00, 100*ms, false),
			start(3, 0x200, 20*ms, false), end(3, 0x200, 100*ms, false),
		}},
		{"sender clock jumps back", concat(a, keyPress(4, 500, 120, 400*ms)), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
			start(4, 500, 20*ms, false), end(4, 500, 100*ms, false),
		}},
		{"same key twice", concat(a, keyPress(1, 8000+1600, 107, 200*ms)), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
			start(1, 9600, 20*ms, false), end(1, 9600, 100*ms, false),
		}},
		{"zero-duration first packet", concat([]rtpIn{{seq: 99, ts: 8000, marker: true, ev: Event{Code: 1, Volume: 10}}}, pick(a, 1, 2, 3, 4, 5, 6)), 0, []Received{
			start(1, 8000, 0, false), end(1, 8000, 100*ms, false),
		}},
		{"malformed ignored", concat([]rtpIn{{seq: 99, ts: 7000, marker: true, raw: []byte{1, 2}}, {seq: 98, ts: 7000, raw: make([]byte, 8)}}, a), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
		}},
		{"non-key event", keyPress(40, 8000, 1, 0), 0, []Received{
			{Kind: DigitStart, Code: 40, Timestamp: 8000, Duration: 20 * ms, Volume: 10},
			{Kind: DigitEnd, Code: 40, Timestamp: 8000, Duration: 100 * ms, Volume: 10},
		}},
		{"restart after idle", concat(a, keyPress(5, 10, 60000, time.Minute)), 0, []Received{
			start(1, 8000, 20*ms, false), end(1, 8000, 100*ms, false),
			start(5, 10, 20*ms, false), end(5, 10, 100*ms, false),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := feed(t, ReceiverConfig{}, tc.in, tc.tickAt)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestReceiverStats(t *testing.T) {
	a := keyPress(1, 8000, 100, 0)
	in := concat(a, pick(a, 6), []rtpIn{{seq: 50, ts: 10, ev: Event{Code: 3, Duration: 160}}, {seq: 51, ts: 10, raw: []byte{1}}})
	_, r := feed(t, ReceiverConfig{}, in, 0)
	assert.Equal(t, ReceiverStats{Packets: 10, Malformed: 1, Duplicates: 3, Stale: 1, Events: 1}, r.Stats())
}

func TestReceiverErrors(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{})
	require.NoError(t, err)
	_, err = r.Receive(nil, epoch, 1, 1, true, []byte{1, 2, 3})
	assert.ErrorIs(t, err, ErrShortPayload)
	_, err = r.Receive(nil, epoch, 1, 1, true, make([]byte, 8))
	assert.ErrorIs(t, err, ErrMultipleEvents)
	_, err = r.Receive(nil, epoch, 1, 1, true, make([]byte, 6))
	assert.ErrorIs(t, err, ErrPayloadLength)
	_, err = NewReceiver(ReceiverConfig{ClockRate: 10})
	assert.ErrorIs(t, err, ErrClockRate)
	_, err = NewReceiver(ReceiverConfig{Timeout: -time.Second})
	assert.Error(t, err)
}

// TestReceiverLongEvent: the segments of a long event (here 3 s at 48 kHz) make
// one key press, even when a segment's end packets are lost.
func TestReceiverLongEvent(t *testing.T) {
	for _, dropSegmentEnds := range []bool{false, true} {
		s, err := NewSender(SenderConfig{PayloadType: 101, ClockRate: 48000})
		require.NoError(t, err)
		require.NoError(t, s.Send('0', 3*time.Second, 10))
		r, err := NewReceiver(ReceiverConfig{ClockRate: 48000})
		require.NoError(t, err)
		var out []Received
		var ts uint32 = 0xfffe0000
		seq := uint16(0xfff0)
		now := epoch
		for s.Busy() {
			p, ok := s.Next(ts)
			ts += 960
			now = now.Add(20 * ms)
			if !ok || (dropSegmentEnds && p.Event.Duration == 0xffff) {
				continue
			}
			seq++
			out, err = r.Receive(out, now, seq, p.Timestamp, p.Marker, p.Payload[:])
			require.NoError(t, err)
		}
		require.Len(t, out, 2, "drop segment ends: %v", dropSegmentEnds)
		assert.Equal(t, Received{Kind: DigitStart, Code: 0, Digit: '0', Timestamp: 0xfffe0000, Duration: 20 * ms, Volume: 10}, out[0])
		assert.Equal(t, Received{Kind: DigitEnd, Code: 0, Digit: '0', Timestamp: 0xfffe0000, Duration: 3 * time.Second, Volume: 10}, out[1])
	}
}

// TestSenderReceiverLossyChannel: whatever a lossy, duplicating, reordering
// network does (short of losing every packet of a key press), each key arrives
// exactly once, in order.
func TestSenderReceiverLossyChannel(t *testing.T) {
	const keys = "0123456789*#ABCD!5555"
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		loss := rng.Float64() * 0.5
		for _, rate := range []int{8000, 16000, 48000} {
			s, err := NewSender(SenderConfig{PayloadType: 101, ClockRate: rate, Gap: time.Duration(40+rng.IntN(60)) * ms})
			require.NoError(t, err)
			require.NoError(t, s.SendString(keys, time.Duration(40+rng.IntN(200))*ms, 10))
			type inflight struct {
				due time.Duration
				seq uint16
				p   Packet
			}
			var net []inflight
			ts := rng.Uint32()
			seq := uint16(rng.UintN(65536))
			perTick := uint32(rate / 50)
			now := time.Duration(0)
			pressSent := map[uint32]bool{} // events with at least one packet through
			for s.Busy() {
				p, ok := s.Next(ts)
				seq++ // audio packets take sequence numbers too
				if ok {
					// Keep the first packet of every press so no press vanishes entirely.
					if !pressSent[p.Timestamp] || rng.Float64() >= loss {
						pressSent[p.Timestamp] = true
						copies := 1 + rng.IntN(2)*rng.IntN(2) // sometimes duplicated
						for range copies {
							net = append(net, inflight{due: now + time.Duration(rng.IntN(30))*ms, seq: seq, p: p})
						}
					}
				}
				ts += perTick
				now += 20 * ms
			}
			// Deliver in arrival order (jitter of up to 30 ms reorders neighbours).
			for i := 1; i < len(net); i++ {
				for j := i; j > 0 && net[j].due < net[j-1].due; j-- {
					net[j], net[j-1] = net[j-1], net[j]
				}
			}
			r, err := NewReceiver(ReceiverConfig{ClockRate: rate})
			require.NoError(t, err)
			var out []Received
			for _, x := range net {
				out, err = r.Receive(out, epoch.Add(x.due), x.seq, x.p.Timestamp, x.p.Marker, x.p.Payload[:])
				require.NoError(t, err)
			}
			out = r.Tick(out, epoch.Add(now+10*time.Second))
			var got strings.Builder
			for i, x := range out {
				if i%2 == 0 {
					require.Equal(t, DigitStart, x.Kind)
					got.WriteRune(x.Digit)
				} else {
					require.Equal(t, DigitEnd, x.Kind)
					require.Equal(t, out[i-1].Timestamp, x.Timestamp)
				}
			}
			require.Equal(t, keys, got.String(), "seed %d rate %d loss %.2f", seed, rate, loss)
		}
	}
}

func TestReceiverReset(t *testing.T) {
	a := keyPress(1, 8000, 100, 0)
	r, err := NewReceiver(ReceiverConfig{})
	require.NoError(t, err)
	var out []Received
	for _, p := range a[:3] {
		out, _ = r.Receive(out, epoch.Add(p.at), p.seq, p.ts, p.marker, p.ev.Marshal(nil))
	}
	require.Len(t, out, 1)
	r.Reset()
	assert.Empty(t, r.Tick(nil, epoch.Add(time.Hour)), "no timeout after Reset")
	// The same press on a new stream is a new press.
	out = nil
	for _, p := range a {
		out, _ = r.Receive(out, epoch.Add(p.at), p.seq, p.ts, p.marker, p.ev.Marshal(nil))
	}
	assert.Len(t, out, 2)
	assert.Equal(t, uint64(2), r.Stats().Events, "stats survive Reset")
}

func TestReceiverNoAllocs(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{})
	require.NoError(t, err)
	dst := make([]Received, 0, 3)
	payload := make([]byte, 0, 4)
	var i int
	allocs := testing.AllocsPerRun(1000, func() {
		k := i % 7
		ts := uint32(i/7) * 1600
		payload = Event{Code: 5, End: k >= 4, Volume: 10, Duration: uint16(min(k+1, 5) * 160)}.Marshal(payload[:0])
		out, err := r.Receive(dst[:0], epoch.Add(time.Duration(i)*20*ms), uint16(i), ts, k == 0, payload)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Tick(out, epoch.Add(time.Duration(i)*20*ms))
		i++
	})
	assert.Zero(t, allocs)
}

// FuzzReceiver feeds arbitrary packet sequences. Each 12-byte record is: time
// since the previous packet in 10 ms units; flags (bit 0 marker, bit 1 call Tick
// after, bits 5-7 payload shape: 1 two bytes, 2 empty, 3 eight bytes, else the
// four bytes); sequence number; timestamp; 4 payload bytes. The reports must
// pair up: every DigitStart is followed by exactly one DigitEnd of the same
// press, and the stats must agree.
func FuzzReceiver(f *testing.F) {
	add := func(in []rtpIn) {
		var b []byte
		var last time.Duration
		for _, p := range in {
			step := min((p.at-last)/(10*ms), 255)
			last = p.at
			flags := byte(0)
			if p.marker {
				flags |= 1
			}
			b = append(b, byte(step), flags)
			b = binary.BigEndian.AppendUint16(b, p.seq)
			b = binary.BigEndian.AppendUint32(b, p.ts)
			b = p.ev.Marshal(b)
		}
		f.Add(b)
	}
	a := keyPress(1, 8000, 100, 0)
	b := keyPress(CodePound, 10400, 110, 300*ms)
	add(a)
	add(concat(a, b))
	add(pick(a, 3, 1, 0, 6, 2, 5, 4, 4))
	add(concat(pick(a, 0, 1), b, pick(a, 5)))
	add(concat(keyPress(2, 0xfffffc00, 65530, 0), keyPress(3, 0x200, 4, 300*ms)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReceiver(ReceiverConfig{Timeout: 200 * ms})
		if err != nil {
			t.Fatal(err)
		}
		now := epoch
		var out []Received
		for len(data) >= 12 {
			rec := data[:12]
			data = data[12:]
			now = now.Add(time.Duration(rec[0]) * 10 * ms)
			plen := 4
			switch rec[1] >> 5 { // the top flag bits make malformed payloads
			case 1:
				plen = 2
			case 2:
				plen = 0
			}
			payload := append(make([]byte, 0, 8), rec[8:8+plen]...)
			if rec[1]>>5 == 3 {
				payload = append(payload, rec[8:12]...)
			}
			out, err = r.Receive(out, now, binary.BigEndian.Uint16(rec[2:]), binary.BigEndian.Uint32(rec[4:]), rec[1]&1 != 0, payload)
			if err != nil && !errors.Is(err, ErrShortPayload) && !errors.Is(err, ErrMultipleEvents) && !errors.Is(err, ErrPayloadLength) {
				t.Fatalf("undocumented error %v", err)
			}
			if rec[1]&2 != 0 {
				out = r.Tick(out, now)
			}
		}
		out = r.Tick(out, now.Add(time.Hour))
		open := false
		var cur Received
		starts := 0
		for _, x := range out {
			switch x.Kind {
			case DigitStart:
				if open {
					t.Fatalf("start %+v while %+v open", x, cur)
				}
				open, cur = true, x
				starts++
				if d, ok := CodeDigit(x.Code); ok != (x.Digit != 0) || d != x.Digit {
					t.Fatalf("digit %q for code %d", x.Digit, x.Code)
				}
			case DigitEnd:
				if !open || x.Timestamp != cur.Timestamp || x.Code != cur.Code || x.Duration < 0 {
					t.Fatalf("end %+v does not match start %+v", x, cur)
				}
				open = false
			default:
				t.Fatalf("kind %v", x.Kind)
			}
		}
		if open {
			t.Fatalf("press %+v never ended", cur)
		}
		if st := r.Stats(); st.Events != uint64(starts) {
			t.Fatalf("stats %+v, %d starts", st, starts)
		}
	})
}
