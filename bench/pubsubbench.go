package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

// The systems RunPubSub compares.
const (
	// NATS is NATS core pub-sub: nats-server embedded in this process,
	// plain TCP on 127.0.0.1, one client connection per publisher and per
	// subscriber, no TLS, no authentication, nothing signed (at most once).
	NATS System = "nats"
	// NDNPubSub is ndn-invoke's pubsub: one PubSub member (on a node of its
	// own) per publisher and per subscriber, one ndnd forwarder between
	// them; every publication (a batch of messages) and Sync Interest is
	// Ed25519-signed and verified, delivery is at least once.
	NDNPubSub System = "ndn-pubsub"
)

// PubSubSystems lists the systems RunPubSub can measure, in the order it
// measures them.
var PubSubSystems = []System{NATS, NDNPubSub}

// LoadMode is how a pub-sub case publishes.
type LoadMode string

// The load modes of a pub-sub case.
const (
	// Steady publishes at PubSubConfig.Rate messages per second.
	Steady LoadMode = "steady"
	// FlatOut publishes as fast as Publish returns.
	FlatOut LoadMode = "flat-out"
)

// psHeader is the bytes every benchmark message starts with: the send time
// (nanoseconds since the run's epoch, big-endian) and the phase (0 warm-up,
// 1 measured).
const psHeader = 9

// Bounds of PubSubConfig.
const (
	maxSubscribers = 16
	maxPSPayload   = 6000 // one pubsub publication holds at most 7000 bytes
	maxRate        = 1_000_000
)

// ndnRetain is pubsub.Config.Retain for the benchmark's publisher: enough
// publications (about 60 messages of 100 B each) that a subscriber behind a
// flat-out publisher is not told Gone. The default (1024) would make a
// subscriber that falls ~60k messages behind skip publications.
const ndnRetain = 1 << 14

// PubSubConfig configures RunPubSub. A zero field means the default.
type PubSubConfig struct {
	// Systems to measure, a subset of PubSubSystems. Default both. Ratios
	// need NATS.
	Systems []System
	// Subscribers lists the numbers of subscribers of a case (one
	// publisher each), 1 to 16. Default 1 and 3.
	Subscribers []int
	// Modes lists the load modes. Default Steady and FlatOut.
	Modes []LoadMode
	// Payload is the message size in bytes, 9 to 6000 (the first 9 bytes
	// carry the send time). Default 100.
	Payload int
	// Rate is the offered rate of Steady cases and of warm-ups, in
	// messages per second, at most 1e6. Default 5000.
	Rate int
	// SteadyDuration is how long a Steady case publishes. Default 3s.
	SteadyDuration time.Duration
	// MaxMessages bounds the messages one case publishes (either mode).
	// Default 200000.
	MaxMessages int
	// FlatDuration bounds how long a FlatOut case publishes (also bounded
	// by MaxMessages). Default 3s.
	FlatDuration time.Duration
	// Warmup is how long each case publishes at Rate before it is
	// measured; the measured phase starts once every subscriber got every
	// warm-up message. Default 500ms.
	Warmup time.Duration
	// Drain bounds the wait, after the last message of a phase is
	// published, for every subscriber to receive every message; what has
	// not arrived by then is counted as lost. Default 15s.
	Drain time.Duration
	// NdndBinary is the forwarder executable. Default as Config's.
	NdndBinary string
	// Progress, if set, is called with each case's result as soon as it is
	// measured, on RunPubSub's goroutine.
	Progress func(PubSubResult)
	// Logger receives the nodes' logs. Default slog.Default().
	Logger *slog.Logger
}

// DefaultPubSubConfig returns the full pub-sub comparison: NATS and
// ndn-pubsub, 1 and 3 subscribers, 100 B messages, a steady 5000 msgs/s
// for 3 s and flat-out for at most 200000 messages or 3 s, each after a
// 0.5 s warm-up.
func DefaultPubSubConfig() PubSubConfig {
	return PubSubConfig{
		Systems:        slices.Clone(PubSubSystems),
		Subscribers:    []int{1, 3},
		Modes:          []LoadMode{Steady, FlatOut},
		Payload:        100,
		Rate:           5000,
		SteadyDuration: 3 * time.Second,
		MaxMessages:    200000,
		FlatDuration:   3 * time.Second,
		Warmup:         500 * time.Millisecond,
		Drain:          15 * time.Second,
		Logger:         slog.Default(),
	}
}

