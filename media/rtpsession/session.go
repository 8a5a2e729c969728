package rtpsession

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-go/switchboard/media"
)

// maxDatagram bounds the datagrams the reader accepts; RTP audio is far smaller.
const maxDatagram = 1500

// udpAddrPortConn is the allocation-free I/O of *net.UDPConn.
type udpAddrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// peer is a destination or source address, kept both ways: AddrPort for the
// allocation-free path on UDP sockets, net.Addr for any other PacketConn.
type peer struct {
	ap   netip.AddrPort // valid when the address is UDP
	addr net.Addr
}

func newPeer(a net.Addr) *peer {
	if a == nil {
		return nil
	}
	p := &peer{addr: a}
	if u, ok := a.(*net.UDPAddr); ok {
		p.ap = netip.AddrPortFrom(u.AddrPort().Addr().Unmap(), u.AddrPort().Port())
	}
	return p
}

func (p *peer) matches(ap netip.AddrPort, a net.Addr) bool {
	if p.ap.IsValid() && ap.IsValid() {
		return p.ap == ap
	}
	return a != nil && p.addr.String() == a.String()
}

// Session is one RTP media stream: it sends paced audio and RFC 4733 events to the
// remote party and receives, de-jitters and decodes theirs. See the package
// documentation for its goroutines and the threading rules of each method.
type Session struct {
	cfg      settings
	log      *slog.Logger
	conn     net.PacketConn
	udp      udpAddrPortConn // conn's fast path, nil for other PacketConns
	rtcpConn net.PacketConn
	clock    *Clock
	ownClock bool
	entry    *clockEntry
	start    time.Time
	ssrc     uint32

	remote     atomic.Pointer[peer] // RTP destination
	rtcpRemote atomic.Pointer[peer] // RTCP destination

	srtp   atomic.Pointer[srtpState] // nil: plain RTP
	srtpMu sync.Mutex                // serialises SetSRTP

	// Send side; sendMu guards it. The clock's tick and the writers meet here.
	sendMu     sync.Mutex
	queue      sampleRing
	written    uint64 // samples ever accepted by WriteFrame
	consumed   uint64 // samples ever taken off the queue (sent or cleared)
	waiters    []*playoutWaiter
	space      chan struct{} // signalled when the pacer frees queue space
	enc        media.Encoder
	seq        uint16
	ts         uint32
	marker     bool
	pcm        []int16 // one packet of PCM
	pkt        []byte  // one marshalled packet
	hdr        rtp.Header
	lastSendAt time.Time // deadline of the last packet sent
	lastSendTS uint32
	dtmfOut    *dtmfOut

	// Receive side; rxMu guards it. The reader goroutine and the tick meet here.
	rxMu        sync.Mutex
	rxPkt       rxPacket // reader goroutine only
	rxSource    *peer    // latched source address
	rxSSRC      uint32
	rxLatched   bool
	rxLastAt    time.Time // arrival of the last accepted packet
	rx          rxStats
	lastSRMid   uint32    // LSR: middle bits of the last SR's NTP time
	lastSRAt    time.Time // when that SR arrived
	dtmfIn      *dtmfIn
	digits      *digitQueue
	readBuf     []int16 // ReadFrame's frame, reused
	playout     *playout
	rtcpSource  *peer
	sdpRemote   net.Addr // the signalled RTP and RTCP destinations
	sdpRTCP     net.Addr
	rxEver      bool // a source was latched once: stream state exists
	remoteRR    remoteReport
	rtcpNextDue time.Time // owned by the tick

	stats counters

	// Inactivity.
	lastRecv     atomic.Int64 // nanoseconds since start of the last accepted RTP packet
	hold         atomic.Bool
	muted        atomic.Bool  // SetSending(false): no RTP goes out
	holdUntil    atomic.Int64 // inactivity is measured from here after a hold ends
	inactive     chan struct{}
	inactiveDone bool // owned by the tick

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
	wg        sync.WaitGroup
}

