package kamailio

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]struct {
		state byte
		pgrp  int
		ok    bool
	}{
		"1234 (kamailio) S 1200 1234 1234 0 -1 4194560": {'S', 1234, true},
		"77 (a) (b) c) Z 1 70 70 0":                     {'Z', 70, true},
		"5 (weird name with spaces) R 4 5 5":            {'R', 5, true},
		"5 (x) R 4":                                     {0, 0, false},
		"no parens":                                     {0, 0, false},
		"9 (x) SS 1 2 3":                                {0, 0, false},
		"9 (x) S 1 notanumber 3":                        {0, 0, false},
	} {
		st, pg, ok := parseStat(line)
		assert.Equal(t, want.ok, ok, line)
		if ok {
			assert.Equal(t, want.state, st, line)
			assert.Equal(t, want.pgrp, pg, line)
		}
	}
}

func TestConfigProblemsQuoteLines(t *testing.T) {
	t.Parallel()
	out := ` 0(1) ERROR: <core> [core/sr_module.c:510]: ksr_locate_module(): could not find module <nosuch>
 0(1) CRITICAL: <core> [core/cfg.y:3787]: yyerror_at(): parse error in config file /x/k.cfg, line 2, column 12-22: failed to load module
 0(1) INFO: <core> [core/sctp_core.c:53]: sctp_core_destroy(): SCTP API not initialized
 0(1) CRITICAL: <core> [core/cfg.y:3790]: yyerror_at(): parse error in config file /x/k.cfg, line 99, column 1: beyond the end
`
	probs := configProblems(out, "#!KAMAILIO\nloadmodule \"nosuch.so\"\n")
	assert.Len(t, probs, 3)
	assert.Contains(t, probs[1], "\n      2: loadmodule \"nosuch.so\"")
	assert.NotContains(t, probs[2], "\n", "a line number past the end quotes nothing")
}
