package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
)

// RegisterOptions configure a registration.
type RegisterOptions struct {
	// Registrar is the registrar's URI, e.g. "sip:pbx.example.com:5060". Required.
	Registrar string
	// AOR is the address of record to bind, e.g. "sip:alice@example.com". Empty means
	// sip:<User>@<registrar host>.
	AOR string
	// User is the user part of our Contact (and of the default AOR). Empty means
	// the AOR's user, or "switchboard".
	User string
	// Username and Password answer digest challenges (401/407). Username empty means User.
	Username, Password string
	// Expires is the binding lifetime we ask for. Zero means 1 hour. The registrar may
	// grant less; we refresh before the granted time runs out.
	Expires time.Duration
	// RetryMin and RetryMax bound the exponential backoff (with jitter) between
	// attempts after a failure. Zero means 1 s and 5 minutes.
	RetryMin, RetryMax time.Duration
	// OnState, if set, is called on each state change, on the registration's own
	// goroutine; it must not block.
	OnState func(RegistrationState)
}

// RegistrationStatus is where a registration stands.
type RegistrationStatus uint8

// Registration statuses.
const (
	Registering RegistrationStatus = iota
	Registered
	RegistrationFailed // retrying after a backoff
	Unregistered       // closed
)

func (s RegistrationStatus) String() string {
	switch s {
	case Registered:
		return "registered"
	case RegistrationFailed:
		return "failed"
	case Unregistered:
		return "unregistered"
	}
	return "registering"
}

// RegistrationState is a snapshot of a registration.
type RegistrationState struct {
	Status RegistrationStatus
	// Expires is the lifetime the registrar granted (zero unless Registered).
	Expires time.Duration
	// Err is why the last attempt failed (a *StatusError for a SIP rejection).
	Err error
	// Attempts counts REGISTER transactions sent (challenges answered count once).
	Attempts int
}