// New starts a session on conn. It starts the reader goroutine(s) and registers the
// session with its Clock; Close stops both. conn is not closed by Close unless
// cfg.OwnConns is set.
func New(conn net.PacketConn, cfg Config) (*Session, error) {
	st, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return nil, fmt.Errorf("%w: nil conn", ErrInvalidConfig)
	}
	s := &Session{
		cfg:      st,
		log:      st.Logger,
		conn:     conn,
		rtcpConn: st.RTCPConn,
		start:    time.Now(),
		space:    make(chan struct{}, 1),
		closed:   make(chan struct{}),
		inactive: make(chan struct{}),
		queue:    newSampleRing(st.queueSamples),
		enc:      st.Codec.NewEncoder(),
		pcm:      make([]int16, st.samplesPerFrame),
		marker:   true,
	}
	if u, ok := conn.(udpAddrPortConn); ok {
		s.udp = u
	}
	s.ssrc = uint32(st.Rand.Uint64())
	s.seq = uint16(st.Rand.Uint64())
	s.ts = uint32(st.Rand.Uint64())
	// Room for the header and a generous payload: 4 bytes per sample covers every
	// linear and compressed format; the encoder grows the slice if ever needed.
	s.pkt = make([]byte, 0, 12+4*st.samplesPerFrame)
	s.hdr = rtp.Header{Version: 2, PayloadType: s.cfg.pt, SSRC: s.ssrc}
	s.sdpRemote, s.sdpRTCP = s.cfg.RemoteAddr, s.cfg.rtcpDestination()
	s.remote.Store(newPeer(s.sdpRemote))
	s.rtcpRemote.Store(newPeer(s.sdpRTCP))
	s.rxPkt.CSRC = make([]uint32, 0, 15)
	s.rxPkt.Extensions = make([]rtp.Extension, 0, 4)
	if s.playout, err = newPlayout(&s.cfg, &s.stats.concealed, &s.stats.readOverruns); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	s.digits = newDigitQueue(st.OnDTMF)
	s.readBuf = make([]int16, st.samplesPerFrame)
	if s.dtmfIn, err = newDTMFIn(&s.cfg, s.digits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if st.TelephoneEventPT != 0 {
		if s.dtmfOut, err = newDTMFOut(&s.cfg); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if s.cfg.RTCPInterval > 0 {
		s.rtcpNextDue = s.start.Add(s.rtcpInterval())
	}
	if st.SRTP != nil {
		sp, err := newSRTPState(st.SRTP, nil)
		if err != nil {
			return nil, err
		}
		s.srtp.Store(sp)
	}

	s.clock = st.Clock
	if s.clock == nil {
		s.clock = NewClock(0)
		s.ownClock = true
	}
	s.wg.Add(1)
	go s.readLoop(s.conn, false)
	if s.rtcpConn != nil {
		s.wg.Add(1)
		go s.readLoop(s.rtcpConn, true)
	}
	entry, err := s.clock.register(s, st.PTime, s.start.Add(st.PTime))
	if err != nil {
		s.stopReaders()
		if s.ownClock {
			_ = s.clock.Close()
		}
		return nil, err
	}
	s.entry = entry
	return s, nil
}

// rtcpDestination is where RTCP goes before any RTCP has been received.
func (c settings) rtcpDestination() net.Addr {
	if c.RemoteRTCPAddr != nil {
		return c.RemoteRTCPAddr
	}
	if c.RemoteAddr == nil {
		return nil
	}
	if c.RTCPConn == nil { // rtcp-mux, or no RTCP at all
		return c.RemoteAddr
	}
	if u, ok := c.RemoteAddr.(*net.UDPAddr); ok {
		r := *u
		r.Port++
		return &r
	}
	return nil
}

// SSRC is the synchronisation source identifier of the outgoing stream.
func (s *Session) SSRC() uint32 { return s.ssrc }

// SampleRate is the PCM rate of the frames WriteFrame takes and ReadFrame returns: the
// codec's sample rate.
func (s *Session) SampleRate() int { return s.cfg.Codec.SampleRate() }

// PTime is the packetisation time in use.
func (s *Session) PTime() time.Duration { return s.cfg.PTime }

// LocalAddr is the local address of the RTP socket.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// RemoteAddr is where RTP is sent: the configured address until a source is latched,
// then the latched one. It is nil while neither is known.
func (s *Session) RemoteAddr() net.Addr {
	if p := s.remote.Load(); p != nil {
		return p.addr
	}
	return nil
}

// SetRemoteAddr changes the RTP destination after a re-INVITE or UPDATE: addr is the
// new SDP connection address and port, rtcp the RTCP one (nil: derived from addr as
// in New). When the address really changed, the latched source is forgotten so that
// the next valid packet latches again. When it did not (a session refresh, a hold
// toggle), nothing changes: the latch, the statistics and the jitter buffer stay.
func (s *Session) SetRemoteAddr(addr, rtcp net.Addr) {
	addr, rtcp = usableAddr(addr), usableAddr(rtcp)
	if rtcp == nil {
		c := s.cfg // a copy: cfg itself is never written after New
		c.RemoteAddr, c.RemoteRTCPAddr = addr, nil
		rtcp = c.rtcpDestination()
	}
	s.rxMu.Lock()
	same := sameAddr(s.sdpRemote, addr) && sameAddr(s.sdpRTCP, rtcp)
	s.sdpRemote, s.sdpRTCP = addr, rtcp
	s.rxMu.Unlock()
	if same {
		return
	}
	s.remote.Store(newPeer(addr))
	s.rtcpRemote.Store(newPeer(rtcp))
	s.ResetLatch()
}

// usableAddr returns a, or nil when a cannot be sent to: nil, a nil *net.UDPAddr, or
// a UDP address with port 0 or no IP (what an absent SDP attribute converts to).
func usableAddr(a net.Addr) net.Addr {
	if u, ok := a.(*net.UDPAddr); ok && (u == nil || u.Port == 0 || len(u.IP) == 0) {
		return nil
	}
	return a
}

func sameAddr(a, b net.Addr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Network() == b.Network() && a.String() == b.String()
}

// ResetLatch forgets the latched source address and SSRC: the next valid packet
// latches again (its stream state is kept if it has the same SSRC as before). Call it
// when signalling says the remote media changed.
func (s *Session) ResetLatch() {
	s.rxMu.Lock()
	s.rxLatched = false
	s.rxSource = nil
	s.rtcpSource = nil
	s.rxMu.Unlock()
}

// SetHold suspends (true) or resumes (false) inactivity detection, for while the
// remote party has put the call on hold (a=sendonly or a=inactive) and legitimately
// sends nothing. On resume the timeout starts again from that moment; SetHold(false)
// without a hold in progress changes nothing.
func (s *Session) SetHold(on bool) {
	if on {
		s.hold.Store(true)
		return
	}
	if s.hold.Load() {
		// Restart the timeout before detection resumes.
		s.holdUntil.Store(int64(time.Since(s.start)))
		s.hold.Store(false)
	}
}

// Inactive returns a channel that is closed once no RTP has been received for
// Config.InactivityTimeout (outside hold). It is never closed when detection is
// disabled. It stays closed; the session keeps running.
func (s *Session) Inactive() <-chan struct{} { return s.inactive }

// Done returns a channel that is closed when Close begins.
func (s *Session) Done() <-chan struct{} { return s.closed }

// Close sends an RTCP BYE, stops the pacing and reader goroutines and waits for them,
// and closes the sockets if the session owns them. It is idempotent: later calls
// return the first call's result.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.clock.unregister(s.entry) // no tick runs after this
		if s.ownClock {
			_ = s.clock.Close()
		}
		s.sendBye()
		close(s.closed)
		s.closeErr = s.stopReaders()
		s.sendMu.Lock()
		s.releaseWaitersLocked(media.ErrClosed)
		s.sendMu.Unlock()
	})
	return s.closeErr
}

