package kamailio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer"
)

// Options select the profiles of a Kamailio instance and tune it. The zero value is a
// plain record-routing stateful proxy that relays every request to its Request-URI.
type Options struct {
	// Registrar enables the registrar profile: REGISTER requests are saved in an
	// in-memory location table (usrloc, db_mode 0), and a request whose Request-URI
	// host is the proxy's IP (any port) and whose user is registered is relayed to the
	// registered contact.
	Registrar bool
	// Users, when not empty, makes the registrar demand digest authentication
	// (qop=auth) of REGISTER requests: user name → password, realm = the To domain. A
	// user may only register its own AOR. Names and passwords must not contain
	// quotes, backslashes, '$' or line breaks. Ignored without Registrar.
	Users map[string]string

	// Backends, when not empty, enables the dispatcher profile: every initial request
	// not served by the registrar is load balanced round-robin (algorithm 4) over
	// dispatcher set 1, with failover to the next backend on 408, 5xx or timeout. An
	// entry is "host:port" or a SIP URI ("sip:host:port").
	Backends []string
	// PingInterval is how often each backend is probed with OPTIONS (ds_ping_interval,
	// probing mode 1: all backends, always). Kamailio counts whole seconds, so it is
	// rounded up. Zero means 1 s; negative disables probing.
	PingInterval time.Duration
	// ProbingThreshold is how many failed probes or failed calls (no answer, 408,
	// 5xx) make an active backend inactive (ds_probing_threshold). Zero means 1.
	ProbingThreshold int
	// InactiveThreshold is how many successful probes (200 OK) make an inactive
	// backend active again (ds_inactive_threshold). Zero means 1.
	InactiveThreshold int
	// TransactionTimeout is how long Kamailio waits for any reply to a request it
	// forwarded, OPTIONS probes included, before it treats the destination as failed
	// with a local 408 (tm fr_timer, millisecond resolution). It is therefore also the
	// failover delay for a dead backend. Zero means 2 s.
	TransactionTimeout time.Duration

	// Port is the UDP port on 127.0.0.1. Zero picks a free one.
	Port int
	// Workers is the number of UDP worker processes (-n). Zero means 2.
	Workers int
	// SharedMemoryMB is the shared memory size (-m). Zero means 256; 64 runs out at
	// about 500 calls per second.
	SharedMemoryMB int
	// PrivateMemoryMB is the per-process private memory size (-M). Zero means 16.
	PrivateMemoryMB int
	// Debug is Kamailio's log level: 1 notice, 2 info, 3 debug. Zero means 2. The
	// routing decisions that [Proxy.Routes] reads are logged at notice level.
	Debug int
	// MaxLifetime bounds the process's run time (it is killed after that even if
	// nobody stops it). Zero means 5 minutes.
	MaxLifetime time.Duration
}

// ErrInvalidOptions is wrapped by the error returned for options that cannot produce a
// configuration.
var ErrInvalidOptions = errors.New("kamailio: invalid options")

// ErrConfig is wrapped (through a [*ConfigError]) when Kamailio rejects a configuration.
var ErrConfig = errors.New("kamailio: configuration rejected")

// ConfigError is Kamailio's verdict on a configuration it rejected (kamailio -c).
type ConfigError struct {
	// Problems are Kamailio's ERROR and CRITICAL lines, each followed by the text of
	// the configuration line it names, if any.
	Problems []string
	// Output is the whole output of the check.
	Output string
	// Err is the exit error.
	Err error
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 0 {
		return fmt.Sprintf("kamailio: configuration rejected (%v):\n%s", e.Err, e.Output)
	}
	return "kamailio: configuration rejected:\n  " + strings.Join(e.Problems, "\n  ")
}

// Unwrap makes errors.Is(err, ErrConfig) true and exposes the exit error.
func (e *ConfigError) Unwrap() []error { return []error{ErrConfig, e.Err} }