func (c PubSubConfig) withDefaults() PubSubConfig {
	d := DefaultPubSubConfig()
	if len(c.Systems) == 0 {
		c.Systems = d.Systems
	}
	if len(c.Subscribers) == 0 {
		c.Subscribers = d.Subscribers
	}
	if len(c.Modes) == 0 {
		c.Modes = d.Modes
	}
	if c.Payload == 0 {
		c.Payload = d.Payload
	}
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if c.SteadyDuration == 0 {
		c.SteadyDuration = d.SteadyDuration
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = d.MaxMessages
	}
	if c.FlatDuration == 0 {
		c.FlatDuration = d.FlatDuration
	}
	if c.Warmup == 0 {
		c.Warmup = d.Warmup
	}
	if c.Drain == 0 {
		c.Drain = d.Drain
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports a configuration RunPubSub refuses: an unknown system or
// mode, subscribers outside 1..16, a payload outside 9..6000 bytes, a rate
// over 1e6/s, or a negative count or duration.
func (c PubSubConfig) Validate() error {
	for _, s := range c.Systems {
		if !slices.Contains(PubSubSystems, s) {
			return fmt.Errorf("bench: %q is not a pub-sub system (want one of %v)", s, PubSubSystems)
		}
	}
	for _, m := range c.Modes {
		if m != Steady && m != FlatOut {
			return fmt.Errorf("bench: unknown load mode %q (want %q or %q)", m, Steady, FlatOut)
		}
	}
	for _, n := range c.Subscribers {
		if n < 1 || n > maxSubscribers {
			return fmt.Errorf("bench: %d subscribers is outside 1..%d", n, maxSubscribers)
		}
	}
	if c.Payload != 0 && (c.Payload < psHeader || c.Payload > maxPSPayload) {
		return fmt.Errorf("bench: message size %d is outside %d..%d bytes", c.Payload, psHeader, maxPSPayload)
	}
	if c.Rate < 0 || c.Rate > maxRate {
		return fmt.Errorf("bench: rate %d is outside 1..%d msgs/s", c.Rate, maxRate)
	}
	if c.MaxMessages < 0 || c.SteadyDuration < 0 || c.FlatDuration < 0 || c.Warmup < 0 || c.Drain < 0 {
		return errors.New("bench: counts and durations must not be negative")
	}
	return nil
}

// PubSubResult is one measured pub-sub case: one publisher, Subscribers
// subscribers of its topic.
type PubSubResult struct {
	System      System   `json:"system"`
	Mode        LoadMode `json:"mode"`
	Subscribers int      `json:"subscribers"`
	Payload     int      `json:"payload_bytes"`
	// OfferedRate is the Steady rate in messages per second (0 for
	// FlatOut).
	OfferedRate float64 `json:"offered_msgs_per_s,omitempty"`
	// Published counts the messages published in the measured phase, and
	// PublishedPerS is how fast Publish accepted them.
	Published     int     `json:"published"`
	PublishedPerS float64 `json:"published_msgs_per_s"`
	// Delivered counts deliveries over all subscribers; Lost is
	// Published × Subscribers − Delivered when the drain ended (never
	// negative).
	Delivered  int    `json:"delivered"`
	Lost       int    `json:"lost"`
	FirstError string `json:"first_error,omitempty"`
	// Detail is what the system itself counted of trouble over the case
	// (warm-up included): for nats, messages dropped as a slow consumer;
	// for ndn-pubsub, the members' failed fetches, publications skipped
	// and rejected, Sync Data rejected and dropped (pubsub.Stats). Empty: none.
	Detail string `json:"detail,omitempty"`
	// Seconds runs from the first publish to the last delivery.
	Seconds float64 `json:"seconds"`
	// MsgsPerSPerSub is Delivered / Subscribers / Seconds: the rate at
	// which each subscriber received messages.
	MsgsPerSPerSub float64 `json:"delivered_msgs_per_s_per_subscriber"`
	// Latencies from Publish to delivery to the subscriber's handler, over
	// all deliveries, in microseconds.
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	MaxUs  float64 `json:"max_us"`
	MeanUs float64 `json:"mean_us"`
	// CPU per delivery in microseconds: this process (publisher,
	// subscribers and, for NATS, the server), the forwarder (ndn-pubsub
	// only) and their sum.
	ProcCPUus  float64  `json:"proc_cpu_us_per_msg"`
	FwdCPUus   *float64 `json:"forwarder_cpu_us_per_msg,omitempty"`
	TotalCPUus float64  `json:"total_cpu_us_per_msg"`
	// Ratios to nats with the same mode and subscribers (0 when it was not
	// measured): delivered msgs/s, latency p50 and p99, total CPU per
	// delivery.
	RatioToNATS    float64 `json:"ratio_msgs_per_s_to_nats,omitempty"`
	P50RatioToNATS float64 `json:"ratio_p50_to_nats,omitempty"`
	P99RatioToNATS float64 `json:"ratio_p99_to_nats,omitempty"`
	CPURatioToNATS float64 `json:"ratio_cpu_to_nats,omitempty"`
}

// PubSubReport is the outcome of RunPubSub.
type PubSubReport struct {
	Started         time.Time      `json:"started"`
	NATSVersion     string         `json:"nats_server_version"`
	NATSClient      string         `json:"nats_client_version"`
	Payload         int            `json:"payload_bytes"`
	Rate            int            `json:"steady_rate_msgs_per_s"`
	SteadyS         float64        `json:"steady_duration_s"`
	FlatS           float64        `json:"flat_out_duration_s"`
	MaxMessages     int            `json:"max_messages"`
	WarmupS         float64        `json:"warmup_s"`
	NDNBatchWindowS float64        `json:"ndn_batch_window_s"`
	NDNRetain       int            `json:"ndn_retain"`
	Results         []PubSubResult `json:"results"`
}

// RunPubSub compares pub-sub: it starts an embedded nats-server and an
// ndnd forwarder, then for every (subscribers, mode, system) case sets up
// one publisher and the subscribers afresh (a new subject, or a new pubsub
// group and topic), warms up, measures and tears the case down. It stops
// everything again, including the forwarder, on every path, and blocks for
// roughly cases × (Warmup + SteadyDuration or FlatDuration + the time
// subscribers take to catch up, at most Drain) plus setup. Errors:
// ErrNoNdnd, start-up failures, ctx's error if it ends (with the results
// measured so far). Lost messages do not fail RunPubSub: they are counted.
func RunPubSub(ctx context.Context, cfg PubSubConfig) (*PubSubReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &PubSubReport{
		Started: time.Now(), NATSVersion: natsserver.VERSION, NATSClient: nats.Version,
		Payload: cfg.Payload, Rate: cfg.Rate, SteadyS: cfg.SteadyDuration.Seconds(), FlatS: cfg.FlatDuration.Seconds(),
		MaxMessages: cfg.MaxMessages, WarmupS: cfg.Warmup.Seconds(),
		NDNBatchWindowS: pubsub.DefaultConfig().BatchWindow.Seconds(), NDNRetain: ndnRetain,
	}
	sides := map[System]psSide{}
	if slices.Contains(cfg.Systems, NATS) {
		n, err := startNATS()
		if err != nil {
			return nil, err
		}
		defer n.close()
		sides[NATS] = n
	}
	if slices.Contains(cfg.Systems, NDNPubSub) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		f, err := startFwd(sctx, cfg.NdndBinary, cfg.Logger)
		cancel()
		if err != nil {
			return nil, err
		}
		defer f.close()
		sides[NDNPubSub] = &ndnPSSide{f: f, log: cfg.Logger}
	}

	caseNo := 0
	for _, subs := range cfg.Subscribers {
		for _, mode := range cfg.Modes {
			for _, sys := range PubSubSystems {
				side := sides[sys]
				if side == nil {
					continue
				}
				caseNo++
				r, err := measurePubSub(ctx, cfg, side, caseNo, subs, mode)
				if err != nil {
					return rep, fmt.Errorf("bench: %s %s subs=%d: %w", sys, mode, subs, err)
				}
				r.System, r.Mode, r.Subscribers, r.Payload = sys, mode, subs, cfg.Payload
				if mode == Steady {
					r.OfferedRate = float64(cfg.Rate)
				}
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

// psSide is one pub-sub system.
type psSide interface {
	// open sets up one publisher and subs subscribers for case caseNo;
	// deliver is called with each message a subscriber receives (on that
	// subscriber's goroutine).
	open(ctx context.Context, caseNo, subs int, deliver func(sub int, payload []byte)) (psCase, error)
	// fwPid is the forwarder's pid, or 0.
	fwPid() int
}

// psCase is one publisher and its subscribers.
type psCase interface {
	// publish sends one message; the callee does not keep msg.
	publish(ctx context.Context, msg []byte) error
	// flush pushes out what publish buffered.
	flush(ctx context.Context) error
	// detail describes trouble the system counted (empty: none).
	detail() string
	// close tears the case down and waits for its goroutines.
	close()
}

// psStage is what the subscribers received of one phase. Its fields are
// guarded by psCollector.mu.
type psStage struct {
	count  []int           // messages per subscriber
	last   time.Duration   // latest delivery, since the epoch
	lat    []time.Duration // publish-to-delivery, all subscribers
	target int             // messages per subscriber; -1 until published
	done   chan struct{}   // closed once every subscriber has target
}

// psCollector receives the subscribers' messages.
type psCollector struct {
	epoch  time.Time
	mu     sync.Mutex
	stages [2]*psStage // warm-up, measured
}

func newPSCollector(subs, expect int) *psCollector {
	c := &psCollector{epoch: time.Now()}
	for i := range c.stages {
		c.stages[i] = &psStage{count: make([]int, subs), target: -1, done: make(chan struct{})}
	}
	c.stages[1].lat = make([]time.Duration, 0, min(subs*expect, 4<<20))
	return c
}

// deliver records one message received by subscriber sub.
func (c *psCollector) deliver(sub int, payload []byte) {
	now := time.Since(c.epoch)
	if len(payload) < psHeader || payload[8] > 1 {
		return
	}
	sent := time.Duration(binary.BigEndian.Uint64(payload))
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stages[payload[8]]
	st.count[sub]++
	st.last = max(st.last, now)
	if payload[8] == 1 {
		st.lat = append(st.lat, now-sent)
	}
	c.checkLocked(st)
}

// expect sets how many messages every subscriber should get in phase i.
func (c *psCollector) expect(i, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stages[i].target = n
	c.checkLocked(c.stages[i])
}

func (c *psCollector) checkLocked(st *psStage) {
	if st.target < 0 {
		return
	}
	select {
	case <-st.done:
		return
	default:
	}
	for _, n := range st.count {
		if n < st.target {
			return
		}
	}
	close(st.done)
}

// stamp writes the header of a message of phase i into msg.
func (c *psCollector) stamp(msg []byte, i byte) {
	binary.BigEndian.PutUint64(msg, uint64(time.Since(c.epoch)))
	msg[8] = i
}

// errDrain is recorded when subscribers did not receive every message in
// time.
var errDrain = errors.New("bench: not every message was delivered within Drain")

// measurePubSub runs one case: setup, warm-up, the measured phase between
// two CPU readings, teardown.
func measurePubSub(ctx context.Context, cfg PubSubConfig, side psSide, caseNo, subs int, mode LoadMode) (PubSubResult, error) {
	warm := min(max(int(float64(cfg.Rate)*cfg.Warmup.Seconds()), 1), cfg.MaxMessages)
	n := cfg.MaxMessages
	if mode == Steady {
		n = min(n, max(int(float64(cfg.Rate)*cfg.SteadyDuration.Seconds()), 1))
	}
	col := newPSCollector(subs, n)
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	pc, err := side.open(octx, caseNo, subs, col.deliver)
	cancel()
	if err != nil {
		return PubSubResult{}, err
	}
	defer pc.close()
	msg := make([]byte, cfg.Payload)
	for i := psHeader; i < len(msg); i++ {
		msg[i] = byte(i)
	}

	// Warm-up: at the steady rate, until every subscriber has it all.
	if _, _, err := publishPhase(ctx, cfg, pc, col, msg, 0, warm, cfg.Rate, cfg.Warmup+cfg.Drain); err != nil {
		return PubSubResult{}, fmt.Errorf("warm-up: %w", err)
	}
	col.expect(0, warm)
	if !waitDone(ctx, col.stages[0].done, cfg.Drain) {
		if err := ctx.Err(); err != nil {
			return PubSubResult{}, err
		}
		return PubSubResult{}, fmt.Errorf("warm-up: subscribers did not get %d messages within %v", warm, cfg.Drain)
	}

	runtime.GC() // do not charge this case for garbage left by the last
	fwPid := side.fwPid()
	var fw0, fw1 time.Duration
	if fwPid != 0 {
		if fw0, err = pidCPU(fwPid); err != nil {
			return PubSubResult{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	cpu0 := procCPU()
	rate, dur := cfg.Rate, cfg.SteadyDuration
	if mode == FlatOut {
		rate, dur = 0, cfg.FlatDuration
	}
	start := time.Since(col.epoch)
	published, pubTime, perr := publishPhase(ctx, cfg, pc, col, msg, 1, n, rate, dur)
	col.expect(1, published)
	drained := waitDone(ctx, col.stages[1].done, cfg.Drain)
	cpu1 := procCPU()
	if fwPid != 0 {
		if fw1, err = pidCPU(fwPid); err != nil {
			return PubSubResult{}, fmt.Errorf("bench: forwarder CPU: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return PubSubResult{}, err
	}

	col.mu.Lock()
	st := col.stages[1]
	lat := slices.Clone(st.lat)
	last := st.last
	col.mu.Unlock()
	slices.Sort(lat)
	r := PubSubResult{Published: published, Delivered: len(lat), Lost: max(published*subs-len(lat), 0), Detail: pc.detail()}
	switch {
	case perr != nil:
		r.FirstError = perr.Error()
	case !drained:
		r.FirstError = errDrain.Error()
	}
	if pubTime > 0 {
		r.PublishedPerS = float64(published) / pubTime.Seconds()
	}
	if len(lat) == 0 || last <= start {
		return r, nil
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	el := last - start
	r.Seconds = el.Seconds()
	r.MsgsPerSPerSub = float64(len(lat)) / float64(subs) / el.Seconds()
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	d := float64(len(lat))
	r.P50us, r.P90us, r.P99us = us(percentile(lat, 0.50)), us(percentile(lat, 0.90)), us(percentile(lat, 0.99))
	r.MaxUs, r.MeanUs = us(lat[len(lat)-1]), us(sum)/d
	r.ProcCPUus = us(cpu1-cpu0) / d
	r.TotalCPUus = r.ProcCPUus
	if fwPid != 0 {
		f := us(fw1-fw0) / d
		r.FwdCPUus = &f
		r.TotalCPUus += f
	}
	return r, nil
}

// publishPhase publishes n messages of phase i at rate messages per second,
// or, with rate 0, as fast as publish returns, up to n messages or for at
// most dur; then it flushes. It returns how many were published and how
// long that took. Publishing is bounded by dur + Drain in either case.
func publishPhase(ctx context.Context, cfg PubSubConfig, pc psCase, col *psCollector, msg []byte, i byte, n, rate int, dur time.Duration) (int, time.Duration, error) {
	pctx, cancel := context.WithTimeout(ctx, dur+cfg.Drain)
	defer cancel()
	t0 := time.Now()
	deadline := t0.Add(dur)
	sent := 0
	var tick *time.Ticker
	if rate > 0 {
		tick = time.NewTicker(time.Millisecond)
		defer tick.Stop()
	}
	// At a rate, the count ends the phase (and pctx bounds it); flat out,
	// the count or dur, whichever comes first.
	running := func() bool { return rate > 0 || time.Now().Before(deadline) }
	for sent < n && running() {
		// Publish what is due, checking the clock every 256 messages.
		due := n
		if rate > 0 {
			due = min(n, int(time.Since(t0).Seconds()*float64(rate))+1)
		}
		for sent < due && (sent%256 != 0 || running()) {
			col.stamp(msg, i)
			if err := pc.publish(pctx, msg); err != nil {
				return sent, time.Since(t0), err
			}
			sent++
		}
		if rate > 0 && sent < n {
			select {
			case <-tick.C:
			case <-pctx.Done():
				return sent, time.Since(t0), pctx.Err()
			}
		}
	}
	el := time.Since(t0)
	return sent, el, pc.flush(pctx)
}

// waitDone waits for done, at most d or until ctx ends; it reports whether
// done was closed.
func waitDone(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// fillRatios sets the ratios to NATS of every result that has a NATS peer.
func (r *PubSubReport) fillRatios() {
	for i := range r.Results {
		x := &r.Results[i]
		for _, g := range r.Results {
			if g.System != NATS || g.Mode != x.Mode || g.Subscribers != x.Subscribers {
				continue
			}
			x.RatioToNATS = ratio(x.MsgsPerSPerSub, g.MsgsPerSPerSub)
			x.P50RatioToNATS = ratio(x.P50us, g.P50us)
			x.P99RatioToNATS = ratio(x.P99us, g.P99us)
			x.CPURatioToNATS = ratio(x.TotalCPUus, g.TotalCPUus)
		}
	}
}

// WriteTable writes the results as an aligned text table.
func (r *PubSubReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tmode\tsubs\tpublished\tdelivered\tlost\tmsgs/s/sub\tp50\tp99\tproc µs/msg\tfwd µs/msg\ttotal µs/msg\tmsgs/s ÷ NATS\tp50 ÷ NATS\tp99 ÷ NATS\tCPU ÷ NATS\t")
	for _, x := range r.Results {
		fwd := "-"
		if x.FwdCPUus != nil {
			fwd = fmt.Sprintf("%.1f", *x.FwdCPUus)
		}
		mode := string(x.Mode)
		if x.Mode == Steady {
			mode = fmt.Sprintf("%.0f/s", x.OfferedRate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%.2f\t%s\t%.2f\t%s\t%s\t%s\t%s\t\n",
			x.System, mode, x.Subscribers, x.Published, x.Delivered, x.Lost, x.MsgsPerSPerSub,
			fmtUs(x.P50us), fmtUs(x.P99us), x.ProcCPUus, fwd, x.TotalCPUus,
			fmtRatio(x.RatioToNATS), fmtRatio(x.P50RatioToNATS), fmtRatio(x.P99RatioToNATS), fmtRatio(x.CPURatioToNATS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Results {
		if x.FirstError != "" || x.Detail != "" {
			fmt.Fprintf(w, "%s %s subs=%d: %d lost", x.System, x.Mode, x.Subscribers, x.Lost)
			for _, s := range []string{x.FirstError, x.Detail} {
				if s != "" {
					fmt.Fprintf(w, "; %s", s)
				}
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// WriteJSONFile writes the report as indented JSON to path.
func (r *PubSubReport) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// natsSide is an embedded nats-server.
type natsSide struct {
	srv *natsserver.Server
	url string
}

// startNATS starts nats-server in this process on a random port of
// 127.0.0.1, without logging or signal handlers.
func startNATS() (*natsSide, error) {
	srv, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true, NoSystemAccount: true,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: nats-server: %w", err)
	}
	srv.Start() // does not block: the server owns its goroutines until Shutdown
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("bench: nats-server did not start")
	}
	return &natsSide{srv: srv, url: srv.ClientURL()}, nil
}

func (n *natsSide) fwPid() int { return 0 }

// close shuts the server down and waits for it.
func (n *natsSide) close() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// natsCase is one publisher connection and one connection per subscriber.
type natsCase struct {
	pub     *nats.Conn
	subs    []*nats.Conn
	ss      []*nats.Subscription
	subject string
}

func (n *natsSide) open(ctx context.Context, caseNo, subs int, deliver func(int, []byte)) (_ psCase, err error) {
	c := &natsCase{subject: "bench.ps." + strconv.Itoa(caseNo)}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	dl, _ := ctx.Deadline()
	opts := []nats.Option{nats.Timeout(time.Until(dl)), nats.NoReconnect()}
	for k := range subs {
		nc, err := nats.Connect(n.url, opts...)
		if err != nil {
			return nil, fmt.Errorf("nats connect: %w", err)
		}
		c.subs = append(c.subs, nc)
		sub, err := nc.Subscribe(c.subject, func(m *nats.Msg) { deliver(k, m.Data) })
		if err != nil {
			return nil, fmt.Errorf("nats subscribe: %w", err)
		}
		c.ss = append(c.ss, sub)
		if err := nc.FlushWithContext(ctx); err != nil { // the server has the subscription
			return nil, err
		}
	}
	if c.pub, err = nats.Connect(n.url, opts...); err != nil {
		return nil, fmt.Errorf("nats connect: %w", err)
	}
	return c, nil
}

func (c *natsCase) publish(_ context.Context, msg []byte) error { return c.pub.Publish(c.subject, msg) }

func (c *natsCase) flush(ctx context.Context) error { return c.pub.FlushWithContext(ctx) }

func (c *natsCase) detail() string {
	dropped := 0
	for _, s := range c.ss {
		if n, err := s.Dropped(); err == nil {
			dropped += n
		}
	}
	if dropped == 0 {
		return ""
	}
	return fmt.Sprintf("nats: %d messages dropped as a slow consumer", dropped)
}

// close closes the connections; Close waits for each subscription's
// handler goroutine to end.
func (c *natsCase) close() {
	if c.pub != nil {
		c.pub.Close()
	}
	for _, nc := range c.subs {
		nc.Close()
	}
}

// fwd is a forwarder with a trust anchor for the members it connects.
type fwd struct {
	dir     string
	bin     string
	fw      *ndn.Forwarder
	log     *slog.Logger
	anchor  *security.Identity
	anchors [][]byte
}

// startFwd starts a forwarder in a fresh directory and makes an anchor
// /bench; on error it stops what it started.
func startFwd(ctx context.Context, bin string, log *slog.Logger) (_ *fwd, err error) {
	if bin == "" {
		if bin, err = findNdnd(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "ndnps-") // short: the socket path is limited to 107 bytes
	if err != nil {
		return nil, fmt.Errorf("bench: forwarder dir: %w", err)
	}
	f := &fwd{dir: dir, bin: bin, log: log}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	if f.fw, err = ndn.StartForwarder(ctx, ndn.ForwarderConfig{Dir: dir, Binary: bin, Logger: log}); err != nil {
		return nil, fmt.Errorf("bench: start forwarder: %w", err)
	}
	if f.anchor, err = security.NewAnchor(mustName("/bench"), 24*time.Hour); err != nil {
		return nil, err
	}
	f.anchors = [][]byte{f.anchor.CertWire()}
	return f, nil
}

// connect connects a node whose identity name is the anchor's plus label.
func (f *fwd) connect(ctx context.Context, label string) (*ndn.Node, error) {
	id, err := f.anchor.Issue(mustName("/bench/"+label), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	node, err := ndn.Connect(ctx, ndn.Config{Transport: f.fw.Transport(), Identity: id, Anchors: f.anchors, Logger: f.log})
	if err != nil {
		return nil, fmt.Errorf("bench: connect %s: %w", label, err)
	}
	return node, nil
}

// close stops the forwarder, waits for it and removes its directory. Safe
// on a partly started forwarder.
func (f *fwd) close() {
	if f.fw != nil {
		_ = f.fw.Stop()
	}
	_ = os.RemoveAll(f.dir)
}

// mustName parses an NDN URI of the benchmark's own making (never input).
func mustName(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(fmt.Sprintf("bench: bad name %q: %v", s, err))
	}
	return n
}

// ndnPSSide runs pubsub members on a forwarder.
type ndnPSSide struct {
	f   *fwd
	log *slog.Logger
}

func (s *ndnPSSide) fwPid() int { return s.f.fw.Pid() }

// ndnPSCase is a publisher and subscribers, each a PubSub on a node of its
// own, in group /bench/ps/<case>.
type ndnPSCase struct {
	nodes   []*ndn.Node
	members []*pubsub.PubSub
	topic   *pubsub.Topic
}

func (s *ndnPSSide) open(ctx context.Context, caseNo, subs int, deliver func(int, []byte)) (_ psCase, err error) {
	c := &ndnPSCase{}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	group := mustName("/bench/ps/" + strconv.Itoa(caseNo))
	topic := append(group.Clone(), enc.NewGenericComponent("t"))
	member := func(label string) (*pubsub.PubSub, error) {
		node, err := s.f.connect(ctx, "ps/"+label)
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, node)
		cfg := pubsub.DefaultConfig()
		cfg.Group, cfg.Node, cfg.Logger, cfg.Retain = group, node, s.log, ndnRetain
		p, err := pubsub.New(cfg)
		if err != nil {
			return nil, err
		}
		c.members = append(c.members, p)
		return p, p.Start(ctx)
	}
	for k := range subs {
		p, err := member("s" + strconv.Itoa(k))
		if err != nil {
			return nil, err
		}
		if _, err := p.Subscribe(pubsub.SubscribeConfig{Topic: topic, Handler: func(_ context.Context, m *pubsub.Message) error {
			deliver(k, m.Payload)
			return nil
		}}); err != nil {
			return nil, err
		}
	}
	p, err := member("pub")
	if err != nil {
		return nil, err
	}
	if c.topic, err = p.Advertise(topic); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *ndnPSCase) publish(ctx context.Context, msg []byte) error { return c.topic.Publish(ctx, msg) }

// flush returns at once: the publisher announces within BatchWindow by
// itself, and the measured phase waits for deliveries anyway.
func (c *ndnPSCase) flush(context.Context) error { return nil }

// detail sums the subscribers' pubsub.Stats trouble counters.
func (c *ndnPSCase) detail() string {
	var st pubsub.Stats
	for _, p := range c.members {
		x := p.Stats()
		st.FetchErrors += x.FetchErrors
		st.Missed += x.Missed
		st.Rejected += x.Rejected
		st.SyncRejected += x.SyncRejected
		st.SyncDropped += x.SyncDropped
	}
	if st.FetchErrors+st.Missed+st.Rejected+st.SyncRejected+st.SyncDropped == 0 {
		return ""
	}
	return fmt.Sprintf("pubsub: %d fetch errors, %d publications skipped, %d rejected; Sync Data %d rejected, %d dropped",
		st.FetchErrors, st.Missed, st.Rejected, st.SyncRejected, st.SyncDropped)
}

// close closes the members (waiting for their goroutines), then the nodes.
func (c *ndnPSCase) close() {
	for _, p := range c.members {
		_ = p.Close()
	}
	for _, n := range c.nodes {
		_ = n.Close()
	}
}

// MembershipConfig configures RunMembership. A zero field means the
// default.
type MembershipConfig struct {
	// Members is the group size, 2 to 64. Default 10.
	Members int
	// Rounds is how many times the group is formed and one member killed.
	// Default 3.
	Rounds int
	// HeartbeatPeriod, SuspectAfter and FailedAfter are the svs.Config
	// settings of every member. Defaults 200ms, 1s, 2s (svs's defaults are
	// 1s, 5s, 15s); SuspectAfter must be at least twice HeartbeatPeriod.
	HeartbeatPeriod, SuspectAfter, FailedAfter time.Duration
	// Timeout bounds each phase of a round (convergence, failure
	// detection). Default 20s.
	Timeout time.Duration
	// NdndBinary is the forwarder executable. Default as Config's.
	NdndBinary string
	// Progress, if set, is called with each round as soon as it is
	// measured, on RunMembership's goroutine.
	Progress func(MembershipRound)
	// Logger receives the nodes' and groups' logs. Default slog.Default().
	Logger *slog.Logger
}

// DefaultMembershipConfig returns 3 rounds of 10 members with heartbeats
// every 200ms, SuspectAfter 1s and FailedAfter 2s.
func DefaultMembershipConfig() MembershipConfig {
	return MembershipConfig{
		Members:         10,
		Rounds:          3,
		HeartbeatPeriod: 200 * time.Millisecond,
		SuspectAfter:    time.Second,
		FailedAfter:     2 * time.Second,
		Timeout:         20 * time.Second,
		Logger:          slog.Default(),
	}
}

func (c MembershipConfig) withDefaults() MembershipConfig {
	d := DefaultMembershipConfig()
	if c.Members == 0 {
		c.Members = d.Members
	}
	if c.Rounds == 0 {
		c.Rounds = d.Rounds
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = d.HeartbeatPeriod
	}
	if c.SuspectAfter == 0 {
		c.SuspectAfter = d.SuspectAfter
	}
	if c.FailedAfter == 0 {
		c.FailedAfter = d.FailedAfter
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// Validate reports a configuration RunMembership refuses: members outside
// 2..64, rounds outside 0..100, a negative duration, or timeouts svs
// refuses (SuspectAfter under twice HeartbeatPeriod, FailedAfter not over
// SuspectAfter).
func (c MembershipConfig) Validate() error {
	if c.Members != 0 && (c.Members < 2 || c.Members > 64) {
		return fmt.Errorf("bench: %d members is outside 2..64", c.Members)
	}
	if c.Rounds < 0 || c.Rounds > 100 {
		return fmt.Errorf("bench: %d rounds is outside 1..100", c.Rounds)
	}
	if c.HeartbeatPeriod < 0 || c.SuspectAfter < 0 || c.FailedAfter < 0 || c.Timeout < 0 {
		return errors.New("bench: durations must not be negative")
	}
	d := c.withDefaults()
	if d.SuspectAfter < 2*d.HeartbeatPeriod || d.FailedAfter <= d.SuspectAfter {
		return fmt.Errorf("bench: need SuspectAfter (%v) ≥ 2 × HeartbeatPeriod (%v) and FailedAfter (%v) > SuspectAfter",
			d.SuspectAfter, d.HeartbeatPeriod, d.FailedAfter)
	}
	return nil
}

// MembershipRound is one formed group and one killed member, in
// milliseconds.
type MembershipRound struct {
	Round int `json:"round"`
	// ConvergeMs runs from starting every Join at once until every member
	// sees all the others alive.
	ConvergeMs float64 `json:"converge_ms"`
	// SuspectMs and FailedMs run from closing one member without Leave
	// until every other member sees it suspect (or failed), then failed.
	SuspectMs float64 `json:"suspect_ms"`
	FailedMs  float64 `json:"failed_ms"`
}

// MembershipReport is the outcome of RunMembership. It has no baseline:
// NATS core has no membership.
type MembershipReport struct {
	Started     time.Time         `json:"started"`
	Members     int               `json:"members"`
	HeartbeatMs float64           `json:"heartbeat_period_ms"`
	SuspectMs   float64           `json:"suspect_after_ms"`
	FailedMs    float64           `json:"failed_after_ms"`
	Rounds      []MembershipRound `json:"rounds"`
	// Mean, Min and Max summarize Rounds.
	Mean MembershipRound `json:"mean"`
	Min  MembershipRound `json:"min"`
	Max  MembershipRound `json:"max"`
}

// RunMembership measures svs groups on a forwarder of its own: per round,
// Members nodes connect (not timed), all Join at once, and the round times
// how long until every member sees the others alive; it then closes one
// member without Leave and times how long until every other member sees it
// suspect, then failed. It stops everything, including the forwarder, on
// every path, and blocks for about Rounds × (FailedAfter + a second).
// Errors: ErrNoNdnd, start-up or Join failures, a phase exceeding Timeout,
// ctx's error (with the rounds measured so far).
func RunMembership(ctx context.Context, cfg MembershipConfig) (*MembershipReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &MembershipReport{
		Started: time.Now(), Members: cfg.Members, HeartbeatMs: ms(cfg.HeartbeatPeriod),
		SuspectMs: ms(cfg.SuspectAfter), FailedMs: ms(cfg.FailedAfter),
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	f, err := startFwd(sctx, cfg.NdndBinary, cfg.Logger)
	cancel()
	if err != nil {
		return nil, err
	}
	defer f.close()
	for i := range cfg.Rounds {
		r, err := membershipRound(ctx, cfg, f, i+1)
		if err != nil {
			return rep, fmt.Errorf("bench: membership round %d: %w", i+1, err)
		}
		rep.Rounds = append(rep.Rounds, r)
		rep.summarize()
		if cfg.Progress != nil {
			cfg.Progress(r)
		}
	}
	return rep, ctx.Err()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// memberWatch follows what every member sees; its fields are guarded by mu.
type memberWatch struct {
	mu        sync.Mutex
	self      []string                // member k's name
	status    []map[string]svs.Status // what member k sees of the others
	victim    string
	converged chan struct{}
	suspect   chan struct{}
	failed    chan struct{}
	at        map[chan struct{}]time.Time
}

func (w *memberWatch) change(k int, e svs.MemberEvent) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	name := e.Member.Name.String()
	if name == w.self[k] {
		return
	}
	w.status[k][name] = e.Member.Status
	w.checkLocked(now)
}

func (w *memberWatch) checkLocked(now time.Time) {
	reach := func(ch chan struct{}, ok bool) {
		if _, done := w.at[ch]; !done && ok {
			w.at[ch] = now
			close(ch)
		}
	}
	n := len(w.self)
	all := func(pred func(k int) bool) bool {
		for k := range n {
			if w.self[k] != w.victim && !pred(k) {
				return false
			}
		}
		return true
	}
	reach(w.converged, w.victim == "" && all(func(k int) bool {
		alive := 0
		for _, s := range w.status[k] {
			if s == svs.StatusAlive {
				alive++
			}
		}
		return alive == n-1
	}))
	if w.victim == "" {
		return
	}
	reach(w.suspect, all(func(k int) bool {
		s := w.status[k][w.victim]
		return s == svs.StatusSuspect || s == svs.StatusFailed
	}))
	reach(w.failed, all(func(k int) bool { return w.status[k][w.victim] == svs.StatusFailed }))
}

// membershipRound runs one round with fresh nodes and identities (a member
// rejoining within the same second would reuse its boot time).
func membershipRound(ctx context.Context, cfg MembershipConfig, f *fwd, round int) (_ MembershipRound, err error) {
	n := cfg.Members
	group := mustName(fmt.Sprintf("/bench/members/%d", round))
	w := &memberWatch{self: make([]string, n), status: make([]map[string]svs.Status, n),
		converged: make(chan struct{}), suspect: make(chan struct{}), failed: make(chan struct{}), at: map[chan struct{}]time.Time{}}
	nodes := make([]*ndn.Node, 0, n)
	groups := make([]*svs.Group, n)
	defer func() {
		for _, g := range groups {
			if g != nil {
				_ = g.Close()
			}
		}
		for _, node := range nodes {
			_ = node.Close()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	for k := range n {
		node, err := f.connect(cctx, fmt.Sprintf("members/r%d/m%d", round, k))
		if err != nil {
			return MembershipRound{}, err
		}
		nodes = append(nodes, node)
		w.self[k] = node.Identity().Name().String()
		w.status[k] = map[string]svs.Status{}
	}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for k := range n {
		gc := svs.DefaultConfig()
		gc.Group, gc.Node, gc.Logger = group, nodes[k], cfg.Logger
		gc.HeartbeatPeriod, gc.SuspectAfter, gc.FailedAfter = cfg.HeartbeatPeriod, cfg.SuspectAfter, cfg.FailedAfter
		gc.OnMemberChange = func(_ context.Context, e svs.MemberEvent) { w.change(k, e) }
		wg.Add(1)
		go func() { // owned: Join is bounded by cctx, awaited below
			defer wg.Done()
			groups[k], errs[k] = svs.Join(cctx, gc)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return MembershipRound{}, err
	}
	wait := func(ch chan struct{}, what string) error {
		select {
		case <-ch:
			return nil
		case <-cctx.Done():
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("%s not reached within %v", what, cfg.Timeout)
		}
	}
	if err := wait(w.converged, "convergence"); err != nil {
		return MembershipRound{}, err
	}

	cctx2, cancel2 := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel2()
	cctx = cctx2
	w.mu.Lock()
	w.victim = w.self[0]
	w.mu.Unlock()
	closed := time.Now()
	_ = groups[0].Close() // no Leave: the others must notice the silence
	groups[0] = nil
	if err := wait(w.suspect, "suspicion"); err != nil {
		return MembershipRound{}, err
	}
	if err := wait(w.failed, "failure"); err != nil {
		return MembershipRound{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return MembershipRound{
		Round:      round,
		ConvergeMs: ms(w.at[w.converged].Sub(start)),
		SuspectMs:  ms(w.at[w.suspect].Sub(closed)),
		FailedMs:   ms(w.at[w.failed].Sub(closed)),
	}, nil
}

// summarize sets Mean, Min and Max from Rounds.
func (r *MembershipReport) summarize() {
	if len(r.Rounds) == 0 {
		return
	}
	get := func(x *MembershipRound) []*float64 { return []*float64{&x.ConvergeMs, &x.SuspectMs, &x.FailedMs} }
	r.Mean, r.Min, r.Max = MembershipRound{}, r.Rounds[0], r.Rounds[0]
	r.Min.Round, r.Max.Round = 0, 0
	mean, lo, hi := get(&r.Mean), get(&r.Min), get(&r.Max)
	for i := range r.Rounds {
		for j, v := range get(&r.Rounds[i]) {
			*mean[j] += *v / float64(len(r.Rounds))
			*lo[j] = min(*lo[j], *v)
			*hi[j] = max(*hi[j], *v)
		}
	}
}

// WriteTable writes the rounds and their summary as an aligned text table,
// with the configured timeouts.
func (r *MembershipReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "svs membership, %d members on one forwarder; HeartbeatPeriod %.0fms, SuspectAfter %.0fms, FailedAfter %.0fms (no NATS baseline)\n",
		r.Members, r.HeartbeatMs, r.SuspectMs, r.FailedMs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tconverge\tall suspect\tall failed\tsuspect − SuspectAfter\tfailed − FailedAfter\t")
	row := func(label string, x MembershipRound) {
		fmt.Fprintf(tw, "%s\t%.0fms\t%.0fms\t%.0fms\t%+.0fms\t%+.0fms\t\n", label, x.ConvergeMs, x.SuspectMs, x.FailedMs,
			x.SuspectMs-r.SuspectMs, x.FailedMs-r.FailedMs)
	}
	for _, x := range r.Rounds {
		row(strconv.Itoa(x.Round), x)
	}
	if len(r.Rounds) > 1 {
		row("mean", r.Mean)
		row("min", r.Min)
		row("max", r.Max)
	}
	return tw.Flush()
}

// WriteJSONFile writes the report as indented JSON to path.
func (r *MembershipReport) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
