package rtpsession

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	crand "crypto/rand"
	"encoding/binary"

	"github.com/switchboard-go/switchboard/media"
)

// Defaults applied to zero Config fields.
const (
	DefaultPTime             = media.DefaultFrameDuration
	DefaultRTCPInterval      = 5 * time.Second
	DefaultInactivityTimeout = 30 * time.Second
	DefaultQueueDuration     = 2 * time.Second
	MinPTime                 = 10 * time.Millisecond
	MaxPTime                 = 60 * time.Millisecond
)

// Errors returned by the package.
var (
	// ErrInvalidConfig is wrapped by New when a Config field is out of range.
	ErrInvalidConfig = errors.New("rtpsession: invalid config")
	// ErrCleared is returned by WaitPlayout when Clear discarded audio it was waiting for.
	ErrCleared = errors.New("rtpsession: playout cleared")
	// ErrNoDTMF is returned by SendDTMF when no telephone-event payload type was negotiated.
	ErrNoDTMF = errors.New("rtpsession: telephone-event not negotiated")
	// ErrDTMFBusy is returned by SendDTMF while another SendDTMF is in progress.
	ErrDTMFBusy = errors.New("rtpsession: DTMF already being sent")
	// ErrNoPorts is returned by Listen when no port pair in the range could be bound.
	ErrNoPorts = errors.New("rtpsession: no free RTP port pair")
)

// Latch says which source addresses the session accepts RTP from.
type Latch uint8

const (
	// LatchFirst, the default, latches to the source address and SSRC of the first valid
	// packet, from whatever address it comes (symmetric RTP, RFC 4961: this is what
	// gets media through NAT). Later packets from another address or SSRC are dropped
	// and counted. Outgoing RTP goes to the latched address from then on.
	LatchFirst Latch = iota
	// LatchStrict accepts packets only from Config.RemoteAddr, latches the SSRC of the
	// first of them, and never sends anywhere else.
	LatchStrict
)

// Config configures a Session. The zero value of every optional field selects the
// documented default. A Config must not be modified after it is passed to New.
type Config struct {
	// Codec is the negotiated audio codec. Required.
	Codec media.Codec
	// PayloadType is the negotiated RTP payload type of Codec. Zero means the codec's
	// static payload type (PCMU's is 0); a codec without one needs it set.
	PayloadType uint8
	// TelephoneEventPT is the negotiated RFC 4733 telephone-event payload type. Zero
	// means none was negotiated: SendDTMF fails and received events are dropped as an
	// unknown payload type.
	TelephoneEventPT uint8
	// TelephoneEventClockRate is the telephone-event clock rate from SDP, in Hz. Zero
	// means the codec's RTP clock rate. Event timestamps and durations are in this clock.
	TelephoneEventClockRate int
	// PTime is the packetisation time, from SDP a=ptime; 10 to 60 ms. Zero means 20 ms.
	PTime time.Duration

	// RemoteAddr is where RTP goes (the SDP connection address and media port). Nil
	// means nothing is sent until a packet latches a source address.
	RemoteAddr net.Addr
	// RemoteRTCPAddr is where RTCP goes when RTCPConn is set. Nil means RemoteAddr's
	// port + 1 (or the latched RTCP source once RTCP has been received).
	RemoteRTCPAddr net.Addr
	// Latch selects which source addresses are accepted. Zero means LatchFirst.
	Latch Latch

	// RTCPConn is the socket for RTCP (RTP port + 1). Nil means RTCP shares the RTP
	// socket when RTCPMux is set, and is not sent otherwise (RTCP arriving on the RTP
	// socket is still recognised and processed).
	RTCPConn net.PacketConn
	// RTCPMux multiplexes RTCP on the RTP socket (RFC 5761) when RTCPConn is nil.
	RTCPMux bool
	// RTCPInterval is the mean interval between RTCP reports; each interval is drawn
	// uniformly from [0.5, 1.5] of it (RFC 3550 6.3.1). Zero means 5 s; negative
	// disables periodic reports (a BYE is still sent on Close).
	RTCPInterval time.Duration
	// CNAME is the RTCP canonical name. Empty means a random one.
	CNAME string
	// OwnConns makes Close close Conn and RTCPConn. Sockets made by Listen are owned.
	OwnConns bool

	// SRTP, when set, secures the media with SRTP and SRTCP (RFC 3711) under the keys
	// SDES negotiated (see the package documentation, "SRTP"): every packet sent is
	// encrypted and authenticated, and every packet received must authenticate under
	// the remote key or it is dropped (Stats.SRTPAuthFailures). Nil means plain RTP.
	SRTP *SRTPConfig

	// Jitter configures the receive jitter buffer. The zero value selects its defaults.
	Jitter JitterConfig
	// InactivityTimeout is how long without a received RTP packet before Inactive's
	// channel is closed. Zero means 30 s; negative disables detection.
	InactivityTimeout time.Duration
	// QueueDuration is the capacity of the playout queue, in audio time. WriteFrame
	// blocks while the queue is full. Zero means 2 s.
	QueueDuration time.Duration
	// ReadBuffer is how many decoded frames wait for ReadFrame before the oldest is
	// overwritten (counted in Stats.ReadOverruns). Zero means 25.
	ReadBuffer int

	// Clock paces the session. Nil means the session makes a private Clock, that is one
	// pacing goroutine of its own; pass one shared Clock to pace many sessions from one
	// goroutine (see the package documentation).
	Clock *Clock
	// Rand is the source of SSRC, initial sequence number, initial timestamp, CNAME and
	// RTCP interval jitter. Nil means a ChaCha8 source seeded from crypto/rand.
	Rand rand.Source
	// Logger receives diagnostics. Nil means they are discarded.
	Logger *slog.Logger

	// OnDTMF, if set, receives each digit instead of the PollDTMF queue. It runs on the
	// reader goroutine, so it must not block (hand the digit to a queue or channel);
	// it lets the caller watch digits without a goroutine of its own.
	OnDTMF func(Digit)
	// OnInactive, if set, is called once when Inactive's channel closes. It runs on
	// the pacing clock's goroutine, shared with other sessions, so it must not block.
	OnInactive func()
	// OnSent, if set, sees the audio of every ptime the pacer sends, once per tick
	// and so in step with the frames ReadFrame returns: the packet's PCM before
	// encoding, with its RTP timestamp and FlagRTP, FlagSilence when the queue was
	// empty (and during an RFC 4733 event, whose ptimes count as silence), and
	// without FlagRTP while sending is off (SetSending(false): the audio is consumed
	// but not sent). It is what a recorder of our side of the call taps. It runs on
	// the pacing clock's goroutine, shared with other sessions, outside the session's
	// locks: it must not block (copy the samples into a preallocated buffer and hand
	// them over; no file or network I/O), and f.Samples is valid only during the
	// call.
	OnSent func(f media.Frame)
}