// Config is a rendered configuration: the files Kamailio reads.
type Config struct {
	// Kamailio is the text of kamailio.cfg.
	Kamailio string
	// DispatcherList is the text of dispatcher.list (empty without backends).
	DispatcherList string
}

// Config file names inside the configuration directory.
const (
	ConfigFile     = "kamailio.cfg"
	DispatcherFile = "dispatcher.list"
	rpcSocketFile  = "kamailio_rpc.sock"
)

// withDefaults fills in zero values.
func (o Options) withDefaults() Options {
	if o.PingInterval == 0 {
		o.PingInterval = time.Second
	}
	if o.ProbingThreshold == 0 {
		o.ProbingThreshold = 1
	}
	if o.InactiveThreshold == 0 {
		o.InactiveThreshold = 1
	}
	if o.TransactionTimeout == 0 {
		o.TransactionTimeout = 2 * time.Second
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.SharedMemoryMB == 0 {
		o.SharedMemoryMB = 256
	}
	if o.PrivateMemoryMB == 0 {
		o.PrivateMemoryMB = 16
	}
	if o.Debug == 0 {
		o.Debug = 2
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = 5 * time.Minute
	}
	return o
}

func (o Options) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	if o.Port <= 0 || o.Port > 65535 {
		return bad("port %d", o.Port)
	}
	if o.ProbingThreshold < 0 || o.InactiveThreshold < 0 || o.Workers < 0 || o.SharedMemoryMB < 0 ||
		o.PrivateMemoryMB < 0 || o.TransactionTimeout < 0 {
		return bad("negative threshold, size or timeout")
	}
	if o.Debug < 1 || o.Debug > 3 {
		return bad("debug level %d (want 1-3)", o.Debug)
	}
	for name, pw := range o.Users {
		if name == "" || !safeLiteral(name) || !safeLiteral(pw) {
			return bad("user %q: empty name, or a quote, backslash, '$' or line break in name or password", name)
		}
	}
	for _, b := range o.Backends {
		if _, err := BackendURI(b); err != nil {
			return err
		}
	}
	return nil
}

// safeLiteral reports whether s can be put between double quotes in kamailio.cfg.
func safeLiteral(s string) bool { return !strings.ContainsAny(s, "\"\\\r\n$") }

// BackendURI turns a Backends entry into the SIP URI Kamailio lists it as: "host:port"
// becomes "sip:host:port"; a "sip:" URI is kept.
func BackendURI(backend string) (string, error) {
	b := strings.TrimSpace(backend)
	if !strings.HasPrefix(b, "sip:") {
		b = "sip:" + b
	}
	rest := strings.TrimPrefix(b, "sip:")
	if rest == "" || strings.ContainsAny(rest, " \t\r\n\"\\#") {
		return "", fmt.Errorf("%w: backend %q", ErrInvalidOptions, backend)
	}
	return b, nil
}

// Render produces the configuration for opts. opts.Port must be set; runDir is the
// runtime directory (-Y), where the JSON-RPC control socket is created, and confDir is
// where the dispatcher list is read from.
func Render(opts Options, confDir, runDir string) (Config, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return Config{}, err
	}
	data := tmplData{
		Options:     opts,
		IP:          peer.Loopback,
		RPCSocket:   filepath.Join(runDir, rpcSocketFile),
		ListFile:    filepath.Join(confDir, DispatcherFile),
		FrTimerMS:   max(1, int(math.Ceil(float64(opts.TransactionTimeout)/float64(time.Millisecond)))),
		PingSeconds: 0,
	}
	if opts.PingInterval > 0 {
		data.PingSeconds = int(math.Ceil(opts.PingInterval.Seconds()))
	}
	if opts.Registrar {
		for name := range opts.Users {
			data.UserList = append(data.UserList, user{Name: name, Password: opts.Users[name]})
		}
		slices.SortFunc(data.UserList, func(a, b user) int { return strings.Compare(a.Name, b.Name) })
	}
	var list strings.Builder
	if len(opts.Backends) > 0 {
		list.WriteString("# setid destination flags priority\n")
		for i, b := range opts.Backends {
			u, _ := BackendURI(b)
			// Flag 8 (probing) is implied by probing mode 1; priority keeps the file order.
			fmt.Fprintf(&list, "1 %s 0 %d\n", u, len(opts.Backends)-i)
		}
	}
	var cfg bytes.Buffer
	if err := cfgTemplate.Execute(&cfg, data); err != nil {
		return Config{}, fmt.Errorf("kamailio: render: %w", err)
	}
	return Config{Kamailio: cfg.String(), DispatcherList: list.String()}, nil
}

