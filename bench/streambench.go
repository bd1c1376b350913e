package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	rpcstatus "github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// ndnStreamMethod is the server-streaming method RunStreams adds to
// /bench/echo.
const ndnStreamMethod = ndnService + "/stream"

// StreamSystems lists the systems RunStreams can compare: gRPC-go server
// streaming over TLS 1.3, and ndn-invoke server streams (signed call,
// items packed into Ed25519-signed packets verified by the client,
// rpc.StreamWindow packets in flight).
var StreamSystems = []System{GRPCTLS, NDNSigned}

// maxStreams bounds StreamConfig.Streams.
const maxStreams = 64

// StreamConfig configures RunStreams. A zero field means the default.
type StreamConfig struct {
	// Systems to measure, a subset of StreamSystems. Default both. Ratios
	// need GRPCTLS.
	Systems []System
	// Payloads are the item sizes in bytes, 1 to 6000 (an ndn-invoke item
	// is one Data packet). Default 100 and 1024.
	Payloads []int
	// Streams lists the numbers of concurrent streams of a case. Default
	// 1 and 8.
	Streams []int
	// MaxItems bounds the items of each measured phase, over all its
	// streams: each of S streams asks for MaxItems/S items. Default 20000.
	MaxItems int
	// Duration bounds each measured phase: consumers stop reading (and
	// close their streams) once it has passed. Default 5s.
	Duration time.Duration
	// Warmup bounds each case's warm-up (streams like the measured ones,
	// closed early). Default 500ms.
	Warmup time.Duration
	// Probes is the number of rounds measuring the time to first item:
	// each round opens S one-item streams at once. Default 20.
	Probes int
	// SlowItems is how many items the slow consumer reads. Default 100;
	// SlowItems × SlowDelay is at most 5s.
	SlowItems int
	// SlowDelay is how long the slow consumer waits before reading each
	// next item. Default 10ms.
	SlowDelay time.Duration
	// SlowPayload is the item size of the slow-consumer case. Default 1024.
	SlowPayload int
	// Timeout is how long a stream may outlive its phase (Duration, or
	// the slow consumer's reading time) before it is cancelled and counted
	// as an error. Default 5s.
	Timeout time.Duration
	// NdndBinary is the forwarder executable. Default as Config's.
	NdndBinary string
	// Progress, if set, is called with each case's result as soon as it is
	// measured, on RunStreams's goroutine.
	Progress func(StreamResult)
	// SlowProgress, if set, is called likewise with each slow-consumer
	// result.
	SlowProgress func(SlowConsumerResult)
	// Logger receives the nodes' and servers' logs. Default slog.Default().
	Logger *slog.Logger
}

// DefaultStreamConfig returns the full streaming comparison: both systems,
// items of 100 B and 1 KiB, one stream and 8 concurrent streams, at most
// 20000 items or 5 s per case after a 0.5 s warm-up, 20 first-item probe
// rounds, and a slow consumer reading 100 items of 1 KiB 10 ms apart.
func DefaultStreamConfig() StreamConfig {
	return StreamConfig{
		Systems:     slices.Clone(StreamSystems),
		Payloads:    []int{100, 1024},
		Streams:     []int{1, 8},
		MaxItems:    20000,
		Duration:    5 * time.Second,
		Warmup:      500 * time.Millisecond,
		Probes:      20,
		SlowItems:   100,
		SlowDelay:   10 * time.Millisecond,
		SlowPayload: 1024,
		Timeout:     5 * time.Second,
		Logger:      slog.Default(),
	}
}