// settings is Config with defaults applied and derived values computed.
type settings struct {
	Config
	pt              uint8
	samplesPerFrame int    // PCM samples per packet
	tsPerFrame      uint32 // RTP clock ticks per packet
	queueSamples    int
	readBuffer      int
}

func (c Config) resolve() (settings, error) {
	s := settings{Config: c}
	if c.Codec == nil {
		return s, fmt.Errorf("%w: Codec is nil", ErrInvalidConfig)
	}
	switch {
	case c.PayloadType != 0:
		if c.PayloadType > 127 {
			return s, fmt.Errorf("%w: payload type %d", ErrInvalidConfig, c.PayloadType)
		}
		s.pt = c.PayloadType
	case c.Codec.StaticPayloadType() >= 0:
		s.pt = uint8(c.Codec.StaticPayloadType())
	default:
		return s, fmt.Errorf("%w: codec %s needs a dynamic PayloadType", ErrInvalidConfig, c.Codec.Name())
	}
	if c.TelephoneEventPT > 127 || (c.TelephoneEventPT != 0 && c.TelephoneEventPT == s.pt) {
		return s, fmt.Errorf("%w: telephone-event payload type %d", ErrInvalidConfig, c.TelephoneEventPT)
	}
	if s.TelephoneEventClockRate <= 0 {
		s.TelephoneEventClockRate = c.Codec.ClockRate()
	}
	if s.PTime == 0 {
		s.PTime = DefaultPTime
	}
	if s.PTime < MinPTime || s.PTime > MaxPTime {
		return s, fmt.Errorf("%w: ptime %v outside [%v, %v]", ErrInvalidConfig, s.PTime, MinPTime, MaxPTime)
	}
	s.samplesPerFrame = media.SamplesPer(c.Codec.SampleRate(), s.PTime)
	s.tsPerFrame = uint32(media.SamplesPer(c.Codec.ClockRate(), s.PTime))
	if s.samplesPerFrame <= 0 || s.tsPerFrame == 0 {
		return s, fmt.Errorf("%w: ptime %v too short for %s", ErrInvalidConfig, s.PTime, c.Codec.Name())
	}
	s.RemoteAddr, s.RemoteRTCPAddr = usableAddr(c.RemoteAddr), usableAddr(c.RemoteRTCPAddr)
	if s.Latch > LatchStrict {
		return s, fmt.Errorf("%w: latch mode %d", ErrInvalidConfig, s.Latch)
	}
	if s.Latch == LatchStrict && s.RemoteAddr == nil {
		return s, fmt.Errorf("%w: LatchStrict needs RemoteAddr", ErrInvalidConfig)
	}
	if s.RTCPInterval == 0 {
		s.RTCPInterval = DefaultRTCPInterval
	}
	if s.InactivityTimeout == 0 {
		s.InactivityTimeout = DefaultInactivityTimeout
	}
	if s.QueueDuration <= 0 {
		s.QueueDuration = DefaultQueueDuration
	}
	s.queueSamples = media.SamplesPer(c.Codec.SampleRate(), s.QueueDuration)
	if s.queueSamples < s.samplesPerFrame {
		s.queueSamples = s.samplesPerFrame
	}
	s.readBuffer = c.ReadBuffer
	if s.readBuffer <= 0 {
		s.readBuffer = 25
	}
	if s.Rand == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails (Go 1.24+).
		s.Rand = rand.NewChaCha8(seed)
	}
	if c.SRTP != nil {
		if err := c.SRTP.validate(); err != nil {
			return s, err
		}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.CNAME == "" {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], s.Rand.Uint64())
		s.CNAME = fmt.Sprintf("%x@switchboard", b)
	}
	return s, nil
}
