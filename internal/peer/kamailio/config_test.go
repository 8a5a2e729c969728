package kamailio_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
)

// profiles are the option sets the configuration tests render.
func profiles() map[string]kamailio.Options {
	return map[string]kamailio.Options{
		"plain proxy":          {},
		"registrar":            {Registrar: true},
		"registrar with auth":  {Registrar: true, Users: map[string]string{"carol": "s3cret", "dave": "x y"}},
		"dispatcher":           {Backends: []string{"127.0.0.1:5071", "sip:127.0.0.1:5072"}},
		"dispatcher no probes": {Backends: []string{"127.0.0.1:5071"}, PingInterval: -1},
		"both": {
			Registrar: true, Users: map[string]string{"carol": "pw"},
			Backends:     []string{"127.0.0.1:5071", "127.0.0.1:5072", "127.0.0.1:5073"},
			PingInterval: 2500 * time.Millisecond, ProbingThreshold: 3, InactiveThreshold: 2,
			TransactionTimeout: 1500 * time.Millisecond, Debug: 3,
		},
	}
}

// Every profile renders to a configuration Kamailio accepts.
func TestProfilesPassConfigCheck(t *testing.T) {
	t.Parallel()
	path := peer.RequireProgram(t, "kamailio", kamailio.DebianPackage)
	for name, opts := range profiles() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts.Port = 5060
			cfg, err := kamailio.Render(opts, dir, dir)
			require.NoError(t, err)
			cfgPath := filepath.Join(dir, kamailio.ConfigFile)
			require.NoError(t, os.WriteFile(cfgPath, []byte(cfg.Kamailio), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, kamailio.DispatcherFile), []byte(cfg.DispatcherList), 0o644))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, kamailio.CheckConfig(ctx, path, cfgPath))
		})
	}
}

func TestRenderProfiles(t *testing.T) {
	t.Parallel()
	both := profiles()["both"]
	both.Port = 5099
	cfg, err := kamailio.Render(both, "/conf", "/run/k")
	require.NoError(t, err)
	k := cfg.Kamailio
	for _, want := range []string{
		"listen=udp:127.0.0.1:5099",
		`loadmodule "registrar.so"`, `loadmodule "auth.so"`, `loadmodule "dispatcher.so"`,
		`modparam("jsonrpcs", "dgram_socket", "/run/k/kamailio_rpc.sock")`,
		`modparam("dispatcher", "list_file", "/conf/dispatcher.list")`,
		`modparam("dispatcher", "ds_ping_interval", 3)`, // 2.5 s rounded up
		`modparam("dispatcher", "ds_probing_mode", 1)`,
		`modparam("dispatcher", "ds_probing_threshold", 3)`,
		`modparam("dispatcher", "ds_inactive_threshold", 2)`,
		`modparam("tm", "fr_timer", 1500)`,
		"debug=3",
		`if ($au == "carol") {`,
		`ds_select_dst("1", "4")`,
		"failure_route[DS_FAILOVER]",
	} {
		assert.Contains(t, k, want)
	}
	assert.Equal(t, "# setid destination flags priority\n"+
		"1 sip:127.0.0.1:5071 0 3\n1 sip:127.0.0.1:5072 0 2\n1 sip:127.0.0.1:5073 0 1\n", cfg.DispatcherList)
	// The registrar is consulted before the dispatcher.
	assert.Less(t, strings.Index(k, `lookup("location")`), strings.Index(k, `ds_select_dst`))

	plain, err := kamailio.Render(kamailio.Options{Port: 5060}, "/c", "/r")
	require.NoError(t, err)
	for _, absent := range []string{"registrar", "dispatcher", "auth.so", "failure_route"} {
		assert.NotContains(t, plain.Kamailio, absent)
	}
	assert.Contains(t, plain.Kamailio, `modparam("tm", "fr_timer", 2000)`, "default transaction timeout")
	assert.Empty(t, plain.DispatcherList)

	// Without Registrar, Users are ignored.
	users, err := kamailio.Render(kamailio.Options{Port: 5060, Users: map[string]string{"a": "b"}}, "/c", "/r")
	require.NoError(t, err)
	assert.NotContains(t, users.Kamailio, "auth.so")
}

func TestRenderRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]kamailio.Options{
		"no port":          {},
		"port too big":     {Port: 70000},
		"quote in pw":      {Port: 5060, Registrar: true, Users: map[string]string{"carol": `a"b`}},
		"newline in name":  {Port: 5060, Registrar: true, Users: map[string]string{"ca\nrol": "x"}},
		"empty user name":  {Port: 5060, Registrar: true, Users: map[string]string{"": "x"}},
		"space in backend": {Port: 5060, Backends: []string{"127.0.0.1 :5071"}},
		"empty backend":    {Port: 5060, Backends: []string{"sip:"}},
		"debug level":      {Port: 5060, Debug: 7},
		"negative timeout": {Port: 5060, TransactionTimeout: -time.Second},
	} {
		_, err := kamailio.Render(opts, "/c", "/r")
		assert.ErrorIs(t, err, kamailio.ErrInvalidOptions, name)
	}
}

func TestBackendURI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"127.0.0.1:5071":                  "sip:127.0.0.1:5071",
		"sip:127.0.0.1:5071":              "sip:127.0.0.1:5071",
		" 127.0.0.1:5071 ":                "sip:127.0.0.1:5071",
		"sip:10.0.0.1:5060;transport=udp": "sip:10.0.0.1:5060;transport=udp",
	} {
		got, err := kamailio.BackendURI(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

// A configuration Kamailio rejects is reported with its complaints and the lines they
// point at.
func TestCheckConfigReportsErrors(t *testing.T) {
	t.Parallel()
	path := peer.RequireProgram(t, "kamailio", kamailio.DebianPackage)
	dir := t.TempDir()
	cfg, err := kamailio.Render(kamailio.Options{Port: 5060, Registrar: true}, dir, dir)
	require.NoError(t, err)
	bad := strings.Replace(cfg.Kamailio, `loadmodule "sanity.so"`, `loadmodule "sanityy.so"`, 1)
	bad = strings.Replace(bad, `modparam("usrloc", "db_mode", 0)`, `modparam("usrloc", "no_such_param", 0)`, 1)
	cfgPath := filepath.Join(dir, kamailio.ConfigFile)
	require.NoError(t, os.WriteFile(cfgPath, []byte(bad), 0o644))

	err = kamailio.CheckConfig(context.Background(), path, cfgPath)
	require.ErrorIs(t, err, kamailio.ErrConfig)
	var ce *kamailio.ConfigError
	require.True(t, errors.As(err, &ce))
	msg := err.Error()
	assert.Contains(t, msg, "could not find module <sanityy>")
	assert.Contains(t, msg, `loadmodule "sanityy.so"`, "the offending line is quoted")
	assert.Contains(t, msg, "no_such_param")
	assert.Contains(t, ce.Output, "bad config file")
	t.Logf("%v", err)
}
