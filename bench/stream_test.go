package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// TestStreamSmoke runs the whole streaming comparison with tiny bounds so
// that it cannot rot, and checks that backpressure holds. It needs an ndnd
// binary, as `make build` makes.
func TestStreamSmoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultStreamConfig()
	cfg.Payloads = []int{100}
	cfg.Streams = []int{1, 4}
	cfg.MaxItems = 200
	cfg.Duration = 10 * time.Second // the count bound ends each case first
	cfg.Warmup = 50 * time.Millisecond
	cfg.Probes = 3
	cfg.SlowItems = 20
	cfg.SlowDelay = 5 * time.Millisecond
	rep, err := RunStreams(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Results), len(StreamSystems)*len(cfg.Streams); got != want {
		t.Fatalf("got %d results, want %d", got, want)
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Items != cfg.MaxItems {
			t.Errorf("%s streams=%d: %d items, %d errors (%s); want %d items, no errors",
				r.System, r.Streams, r.Items, r.Errors, r.FirstError, cfg.MaxItems)
		}
		if r.ItemsPerS <= 0 || r.MBPerS <= 0 || r.FirstItemP50us <= 0 || r.FirstItemP99us < r.FirstItemP50us || r.TotalCPUus <= 0 {
			t.Errorf("%s streams=%d: implausible figures %+v", r.System, r.Streams, r)
		}
		if (r.FwdCPUus != nil) == (r.System == GRPCTLS) {
			t.Errorf("%s: forwarder CPU reported %v", r.System, r.FwdCPUus != nil)
		}
		if r.RatioToGRPC <= 0 || r.CPURatioToGRPC <= 0 || r.FirstItemRatioToGRPC <= 0 {
			t.Errorf("%s streams=%d: missing ratios to gRPC", r.System, r.Streams)
		}
	}
	if len(rep.Slow) != len(StreamSystems) {
		t.Fatalf("got %d slow-consumer results, want %d", len(rep.Slow), len(StreamSystems))
	}
	for _, r := range rep.Slow {
		if r.Error != "" || r.Consumed != cfg.SlowItems {
			t.Errorf("%s slow consumer: consumed %d of %d, error %q", r.System, r.Consumed, cfg.SlowItems, r.Error)
		}
		if r.Produced < int64(r.Consumed) || r.PeakLead < 0 {
			t.Errorf("%s slow consumer: produced %d, peak lead %d, consumed %d", r.System, r.Produced, r.PeakLead, r.Consumed)
		}
		// The producer asked for 2^31 items: only backpressure stops it.
		// ndn-invoke's bound is the server's StreamBufferBytes of items
		// not yet acknowledged (each costing its size plus some overhead;
		// the client's window of StreamWindow packets lies within them).
		if bound := int64(rpc.StreamBufferBytes / cfg.SlowPayload); r.System == NDNSigned && r.PeakLead > bound {
			t.Errorf("ndn-invoke producer ran %d items ahead of the consumer, want at most %d", r.PeakLead, bound)
		}
		// gRPC's bound is its flow-control windows (64 KiB per stream
		// initially, more with BDP estimation): some thousands of items.
		if r.PeakLead > 100000 {
			t.Errorf("%s producer ran %d items ahead: no backpressure", r.System, r.PeakLead)
		}
		// What the buffered items cost; an unchecked producer of 1 KiB
		// items would pass this within a few ms.
		if r.HeapGrowth > 16<<20 {
			t.Errorf("%s slow consumer: live heap grew by %d bytes", r.System, r.HeapGrowth)
		}
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range StreamSystems {
		if strings.Count(table.String(), string(s)) < len(cfg.Streams)+1 {
			t.Errorf("table lacks %s rows:\n%s", s, table.String())
		}
	}
	t.Logf("\n%s", table.String())
	path := filepath.Join(t.TempDir(), "streams.json")
	if err := rep.WriteJSONFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back StreamReport
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(rep.Results) || len(back.Slow) != len(rep.Slow) {
		t.Fatalf("JSON does not round-trip: %v", err)
	}
}

func TestStreamConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*StreamConfig)
		wantErr bool
	}{
		{"zero is the default", func(*StreamConfig) {}, false},
		{"default", func(c *StreamConfig) { *c = DefaultStreamConfig() }, false},
		{"ndn only", func(c *StreamConfig) { c.Systems = []System{NDNSigned} }, false},
		{"no streaming variant", func(c *StreamConfig) { c.Systems = []System{NDNCached} }, true},
		{"unknown system", func(c *StreamConfig) { c.Systems = []System{"carrier-pigeon"} }, true},
		{"empty item", func(c *StreamConfig) { c.Payloads = []int{0} }, true},
		{"item too big for a Data packet", func(c *StreamConfig) { c.Payloads = []int{maxPayload + 1} }, true},
		{"largest item", func(c *StreamConfig) { c.Payloads = []int{maxPayload} }, false},
		{"slow item too big", func(c *StreamConfig) { c.SlowPayload = maxPayload + 1 }, true},
		{"no streams", func(c *StreamConfig) { c.Streams = []int{0} }, true},
		{"too many streams", func(c *StreamConfig) { c.Streams = []int{maxStreams + 1} }, true},
		{"negative items", func(c *StreamConfig) { c.MaxItems = -1 }, true},
		{"negative duration", func(c *StreamConfig) { c.Duration = -time.Second }, true},
		{"slow consumer too slow", func(c *StreamConfig) { c.SlowItems, c.SlowDelay = 1000, 10*time.Millisecond }, true},
		{"slow consumer at the limit", func(c *StreamConfig) { c.SlowItems, c.SlowDelay = 500, 10*time.Millisecond }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c StreamConfig
			tt.edit(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeStreamRequest(t *testing.T) {
	valid := streamRequest{Items: 20000, Size: 1024, ID: 7}
	tests := []struct {
		name    string
		in      []byte
		want    streamRequest
		wantErr bool
	}{
		{"valid", valid.encode(), valid, false},
		{"largest item", streamRequest{Items: 1, Size: maxPayload}.encode(), streamRequest{Items: 1, Size: maxPayload}, false},
		{"item too big", streamRequest{Size: maxPayload + 1}.encode(), streamRequest{}, true},
		{"short", valid.encode()[:15], streamRequest{}, true},
		{"long", append(valid.encode(), 0), streamRequest{}, true},
		{"empty", nil, streamRequest{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStreamRequest(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("decodeStreamRequest = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errBadStreamRequest) {
				t.Errorf("error %v is not errBadStreamRequest", err)
			}
		})
	}
}

func FuzzDecodeStreamRequest(f *testing.F) {
	f.Add(streamRequest{Items: 20000, Size: 1024, ID: 7}.encode())
	f.Add(streamRequest{Items: 1 << 31, Size: maxPayload}.encode())
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, streamRequestLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeStreamRequest(b)
		if err != nil {
			return
		}
		if r.Size > maxPayload {
			t.Fatalf("accepted item size %d", r.Size)
		}
		if got := r.encode(); !bytes.Equal(got, b) {
			t.Fatalf("encode(decode(%x)) = %x", b, got)
		}
	})
}

// fakeStream serves n items of size bytes, each after wait, or fails
// with err after them.
type fakeStream struct {
	n, size int
	wait    time.Duration
	err     error
	sent    int
}

func (s *fakeStream) recv() ([]byte, error) {
	if s.sent == s.n {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	if s.wait > 0 {
		tm := time.NewTimer(s.wait)
		<-tm.C
	}
	s.sent++
	return make([]byte, s.size), nil
}

func (s *fakeStream) close() {}

func TestRunStreams(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		phase      streamPhase
		stream     func(req streamRequest) (itemStream, error)
		wantItems  int
		wantErrors int
	}{
		{
			name:      "complete",
			phase:     streamPhase{streams: 3, items: 10, size: 8, dur: time.Minute, timeout: time.Second},
			stream:    func(r streamRequest) (itemStream, error) { return &fakeStream{n: int(r.Items), size: int(r.Size)}, nil },
			wantItems: 30,
		},
		{
			name:  "stopped by the duration, not an error",
			phase: streamPhase{streams: 2, items: 1000000, size: 8, dur: 20 * time.Millisecond, timeout: time.Second},
			stream: func(r streamRequest) (itemStream, error) {
				return &fakeStream{n: int(r.Items), size: int(r.Size), wait: time.Millisecond}, nil
			},
			wantItems: -1, // some
		},
		{
			name:       "short stream",
			phase:      streamPhase{streams: 2, items: 10, size: 8, dur: time.Minute, timeout: time.Second},
			stream:     func(r streamRequest) (itemStream, error) { return &fakeStream{n: 4, size: int(r.Size)}, nil },
			wantItems:  8,
			wantErrors: 2,
		},
		{
			name:       "failed stream",
			phase:      streamPhase{streams: 1, items: 10, size: 8, dur: time.Minute, timeout: time.Second},
			stream:     func(r streamRequest) (itemStream, error) { return &fakeStream{n: 3, size: 8, err: boom}, nil },
			wantItems:  3,
			wantErrors: 1,
		},
		{
			name:       "wrong item size",
			phase:      streamPhase{streams: 1, items: 10, size: 8, dur: time.Minute, timeout: time.Second},
			stream:     func(r streamRequest) (itemStream, error) { return &fakeStream{n: 10, size: 9}, nil },
			wantErrors: 1,
		},
		{
			name:       "open fails",
			phase:      streamPhase{streams: 4, items: 10, size: 8, dur: time.Minute, timeout: time.Second},
			stream:     func(streamRequest) (itemStream, error) { return nil, boom },
			wantErrors: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			open := func(_ context.Context, r streamRequest) (itemStream, error) { return tt.stream(r) }
			s := runStreams(ctx, tt.phase, open)
			if tt.wantItems >= 0 && s.items != tt.wantItems || tt.wantItems < 0 && s.items == 0 {
				t.Errorf("items = %d, want %d", s.items, tt.wantItems)
			}
			if s.errors != tt.wantErrors {
				t.Errorf("errors = %d (%v), want %d", s.errors, s.firstErr, tt.wantErrors)
			}
			if s.items > 0 && (s.elapsed <= 0 || len(s.first) == 0) {
				t.Errorf("items but no elapsed time %v or first-item times %v", s.elapsed, s.first)
			}
		})
	}
}

func TestItemSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src := newItemSource()
	id, sent := src.track()
	var got [][]byte
	err := src.produce(ctx, streamRequest{Items: 5, Size: 10, ID: id}, func(b []byte) error {
		got = append(got, b)
		return nil
	})
	if err != nil || len(got) != 5 || len(got[0]) != 10 || sent.Load() != 5 {
		t.Fatalf("produce: err %v, %d items, counted %d", err, len(got), sent.Load())
	}
	src.untrack(id)

	// A send error ends the producer and is returned; an untracked ID is
	// not counted.
	boom := errors.New("boom")
	n := 0
	err = src.produce(ctx, streamRequest{Items: 5, Size: 1, ID: id}, func([]byte) error {
		if n++; n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 || sent.Load() != 5 {
		t.Fatalf("produce: err %v after %d sends, counted %d", err, n, sent.Load())
	}

	// waitIdle waits for a running producer.
	src.waitIdle(ctx) // none runs: returns at once
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- src.produce(ctx, streamRequest{Items: 1, Size: 1}, func([]byte) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	src.waitIdle(short)
	if short.Err() == nil {
		t.Error("waitIdle returned while a producer runs")
	}
	cancelShort()
	close(release)
	src.waitIdle(ctx)
	if ctx.Err() != nil {
		t.Fatal("waitIdle did not return after the producer ended")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
