package call

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/sip"
)

// Hold puts the remote party on hold: a re-INVITE offers a=sendonly (we may keep
// sending, e.g. music on hold; the peer stops sending to us). It returns once the peer
// accepted the new offer.
func (c *Call) Hold(ctx context.Context) error { return c.setLocalDirection(ctx, sip.SendOnly) }

// Unhold takes the remote party off hold (a re-INVITE offering a=sendrecv).
func (c *Call) Unhold(ctx context.Context) error { return c.setLocalDirection(ctx, sip.SendRecv) }

// OnHold reports whether we put the call on hold (Hold) and RemoteHold whether the peer
// did (events Hold and Unhold report the latter).
func (c *Call) OnHold() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local.Direction != sip.SendRecv
}

// RemoteHold reports whether the peer has put us on hold.
func (c *Call) RemoteHold() bool { return c.Negotiated().Hold() }

func (c *Call) setLocalDirection(ctx context.Context, d sip.Direction) error {
	if c.State() != StateAnswered {
		if c.State() == StateEnded {
			return ErrCallEnded
		}
		return ErrNotAnswered
	}
	c.mu.Lock()
	local := c.local
	local.Direction = d
	local.Version++
	c.mu.Unlock()
	offer, err := sip.Offer(local)
	if err != nil {
		return err
	}
	var res *sip.Response
	if c.server != nil {
		res, err = c.server.Reinvite(ctx, offer)
	} else {
		res, err = c.client.Reinvite(ctx, offer)
	}
	if err != nil {
		return fmt.Errorf("call: hold: %w", err)
	}
	n, err := sip.ParseAnswer(res.Body(), local)
	if err != nil {
		return fmt.Errorf("call: hold: %w", err)
	}
	c.mu.Lock()
	c.local = local
	c.mu.Unlock()
	return c.startMedia(n)
}
