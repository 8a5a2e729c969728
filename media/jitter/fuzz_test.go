package jitter

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// fuzzOps drives a Buffer with operations decoded from data and checks its
// invariants. It returns an error message, or "" if all held.
//
// data[0] chooses the configuration; then each operation is one opcode byte
// followed by its arguments:
//
//	0-3  push the next packet: seq delta (int8), timestamp delta (int16 × 8),
//	     flags (bit 0 marker, bits 1-6 payload length), arrival delay (ms)
//	4    pop: clock advance in ms
//	5    pop after exactly 20 ms (the usual cadence)
//	6    reset
//	7    jump: seq (uint16), timestamp (uint32) and a clock jump (s)
func fuzzOps(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	cfg := Config{}
	if data[0]&1 != 0 {
		cfg.Mode = Fixed
	}
	cfg.Depth = time.Duration(data[0]>>1) * 3 * time.Millisecond
	cfg.MaxDepth = 500 * time.Millisecond
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = b.Config()
	data = data[1:]
	next := func(n int) []byte {
		if len(data) < n {
			data = nil
			return nil
		}
		p := data[:n]
		data = data[n:]
		return p
	}

	type sent struct {
		payload []byte
		popped  bool
	}
	var (
		now      = epoch
		seq      uint16
		ts       uint32
		packets  []sent
		lastSeq  uint16
		havePop  bool
		epochs   uint64 // resets + resyncs when the last packet was popped
		ready    uint64
		missing  uint64
		received uint64
	)
	check := func(cond bool, format string, args ...any) {
		t.Helper()
		if !cond {
			t.Fatalf(format, args...)
		}
	}
	for len(data) > 0 {
		op := next(1)
		if op == nil {
			break
		}
		switch o := op[0] % 8; {
		case o < 4:
			a := next(5)
			if a == nil {
				break
			}
			seq += uint16(int8(a[0]))
			ts += uint32(int32(int16(binary.BigEndian.Uint16(a[1:]))) * 8)
			id := len(packets)
			n := 8 + int(a[3]>>1&63)
			p := make([]byte, n)
			binary.BigEndian.PutUint64(p, uint64(id))
			for i := 8; i < n; i++ {
				p[i] = byte(id + i)
			}
			packets = append(packets, sent{payload: bytes.Clone(p)})
			arrival := now.Add(time.Duration(a[4]) * time.Millisecond)
			err := b.Push(seq, ts, a[3]&1 != 0, p, arrival)
			received++
			check(err == nil || err == ErrDuplicate || err == ErrLate, "push: unexpected error %v", err)
			p[0] ^= 0xff // the buffer must have copied it
		case o == 4 || o == 5:
			d := 20 * time.Millisecond
			if o == 4 {
				a := next(1)
				if a == nil {
					break
				}
				d = time.Duration(a[0]) * time.Millisecond
			}
			now = now.Add(d)
			pkt, st := b.Pop(now)
			s := b.Stats()
			switch st {
			case Ready:
				ready++
				check(len(pkt.Payload) >= 8, "payload of %d bytes", len(pkt.Payload))
				id := int(binary.BigEndian.Uint64(pkt.Payload))
				check(id >= 0 && id < len(packets), "popped unknown packet %d", id)
				check(bytes.Equal(packets[id].payload, pkt.Payload), "packet %d corrupted", id)
				check(!packets[id].popped, "packet %d popped twice", id)
				packets[id].popped = true
				if e := s.Resets + s.Resyncs; havePop && e == epochs {
					check(int16(pkt.Sequence-lastSeq) > 0, "sequence went from %d to %d", lastSeq, pkt.Sequence)
				}
				lastSeq, havePop, epochs = pkt.Sequence, true, s.Resets+s.Resyncs
			case Missing:
				missing++
			case Buffering:
			default:
				t.Fatalf("status %v", st)
			}
			check(s.Played == ready, "played %d, ready pops %d", s.Played, ready)
			check(s.Concealed == missing, "concealed %d, missing pops %d", s.Concealed, missing)
			check(s.Received == received, "received %d, pushes %d", s.Received, received)
			check(s.Buffered >= 0 && int64(s.Buffered) <= b.capacity, "buffered %d", s.Buffered)
			check(s.TargetDepth <= cfg.MaxDepth, "target %v above max", s.TargetDepth)
			if cfg.Mode == Fixed {
				check(s.TargetDepth == cfg.Depth, "fixed target %v", s.TargetDepth)
			} else {
				check(s.TargetDepth >= cfg.MinDepth, "target %v below min", s.TargetDepth)
			}
			check(s.FrameDuration > 0 && s.FrameDuration <= 250*time.Millisecond, "frame %v", s.FrameDuration)
		case o == 6:
			b.Reset()
		case o == 7:
			a := next(7)
			if a == nil {
				break
			}
			seq = binary.BigEndian.Uint16(a)
			ts = binary.BigEndian.Uint32(a[2:])
			now = now.Add(time.Duration(a[6]) * time.Second)
		}
	}
}

func FuzzBuffer(f *testing.F) {
	// In order, reordered, duplicated, late, wrapped, reset and jumped streams.
	f.Add([]byte{30, 0, 1, 0, 20, 0, 5, 0, 1, 0, 20, 0, 5, 0, 1, 0, 20, 0, 5, 5, 5, 5, 5})
	f.Add([]byte{31, 0, 2, 0, 40, 0, 30, 0, 255, 255, 96, 0, 10, 0, 1, 0, 20, 0, 5, 5, 5, 5, 5, 5})
	f.Add([]byte{10, 0, 1, 0, 20, 2, 5, 0, 0, 0, 0, 2, 5, 5, 0, 1, 0, 20, 0, 200, 5, 5, 5})
	f.Add([]byte{15, 7, 255, 250, 255, 255, 0, 0, 0, 0, 1, 0, 20, 0, 5, 0, 1, 0, 20, 0, 5, 0, 1, 0, 20, 0, 5, 5, 5})
	f.Add([]byte{20, 0, 1, 0, 20, 0, 5, 6, 7, 0, 9, 0, 0, 0, 0, 3, 0, 1, 0, 20, 0, 5, 5, 5, 5})
	f.Add([]byte{0, 0, 100, 0, 20, 0, 5, 0, 1, 0, 20, 0, 5, 4, 255, 4, 255, 0, 1, 0, 20, 0, 5})
	f.Fuzz(fuzzOps)
}
