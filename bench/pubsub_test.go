package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// quietLogger discards: members log expected warnings when a case is torn
// down.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestPubSubSmoke runs the whole pub-sub comparison with tiny bounds so
// that it cannot rot. It needs an ndnd binary, as `make build` makes.
func TestPubSubSmoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := DefaultPubSubConfig()
	cfg.Subscribers = []int{1, 3}
	cfg.Rate = 1000
	cfg.SteadyDuration = 200 * time.Millisecond
	cfg.MaxMessages = 500
	cfg.FlatDuration = 10 * time.Second // the count bound ends each case first
	cfg.Warmup = 20 * time.Millisecond
	cfg.Logger = quietLogger()
	rep, err := RunPubSub(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Results), len(PubSubSystems)*len(cfg.Subscribers)*len(cfg.Modes); got != want {
		t.Fatalf("got %d results, want %d", got, want)
	}
	for _, r := range rep.Results {
		want := cfg.MaxMessages
		if r.Mode == Steady {
			want = 200 // Rate × SteadyDuration
		}
		if r.Published != want || r.Delivered != want*r.Subscribers || r.Lost != 0 || r.FirstError != "" {
			t.Errorf("%s %s subs=%d: published %d, delivered %d, lost %d (%s); want %d published, all delivered",
				r.System, r.Mode, r.Subscribers, r.Published, r.Delivered, r.Lost, r.FirstError, want)
		}
		if r.MsgsPerSPerSub <= 0 || r.PublishedPerS <= 0 || r.P50us <= 0 || r.P99us < r.P50us || r.MaxUs < r.P99us || r.TotalCPUus <= 0 {
			t.Errorf("%s %s subs=%d: implausible figures %+v", r.System, r.Mode, r.Subscribers, r)
		}
		if (r.FwdCPUus != nil) == (r.System == NATS) {
			t.Errorf("%s: forwarder CPU reported %v", r.System, r.FwdCPUus != nil)
		}
		if (r.OfferedRate > 0) != (r.Mode == Steady) {
			t.Errorf("%s %s: offered rate %v", r.System, r.Mode, r.OfferedRate)
		}
		if r.RatioToNATS <= 0 || r.P50RatioToNATS <= 0 || r.P99RatioToNATS <= 0 || r.CPURatioToNATS <= 0 {
			t.Errorf("%s %s subs=%d: missing ratios to NATS", r.System, r.Mode, r.Subscribers)
		}
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range PubSubSystems {
		if !strings.Contains(table.String(), string(s)) {
			t.Errorf("table has no %s row:\n%s", s, table.String())
		}
	}
	t.Logf("\n%s", table.String())
	path := filepath.Join(t.TempDir(), "pubsub.json")
	if err := rep.WriteJSONFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back PubSubReport
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON does not round-trip: %v", err)
	}
}

// TestMembershipSmoke forms a small group once and kills a member.
func TestMembershipSmoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultMembershipConfig()
	cfg.Members, cfg.Rounds = 4, 1
	cfg.Logger = quietLogger()
	rep, err := RunMembership(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 1 {
		t.Fatalf("got %d rounds, want 1", len(rep.Rounds))
	}
	r := rep.Rounds[0]
	// Silence counts from the last heartbeat heard, at most one
	// HeartbeatPeriod before the close: detection cannot come earlier.
	early := ms(cfg.HeartbeatPeriod)
	if r.ConvergeMs <= 0 || r.SuspectMs < rep.SuspectMs-early || r.FailedMs < rep.FailedMs-early || r.FailedMs < r.SuspectMs {
		t.Errorf("implausible round %+v with SuspectAfter %vms, FailedAfter %vms", r, rep.SuspectMs, rep.FailedMs)
	}
	if rep.Mean != (MembershipRound{ConvergeMs: r.ConvergeMs, SuspectMs: r.SuspectMs, FailedMs: r.FailedMs}) {
		t.Errorf("mean %+v of one round %+v", rep.Mean, r)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "SuspectAfter 1000ms") {
		t.Errorf("table does not state the timeouts:\n%s", table.String())
	}
	t.Logf("\n%s", table.String())
}

func TestPubSubConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*PubSubConfig)
		wantErr bool
	}{
		{"zero", func(*PubSubConfig) {}, false},
		{"default", func(c *PubSubConfig) { *c = DefaultPubSubConfig() }, false},
		{"unknown system", func(c *PubSubConfig) { c.Systems = []System{GRPCTLS} }, true},
		{"unknown mode", func(c *PubSubConfig) { c.Modes = []LoadMode{"burst"} }, true},
		{"no subscribers", func(c *PubSubConfig) { c.Subscribers = []int{0} }, true},
		{"too many subscribers", func(c *PubSubConfig) { c.Subscribers = []int{maxSubscribers + 1} }, true},
		{"payload under header", func(c *PubSubConfig) { c.Payload = psHeader - 1 }, true},
		{"payload at header", func(c *PubSubConfig) { c.Payload = psHeader }, false},
		{"payload too large", func(c *PubSubConfig) { c.Payload = maxPSPayload + 1 }, true},
		{"rate too high", func(c *PubSubConfig) { c.Rate = maxRate + 1 }, true},
		{"negative drain", func(c *PubSubConfig) { c.Drain = -1 }, true},
		{"negative count", func(c *PubSubConfig) { c.MaxMessages = -1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c PubSubConfig
			tt.mod(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestMembershipConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*MembershipConfig)
		wantErr bool
	}{
		{"zero", func(*MembershipConfig) {}, false},
		{"default", func(c *MembershipConfig) { *c = DefaultMembershipConfig() }, false},
		{"one member", func(c *MembershipConfig) { c.Members = 1 }, true},
		{"too many members", func(c *MembershipConfig) { c.Members = 65 }, true},
		{"negative rounds", func(c *MembershipConfig) { c.Rounds = -1 }, true},
		{"negative timeout", func(c *MembershipConfig) { c.Timeout = -1 }, true},
		{"suspect under two heartbeats", func(c *MembershipConfig) { c.SuspectAfter = 300 * time.Millisecond }, true},
		{"failed not after suspect", func(c *MembershipConfig) { c.FailedAfter = time.Second }, true},
		{"svs defaults", func(c *MembershipConfig) {
			c.HeartbeatPeriod, c.SuspectAfter, c.FailedAfter = time.Second, 5*time.Second, 15*time.Second
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c MembershipConfig
			tt.mod(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestPSCollector checks the bookkeeping: phases are kept apart, the
// phase's done channel closes only when every subscriber has its target,
// and latencies come from the stamped send time.
func TestPSCollector(t *testing.T) {
	c := newPSCollector(2, 4)
	msg := make([]byte, 16)
	c.stamp(msg, 0)
	c.deliver(0, msg)
	c.deliver(1, msg)
	c.deliver(0, []byte{1, 2}) // too short: ignored
	bad := append([]byte{}, msg...)
	bad[8] = 7 // unknown phase: ignored
	c.deliver(0, bad)
	c.expect(0, 1)
	select {
	case <-c.stages[0].done:
	default:
		t.Fatal("warm-up not done with one message each")
	}
	if len(c.stages[0].lat) != 0 {
		t.Error("warm-up latencies recorded")
	}

	c.expect(1, 2)
	for range 2 {
		c.stamp(msg, 1)
		c.deliver(0, msg)
	}
	c.deliver(1, msg)
	select {
	case <-c.stages[1].done:
		t.Fatal("done with subscriber 1 one message short")
	default:
	}
	c.deliver(1, msg)
	select {
	case <-c.stages[1].done:
	default:
		t.Fatal("not done with every message delivered")
	}
	c.deliver(1, msg) // a duplicate after done must not close twice
	if got := len(c.stages[1].lat); got != 5 {
		t.Errorf("%d latencies, want 5", got)
	}
	for _, l := range c.stages[1].lat {
		if l < 0 || l > time.Minute {
			t.Errorf("implausible latency %v", l)
		}
	}
}

func TestMembershipSummarize(t *testing.T) {
	r := &MembershipReport{Rounds: []MembershipRound{
		{Round: 1, ConvergeMs: 100, SuspectMs: 900, FailedMs: 1900},
		{Round: 2, ConvergeMs: 300, SuspectMs: 1100, FailedMs: 2100},
	}}
	r.summarize()
	if want := (MembershipRound{ConvergeMs: 200, SuspectMs: 1000, FailedMs: 2000}); r.Mean != want {
		t.Errorf("mean %+v, want %+v", r.Mean, want)
	}
	if want := (MembershipRound{ConvergeMs: 100, SuspectMs: 900, FailedMs: 1900}); r.Min != want {
		t.Errorf("min %+v, want %+v", r.Min, want)
	}
	if want := (MembershipRound{ConvergeMs: 300, SuspectMs: 1100, FailedMs: 2100}); r.Max != want {
		t.Errorf("max %+v, want %+v", r.Max, want)
	}
}

// FuzzPSCollectorDeliver feeds the collector arbitrary payloads, as a
// subscriber might receive them: it must not panic, and must count only
// well-formed messages of known phases.
func FuzzPSCollectorDeliver(f *testing.F) {
	c := newPSCollector(1, 1)
	ok := make([]byte, 100)
	c.stamp(ok, 1)
	f.Add(ok)
	f.Add(ok[:psHeader])
	f.Add(ok[:psHeader-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := newPSCollector(2, 1)
		c.deliver(1, b)
		valid := len(b) >= psHeader && b[8] <= 1
		got := c.stages[0].count[1] + c.stages[1].count[1]
		if (got == 1) != valid || got > 1 {
			t.Fatalf("payload %x counted %d times", b, got)
		}
	})
}