type user struct{ Name, Password string }

type tmplData struct {
	Options
	IP          string
	RPCSocket   string
	ListFile    string
	FrTimerMS   int
	PingSeconds int
	UserList    []user
}

// The configuration. Routing decisions are logged as "route=KIND key=value..." lines
// at notice level; ParseRoutes reads them back, so keep the two in step.
var cfgTemplate = template.Must(template.New("kamailio.cfg").Parse(`#!KAMAILIO
# Generated by switchboard's test harness (internal/peer/kamailio).
debug={{.Debug}}
log_stderror=yes
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
listen=udp:{{.IP}}:{{.Port}}

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "jsonrpcs.so"
{{- if .Registrar}}
loadmodule "usrloc.so"
loadmodule "registrar.so"
{{- if .UserList}}
loadmodule "auth.so"
{{- end}}
{{- end}}
{{- if .Backends}}
loadmodule "dispatcher.so"
{{- end}}

# Control: JSON-RPC over a unix datagram socket in the runtime directory.
modparam("jsonrpcs", "transport", 4)
modparam("jsonrpcs", "dgram_socket", "{{.RPCSocket}}")
modparam("jsonrpcs", "dgram_mode", 0600)
modparam("jsonrpcs", "pretty_format", 0)

modparam("tm", "fr_timer", {{.FrTimerMS}})
modparam("tm", "fr_inv_timer", 30000)
modparam("rr", "enable_full_lr", 1)
modparam("rr", "append_fromtag", 1)
{{- if .Registrar}}
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
{{- end}}
{{- if .Backends}}
modparam("dispatcher", "list_file", "{{.ListFile}}")
# 2 = failover: the other destinations of the set are kept for ds_next_dst().
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", {{.PingSeconds}})
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@{{.IP}}:{{.Port}}")
# 1 = probe every destination all the time, so a draining backend (OPTIONS -> 503)
# is taken out even if no call has failed on it yet.
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", {{.ProbingThreshold}})
modparam("dispatcher", "ds_inactive_threshold", {{.InactiveThreshold}})
{{- end}}

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check("17895", "7")) {
		xlog("L_NOTICE", "route=malformed method=$rm ci=$ci\n");
		exit;
	}
	if (has_totag()) {
		route(WITHINDLG);
		exit;
	}
	if (is_method("CANCEL|ACK")) {
		# CANCEL and the ACK of a negative reply belong to a transaction.
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	if (is_method("OPTIONS") && uri==myself && $rU==$null) {
		sl_send_reply("200", "Keepalive");
		exit;
	}
	# Absorb retransmissions of requests already being handled.
	t_check_trans();
	if (is_method("INVITE|SUBSCRIBE")) {
		record_route();
	}
{{- if .Registrar}}
	if (is_method("REGISTER")) {
		route(REGISTRAR);
		exit;
	}
	if ($rU != $null && $rd == "{{.IP}}") {
		if (lookup("location")) {
			xlog("L_NOTICE", "route=location method=$rm dst=$ru ci=$ci\n");
			route(RELAY);
		}
	}
{{- end}}
{{- if .Backends}}
	if (!ds_select_dst("1", "4")) {
		xlog("L_NOTICE", "route=nobackend method=$rm ci=$ci\n");
		sl_send_reply("503", "No Backend Available");
		exit;
	}
	xlog("L_NOTICE", "route=dispatch method=$rm dst=$du ci=$ci\n");
	t_on_failure("DS_FAILOVER");
	route(RELAY);
{{- end}}
	if (uri==myself) {
		xlog("L_NOTICE", "route=notfound method=$rm ci=$ci\n");
		sl_send_reply("404", "Not Found");
		exit;
	}
	xlog("L_NOTICE", "route=relay method=$rm dst=$ru ci=$ci\n");
	route(RELAY);
}

route[RELAY] {
	if (!t_relay()) {
		sl_reply_error();
	}
	exit;
}

# In-dialog requests (ACK, BYE, re-INVITE) follow the Record-Route set.
route[WITHINDLG] {
	if (loose_route()) {
		route(RELAY);
	}
	if (is_method("ACK")) {
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	sl_send_reply("404", "Not Here");
	exit;
}
{{- if .Registrar}}

route[REGISTRAR] {
{{- if .UserList}}
	route(AUTH);
{{- end}}
	if (!save("location")) {
		sl_reply_error();
		exit;
	}
	xlog("L_NOTICE", "route=register method=$rm user=$tU ci=$ci\n");
	exit;
}
{{- if .UserList}}

route[AUTH] {
	$var(pw) = "";
{{- range .UserList}}
	if ($au == "{{.Name}}") {
		$var(pw) = "{{.Password}}";
	}
{{- end}}
	if ($var(pw) == "" || !pv_www_authenticate("$td", "$var(pw)", "0")) {
		www_challenge("$td", "1");
		exit;
	}
	if ($au != $tU) {
		sl_send_reply("403", "Forbidden AOR");
		exit;
	}
	consume_credentials();
}
{{- end}}
{{- end}}
{{- if .Backends}}

failure_route[DS_FAILOVER] {
	if (t_is_canceled()) {
		exit;
	}
	if (t_check_status("408|5[0-9][0-9]") || (t_branch_timeout() && !t_branch_replied())) {
		xlog("L_NOTICE", "route=failed method=$rm dst=$du status=$T_reply_code ci=$ci\n");
		# Count the failure against the backend (trying, then inactive at the
		# probing threshold); probing brings it back.
		ds_mark_dst("tp");
		if (ds_next_dst()) {
			xlog("L_NOTICE", "route=failover method=$rm dst=$du ci=$ci\n");
			t_on_failure("DS_FAILOVER");
			route(RELAY);
		}
	}
}

event_route[dispatcher:dst-down] {
	xlog("L_NOTICE", "route=dst-down method=$rm dst=$ru\n");
}

event_route[dispatcher:dst-up] {
	xlog("L_NOTICE", "route=dst-up method=$rm dst=$ru\n");
}
{{- end}}
`))

// CheckConfig runs "kamailio -c" on the configuration file at path. A rejected
// configuration returns a *ConfigError (errors.Is(err, ErrConfig)) that lists
// Kamailio's complaints next to the offending lines.
func CheckConfig(ctx context.Context, kamailioPath, path string) error {
	out, err := exec.CommandContext(ctx, kamailioPath, "-c", "-f", path).CombinedOutput()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("kamailio: config check: %w", ctx.Err())
	}
	text, _ := readFileString(path)
	return &ConfigError{Problems: configProblems(string(out), text), Output: string(out), Err: err}
}

var lineRE = regexp.MustCompile(`, line (\d+)`)

// configProblems picks Kamailio's error lines out of a check's output and adds the
// configuration line each one names.
func configProblems(out, cfg string) []string {
	cfgLines := strings.Split(cfg, "\n")
	var probs []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "ERROR") && !strings.Contains(l, "CRITICAL") {
			continue
		}
		l = strings.TrimSpace(l)
		if m := lineRE.FindStringSubmatch(l); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= len(cfgLines) {
				l += fmt.Sprintf("\n      %d: %s", n, strings.TrimSpace(cfgLines[n-1]))
			}
		}
		probs = append(probs, l)
	}
	return probs
}