// Registration keeps a binding at a registrar alive: it refreshes before expiry,
// retries with backoff after failures, and unregisters (Expires: 0) on Close.
type Registration struct {
	ep   *Endpoint
	opts RegisterOptions
	req  *Request // template: Call-ID, From tag and CSeq persist across refreshes

	mu    sync.Mutex
	state RegistrationState

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Register registers with the registrar and returns once the first attempt has
// succeeded (or failed: then the error is returned and nothing keeps running). The
// registration then refreshes itself until Close.
func (e *Endpoint) Register(ctx context.Context, opts RegisterOptions) (*Registration, error) {
	if opts.Registrar == "" {
		return nil, errors.New("sip: register: no registrar")
	}
	regURI, err := ParseURI(opts.Registrar)
	if err != nil {
		return nil, err
	}
	var aor URI
	if opts.AOR != "" {
		if aor, err = ParseURI(opts.AOR); err != nil {
			return nil, err
		}
	} else {
		aor = URI{Scheme: "sip", User: opts.User, Host: regURI.Host}
		if aor.User == "" {
			aor.User = "switchboard"
		}
	}
	if opts.User == "" {
		opts.User = aor.User
	}
	if opts.Username == "" {
		opts.Username = opts.User
	}
	for name, v := range map[string]string{"user": opts.User, "username": opts.Username, "password": opts.Password} {
		if err := CheckHeader("X", v); err != nil {
			return nil, fmt.Errorf("sip: register: %s: %w", name, err)
		}
	}
	if opts.Expires <= 0 {
		opts.Expires = time.Hour
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Minute
	}
	e.mu.Lock()
	contact := e.contact
	ready := e.dua != nil
	e.mu.Unlock()
	if !ready {
		return nil, errors.New("sip: register: endpoint not serving")
	}
	contact.Address.User = opts.User

	req := sipgosip.NewRequest(sipgosip.REGISTER, regURI)
	from := &sipgosip.FromHeader{Address: aor, Params: sipgosip.NewParams()}
	from.Params.Add("tag", sipgosip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sipgosip.ToHeader{Address: aor, Params: sipgosip.NewParams()})
	req.AppendHeader(&contact)
	callID := sipgosip.CallIDHeader(sipgosip.GenerateTagN(24))
	req.AppendHeader(&callID)
	req.AppendHeader(&sipgosip.CSeqHeader{SeqNo: 0, MethodName: sipgosip.REGISTER})

	r := &Registration{ep: e, opts: opts, req: req, stop: make(chan struct{}), done: make(chan struct{})}
	granted, err := r.attempt(ctx, opts.Expires)
	if err != nil {
		close(r.done)
		return nil, err
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		r.run(granted)
	}()
	return r, nil
}

// State returns the registration's current state.
func (r *Registration) State() RegistrationState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// set updates the state and reports a change of Status to OnState.
func (r *Registration) set(f func(*RegistrationState)) {
	r.mu.Lock()
	old := r.state.Status
	f(&r.state)
	st := r.state
	r.mu.Unlock()
	if r.opts.OnState != nil && st.Status != old {
		r.opts.OnState(st)
	}
}

// attempt sends one REGISTER (answering a digest challenge) asking for expires, and
// returns the lifetime granted.
func (r *Registration) attempt(ctx context.Context, expires time.Duration) (time.Duration, error) {
	r.set(func(s *RegistrationState) { s.Attempts++ })
	r.ep.mu.Lock()
	cli := r.ep.cli
	r.ep.mu.Unlock()
	req := r.req.Clone()
	r.req.CSeq().SeqNo++ // the template remembers the sequence across refreshes
	req.CSeq().SeqNo = r.req.CSeq().SeqNo
	req.RemoveHeader("Expires")
	exp := sipgosip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	req.RemoveHeader("Via")

	res, err := cli.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		// The digest retry uses the next CSeq (RFC 3261 §22.1).
		r.req.CSeq().SeqNo++
		req.RemoveHeader("Via")
		res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.opts.Username, Password: r.opts.Password})
	}
	if err != nil {
		err = fmt.Errorf("sip: register: %w", err)
		r.set(func(s *RegistrationState) { s.Status, s.Err, s.Expires = RegistrationFailed, err, 0 })
		return 0, err
	}
	if !res.IsSuccess() {
		serr := statusErrorFrom(res)
		err := fmt.Errorf("sip: register: %w", serr)
		r.set(func(s *RegistrationState) { s.Status, s.Err, s.Expires = RegistrationFailed, err, 0 })
		return 0, err
	}
	if expires == 0 {
		return 0, nil // unregistered; Close records the state
	}
	granted := grantedExpires(res, expires)
	r.set(func(s *RegistrationState) { s.Status, s.Err, s.Expires = Registered, nil, granted })
	return granted, nil
}

// grantedExpires reads the lifetime the registrar granted: the expires parameter of our
// Contact in the 200, else its Expires header, else what we asked for.
func grantedExpires(res *Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if c, ok := h.(*sipgosip.ContactHeader); ok && c.Params != nil {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// refreshAfter is when to refresh a binding granted for d: halfway for short ones, a
// minute early for long ones (registrars drop bindings at expiry exactly).
func refreshAfter(d time.Duration) time.Duration {
	if d <= 2*time.Minute {
		return d / 2
	}
	return d - time.Minute
}

func (r *Registration) run(granted time.Duration) {
	defer close(r.done)
	wait := refreshAfter(granted)
	backoff := r.opts.RetryMin
	for {
		t := time.NewTimer(wait)
		select {
		case <-r.stop:
			t.Stop()
			return
		case <-r.ep.closing.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		g, err := r.attempt(ctx, r.opts.Expires)
		cancel()
		if err == nil {
			wait, backoff = refreshAfter(g), r.opts.RetryMin
			continue
		}
		// Full jitter keeps a fleet of instances from retrying in step.
		wait = backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, r.opts.RetryMax)
	}
}

// Close stops refreshing and removes the binding (REGISTER with Expires: 0), waiting
// for the registrar's answer or ctx. It is idempotent.
func (r *Registration) Close(ctx context.Context) error {
	var err error
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		if r.State().Status == Registered {
			_, err = r.attempt(ctx, 0)
		}
		r.set(func(s *RegistrationState) { s.Status, s.Expires = Unregistered, 0 })
	})
	return err
}
