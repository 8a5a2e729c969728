package kamailio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RPCError is an error reply from Kamailio's JSON-RPC interface.
type RPCError struct {
	Method  string
	Code    int
	Message string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("kamailio: rpc %s: %d %s", e.Method, e.Code, e.Message)
}

// defaultRPCTimeout bounds an RPC whose ctx has no deadline.
const defaultRPCTimeout = 5 * time.Second

// RPC calls a Kamailio RPC command (e.g. "dispatcher.list", "ul.dump", "core.uptime")
// over the JSON-RPC datagram socket in the runtime directory and returns the "result"
// member of the reply. An error reply is a *RPCError.
func (p *Proxy) RPC(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultRPCTimeout)
		defer cancel()
	}
	id := p.rpcSeq.Add(1)
	// Kamailio answers to the sender's address, so the client socket must be bound.
	local := filepath.Join(p.runDir, "c"+strconv.FormatUint(id, 10)+".sock")
	_ = os.Remove(local)
	laddr := &net.UnixAddr{Name: local, Net: "unixgram"}
	conn, err := net.ListenUnixgram("unixgram", laddr)
	if err != nil {
		return nil, fmt.Errorf("kamailio: rpc %s: %w", method, err)
	}
	defer func() {
		conn.Close()
		_ = os.Remove(local)
	}()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	if params == nil {
		params = []any{}
	}
	req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": id})
	if err != nil {
		return nil, fmt.Errorf("kamailio: rpc %s: %w", method, err)
	}
	server := &net.UnixAddr{Name: filepath.Join(p.runDir, rpcSocketFile), Net: "unixgram"}
	if _, err := conn.WriteToUnix(req, server); err != nil {
		return nil, fmt.Errorf("kamailio: rpc %s: %w", method, ctxErr(ctx, err))
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			return nil, fmt.Errorf("kamailio: rpc %s: %w", method, ctxErr(ctx, err))
		}
		res, rid, err := parseRPCReply(method, buf[:n])
		if err != nil {
			return nil, err
		}
		if rid != id {
			continue // a late reply to an earlier, abandoned call
		}
		return res, nil
	}
}

// ctxErr prefers the context's error over the deadline error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// parseRPCReply decodes a JSON-RPC 2.0 reply.
func parseRPCReply(method string, b []byte) (json.RawMessage, uint64, error) {
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, 0, fmt.Errorf("kamailio: rpc %s: bad reply: %w", method, err)
	}
	id, _ := strconv.ParseUint(r.ID.String(), 10, 64)
	if r.Error != nil {
		return nil, id, &RPCError{Method: method, Code: r.Error.Code, Message: r.Error.Message}
	}
	return r.Result, id, nil
}

// State is a dispatcher destination's state.
type State string

// Destination states, from the first letter of dispatcher.list's FLAGS.
const (
	StateActive   State = "active"   // A: selected for new requests
	StateInactive State = "inactive" // I: skipped until probing finds it up again
	StateTrying   State = "trying"   // T: failed recently, still selected; inactive at the threshold
	StateDisabled State = "disabled" // D: disabled by an administrator
)

// Destination is one entry of a dispatcher set, as Kamailio reports it.
type Destination struct {
	Set      int
	URI      string
	State    State
	Probing  bool   // second FLAGS letter P: being probed with OPTIONS
	Flags    string // raw FLAGS, e.g. "AP", "IP"
	Priority int
}

// DispatcherStates asks Kamailio for the state of every dispatcher destination
// (RPC dispatcher.list).
func (p *Proxy) DispatcherStates(ctx context.Context) ([]Destination, error) {
	res, err := p.RPC(ctx, "dispatcher.list")
	if err != nil {
		return nil, err
	}
	return ParseDispatcherList(res)
}

// ErrNoDestination is wrapped by WaitDispatcher's error when the backend is not in any
// dispatcher set.
var ErrNoDestination = errors.New("kamailio: no such dispatcher destination")