// stopReaders unblocks and waits for the reader goroutines.
func (s *Session) stopReaders() error {
	var errs []error
	if s.cfg.OwnConns {
		errs = append(errs, s.conn.Close())
		if s.rtcpConn != nil {
			errs = append(errs, s.rtcpConn.Close())
		}
		s.wg.Wait()
		return errors.Join(errs...)
	}
	// Injected sockets stay open: a read deadline in the past unblocks the readers,
	// and is lifted again once they are gone.
	past := time.Unix(1, 0)
	_ = s.conn.SetReadDeadline(past)
	if s.rtcpConn != nil {
		_ = s.rtcpConn.SetReadDeadline(past)
	}
	s.wg.Wait()
	_ = s.conn.SetReadDeadline(time.Time{})
	if s.rtcpConn != nil {
		_ = s.rtcpConn.SetReadDeadline(time.Time{})
	}
	return nil
}

func (s *Session) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// tick runs one ptime of the session on the clock goroutine: the receive playout
// frame, the send packet, inactivity and RTCP.
func (s *Session) tick(deadline time.Time, skipped int) {
	s.playout.tick(deadline, skipped)
	s.sendTick(deadline, skipped)
	s.rxMu.Lock()
	if n := s.dtmfIn.expire(deadline); n > 0 {
		s.stats.dtmfReceived.Add(uint64(n))
	}
	s.rxMu.Unlock()
	s.checkInactive(deadline)
	s.maybeRTCP(deadline)
}

