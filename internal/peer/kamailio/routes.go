package kamailio

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Route is one routing decision from Kamailio's log.
type Route struct {
	// Kind is what happened:
	//   "dispatch"  an initial request sent to a backend chosen by the dispatcher
	//   "failed"    a backend failed it (Status: 408 for no answer, or its 5xx)
	//   "failover"  it was re-sent to the next backend
	//   "nobackend" no backend was active: answered 503
	//   "location"  sent to a registered contact
	//   "register"  a REGISTER was saved
	//   "notfound"  addressed to the proxy, nobody registered: answered 404
	//   "relay"     sent to its Request-URI
	//   "dst-down", "dst-up"  probing changed a backend's state (Dest)
	//   "malformed" dropped by the sanity check
	Kind   string
	Method string
	Dest   string // destination URI, when there is one
	CallID string
	User   string // registered user ("register")
	Status int    // reply status ("failed")
}

const routeMarker = "<script>: route="

// ParseRoutes reads the routing decisions ("route=KIND key=value ...") that the
// generated configuration logs. Other lines are ignored.
func ParseRoutes(r io.Reader) []Route {
	var out []Route
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, routeMarker)
		if i < 0 {
			continue
		}
		var rt Route
		for _, kv := range strings.Fields(line[i+len("<script>: "):]) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			switch k {
			case "route":
				rt.Kind = v
			case "method":
				rt.Method = v
			case "dst":
				rt.Dest = v
			case "ci":
				rt.CallID = v
			case "user":
				rt.User = v
			case "status":
				rt.Status, _ = strconv.Atoi(v)
			}
		}
		if rt.Kind != "" {
			out = append(out, rt)
		}
	}
	return out
}

// CountRoutes counts routes of the given kind and method per destination. An empty
// method matches every method.
func CountRoutes(routes []Route, kind, method string) map[string]int {
	n := map[string]int{}
	for _, r := range routes {
		if r.Kind == kind && (method == "" || r.Method == method) {
			n[r.Dest]++
		}
	}
	return n
}
