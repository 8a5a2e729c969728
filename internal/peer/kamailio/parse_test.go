package kamailio_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
)

// A dispatcher.list result as Kamailio 5.6.3 sends it (pretty_format 0).
const dispatcherListResult = `{"NRSETS":1,"RECORDS":[{"SET":{"ID":1,"TARGETS":[` +
	`{"DEST":{"URI":"sip:127.0.0.1:25071","FLAGS":"AP","PRIORITY":2}},` +
	`{"DEST":{"URI":"sip:127.0.0.1:25072","FLAGS":"IP","PRIORITY":1}}]}}]}`

func TestParseDispatcherList(t *testing.T) {
	t.Parallel()
	dsts, err := kamailio.ParseDispatcherList([]byte(dispatcherListResult))
	require.NoError(t, err)
	assert.Equal(t, []kamailio.Destination{
		{Set: 1, URI: "sip:127.0.0.1:25071", State: kamailio.StateActive, Probing: true, Flags: "AP", Priority: 2},
		{Set: 1, URI: "sip:127.0.0.1:25072", State: kamailio.StateInactive, Probing: true, Flags: "IP", Priority: 1},
	}, dsts)

	// Single objects instead of arrays, other states, no probing.
	one := `{"RECORDS":{"SET":{"ID":3,"TARGETS":{"DEST":{"URI":"sip:a:1","FLAGS":"TX"}}}}}`
	dsts, err = kamailio.ParseDispatcherList([]byte(one))
	require.NoError(t, err)
	assert.Equal(t, []kamailio.Destination{{Set: 3, URI: "sip:a:1", State: kamailio.StateTrying, Flags: "TX"}}, dsts)
	dsts, err = kamailio.ParseDispatcherList([]byte(`{"RECORDS":[{"SET":{"ID":1,"TARGETS":[{"DEST":{"URI":"sip:b:2","FLAGS":"DX"}}]}}]}`))
	require.NoError(t, err)
	assert.Equal(t, kamailio.StateDisabled, dsts[0].State)

	dsts, err = kamailio.ParseDispatcherList([]byte(`{"NRSETS":0}`))
	require.NoError(t, err)
	assert.Empty(t, dsts)
	_, err = kamailio.ParseDispatcherList([]byte(`{"RECORDS":[{"SET":{"ID":"x"}}]}`))
	assert.Error(t, err)
	_, err = kamailio.ParseDispatcherList([]byte(`not json`))
	assert.Error(t, err)
}

// A ul.lookup result as Kamailio 5.6.3 sends it (abridged).
const contactsResult = `{"AoR":"carol","Contacts":[` +
	`{"Contact":{"Address":"sip:carol@127.0.0.1:25999","Expires":599,"Q":-1,"Call-ID":"1-18163@127.0.0.1","CSeq":1}},` +
	`{"Contact":{"Address":"sip:carol@127.0.0.1:25998","Expires":599,"Q":-1,"Call-ID":"1-18175@127.0.0.1","CSeq":1}}]}`

func TestParseContacts(t *testing.T) {
	t.Parallel()
	cs, err := kamailio.ParseContacts([]byte(contactsResult))
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:carol@127.0.0.1:25999", "sip:carol@127.0.0.1:25998"}, cs)
	cs, err = kamailio.ParseContacts([]byte(`{"AoR":"x","Contacts":{"Contact":{"Address":"sip:x@h"}}}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:x@h"}, cs)
	_, err = kamailio.ParseContacts([]byte(`{"Contacts":7}`))
	assert.Error(t, err)
}

// Lines as Kamailio logs them with -E.
const routeLog = ` 0(14221) INFO: <core> [main.c:2866]: main(): processes (at least): 12 - shm size: 268435456
 1(14222) NOTICE: <script>: route=dispatch method=INVITE dst=sip:127.0.0.1:5072 ci=1-27493@127.0.0.1
 2(14223) NOTICE: <script>: route=failed method=INVITE dst=sip:127.0.0.1:5072 status=408 ci=1-27493@127.0.0.1
 2(14223) NOTICE: <script>: route=failover method=INVITE dst=sip:127.0.0.1:5071 ci=1-27493@127.0.0.1
 3(14224) NOTICE: <script>: route=dst-down method=OPTIONS dst=sip:127.0.0.1:5072
 1(14222) NOTICE: <script>: route=register method=REGISTER user=carol ci=1-1@127.0.0.1
 1(14222) NOTICE: <script>: something else
 2(14223) NOTICE: <script>: route=location method=INVITE dst=sip:carol@127.0.0.1:5095 ci=2-1@127.0.0.1
`

func TestParseRoutes(t *testing.T) {
	t.Parallel()
	routes := kamailio.ParseRoutes(strings.NewReader(routeLog))
	require.Len(t, routes, 6)
	assert.Equal(t, kamailio.Route{Kind: "dispatch", Method: "INVITE", Dest: "sip:127.0.0.1:5072", CallID: "1-27493@127.0.0.1"}, routes[0])
	assert.Equal(t, 408, routes[1].Status)
	assert.Equal(t, "carol", routes[4].User)
	assert.Equal(t, map[string]int{"sip:127.0.0.1:5072": 1}, kamailio.CountRoutes(routes, "dispatch", "INVITE"))
	assert.Equal(t, map[string]int{"sip:127.0.0.1:5072": 1}, kamailio.CountRoutes(routes, "dst-down", ""))
	assert.Empty(t, kamailio.CountRoutes(routes, "dispatch", "BYE"))
}

func FuzzParseDispatcherList(f *testing.F) {
	f.Add([]byte(dispatcherListResult))
	f.Add([]byte(`{"RECORDS":{"SET":{"ID":3,"TARGETS":{"DEST":{"URI":"sip:a:1","FLAGS":"TX"}}}}}`))
	f.Add([]byte(`{"NRSETS":0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dsts, err := kamailio.ParseDispatcherList(b)
		if err != nil {
			return
		}
		for _, d := range dsts {
			// The state is derived from the flags, never invented.
			if d.State != "" && (d.Flags == "" || !strings.ContainsRune("AITD", rune(d.Flags[0]))) {
				t.Fatalf("state %q from flags %q", d.State, d.Flags)
			}
			if d.Probing && (len(d.Flags) < 2 || d.Flags[1] != 'P') {
				t.Fatalf("probing from flags %q", d.Flags)
			}
		}
	})
}

func FuzzParseContacts(f *testing.F) {
	f.Add([]byte(contactsResult))
	f.Add([]byte(`{"AoR":"x","Contacts":{"Contact":{"Address":"sip:x@h"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := kamailio.ParseContacts(b)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c == "" {
				t.Fatal("empty contact")
			}
		}
	})
}

func FuzzParseRoutes(f *testing.F) {
	f.Add(routeLog)
	f.Add(" 1(1) NOTICE: <script>: route= method=\n<script>: route=x status=-1 dst==\n")
	f.Fuzz(func(t *testing.T, log string) {
		routes := kamailio.ParseRoutes(strings.NewReader(log))
		if len(routes) > strings.Count(log, "<script>: route=") {
			t.Fatalf("%d routes from %d markers", len(routes), strings.Count(log, "<script>: route="))
		}
		for _, r := range routes {
			if r.Kind == "" {
				t.Fatal("route without kind")
			}
		}
	})
}
