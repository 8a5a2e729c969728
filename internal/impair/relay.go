package impair

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ErrConfig is wrapped by the error Listen returns for an invalid Config.
var ErrConfig = errors.New("impair: invalid config")

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65535

// Relay forwards UDP datagrams between clients and one target, impairing both
// directions. Each distinct client address gets its own upstream socket, so the target
// sees one source per client and its replies find their way back to the right client.
//
// A Relay owns its goroutines: one reader on the listening socket, one reader per
// client's upstream socket, and one scheduler per direction. Close stops all of them.
type Relay struct {
	ln     *net.UDPConn
	target *net.UDPAddr
	log    *slog.Logger
	maxCl  int

	up, down *direction
	done     chan struct{}
	wg       sync.WaitGroup

	mu       sync.Mutex
	clients  map[netip.AddrPort]*net.UDPConn
	rejected uint64
	closed   bool

	closeOnce sync.Once
}

// Listen starts a relay that listens on listen (host:port; port 0 picks a free one, ""
// means 127.0.0.1:0) and forwards to target (host:port).
func Listen(listen, target string, cfg Config) (*Relay, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	laddr, err := net.ResolveUDPAddr("udp", listen)
	if err != nil {
		return nil, fmt.Errorf("impair: listen address %q: %w", listen, err)
	}
	taddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, fmt.Errorf("impair: target address %q: %w", target, err)
	}
	ln, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("impair: %w", err)
	}
	growBuffers(ln)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{
		ln:      ln,
		target:  taddr,
		log:     log.With("relay", ln.LocalAddr().String(), "target", taddr.String()),
		maxCl:   cfg.MaxClients,
		done:    make(chan struct{}),
		clients: make(map[netip.AddrPort]*net.UDPConn),
	}
	if r.maxCl == 0 {
		r.maxCl = 64
	}
	pool := &bufPool{}
	r.up = newDirection(newShaper(cfg.Upstream, cfg.Seed, streamUpLoss, streamUpDelay), pool, sendUDP)
	r.down = newDirection(newShaper(cfg.Downstream, cfg.Seed, streamDownLoss, streamDownDelay), pool, sendUDP)
	r.wg.Add(3)
	go func() { defer r.wg.Done(); r.up.run(r.done) }()
	go func() { defer r.wg.Done(); r.down.run(r.done) }()
	go func() { defer r.wg.Done(); r.readClients() }()
	return r, nil
}

func (c Config) validate() error {
	for _, d := range []struct {
		name string
		imp  Impairment
	}{{"upstream", c.Upstream}, {"downstream", c.Downstream}} {
		if !(d.imp.Loss >= 0 && d.imp.Loss <= 1) {
			return fmt.Errorf("%w: %s loss %v not in [0, 1]", ErrConfig, d.name, d.imp.Loss)
		}
		if !(d.imp.Duplicate >= 0 && d.imp.Duplicate <= 1) {
			return fmt.Errorf("%w: %s duplicate %v not in [0, 1]", ErrConfig, d.name, d.imp.Duplicate)
		}
		if d.imp.Jitter < 0 {
			return fmt.Errorf("%w: %s jitter %v is negative", ErrConfig, d.name, d.imp.Jitter)
		}
		if d.imp.Distribution != Uniform && d.imp.Distribution != Normal {
			return fmt.Errorf("%w: %s distribution %d unknown", ErrConfig, d.name, d.imp.Distribution)
		}
	}
	if c.MaxClients < 0 {
		return fmt.Errorf("%w: MaxClients %d is negative", ErrConfig, c.MaxClients)
	}
	return nil
}

// Addr is the address clients send to.
func (r *Relay) Addr() netip.AddrPort { return unmap(r.ln.LocalAddr().(*net.UDPAddr).AddrPort()) }

// Port is the port of Addr.
func (r *Relay) Port() int { return int(r.Addr().Port()) }

// Target is the address packets are forwarded to.
func (r *Relay) Target() netip.AddrPort { return unmap(r.target.AddrPort()) }

// unmap turns ::ffff:a.b.c.d into a.b.c.d, so addresses compare equal however the
// socket reported them.
func unmap(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) }

// Stats returns a snapshot of the counters. It is safe to call at any time, also after
// Close.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	st := Stats{Clients: len(r.clients), Rejected: r.rejected}
	r.mu.Unlock()
	st.Upstream = r.up.stats()
	st.Downstream = r.down.stats()
	return st
}

// Close stops the relay: it closes every socket, discards packets still waiting for their
// release time, and waits for the relay's goroutines to end. A second Close waits too and
// returns an error wrapping net.ErrClosed.
func (r *Relay) Close() error {
	first := false
	r.closeOnce.Do(func() {
		first = true
		close(r.done)
		r.mu.Lock()
		r.closed = true
		for _, c := range r.clients {
			c.Close()
		}
		r.mu.Unlock()
		r.ln.Close()
	})
	r.wg.Wait()
	if !first {
		return fmt.Errorf("impair: relay %v: %w", r.Addr(), net.ErrClosed)
	}
	return nil
}

// readClients reads the listening socket: every datagram goes upstream through the
// socket of the client it came from.
func (r *Relay) readClients() {
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := r.ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			if r.isClosed(err) {
				return
			}
			r.log.Debug("impair: read", "err", err)
			continue
		}
		now := time.Now()
		c := r.client(unmap(from))
		if c == nil {
			continue
		}
		r.up.push(now, buf[:n], c, netip.AddrPort{})
	}
}

// client returns the upstream socket for the client at from, creating it (and its reader)
// on the client's first packet. It returns nil when the packet must be dropped.
func (r *Relay) client(from netip.AddrPort) *net.UDPConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[from]; ok {
		return c
	}
	if r.closed {
		return nil
	}
	if len(r.clients) >= r.maxCl {
		r.rejected++
		return nil
	}
	// A connected socket: the kernel filters out datagrams from anyone but the target.
	c, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		r.log.Debug("impair: upstream socket", "client", from, "err", err)
		r.rejected++
		return nil
	}
	growBuffers(c)
	r.clients[from] = c
	r.log.Debug("impair: new client", "client", from, "via", c.LocalAddr())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readTarget(c, from)
	}()
	return c
}

// readTarget reads one client's upstream socket: every datagram from the target goes
// back to that client through the listening socket.
func (r *Relay) readTarget(c *net.UDPConn, client netip.AddrPort) {
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if r.isClosed(err) {
				return
			}
			// ECONNREFUSED after an ICMP port unreachable (target not listening yet):
			// keep reading, the target may come up.
			r.log.Debug("impair: read from target", "client", client, "err", err)
			continue
		}
		r.down.push(time.Now(), buf[:n], r.ln, client)
	}
}

func (r *Relay) isClosed(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return true
	}
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}