// WaitDispatcher polls until the backend (a Backends entry or its URI) is in state
// want, and returns its last Destination. When probing is enabled it also waits until
// the backend has been probed at least once (Kamailio sets the P flag on the first
// probe's outcome), so StateActive means "answered a probe", not merely "not failed
// yet". On timeout the error says which state the backend was in.
func (p *Proxy) WaitDispatcher(ctx context.Context, backend string, want State) (Destination, error) {
	uri, err := BackendURI(backend)
	if err != nil {
		return Destination{}, err
	}
	var last Destination
	found := false
	for {
		dsts, err := p.DispatcherStates(ctx)
		if err == nil {
			for _, d := range dsts {
				if d.URI == uri {
					last, found = d, true
					if d.State == want && (d.Probing || p.opts.PingInterval < 0) {
						return d, nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			if !found {
				return last, fmt.Errorf("kamailio: waiting for %s to be %s: %w (%w)", uri, want, ctx.Err(), ErrNoDestination)
			}
			return last, fmt.Errorf("kamailio: waiting for %s to be %s: %w (it is %s, flags %s)", uri, want, ctx.Err(), last.State, last.Flags)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ParseDispatcherList decodes the result of the dispatcher.list RPC. Kamailio renders
// single-element arrays inconsistently across versions, so TARGETS and RECORDS may be
// an array or a single object.
func ParseDispatcherList(result []byte) ([]Destination, error) {
	var top struct {
		Records json.RawMessage `json:"RECORDS"`
	}
	if err := json.Unmarshal(result, &top); err != nil {
		return nil, fmt.Errorf("kamailio: dispatcher.list: %w", err)
	}
	type dest struct {
		URI      string `json:"URI"`
		Flags    string `json:"FLAGS"`
		Priority int    `json:"PRIORITY"`
	}
	type target struct {
		Dest dest `json:"DEST"`
	}
	type set struct {
		ID      int             `json:"ID"`
		Targets json.RawMessage `json:"TARGETS"`
	}
	type record struct {
		Set set `json:"SET"`
	}
	records, err := oneOrMany[record](top.Records)
	if err != nil {
		return nil, fmt.Errorf("kamailio: dispatcher.list RECORDS: %w", err)
	}
	var out []Destination
	for _, r := range records {
		targets, err := oneOrMany[target](r.Set.Targets)
		if err != nil {
			return nil, fmt.Errorf("kamailio: dispatcher.list TARGETS: %w", err)
		}
		for _, t := range targets {
			d := Destination{Set: r.Set.ID, URI: t.Dest.URI, Flags: t.Dest.Flags, Priority: t.Dest.Priority}
			d.State, d.Probing = parseFlags(t.Dest.Flags)
			out = append(out, d)
		}
	}
	return out, nil
}

// oneOrMany decodes a JSON array of T, a single T, or nothing.
func oneOrMany[T any](raw json.RawMessage) ([]T, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	if s[0] == '[' {
		var v []T
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return []T{v}, nil
}

// parseFlags reads dispatcher FLAGS: state letter, then P (probing) or X.
func parseFlags(f string) (State, bool) {
	var st State
	if f != "" {
		switch f[0] {
		case 'A':
			st = StateActive
		case 'I':
			st = StateInactive
		case 'T':
			st = StateTrying
		case 'D':
			st = StateDisabled
		}
	}
	return st, len(f) > 1 && f[1] == 'P'
}

// Contacts returns the contact URIs registered for aor (the user name: the location
// table does not use domains), via the ul.lookup RPC. An unknown AOR has none.
func (p *Proxy) Contacts(ctx context.Context, aor string) ([]string, error) {
	res, err := p.RPC(ctx, "ul.lookup", "location", aor)
	var rerr *RPCError
	// Kamailio 5.6 answers 500 "AOR not found in location table" (others 404).
	if errors.As(err, &rerr) && (rerr.Code == 404 || strings.Contains(strings.ToLower(rerr.Message), "not found")) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseContacts(res)
}

// ParseContacts decodes the result of the ul.lookup RPC into contact URIs.
func ParseContacts(result []byte) ([]string, error) {
	var top struct {
		Contacts json.RawMessage `json:"Contacts"`
	}
	if err := json.Unmarshal(result, &top); err != nil {
		return nil, fmt.Errorf("kamailio: ul.lookup: %w", err)
	}
	type contact struct {
		Contact struct {
			Address string `json:"Address"`
		} `json:"Contact"`
	}
	cs, err := oneOrMany[contact](top.Contacts)
	if err != nil {
		return nil, fmt.Errorf("kamailio: ul.lookup Contacts: %w", err)
	}
	var out []string
	for _, c := range cs {
		if c.Contact.Address != "" {
			out = append(out, c.Contact.Address)
		}
	}
	return out, nil
}
