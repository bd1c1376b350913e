package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestCompareSmoke runs the whole comparison with tiny bounds so that the
// program cannot rot. It needs an ndnd binary, as `make build` makes.
func TestCompareSmoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, s := range []System{GRPCTLS, NDNSigned, NDNSession, NDNSealed, NDNCached} {
		if !slices.Contains(AllSystems, s) {
			t.Fatalf("AllSystems %v lacks %s", AllSystems, s)
		}
	}
	cfg := DefaultConfig()
	cfg.Payloads = []int{100}
	cfg.Concurrency = []int{1, 4}
	cfg.MaxCalls = 50
	cfg.Duration = 10 * time.Second // the count bound ends each case first
	cfg.Warmup = 50 * time.Millisecond
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Results), len(AllSystems)*len(cfg.Concurrency); got != want {
		t.Fatalf("got %d results, want %d", got, want)
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Calls != cfg.MaxCalls {
			t.Errorf("%s c=%d: %d calls, %d errors (%s); want %d calls, no errors",
				r.System, r.Concurrency, r.Calls, r.Errors, r.FirstError, cfg.MaxCalls)
		}
		if r.CallsPerS <= 0 || r.P50us <= 0 || r.P99us < r.P50us {
			t.Errorf("%s c=%d: implausible calls/s %v, p50 %v, p99 %v", r.System, r.Concurrency, r.CallsPerS, r.P50us, r.P99us)
		}
		if (r.FwdCPUus != nil) == (r.System == GRPCTLS) {
			t.Errorf("%s: forwarder CPU reported %v", r.System, r.FwdCPUus != nil)
		}
		if r.RatioToGRPC <= 0 {
			t.Errorf("%s c=%d: no ratio to gRPC", r.System, r.Concurrency)
		}
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range AllSystems {
		if !strings.Contains(table.String(), string(s)) {
			t.Errorf("table has no %s row:\n%s", s, table.String())
		}
	}
	t.Logf("\n%s", table.String())
	path := filepath.Join(t.TempDir(), "results.json")
	if err := rep.WriteJSONFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON does not round-trip: %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "42 (ndnd) S 1 42 42 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 9 0 100 0 0", 175 * clockTick, false},
		{"name with spaces and parens", "7 (a) b) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0", 7 * clockTick, false},
		{"no parens", "7 a R 1", 0, true},
		{"short", "7 (a) R 1 2", 0, true},
		{"not a number", "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 4", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0, 1}, {1, 10}} {
		if got := percentile(lat, tt.q); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// TestRepoSmoke runs the repo benchmark small, so `make test` keeps it
// working.
func TestRepoSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := RunRepo(ctx, RepoConfig{ObjectMiB: 2, Puts: 200, Writers: 4, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.CatFromRepoMBps <= 0 || res.CommandPutsPerSec <= 0 || res.InsertPktsPerSec <= 0 {
		t.Fatalf("missing figures: %+v", res)
	}
}
