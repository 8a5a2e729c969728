package switchboard_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
	"github.com/switchboard-go/switchboard/sip"
)

// A Switchboard registers at Kamailio (digest auth), and a call that Kamailio routes to
// the registered contact reaches its handler; closing the registration removes the
// binding.
func TestRegisterWithKamailio(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{Registrar: true, Users: map[string]string{"alice": "wonderland"}})
	var answered atomic.Int32
	a := start(t, call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		answered.Add(1)
		<-ctx.Done()
		return nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, err := a.Register(ctx, sip.RegisterOptions{Registrar: k.URI(""), User: "alice", Password: "wrong"})
	var se *sip.StatusError
	require.ErrorAs(t, err, &se, "a wrong password is refused")
	assert.Contains(t, []int{401, 403}, se.Code)

	var states []sip.RegistrationStatus
	reg, err := a.Register(ctx, sip.RegisterOptions{
		Registrar: k.URI(""), User: "alice", Password: "wonderland", Expires: 120 * time.Second,
		OnState: func(s sip.RegistrationState) { states = append(states, s.Status) },
	})
	require.NoError(t, err)
	st := reg.State()
	assert.Equal(t, sip.Registered, st.Status)
	assert.Equal(t, 120*time.Second, st.Expires)
	contacts, err := k.Contacts(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, contacts, 1)
	assert.Contains(t, contacts[0], a.Addr().(*net.UDPAddr).AddrPort().String())

	// A call to alice at the proxy reaches a's handler.
	b := start(t, nil)
	c, err := b.Dial(ctx, k.URI("alice"), call.DialOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return answered.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing), "BYE follows the Record-Route through the proxy")

	require.NoError(t, reg.Close(ctx))
	assert.Equal(t, sip.Unregistered, reg.State().Status)
	contacts, err = k.Contacts(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, contacts, "unregistered")
	assert.Equal(t, []sip.RegistrationStatus{sip.Registered, sip.Unregistered}, states)
}
