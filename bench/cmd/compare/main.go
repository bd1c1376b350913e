// Command compare runs ndn-invoke and gRPC-go side by side in one process
// and prints a table of calls/s, latency and CPU per call (see package
// bench), then, unless --streams=false, a table of server streaming:
// items/s, MB/s, time to first item, CPU per item and a slow consumer
// (bench.RunStreams). It needs an ndnd binary: `make build` in the
// repository root makes bin/ndnd, or set NDND_BIN.
//
// The JSON file holds the unary report's fields and, under "streams", the
// streaming report.
//
//	cd bench && go run ./cmd/compare --out results.json
//	go run ./cmd/compare --systems ndn-session --conc 32 --payloads 100 --streams=false --cpuprofile cpu.out
//	go run ./cmd/compare --unary=false --stream-systems ndn-signed --cpuprofile cpu.out
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ndn-invoke/ndn-invoke/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	d := bench.DefaultConfig()
	out := flag.String("out", "results.json", "write JSON results to `FILE` (empty: do not write)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	systems := flag.String("systems", joinSystems(d.Systems), "comma-separated systems to measure")
	payloads := flag.String("payloads", joinInts(d.Payloads), "comma-separated payload sizes in bytes")
	conc := flag.String("conc", joinInts(d.Concurrency), "comma-separated concurrency levels")
	flag.DurationVar(&d.Duration, "duration", d.Duration, "measured phase per case (also bounded by --max-calls)")
	flag.IntVar(&d.MaxCalls, "max-calls", d.MaxCalls, "calls per measured phase, at most")
	flag.DurationVar(&d.Warmup, "warmup", d.Warmup, "warm-up per case")
	flag.StringVar(&d.NdndBinary, "ndnd", "", "ndnd binary (default: $NDND_BIN, bin/ndnd, ../bin/ndnd, $PATH)")
	verbose := flag.Bool("v", false, "log at INFO level (default WARN)")
	unary := flag.Bool("unary", true, "measure unary calls")
	sd := bench.DefaultStreamConfig()
	streams := flag.Bool("streams", true, "measure server streaming (item sizes from --payloads)")
	streamSystems := flag.String("stream-systems", joinSystems(sd.Systems), "comma-separated systems to measure streaming")
	streamConc := flag.String("stream-conc", joinInts(sd.Streams), "comma-separated numbers of concurrent streams")
	flag.IntVar(&sd.MaxItems, "stream-items", sd.MaxItems, "items per measured streaming case, over all its streams, at most")
	flag.DurationVar(&sd.Duration, "stream-duration", sd.Duration, "measured phase per streaming case (also bounded by --stream-items)")
	flag.Parse()

	var err error
	if d.Payloads, err = parseInts(*payloads); err != nil {
		return fmt.Errorf("--payloads: %w", err)
	}
	if d.Concurrency, err = parseInts(*conc); err != nil {
		return fmt.Errorf("--conc: %w", err)
	}
	d.Systems = nil
	for _, s := range strings.Split(*systems, ",") {
		d.Systems = append(d.Systems, bench.System(strings.TrimSpace(s)))
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	d.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	d.Progress = func(r bench.Result) {
		fmt.Fprintf(os.Stderr, "  %-11s %5dB c=%-3d %7.0f calls/s  (%d calls, %d errors)\n",
			r.System, r.Payload, r.Concurrency, r.CallsPerS, r.Calls, r.Errors)
	}
	if err := d.Validate(); err != nil {
		return err
	}
	sd.Payloads, sd.Warmup, sd.NdndBinary, sd.Logger = d.Payloads, d.Warmup, d.NdndBinary, d.Logger
	if sd.Streams, err = parseInts(*streamConc); err != nil {
		return fmt.Errorf("--stream-conc: %w", err)
	}
	sd.Systems = nil
	for _, s := range strings.Split(*streamSystems, ",") {
		sd.Systems = append(sd.Systems, bench.System(strings.TrimSpace(s)))
	}
	sd.Progress = func(r bench.StreamResult) {
		fmt.Fprintf(os.Stderr, "  %-11s %5dB streams=%-2d %7.0f items/s  (%d items, %d errors)\n",
			r.System, r.Payload, r.Streams, r.ItemsPerS, r.Items, r.Errors)
	}
	sd.SlowProgress = func(r bench.SlowConsumerResult) {
		fmt.Fprintf(os.Stderr, "  %-11s slow consumer: %d consumed, %d produced, peak lead %d\n",
			r.System, r.Consumed, r.Produced, r.PeakLead)
	}
	if err := sd.Validate(); err != nil {
		return err
	}

	// Every case is bounded; this only guards against a bug.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var rep *bench.Report
	if *unary {
		rep, err = bench.Run(ctx, d)
		if rep != nil {
			fmt.Printf("go %s %s/%s, %d CPUs, GOMAXPROCS %d, grpc-go %s, ndnd %s (forwarder pid %d)\n",
				rep.GoVersion, rep.GOOS, rep.GOARCH, rep.NumCPU, rep.GOMAXPROCS, rep.GRPCVersion, rep.Ndnd, rep.ForwarderPID)
			fmt.Printf("each case: %.1fs warm-up, then %.1fs or %d calls; CPU proc = this process (client+server), fwd = ndnd\n\n",
				rep.WarmupS, rep.DurationS, rep.MaxCalls)
			if werr := rep.WriteTable(os.Stdout); werr != nil {
				return werr
			}
		}
	}
	var srep *bench.StreamReport
	if *streams && err == nil {
		srep, err = bench.RunStreams(ctx, sd)
		if srep != nil {
			fmt.Printf("\nserver streaming: each case %.1fs warm-up, first-item probes, then %.1fs or %d items over all streams; ndn window %d packets\n\n",
				srep.WarmupS, srep.DurationS, srep.MaxItems, srep.Window)
			if werr := srep.WriteTable(os.Stdout); werr != nil {
				return werr
			}
		}
	}
	if *out != "" && (rep != nil || srep != nil) {
		if werr := writeJSON(*out, rep, srep); werr != nil {
			return werr
		}
		fmt.Fprintln(os.Stderr, "results written to", *out)
	}
	if errors.Is(err, bench.ErrNoNdnd) {
		return fmt.Errorf("%w\n(from the repository root: make build)", err)
	}
	return err
}

// writeJSON writes the unary report's fields with the streaming report
// under "streams" (either may be nil).
func writeJSON(path string, rep *bench.Report, srep *bench.StreamReport) error {
	b, err := json.MarshalIndent(struct {
		*bench.Report
		Streams *bench.StreamReport `json:"streams,omitempty"`
	}{rep, srep}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinSystems(xs []bench.System) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}
