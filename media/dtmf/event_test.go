package dtmf

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventCases is shared by the Marshal and Unmarshal tests.
var eventCases = []struct {
	name string
	ev   Event
	wire []byte
}{
	{"digit 5 start", Event{Code: 5, Volume: 10, Duration: 160}, []byte{0x05, 0x0a, 0x00, 0xa0}},
	{"pound end", Event{Code: CodePound, End: true, Volume: 10, Duration: 800}, []byte{0x0b, 0x8a, 0x03, 0x20}},
	{"D loudest", Event{Code: CodeD, Volume: 0, Duration: 1}, []byte{0x0f, 0x00, 0x00, 0x01}},
	{"flash quietest max duration", Event{Code: CodeFlash, End: true, Volume: 63, Duration: 0xffff}, []byte{0x10, 0xbf, 0xff, 0xff}},
	{"non-key code", Event{Code: 32, Volume: 20, Duration: 4000}, []byte{0x20, 0x14, 0x0f, 0xa0}},
	{"zero", Event{}, []byte{0, 0, 0, 0}},
}

func TestEventMarshal(t *testing.T) {
	for _, tc := range eventCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wire, tc.ev.Marshal(nil))
			prefix := []byte{0xde, 0xad}
			assert.Equal(t, append(append([]byte{}, prefix...), tc.wire...), tc.ev.Marshal(prefix), "appends")
		})
	}
	// The 6-bit volume field cannot say more than 63: clamp, never spill into R or E.
	assert.Equal(t, []byte{1, 0x3f, 0, 1}, Event{Code: 1, Volume: 200, Duration: 1}.Marshal(nil))
	assert.Equal(t, []byte{1, 0xbf, 0, 1}, Event{Code: 1, End: true, Volume: 64, Duration: 1}.Marshal(nil))
}

func TestEventUnmarshal(t *testing.T) {
	for _, tc := range eventCases {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			require.NoError(t, ev.Unmarshal(tc.wire))
			assert.Equal(t, tc.ev, ev)
			// The reserved bit is ignored.
			r := append([]byte{}, tc.wire...)
			r[1] |= 0x40
			var ev2 Event
			require.NoError(t, ev2.Unmarshal(r))
			assert.Equal(t, tc.ev, ev2)
		})
	}
}

func TestEventUnmarshalErrors(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"nil", nil, ErrShortPayload},
		{"empty", []byte{}, ErrShortPayload},
		{"3 bytes", []byte{1, 2, 3}, ErrShortPayload},
		{"5 bytes", []byte{1, 2, 3, 4, 5}, ErrPayloadLength},
		{"7 bytes", []byte{1, 2, 3, 4, 5, 6, 7}, ErrPayloadLength},
		{"two events", []byte{1, 0x0a, 0, 160, 2, 0x0a, 0, 160}, ErrMultipleEvents},
		{"three events", make([]byte, 12), ErrMultipleEvents},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{Code: 9, Duration: 7}
			err := ev.Unmarshal(tc.payload)
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, Event{Code: 9, Duration: 7}, ev, "unchanged on error")
		})
	}
}

func TestEventString(t *testing.T) {
	assert.Equal(t, "5 vol=10 dur=160", eventCases[0].ev.String())
	assert.Equal(t, "# end vol=10 dur=800", eventCases[1].ev.String())
	assert.Equal(t, "code32 vol=20 dur=4000", eventCases[4].ev.String())
}

func TestDigitCode(t *testing.T) {
	keys := "0123456789*#ABCD!"
	for i, r := range keys {
		code, ok := DigitCode(r)
		require.True(t, ok, "%q", r)
		assert.Equal(t, uint8(i), code, "%q", r)
		back, ok := CodeDigit(code)
		require.True(t, ok)
		assert.Equal(t, r, back)
	}
	for i, r := range "abcd" {
		code, ok := DigitCode(r)
		require.True(t, ok)
		assert.Equal(t, CodeA+uint8(i), code)
	}
	for _, r := range "xE/ :+-é\x00" {
		_, ok := DigitCode(r)
		assert.False(t, ok, "%q", r)
	}
	for code := 17; code < 256; code++ {
		_, ok := CodeDigit(uint8(code))
		assert.False(t, ok, "code %d", code)
	}
}

func TestEventMarshalNoAllocs(t *testing.T) {
	buf := make([]byte, 0, PayloadSize)
	var ev Event
	allocs := testing.AllocsPerRun(100, func() {
		b := Event{Code: 3, End: true, Volume: 10, Duration: 480}.Marshal(buf[:0])
		if err := ev.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzUnmarshal: any input either decodes to an event that marshals back to the
// same bytes (less the reserved bit), or fails with one of the documented errors.
func FuzzUnmarshal(f *testing.F) {
	for _, tc := range eventCases {
		f.Add(tc.wire)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{1, 0x4a, 0, 160})
	f.Add([]byte{1, 0x0a, 0, 160, 1, 0x8a, 0, 160})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev Event
		err := ev.Unmarshal(payload)
		if err != nil {
			if !errors.Is(err, ErrShortPayload) && !errors.Is(err, ErrPayloadLength) && !errors.Is(err, ErrMultipleEvents) {
				t.Fatalf("undocumented error %v", err)
			}
			if ev != (Event{}) {
				t.Fatalf("event changed on error: %+v", ev)
			}
			return
		}
		if len(payload) != PayloadSize {
			t.Fatalf("accepted %d bytes", len(payload))
		}
		want := append([]byte{}, payload...)
		want[1] &^= 0x40
		if got := ev.Marshal(nil); string(got) != string(want) {
			t.Fatalf("round trip %x -> %+v -> %x", payload, ev, got)
		}
		if ev.Volume > MaxVolume {
			t.Fatalf("volume %d", ev.Volume)
		}
	})
}
