package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
)

// System names a system under test.
type System string

// The systems Run compares.
const (
	// GRPCTLS is gRPC-go unary echo over TLS 1.3 on loopback TCP.
	GRPCTLS System = "grpc-tls"
	// NDNSigned is ndn-invoke echo with signed, verified Interest and Data
	// (Ed25519 on every packet).
	NDNSigned System = "ndn-signed"
	// NDNSession is ndn-invoke echo from a client with sessions on
	// (rpc.ClientConfig.Sessions): one Ed25519 handshake per service, done
	// in the warm-up like TLS's, then HMAC-SHA256 on every packet.
	NDNSession System = "ndn-session"
	// NDNSealed is NDNSession with sealed calls (rpc.CallConfig.Sealed):
	// request and reply payloads are also encrypted (ChaCha20-Poly1305).
	NDNSealed System = "ndn-sealed"
	// NDNCached is an ndn-invoke public call of a cacheable method with the
	// same argument every time (the forwarder's Content Store answers).
	NDNCached System = "ndn-cached"
)

// AllSystems lists every System in the order Run measures them.
var AllSystems = []System{GRPCTLS, NDNSigned, NDNSession, NDNSealed, NDNCached}

// maxPayload is the largest payload Config accepts: a public call's request
// must fit in its Interest (rpc's inline request limit).
const maxPayload = 6000

