// Command compare runs ndn-invoke and gRPC-go side by side in one process
// and prints a table of calls/s, latency and CPU per call (see package
// bench), then, unless --streams=false, a table of server streaming:
// items/s, MB/s, time to first item, CPU per item and a slow consumer
// (bench.RunStreams); then, unless --pubsub=false, pub-sub against NATS
// core (bench.RunPubSub: delivered msgs/s per subscriber, publish-to-
// delivery latency and CPU per message, 1 and 3 subscribers, at a steady
// rate and flat out), and unless --membership=false, svs membership
// convergence and failure detection for 10 members (bench.RunMembership).
// It needs an ndnd binary: `make build` in the repository root makes
// bin/ndnd, or set NDND_BIN.
//
// The JSON file holds the unary report's fields and, under "streams",
// "pubsub" and "membership", the other reports.
//
//	cd bench && go run ./cmd/compare --out results.json
//	go run ./cmd/compare --systems ndn-session --conc 32 --payloads 100 --streams=false --cpuprofile cpu.out
//	go run ./cmd/compare --unary=false --stream-systems ndn-signed --cpuprofile cpu.out
//	go run ./cmd/compare --unary=false --streams=false --out pubsub.json   # pub-sub and membership only
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
	pd := bench.DefaultPubSubConfig()
	pubsubOn := flag.Bool("pubsub", true, "measure pub-sub against NATS core")
	pubsubSystems := flag.String("pubsub-systems", joinSystems(pd.Systems), "comma-separated pub-sub systems")
	pubsubSubs := flag.String("pubsub-subs", joinInts(pd.Subscribers), "comma-separated numbers of subscribers")
	flag.IntVar(&pd.Payload, "pubsub-payload", pd.Payload, "pub-sub message size in bytes")
	flag.IntVar(&pd.Rate, "pubsub-rate", pd.Rate, "steady pub-sub rate in messages/s")
	flag.DurationVar(&pd.SteadyDuration, "pubsub-steady", pd.SteadyDuration, "how long a steady pub-sub case publishes")
	flag.IntVar(&pd.MaxMessages, "pubsub-messages", pd.MaxMessages, "messages per pub-sub case, at most")
	flag.DurationVar(&pd.FlatDuration, "pubsub-flat", pd.FlatDuration, "how long a flat-out pub-sub case publishes, at most")
	md := bench.DefaultMembershipConfig()
	membership := flag.Bool("membership", true, "measure svs membership convergence and failure detection")
	flag.IntVar(&md.Members, "members", md.Members, "group size for --membership")
	flag.IntVar(&md.Rounds, "member-rounds", md.Rounds, "rounds of --membership")
	flag.DurationVar(&md.HeartbeatPeriod, "heartbeat", md.HeartbeatPeriod, "svs HeartbeatPeriod for --membership")
	flag.DurationVar(&md.SuspectAfter, "suspect-after", md.SuspectAfter, "svs SuspectAfter for --membership")
	flag.DurationVar(&md.FailedAfter, "failed-after", md.FailedAfter, "svs FailedAfter for --membership")
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
	pd.NdndBinary, pd.Logger, pd.Warmup = d.NdndBinary, d.Logger, d.Warmup
	if pd.Subscribers, err = parseInts(*pubsubSubs); err != nil {
		return fmt.Errorf("--pubsub-subs: %w", err)
	}
	pd.Systems = nil
	for _, s := range strings.Split(*pubsubSystems, ",") {
		pd.Systems = append(pd.Systems, bench.System(strings.TrimSpace(s)))
	}
	pd.Progress = func(r bench.PubSubResult) {
		fmt.Fprintf(os.Stderr, "  %-11s %-8s subs=%d %8.0f msgs/s/sub  p50 %7.0fµs  (%d published, %d lost)\n",
			r.System, r.Mode, r.Subscribers, r.MsgsPerSPerSub, r.P50us, r.Published, r.Lost)
	}
	if err := pd.Validate(); err != nil {
		return err
	}
	md.NdndBinary, md.Logger = d.NdndBinary, d.Logger
	md.Progress = func(r bench.MembershipRound) {
		fmt.Fprintf(os.Stderr, "  membership round %d: converge %.0fms, suspect %.0fms, failed %.0fms\n",
			r.Round, r.ConvergeMs, r.SuspectMs, r.FailedMs)
	}
	if err := md.Validate(); err != nil {
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
	var prep *bench.PubSubReport
	if *pubsubOn && err == nil {
		prep, err = bench.RunPubSub(ctx, pd)
		if prep != nil {
			fmt.Printf("\npub-sub, 1 publisher, %d B messages: steady %d msgs/s for %.1fs, flat-out %d messages or %.1fs; each case after a %.1fs warm-up;\n"+
				"latency from Publish to the subscriber's handler; CPU per delivery; NATS %s (embedded, loopback TCP), ndn batch window %.0fms\n\n",
				prep.Payload, prep.Rate, prep.SteadyS, prep.MaxMessages, prep.FlatS, prep.WarmupS, prep.NATSVersion, prep.NDNBatchWindowS*1000)
			if werr := prep.WriteTable(os.Stdout); werr != nil {
				return werr
			}
		}
	}
	var mrep *bench.MembershipReport
	if *membership && err == nil {
		mrep, err = bench.RunMembership(ctx, md)
		if mrep != nil {
			fmt.Println()
			if werr := mrep.WriteTable(os.Stdout); werr != nil {
				return werr
			}
		}
	}
	if *out != "" && (rep != nil || srep != nil || prep != nil || mrep != nil) {
		if werr := writeJSON(*out, rep, srep, prep, mrep); werr != nil {
			return werr
		}
		fmt.Fprintln(os.Stderr, "results written to", *out)
	}
	if errors.Is(err, bench.ErrNoNdnd) {
		return fmt.Errorf("%w\n(from the repository root: make build)", err)
	}
	return err
}

// writeJSON writes the unary report's fields with the other reports under
// "streams", "pubsub" and "membership" (any may be nil).
func writeJSON(path string, rep *bench.Report, srep *bench.StreamReport, prep *bench.PubSubReport, mrep *bench.MembershipReport) error {
	b, err := json.MarshalIndent(struct {
		*bench.Report
		Streams    *bench.StreamReport     `json:"streams,omitempty"`
		PubSub     *bench.PubSubReport     `json:"pubsub,omitempty"`
		Membership *bench.MembershipReport `json:"membership,omitempty"`
	}{rep, srep, prep, mrep}, "", "  ")
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
