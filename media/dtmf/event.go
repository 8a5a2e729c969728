package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Event codes of RFC 4733 section 3.2 that this package names. Codes 0-9 are the
// digits themselves.
const (
	CodeStar  uint8 = 10 // '*'
	CodePound uint8 = 11 // '#'
	CodeA     uint8 = 12 // 'A'
	CodeB     uint8 = 13 // 'B'
	CodeC     uint8 = 14 // 'C'
	CodeD     uint8 = 15 // 'D'
	// CodeFlash is hook flash (register recall). Its rune is '!', the convention
	// used by SIP INFO dtmf-relay bodies and most PBXs.
	CodeFlash uint8 = 16
)

// PayloadSize is the size of one telephone-event payload block.
const PayloadSize = 4

// MaxVolume is the largest value of Event.Volume (the field has 6 bits).
const MaxVolume = 63

// Errors returned by Unmarshal and by the Receiver for malformed payloads.
var (
	// ErrShortPayload means a telephone-event payload had fewer than 4 bytes.
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrMultipleEvents means a payload held several 4-byte event blocks. RFC 4733
	// carries one event per payload (several events travel as RFC 2198 redundancy
	// blocks, which the RTP layer splits), so this is a non-conformant sender;
	// callers that want to be lenient can decode payload[:4].
	ErrMultipleEvents = errors.New("dtmf: telephone-event payload holds more than one event")
	// ErrPayloadLength means a payload longer than 4 bytes whose length is not a
	// multiple of 4: it is not a sequence of event blocks at all.
	ErrPayloadLength = errors.New("dtmf: telephone-event payload length is not a multiple of 4")
)

// Event is one RFC 4733 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The R bit is reserved: Marshal writes 0 and Unmarshal ignores it.
type Event struct {
	// Code is the event code: 0-9 are digits, then CodeStar … CodeD, CodeFlash.
	// Other codes (modem and fax tones of RFC 4734, …) decode as they are.
	Code uint8
	// End is the E bit: this packet reports the end of the event.
	End bool
	// Volume is the power level of the tone as a positive number of dB below
	// 0 dBm0 (0 is loudest, 63 quietest).
	Volume uint8
	// Duration is the length of the event (or of the current segment of a long
	// event) so far, in units of the RTP clock, counted from the RTP timestamp of
	// the packet.
	Duration uint16
}

// Marshal appends the 4-byte payload of e to dst and returns the extended slice.
// It allocates only when dst lacks capacity. A Volume above MaxVolume is sent as
// MaxVolume, the quietest level the 6-bit field can say.
func (e Event) Marshal(dst []byte) []byte {
	v := min(e.Volume, MaxVolume)
	if e.End {
		v |= 0x80
	}
	dst = append(dst, e.Code, v)
	return binary.BigEndian.AppendUint16(dst, e.Duration)
}

// Unmarshal decodes a telephone-event payload into e. The payload must be exactly
// one 4-byte block: shorter payloads fail with ErrShortPayload, several blocks
// with ErrMultipleEvents, any other length with ErrPayloadLength. On error e is
// left unchanged.
func (e *Event) Unmarshal(payload []byte) error {
	switch n := len(payload); {
	case n < PayloadSize:
		return fmt.Errorf("%w (got %d)", ErrShortPayload, n)
	case n%PayloadSize != 0:
		return fmt.Errorf("%w (got %d)", ErrPayloadLength, n)
	case n > PayloadSize:
		return fmt.Errorf("%w (%d blocks)", ErrMultipleEvents, n/PayloadSize)
	}
	*e = Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}
	return nil
}

// String formats e for logs, e.g. "5 end vol=10 dur=800".
func (e Event) String() string {
	name := fmt.Sprintf("code%d", e.Code)
	if r, ok := CodeDigit(e.Code); ok {
		name = string(r)
	}
	end := ""
	if e.End {
		end = " end"
	}
	return fmt.Sprintf("%s%s vol=%d dur=%d", name, end, e.Volume, e.Duration)
}

// DigitCode returns the RFC 4733 event code of a DTMF key: '0'-'9', '*', '#',
// 'A'-'D' (lower case accepted) and '!' for hook flash.
func DigitCode(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r >= 'A' && r <= 'D':
		return CodeA + uint8(r-'A'), true
	case r >= 'a' && r <= 'd':
		return CodeA + uint8(r-'a'), true
	case r == '*':
		return CodeStar, true
	case r == '#':
		return CodePound, true
	case r == '!':
		return CodeFlash, true
	}
	return 0, false
}

// CodeDigit returns the key of an RFC 4733 event code, the inverse of DigitCode
// (letters in upper case). Codes above CodeFlash are not keys.
func CodeDigit(code uint8) (rune, bool) {
	switch {
	case code <= 9:
		return rune('0' + code), true
	case code == CodeStar:
		return '*', true
	case code == CodePound:
		return '#', true
	case code >= CodeA && code <= CodeD:
		return rune('A' + code - CodeA), true
	case code == CodeFlash:
		return '!', true
	}
	return 0, false
}
