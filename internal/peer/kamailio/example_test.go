package kamailio_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer/kamailio"
)

// Render shows what Start would run: here a load balancer over two backends, probed
// every 2 seconds, failing over after 1 second without an answer.
func ExampleRender() {
	cfg, err := kamailio.Render(kamailio.Options{
		Port:               5060,
		Backends:           []string{"127.0.0.1:5071", "127.0.0.1:5072"},
		PingInterval:       2 * time.Second,
		TransactionTimeout: time.Second,
	}, "/etc/kam", "/run/kam")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(cfg.DispatcherList)
	for _, line := range strings.Split(cfg.Kamailio, "\n") {
		if strings.Contains(line, "ds_p") || strings.Contains(line, "fr_timer") || strings.Contains(line, "ds_select") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// # setid destination flags priority
	// 1 sip:127.0.0.1:5071 0 2
	// 1 sip:127.0.0.1:5072 0 1
	// modparam("tm", "fr_timer", 1000)
	// modparam("dispatcher", "ds_ping_interval", 2)
	// modparam("dispatcher", "ds_ping_from", "sip:dispatcher@127.0.0.1:5060")
	// modparam("dispatcher", "ds_probing_mode", 1)
	// modparam("dispatcher", "ds_probing_threshold", 1)
	// if (!ds_select_dst("1", "4")) {
}

// ParseRoutes reads the routing decisions from Kamailio's log, e.g. to count calls per
// backend.
func ExampleCountRoutes() {
	log := ` 1(101) NOTICE: <script>: route=dispatch method=INVITE dst=sip:127.0.0.1:5071 ci=1@h
 2(102) NOTICE: <script>: route=dispatch method=INVITE dst=sip:127.0.0.1:5072 ci=2@h
 1(101) NOTICE: <script>: route=dispatch method=INVITE dst=sip:127.0.0.1:5071 ci=3@h
`
	n := kamailio.CountRoutes(kamailio.ParseRoutes(strings.NewReader(log)), "dispatch", "INVITE")
	fmt.Println(n["sip:127.0.0.1:5071"], n["sip:127.0.0.1:5072"])
	// Output: 2 1
}