// checkInactive closes the Inactive channel when no RTP has arrived for the timeout.
func (s *Session) checkInactive(now time.Time) {
	if s.inactiveDone || s.cfg.InactivityTimeout < 0 || s.hold.Load() {
		return
	}
	last := time.Duration(max(s.lastRecv.Load(), s.holdUntil.Load()))
	if now.Sub(s.start)-last >= s.cfg.InactivityTimeout {
		s.inactiveDone = true
		s.log.Info("rtpsession: no RTP received", "timeout", s.cfg.InactivityTimeout)
		close(s.inactive)
		if s.cfg.OnInactive != nil {
			s.cfg.OnInactive()
		}
	}
}

// ReadFrame returns the next received frame, one per ptime, paced by the session's
// clock: decoded audio, or concealment (FlagConcealed) where packets were lost, or
// silence (FlagSilence) while nothing is being received. Frames carry FlagRTP with
// the packet's timestamp and sequence when they map to one received packet. It blocks
// until the next frame is due and returns an error wrapping media.ErrClosed once the
// session is closed. Samples are valid until the next ReadFrame. Frames not read are
// kept up to Config.ReadBuffer, then the oldest are overwritten. ReadFrame must not
// be called concurrently with itself.
func (s *Session) ReadFrame() (media.Frame, error) {
	for {
		if f, ok := s.playout.take(s.readBuf); ok {
			return f, nil
		}
		select {
		case <-s.playout.notify:
		case <-s.closed:
			return media.Frame{}, fmt.Errorf("rtpsession: read: %w", media.ErrClosed)
		}
	}
}

// readLoop is the reader goroutine of one socket.
func (s *Session) readLoop(conn net.PacketConn, rtcpOnly bool) {
	defer s.wg.Done()
	buf := make([]byte, maxDatagram)
	udp, _ := conn.(udpAddrPortConn)
	var (
		n    int
		ap   netip.AddrPort
		addr net.Addr
		err  error
	)
	for {
		if udp != nil {
			n, ap, err = udp.ReadFromUDPAddrPort(buf)
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		} else {
			n, addr, err = conn.ReadFrom(buf)
			if u, ok := addr.(*net.UDPAddr); ok {
				ap = netip.AddrPortFrom(u.AddrPort().Addr().Unmap(), u.AddrPort().Port())
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) || s.isClosed() {
				return
			}
			// Transient errors (ICMP errors surfaced on some platforms, a
			// buffer too small) are counted and the loop goes on.
			s.stats.readErrors.Add(1)
			s.log.Debug("rtpsession: read", "err", err)
			continue
		}
		now := time.Now()
		if rtcpOnly {
			s.handleRTCP(buf[:n], ap, addr, now)
			continue
		}
		s.handleDatagram(buf[:n], ap, addr, now)
	}
}