// Config configures Run. A zero field means the default.
type Config struct {
	// Systems to measure. Default AllSystems. Ratios need GRPCTLS.
	Systems []System
	// Payloads are the request (and reply) sizes in bytes, 1 to 6000.
	// Default 100 and 1024.
	Payloads []int
	// Concurrency lists the numbers of concurrent callers. Default 1, 32.
	Concurrency []int
	// Duration bounds each case's measured phase. Default 3s.
	Duration time.Duration
	// MaxCalls bounds the calls of each measured phase. Default 20000.
	MaxCalls int
	// Warmup bounds each case's warm-up phase, which is also bounded by
	// MaxCalls. Default 500ms.
	Warmup time.Duration
	// CallTimeout bounds each call. Default 5s.
	CallTimeout time.Duration
	// NdndBinary is the forwarder executable. Default: ndn.FindNdnd, then
	// ../bin/ndnd.
	NdndBinary string
	// Progress, if set, is called with each case's result as soon as it is
	// measured, on Run's goroutine.
	Progress func(Result)
	// Logger receives the nodes' and servers' logs. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the full comparison: every system, 100 B and 1 KiB,
// concurrency 1 and 32, 3 s or 20000 calls per case after a 0.5 s warm-up.
func DefaultConfig() Config {
	return Config{
		Systems:     slices.Clone(AllSystems),
		Payloads:    []int{100, 1024},
		Concurrency: []int{1, 32},
		Duration:    3 * time.Second,
		MaxCalls:    20000,
		Warmup:      500 * time.Millisecond,
		CallTimeout: 5 * time.Second,
		Logger:      slog.Default(),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Systems) == 0 {
		c.Systems = d.Systems
	}
	if len(c.Payloads) == 0 {
		c.Payloads = d.Payloads
	}
	if len(c.Concurrency) == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Duration == 0 {
		c.Duration = d.Duration
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = d.MaxCalls
	}
	if c.Warmup == 0 {
		c.Warmup = d.Warmup
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = d.CallTimeout
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports a configuration Run refuses.
func (c Config) Validate() error {
	for _, s := range c.Systems {
		if !slices.Contains(AllSystems, s) {
			return fmt.Errorf("bench: unknown system %q (want one of %v)", s, AllSystems)
		}
	}
	for _, p := range c.Payloads {
		if p < 1 || p > maxPayload {
			return fmt.Errorf("bench: payload %d is outside 1..%d bytes", p, maxPayload)
		}
	}
	for _, n := range c.Concurrency {
		if n < 1 || n > 4096 {
			return fmt.Errorf("bench: concurrency %d is outside 1..4096", n)
		}
	}
	if c.Duration < 0 || c.Warmup < 0 || c.CallTimeout < 0 || c.MaxCalls < 0 {
		return errors.New("bench: durations and MaxCalls must not be negative")
	}
	return nil
}

// Result is one measured case.
type Result struct {
	System      System `json:"system"`
	Payload     int    `json:"payload_bytes"`
	Concurrency int    `json:"concurrency"`
	// Calls completed without error in the measured phase, and Errors.
	Calls      int     `json:"calls"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	CallsPerS  float64 `json:"calls_per_s"`
	// Latencies of successful calls, in microseconds.
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	MaxUs  float64 `json:"max_us"`
	MeanUs float64 `json:"mean_us"`
	// CPU per successful call, in microseconds: this process (client and
	// server), the forwarder process (ndn-invoke only) and their sum.
	ProcCPUus  float64  `json:"proc_cpu_us_per_call"`
	FwdCPUus   *float64 `json:"forwarder_cpu_us_per_call,omitempty"`
	TotalCPUus float64  `json:"total_cpu_us_per_call"`
	// RatioToGRPC is CallsPerS over grpc-tls's for the same payload and
	// concurrency (0 when grpc-tls was not measured); CPURatioToGRPC is
	// TotalCPUus over grpc-tls's.
	RatioToGRPC    float64 `json:"ratio_calls_per_s_to_grpc,omitempty"`
	CPURatioToGRPC float64 `json:"ratio_cpu_to_grpc,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Started      time.Time `json:"started"`
	GoVersion    string    `json:"go_version"`
	GOOS         string    `json:"goos"`
	GOARCH       string    `json:"goarch"`
	NumCPU       int       `json:"num_cpu"`
	GOMAXPROCS   int       `json:"gomaxprocs"`
	GRPCVersion  string    `json:"grpc_version"`
	Ndnd         string    `json:"ndnd,omitempty"`
	DurationS    float64   `json:"duration_s"`
	WarmupS      float64   `json:"warmup_s"`
	MaxCalls     int       `json:"max_calls"`
	Results      []Result  `json:"results"`
	ForwarderPID int       `json:"-"`
}

// Run starts the systems cfg selects, measures every (payload, concurrency,
// system) case and stops everything again, including the forwarder, on
// every path. It blocks for roughly cases × (Warmup + Duration) plus
// setup. Errors: ErrNoNdnd, start-up failures, ctx's error if it ends
// (with the results measured so far). Failed calls do not fail Run: they
// are counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &Report{
		Started: time.Now(), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GRPCVersion: grpc.Version,
		DurationS: cfg.Duration.Seconds(), WarmupS: cfg.Warmup.Seconds(), MaxCalls: cfg.MaxCalls,
	}

	var g *grpcSide
	if slices.Contains(cfg.Systems, GRPCTLS) {
		var err error
		if g, err = startGRPC(); err != nil {
			return nil, err
		}
		defer g.close()
	}
	var n *ndnSide
	if slices.ContainsFunc(cfg.Systems, func(s System) bool { return s != GRPCTLS }) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		n, err = startNDN(sctx, cfg, cfg.Logger)
		cancel()
		if err != nil {
			return nil, err
		}
		defer n.close()
		rep.Ndnd = n.bin
		rep.ForwarderPID = n.fw.Pid()
	}

	for _, size := range cfg.Payloads {
		payload := make([]byte, size)
		_, _ = rand.Read(payload)
		for _, conc := range cfg.Concurrency {
			for _, sys := range AllSystems {
				if !slices.Contains(cfg.Systems, sys) {
					continue
				}
				var call callFunc
				fwPid := 0
				switch sys {
				case GRPCTLS:
					call = func(ctx context.Context) error { return g.echo(ctx, payload) }
				case NDNSigned:
					call = func(ctx context.Context) error { return n.echo(ctx, payload) }
					fwPid = n.fw.Pid()
				case NDNSession:
					call = func(ctx context.Context) error { return n.sessionEcho(ctx, payload) }
					fwPid = n.fw.Pid()
				case NDNSealed:
					call = func(ctx context.Context) error { return n.sealedEcho(ctx, payload) }
					fwPid = n.fw.Pid()
				case NDNCached:
					call = func(ctx context.Context) error { return n.cached(ctx, payload) }
					fwPid = n.fw.Pid()
				}
				r, err := measure(ctx, cfg, conc, call, fwPid)
				if err != nil {
					return rep, err
				}
				r.System, r.Payload, r.Concurrency = sys, size, conc
				rep.Results = append(rep.Results, r)
				rep.fillRatios()
				if cfg.Progress != nil {
					cfg.Progress(rep.Results[len(rep.Results)-1])
				}
			}
		}
	}
	return rep, ctx.Err()
}

