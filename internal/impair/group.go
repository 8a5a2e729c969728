package impair

import (
	"errors"
	"fmt"
)

// Route is one listen → target mapping of a Group.
type Route struct {
	// Name identifies the route in Group.Relay, e.g. "sip" or "rtp".
	Name string
	// Listen is the relay's address; "" means 127.0.0.1:0 (a free port).
	Listen string
	// Target is where the route forwards to.
	Target string
}

// Group is a set of relays sharing one impairment, e.g. a SIP port and an RTP port of
// the same peer. Each relay has its own seed derived from Config.Seed and its position,
// so the routes are impaired independently but reproducibly.
type Group struct {
	relays []*Relay
	names  map[string]*Relay
}

// seedStep spreads the per-route seeds (the 64-bit golden ratio).
const seedStep = 0x9e3779b97f4a7c15

// ListenGroup starts one relay per route. On error, the relays already started are closed.
func ListenGroup(cfg Config, routes ...Route) (*Group, error) {
	g := &Group{names: make(map[string]*Relay, len(routes))}
	for i, rt := range routes {
		if _, dup := g.names[rt.Name]; dup {
			_ = g.Close()
			return nil, fmt.Errorf("%w: route name %q used twice", ErrConfig, rt.Name)
		}
		c := cfg
		c.Seed = cfg.Seed + uint64(i)*seedStep
		r, err := Listen(rt.Listen, rt.Target, c)
		if err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("impair: route %q: %w", rt.Name, err)
		}
		g.relays = append(g.relays, r)
		g.names[rt.Name] = r
	}
	return g, nil
}

// Relay returns the relay of the named route, or nil.
func (g *Group) Relay(name string) *Relay { return g.names[name] }

// Relays returns the relays in route order.
func (g *Group) Relays() []*Relay { return append([]*Relay(nil), g.relays...) }

// Stats returns each route's counters by name.
func (g *Group) Stats() map[string]Stats {
	m := make(map[string]Stats, len(g.names))
	for name, r := range g.names {
		m[name] = r.Stats()
	}
	return m
}

// Close closes every relay and waits for them. A second Close returns an error wrapping
// net.ErrClosed.
func (g *Group) Close() error {
	var errs []error
	for _, r := range g.relays {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