func (c StreamConfig) withDefaults() StreamConfig {
	d := DefaultStreamConfig()
	if len(c.Systems) == 0 {
		c.Systems = d.Systems
	}
	if len(c.Payloads) == 0 {
		c.Payloads = d.Payloads
	}
	if len(c.Streams) == 0 {
		c.Streams = d.Streams
	}
	if c.MaxItems == 0 {
		c.MaxItems = d.MaxItems
	}
	if c.Duration == 0 {
		c.Duration = d.Duration
	}
	if c.Warmup == 0 {
		c.Warmup = d.Warmup
	}
	if c.Probes == 0 {
		c.Probes = d.Probes
	}
	if c.SlowItems == 0 {
		c.SlowItems = d.SlowItems
	}
	if c.SlowDelay == 0 {
		c.SlowDelay = d.SlowDelay
	}
	if c.SlowPayload == 0 {
		c.SlowPayload = d.SlowPayload
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// maxSlowTime bounds SlowItems × SlowDelay.
const maxSlowTime = 5 * time.Second

// Validate reports a configuration RunStreams refuses: a system without a
// streaming variant, an item size outside 1..6000 bytes, streams outside
// 1..64, a negative count or duration, or a slow consumer reading for more
// than 5s.
func (c StreamConfig) Validate() error {
	for _, s := range c.Systems {
		if !slices.Contains(StreamSystems, s) {
			return fmt.Errorf("bench: %q has no streaming variant (want one of %v)", s, StreamSystems)
		}
	}
	for _, p := range c.Payloads {
		if p < 1 || p > maxPayload {
			return fmt.Errorf("bench: item size %d is outside 1..%d bytes", p, maxPayload)
		}
	}
	if c.SlowPayload < 0 || c.SlowPayload > maxPayload { // 0: the default
		return fmt.Errorf("bench: slow item size %d is outside 1..%d bytes", c.SlowPayload, maxPayload)
	}
	for _, n := range c.Streams {
		if n < 1 || n > maxStreams {
			return fmt.Errorf("bench: %d streams is outside 1..%d", n, maxStreams)
		}
	}
	if c.MaxItems < 0 || c.Probes < 0 || c.SlowItems < 0 || c.Duration < 0 || c.Warmup < 0 ||
		c.SlowDelay < 0 || c.Timeout < 0 {
		return errors.New("bench: counts and durations must not be negative")
	}
	d := c.withDefaults()
	if time.Duration(d.SlowItems)*d.SlowDelay > maxSlowTime {
		return fmt.Errorf("bench: slow consumer would read for %v, more than %v",
			time.Duration(d.SlowItems)*d.SlowDelay, maxSlowTime)
	}
	return nil
}

// StreamResult is one measured streaming case.
type StreamResult struct {
	System  System `json:"system"`
	Payload int    `json:"item_bytes"`
	Streams int    `json:"streams"`
	// Items received in the measured phase, and failed streams (Errors).
	Items      int     `json:"items"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	ItemsPerS  float64 `json:"items_per_s"`
	MBPerS     float64 `json:"mb_per_s"` // payload bytes, 10^6 per MB
	// Time from opening a stream to its first item, over the probe rounds,
	// in microseconds.
	FirstItemP50us float64 `json:"first_item_p50_us"`
	FirstItemP99us float64 `json:"first_item_p99_us"`
	// CPU per received item in microseconds: this process (producer and
	// consumer), the forwarder (ndn-invoke only) and their sum.
	ProcCPUus  float64  `json:"proc_cpu_us_per_item"`
	FwdCPUus   *float64 `json:"forwarder_cpu_us_per_item,omitempty"`
	TotalCPUus float64  `json:"total_cpu_us_per_item"`
	// Ratios to grpc-tls with the same item size and streams (0 when it
	// was not measured): items/s, total CPU per item, first-item p50.
	RatioToGRPC          float64 `json:"ratio_items_per_s_to_grpc,omitempty"`
	CPURatioToGRPC       float64 `json:"ratio_cpu_to_grpc,omitempty"`
	FirstItemRatioToGRPC float64 `json:"ratio_first_item_to_grpc,omitempty"`
}

// SlowConsumerResult shows backpressure: one stream whose producer would
// send without end, read by a consumer that waits before each item.
type SlowConsumerResult struct {
	System   System  `json:"system"`
	Payload  int     `json:"item_bytes"`
	Consumed int     `json:"consumed"`
	DelayMs  float64 `json:"delay_ms"`
	Seconds  float64 `json:"seconds"`
	// Produced is how many items the producer had handed to its stream
	// (Send or SendMsg returned) when the consumer stopped.
	Produced int64 `json:"produced"`
	// PeakLead is the largest number of items produced but not yet
	// consumed, seen after each consumed item: what the stream buffers
	// (producer's queue, network, consumer's window).
	PeakLead int64 `json:"peak_lead"`
	// HeapGrowth is the live heap (after a GC) with the consumer stopped
	// and the stream still open, minus the live heap before the stream
	// opened, in bytes. It may be negative (noise).
	HeapGrowth int64  `json:"heap_growth_bytes"`
	Error      string `json:"error,omitempty"`
}

// StreamReport is the outcome of RunStreams.
type StreamReport struct {
	Started   time.Time            `json:"started"`
	DurationS float64              `json:"duration_s"`
	WarmupS   float64              `json:"warmup_s"`
	MaxItems  int                  `json:"max_items"`
	Window    int                  `json:"ndn_stream_window"`
	Results   []StreamResult       `json:"results"`
	Slow      []SlowConsumerResult `json:"slow_consumer"`
}

// RunStreams compares server streaming: it starts a gRPC-go server with a
// streaming method (TLS 1.3 on loopback) and a forwarder with an
// ndn-invoke service /bench/echo whose method "stream" is a server stream,
// measures every (item size, streams, system) case, then the slow
// consumer of each system, and stops everything again, including the
// forwarder, on every path. It blocks for roughly cases × (Warmup +
// Duration) + systems × SlowItems × SlowDelay plus setup. Errors:
// ErrNoNdnd, start-up failures, ctx's error if it ends (with the results
// measured so far). Failed streams do not fail RunStreams: they are counted
// in the results.
func RunStreams(ctx context.Context, cfg StreamConfig) (*StreamReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &StreamReport{
		Started: time.Now(), DurationS: cfg.Duration.Seconds(), WarmupS: cfg.Warmup.Seconds(),
		MaxItems: cfg.MaxItems, Window: rpc.StreamWindow,
	}
	opens := map[System]openFunc{}
	sources := map[System]*itemSource{}
	fwPid := 0
	if slices.Contains(cfg.Systems, GRPCTLS) {
		g, err := startGRPC()
		if err != nil {
			return nil, err
		}
		defer g.close()
		opens[GRPCTLS], sources[GRPCTLS] = g.openStream, g.src
	}
	if slices.Contains(cfg.Systems, NDNSigned) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, src, err := startNDNStreams(sctx, cfg)
		cancel()
		if err != nil {
			return nil, err
		}
		defer n.close()
		opens[NDNSigned], sources[NDNSigned] = n.openStream, src
		fwPid = n.fw.Pid()
	}

	for _, size := range cfg.Payloads {
		for _, conc := range cfg.Streams {
			for _, sys := range StreamSystems {
				if !slices.Contains(cfg.Systems, sys) {
					continue
				}
				pid := 0
				if sys != GRPCTLS {
					pid = fwPid
				}
				r, err := measureStreams(ctx, cfg, size, conc, opens[sys], pid, sources)
				if err != nil {
					return rep, err
				}
				r.System, r.Payload, r.Streams = sys, size, conc
				rep.Results = append(rep.Results, r)
				rep.fillRatios()
				if cfg.Progress != nil {
					cfg.Progress(rep.Results[len(rep.Results)-1])
				}
			}
		}
	}
	for _, sys := range StreamSystems {
		if !slices.Contains(cfg.Systems, sys) || cfg.SlowItems == 0 {
			continue
		}
		settle(ctx, cfg.Timeout, sources)
		r := slowConsumer(ctx, cfg, opens[sys], sources[sys])
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r.System = sys
		rep.Slow = append(rep.Slow, r)
		if cfg.SlowProgress != nil {
			cfg.SlowProgress(r)
		}
	}
	return rep, ctx.Err()
}

// measureStreams runs one case: a warm-up, the first-item probes, then
// the measured phase between two CPU readings. fwPid is the forwarder's
// pid, or 0.
func measureStreams(ctx context.Context, cfg StreamConfig, size, conc int, open openFunc, fwPid int, srcs map[System]*itemSource) (StreamResult, error) {
	perStream := max(cfg.MaxItems/conc, 1)
	runStreams(ctx, streamPhase{streams: conc, items: perStream, size: size, dur: cfg.Warmup, timeout: cfg.Timeout}, open)
	var first []time.Duration
	for range cfg.Probes {
		s := runStreams(ctx, streamPhase{streams: conc, items: 1, size: size, dur: cfg.Timeout, timeout: cfg.Timeout}, open)
		first = append(first, s.first...)
	}
	slices.Sort(first)

	settle(ctx, cfg.Timeout, srcs)
	runtime.GC() // do not charge this case for garbage left by the last
	var fw0, fw1 time.Duration
	var err error
	if fwPid != 0 {
		if fw0, err = pidCPU(fwPid); err != nil {
			return StreamResult{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	cpu0 := procCPU()
	s := runStreams(ctx, streamPhase{streams: conc, items: perStream, size: size, dur: cfg.Duration, timeout: cfg.Timeout}, open)
	cpu1 := procCPU()
	if fwPid != 0 {
		if fw1, err = pidCPU(fwPid); err != nil {
			return StreamResult{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return StreamResult{}, err
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	r := StreamResult{Items: s.items, Errors: s.errors, Seconds: s.elapsed.Seconds(),
		FirstItemP50us: us(percentile(first, 0.50)), FirstItemP99us: us(percentile(first, 0.99))}
	if s.firstErr != nil {
		r.FirstError = s.firstErr.Error()
	}
	if s.items == 0 || s.elapsed <= 0 {
		return r, nil
	}
	items := float64(s.items)
	r.ItemsPerS = items / s.elapsed.Seconds()
	r.MBPerS = items * float64(size) / s.elapsed.Seconds() / 1e6
	r.ProcCPUus = us(cpu1-cpu0) / items
	r.TotalCPUus = r.ProcCPUus
	if fwPid != 0 {
		f := us(fw1-fw0) / items
		r.FwdCPUus = &f
		r.TotalCPUus += f
	}
	return r, nil
}

// fillRatios sets the ratios to gRPC of every result that has a gRPC peer.
func (r *StreamReport) fillRatios() {
	for i := range r.Results {
		x := &r.Results[i]
		for _, g := range r.Results {
			if g.System != GRPCTLS || g.Payload != x.Payload || g.Streams != x.Streams {
				continue
			}
			x.RatioToGRPC = ratio(x.ItemsPerS, g.ItemsPerS)
			x.CPURatioToGRPC = ratio(x.TotalCPUus, g.TotalCPUus)
			x.FirstItemRatioToGRPC = ratio(x.FirstItemP50us, g.FirstItemP50us)
		}
	}
}

// WriteTable writes the results as two aligned text tables: throughput
// cases, then slow consumers.
func (r *StreamReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\titem\tstreams\titems\terrors\titems/s\tMB/s\t1st item p50\tp99\tproc µs/item\tfwd µs/item\ttotal µs/item\titems/s ÷ gRPC\tCPU ÷ gRPC\t1st item ÷ gRPC\t")
	for _, x := range r.Results {
		fwd := "-"
		if x.FwdCPUus != nil {
			fwd = fmt.Sprintf("%.1f", *x.FwdCPUus)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%.1f\t%s\t%s\t%.1f\t%s\t%.1f\t%s\t%s\t%s\t\n",
			x.System, x.Payload, x.Streams, x.Items, x.Errors, x.ItemsPerS, x.MBPerS,
			fmtUs(x.FirstItemP50us), fmtUs(x.FirstItemP99us), x.ProcCPUus, fwd, x.TotalCPUus,
			fmtRatio(x.RatioToGRPC), fmtRatio(x.CPURatioToGRPC), fmtRatio(x.FirstItemRatioToGRPC))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Slow) > 0 {
		fmt.Fprintln(w, "\nslow consumer (backpressure): one endless stream, the consumer waits before each item")
		fmt.Fprintln(tw, "system\titem\tconsumed\tdelay\tseconds\tproduced\tpeak lead (items)\theap growth\t")
		for _, x := range r.Slow {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0fms\t%.2f\t%d\t%d\t%s\t\n",
				x.System, x.Payload, x.Consumed, x.DelayMs, x.Seconds, x.Produced, x.PeakLead, fmtBytes(x.HeapGrowth))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, x := range r.Results {
		if x.FirstError != "" {
			fmt.Fprintf(w, "%s %dB streams=%d: %d errors, first: %s\n", x.System, x.Payload, x.Streams, x.Errors, x.FirstError)
		}
	}
	for _, x := range r.Slow {
		if x.Error != "" {
			fmt.Fprintf(w, "%s slow consumer: %s\n", x.System, x.Error)
		}
	}
	return nil
}

// WriteJSONFile writes the report as indented JSON to path.
func (r *StreamReport) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func fmtBytes(n int64) string {
	switch a := max(n, -n); {
	case a < 1<<10:
		return fmt.Sprintf("%d B", n)
	case a < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// streamRequest asks a producer for Items items of Size bytes; a non-zero
// ID names an itemSource counter that counts the items sent.
type streamRequest struct {
	Items uint32
	Size  uint32
	ID    uint64
}

// streamRequestLen is the encoded size of a streamRequest.
const streamRequestLen = 16

// errBadStreamRequest is returned by decodeStreamRequest.
var errBadStreamRequest = errors.New("bench: bad stream request")

// encode returns the 16-byte encoding: Items, Size, ID, big-endian.
func (r streamRequest) encode() []byte {
	b := make([]byte, streamRequestLen)
	binary.BigEndian.PutUint32(b, r.Items)
	binary.BigEndian.PutUint32(b[4:], r.Size)
	binary.BigEndian.PutUint64(b[8:], r.ID)
	return b
}

// decodeStreamRequest parses an encoded streamRequest. Errors:
// errBadStreamRequest for a wrong length or a size above maxPayload.
func decodeStreamRequest(b []byte) (streamRequest, error) {
	if len(b) != streamRequestLen {
		return streamRequest{}, fmt.Errorf("%w: %d bytes, want %d", errBadStreamRequest, len(b), streamRequestLen)
	}
	r := streamRequest{
		Items: binary.BigEndian.Uint32(b),
		Size:  binary.BigEndian.Uint32(b[4:]),
		ID:    binary.BigEndian.Uint64(b[8:]),
	}
	if r.Size > maxPayload {
		return streamRequest{}, fmt.Errorf("%w: item size %d above %d", errBadStreamRequest, r.Size, maxPayload)
	}
	return r, nil
}

// itemSource is a producer of stream items shared by a system's handlers:
// every item is a prefix of one random buffer, and a consumer that wants
// to watch the producer registers a counter (track) whose ID it puts in
// its request. Safe for concurrent use; mu guards the fields below it.
type itemSource struct {
	payload []byte // maxPayload random bytes, read-only

	mu       sync.Mutex
	nextID   uint64
	counters map[uint64]*atomic.Int64
	active   int           // producers running
	idle     chan struct{} // closed while active == 0
}

func newItemSource() *itemSource {
	p := make([]byte, maxPayload)
	_, _ = rand.Read(p)
	idle := make(chan struct{})
	close(idle)
	return &itemSource{payload: p, counters: map[uint64]*atomic.Int64{}, idle: idle}
}

// track returns a new ID and the counter of items sent for it; untrack
// forgets it.
func (s *itemSource) track() (uint64, *atomic.Int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	c := new(atomic.Int64)
	s.counters[s.nextID] = c
	return s.nextID, c
}

func (s *itemSource) untrack(id uint64) {
	s.mu.Lock()
	delete(s.counters, id)
	s.mu.Unlock()
}

// produce sends req.Items items with send, stopping at send's first error
// (the stream ended) or when ctx ends.
func (s *itemSource) produce(ctx context.Context, req streamRequest, send func([]byte) error) error {
	s.mu.Lock()
	sent := s.counters[req.ID] // nil unless tracked
	if s.active == 0 {
		s.idle = make(chan struct{})
	}
	s.active++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.active--; s.active == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
	}()
	item := s.payload[:req.Size]
	for range req.Items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(item); err != nil {
			return err
		}
		if sent != nil {
			sent.Add(1)
		}
	}
	return nil
}

// waitIdle returns once no producer runs (the streams closed early have
// wound down), or when ctx ends.
func (s *itemSource) waitIdle(ctx context.Context) {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// settle waits, at most timeout, until no producer of srcs runs, so that
// one phase's teardown does not run into the next one's measurement.
func settle(ctx context.Context, timeout time.Duration, srcs map[System]*itemSource) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, s := range srcs {
		s.waitIdle(ctx)
	}
}

// itemStream is the consumer's end of one server stream.
type itemStream interface {
	// recv returns the next item, or io.EOF at the end of the stream.
	recv() ([]byte, error)
	// close ends the stream (early or not) and releases it.
	close()
}

// openFunc opens a stream of a system under test; ctx bounds the whole
// stream.
type openFunc func(ctx context.Context, req streamRequest) (itemStream, error)

// streamPhase bounds one run of runStreams.
type streamPhase struct {
	streams int           // concurrent streams
	items   int           // items each stream asks for
	size    int           // item size
	dur     time.Duration // consumers stop reading after this long
	timeout time.Duration // a stream may outlive dur by this much
}

// streamStats is what one run of runStreams saw.
type streamStats struct {
	items    int // received
	errors   int // streams that failed
	firstErr error
	elapsed  time.Duration   // from the start to the last item received
	first    []time.Duration // time to first item of each stream that had one
}

// runStreams opens p.streams streams at once and reads each until its end
// or until p.dur has passed, then closes it. It returns once every stream
// is closed and every worker has returned.
func runStreams(ctx context.Context, p streamPhase, open openFunc) streamStats {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex // guards the fields below
		st       streamStats
		lastItem time.Time
	)
	fail := func(err error) {
		mu.Lock()
		st.errors++
		if st.firstErr == nil {
			st.firstErr = err
		}
		mu.Unlock()
	}
	start := time.Now()
	deadline := start.Add(p.dur)
	sctx, cancel := context.WithDeadline(ctx, deadline.Add(p.timeout))
	defer cancel()
	for range p.streams {
		wg.Add(1)
		go func() { // owned: ends with its stream, awaited below
			defer wg.Done()
			t0 := time.Now()
			s, err := open(sctx, streamRequest{Items: uint32(p.items), Size: uint32(p.size)})
			if err != nil {
				fail(err)
				return
			}
			defer s.close()
			n, stopped, failed := 0, false, false
			var first, last time.Time
			for !stopped {
				b, err := s.recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					fail(err)
					failed = true
					break
				}
				if len(b) != p.size {
					fail(fmt.Errorf("item of %d bytes, want %d", len(b), p.size))
					failed = true
					break
				}
				last = time.Now()
				if n == 0 {
					first = last
				}
				n++
				stopped = !last.Before(deadline)
			}
			if !stopped && !failed && n != p.items {
				fail(fmt.Errorf("stream ended after %d items, want %d", n, p.items))
			}
			mu.Lock()
			st.items += n
			if n > 0 {
				st.first = append(st.first, first.Sub(t0))
				if last.After(lastItem) {
					lastItem = last
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if !lastItem.IsZero() {
		st.elapsed = lastItem.Sub(start)
	}
	slices.Sort(st.first)
	return st
}

// slowConsumer reads cfg.SlowItems items of an endless stream, waiting
// cfg.SlowDelay before each next one, and reports how far the producer
// ran ahead and how much the live heap grew meanwhile.
func slowConsumer(ctx context.Context, cfg StreamConfig, open openFunc, src *itemSource) SlowConsumerResult {
	r := SlowConsumerResult{Payload: cfg.SlowPayload, DelayMs: float64(cfg.SlowDelay) / float64(time.Millisecond)}
	id, sent := src.track()
	defer src.untrack(id)
	base, err := settledHeap(ctx)
	if err != nil {
		r.Error = err.Error()
		return r
	}

	sctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.SlowItems)*cfg.SlowDelay+cfg.Timeout)
	defer cancel()
	start := time.Now()
	s, err := open(sctx, streamRequest{Items: 1 << 31, Size: uint32(cfg.SlowPayload), ID: id})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer s.close()
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	defer pause.Stop()
	for r.Consumed < cfg.SlowItems {
		if r.Consumed > 0 {
			pause.Reset(cfg.SlowDelay)
			select {
			case <-pause.C:
			case <-sctx.Done():
				r.Error = sctx.Err().Error()
				return r
			}
		}
		b, err := s.recv()
		if err != nil {
			r.Error = err.Error()
			return r
		}
		if len(b) != cfg.SlowPayload {
			r.Error = fmt.Sprintf("item of %d bytes, want %d", len(b), cfg.SlowPayload)
			return r
		}
		r.Consumed++
		r.PeakLead = max(r.PeakLead, sent.Load()-int64(r.Consumed))
	}
	r.Seconds = time.Since(start).Seconds()
	// The consumer has stopped and the stream is open: whatever the
	// producer managed to queue is live now.
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	r.Produced = sent.Load()
	r.PeakLead = max(r.PeakLead, r.Produced-int64(r.Consumed))
	r.HeapGrowth = int64(m.HeapAlloc) - base
	return r
}

// settledHeap returns the live heap once it has stopped shrinking: the
// streams of the last phase release their buffers on other goroutines
// (gRPC's transport, the ndn-invoke server's stream table) a little after
// they are closed. It collects up to 20 times, 10ms apart, and stops when
// two readings are within 16 KiB.
func settledHeap(ctx context.Context) (int64, error) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	last := int64(m.HeapAlloc)
	pause := time.NewTimer(time.Hour)
	defer pause.Stop()
	for range 20 {
		pause.Reset(10 * time.Millisecond)
		select {
		case <-pause.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		runtime.GC()
		runtime.ReadMemStats(&m)
		now := int64(m.HeapAlloc)
		if max(now-last, last-now) < 16<<10 {
			return now, nil
		}
		last = now
	}
	return last, nil
}

// startNDNStreams starts the ndn-invoke side and adds the streaming
// method to its service; on error it stops what it started.
func startNDNStreams(ctx context.Context, cfg StreamConfig) (*ndnSide, *itemSource, error) {
	n, err := startNDN(ctx, Config{NdndBinary: cfg.NdndBinary}, cfg.Logger)
	if err != nil {
		return nil, nil, err
	}
	src := newItemSource()
	h := rpc.StreamHandlerFunc(func(ctx context.Context, req *rpc.Request, w *rpc.StreamWriter) error {
		sr, err := decodeStreamRequest(req.Payload)
		if err != nil {
			return rpcstatus.Error(codes.InvalidArgument, err.Error())
		}
		return src.produce(ctx, sr, w.Send)
	})
	// Default options, as echo: the call is a signed Interest.
	if err := n.server.Mux.HandleStream("stream", h, rpc.MethodOptions{}); err != nil {
		n.close()
		return nil, nil, err
	}
	return n, src, nil
}

// ndnStream is an rpc.Stream as an itemStream.
type ndnStream struct{ s *rpc.Stream }

func (s ndnStream) recv() ([]byte, error) { return s.s.RecvRaw() }
func (s ndnStream) close()                { _ = s.s.Close() }

// openStream calls /bench/echo/stream with a signed Interest.
func (n *ndnSide) openStream(ctx context.Context, req streamRequest) (itemStream, error) {
	s, err := n.client.Stream(ctx, ndnStreamMethod, req.encode(), n.raw)
	if err != nil {
		return nil, err
	}
	return ndnStream{s}, nil
}