// measure runs one case: a warm-up, then the measured phase between two
// CPU readings. fwPid is the forwarder's pid, or 0.
func measure(ctx context.Context, cfg Config, conc int, call callFunc, fwPid int) (Result, error) {
	runLoad(ctx, phase{conc: conc, dur: cfg.Warmup, maxCalls: cfg.MaxCalls, timeout: cfg.CallTimeout}, call)
	runtime.GC() // do not charge this case for garbage left by the last
	var fw0, fw1 time.Duration
	var err error
	if fwPid != 0 {
		if fw0, err = pidCPU(fwPid); err != nil {
			return Result{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	cpu0 := procCPU()
	s := runLoad(ctx, phase{conc: conc, dur: cfg.Duration, maxCalls: cfg.MaxCalls, timeout: cfg.CallTimeout}, call)
	cpu1 := procCPU()
	if fwPid != 0 {
		if fw1, err = pidCPU(fwPid); err != nil {
			return Result{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	r := Result{Calls: s.calls, Errors: s.errors, Seconds: s.elapsed.Seconds()}
	if s.firstErr != nil {
		r.FirstError = s.firstErr.Error()
	}
	if s.calls == 0 {
		return r, nil
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	var sum time.Duration
	for _, l := range s.lat {
		sum += l
	}
	calls := float64(s.calls)
	r.CallsPerS = calls / s.elapsed.Seconds()
	r.P50us, r.P90us, r.P99us = us(percentile(s.lat, 0.50)), us(percentile(s.lat, 0.90)), us(percentile(s.lat, 0.99))
	r.MaxUs, r.MeanUs = us(s.lat[len(s.lat)-1]), us(sum)/calls
	r.ProcCPUus = us(cpu1-cpu0) / calls
	r.TotalCPUus = r.ProcCPUus
	if fwPid != 0 {
		f := us(fw1-fw0) / calls
		r.FwdCPUus = &f
		r.TotalCPUus += f
	}
	return r, nil
}

// ratio is x/base, or 0 without a base.
func ratio(x, base float64) float64 {
	if base <= 0 {
		return 0
	}
	return x / base
}

// fillRatios sets the ratios to gRPC of every result that has a gRPC peer.
func (r *Report) fillRatios() {
	for i := range r.Results {
		x := &r.Results[i]
		for _, g := range r.Results {
			if g.System == GRPCTLS && g.Payload == x.Payload && g.Concurrency == x.Concurrency {
				x.RatioToGRPC = ratio(x.CallsPerS, g.CallsPerS)
				x.CPURatioToGRPC = ratio(x.TotalCPUus, g.TotalCPUus)
			}
		}
	}
}

// WriteTable writes the results as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tpayload\tconc\tcalls\terrors\tcalls/s\tp50\tp99\tproc µs/call\tfwd µs/call\ttotal µs/call\tcalls/s ÷ gRPC\tCPU ÷ gRPC\t")
	for _, x := range r.Results {
		fwd := "-"
		if x.FwdCPUus != nil {
			fwd = fmt.Sprintf("%.1f", *x.FwdCPUus)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%.1f\t%s\t%.1f\t%s\t%s\t\n",
			x.System, x.Payload, x.Concurrency, x.Calls, x.Errors, x.CallsPerS,
			fmtUs(x.P50us), fmtUs(x.P99us), x.ProcCPUus, fwd, x.TotalCPUus, fmtRatio(x.RatioToGRPC), fmtRatio(x.CPURatioToGRPC))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Results {
		if x.FirstError != "" {
			fmt.Fprintf(w, "%s %dB c=%d: %d errors, first: %s\n", x.System, x.Payload, x.Concurrency, x.Errors, x.FirstError)
		}
	}
	return nil
}

// WriteJSONFile writes the report as indented JSON to path.
func (r *Report) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func fmtUs(us float64) string {
	switch {
	case us <= 0:
		return "-"
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	default:
		return fmt.Sprintf("%.2fms", us/1000)
	}
}

func fmtRatio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}
