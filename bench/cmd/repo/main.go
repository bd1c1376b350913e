// Command repo measures the repo (see bench.RunRepo): durable inserts by
// command against the bare store, and a 100 MiB object fetched from the
// repo against `ndnd cat` from an `ndnd put` producer, in one run.
//
//	cd bench && go run ./cmd/repo [--mib 100] [--puts 3000] [--dir DIR]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ndn-invoke/ndn-invoke/bench"
)

func main() {
	var cfg bench.RepoConfig
	flag.IntVar(&cfg.ObjectMiB, "mib", 100, "object size in MiB")
	flag.IntVar(&cfg.Puts, "puts", 3000, "1 KiB packets inserted by command")
	flag.IntVar(&cfg.Writers, "writers", 16, "concurrent put commands")
	flag.StringVar(&cfg.Dir, "dir", "", "directory for the stores (a real disk; default .bench-tmp/)")
	flag.StringVar(&cfg.NdndBinary, "ndnd", "", "ndnd binary (default: $NDND_BIN, bin/ndnd, ../bin/ndnd, $PATH)")
	out := flag.String("out", "", "also write the results as JSON to `FILE`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	res, err := bench.RunRepo(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "repo bench:", err)
		os.Exit(1)
	}
	res.WriteTable(os.Stdout)
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "repo bench:", err)
			os.Exit(1)
		}
	}
}
