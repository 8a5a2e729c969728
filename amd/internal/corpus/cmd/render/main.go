// Command render synthesizes and renders the amd evaluation corpus into a cache
// directory, so that tests (which may run under the race detector, many times slower)
// only read it. The amd tests run it when the cache lacks a case:
//
//	go run ./internal/corpus/cmd/render -manifest testdata/corpus.jsonl -dir testdata/cache
//	go run ./internal/corpus/cmd/render -seed 2 -dir testdata/cache
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/switchboard-go/switchboard/amd/internal/corpus"
)

func main() {
	manifest := flag.String("manifest", "", "manifest of the cases (JSON lines)")
	seed := flag.Uint64("seed", 0, "render Generate(seed) instead of a manifest")
	dir := flag.String("dir", "testdata/cache", "cache directory")
	workers := flag.Int("workers", 4, "cases rendered at once")
	flag.Parse()
	if err := run(*manifest, *seed, *dir, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(manifest string, seed uint64, dir string, workers int) error {
	if err := corpus.CheckEngines(); err != nil {
		return err
	}
	var cases []corpus.Case
	switch {
	case seed != 0:
		cases = corpus.Generate(seed)
	case manifest != "":
		data, err := os.ReadFile(manifest)
		if err != nil {
			return err
		}
		if cases, err = corpus.ReadManifest(data); err != nil {
			return err
		}
	default:
		return fmt.Errorf("need -manifest or -seed")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan corpus.Case)
	)
	for range max(1, workers) {
		wg.Go(func() {
			for c := range next {
				if _, err := corpus.Render(dir, c); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", c.ID, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range cases {
		next <- c
	}
	close(next)
	wg.Wait()
	return first
}
