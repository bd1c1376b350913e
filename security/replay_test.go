package security

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// replayT0 is the verifier's clock at the start of every replay test.
var replayT0 = time.UnixMilli(1_700_000_000_000)

// replayIn builds a ReplayInput whose SignatureTime is replayT0+off.
func replayIn(key string, off time.Duration, nonce string) ReplayInput {
	return ReplayInput{Key: key, SigTime: replayT0.Add(off), Nonce: []byte(nonce)}
}

// replaySeq returns in with SignatureSeqNum seq.
func replaySeq(in ReplayInput, seq uint64) ReplayInput {
	in.SeqNum = &seq
	return in
}

func newTestReplayGuard(t *testing.T, cfg ReplayConfig) *ReplayGuard {
	t.Helper()
	g, err := NewReplayGuard(cfg)
	if err != nil {
		t.Fatalf("NewReplayGuard(%+v): %v", cfg, err)
	}
	return g
}

// checkReplayErr fails t unless err matches want (nil means accepted).
func checkReplayErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: got %v, want accepted", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got %v, want %v", what, err, want)
	case want != nil && !errors.Is(err, ErrUnauthenticated):
		t.Fatalf("%s: %v does not match ErrUnauthenticated", what, err)
	}
}

func TestReplayConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      ReplayConfig
		wantErr bool
	}{
		{name: "zero", in: ReplayConfig{}},
		{name: "default", in: DefaultReplayConfig()},
		{name: "small", in: ReplayConfig{GracePeriod: time.Millisecond, MaxKeys: 1, MaxNoncesPerKey: 1, RequireSeqNum: true}},
		{name: "negative grace", in: ReplayConfig{GracePeriod: -time.Second}, wantErr: true},
		{name: "negative keys", in: ReplayConfig{MaxKeys: -1}, wantErr: true},
		{name: "negative nonces", in: ReplayConfig{MaxNoncesPerKey: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			g, err := NewReplayGuard(tt.in)
			if (err != nil) != tt.wantErr || (g == nil) != tt.wantErr {
				t.Fatalf("NewReplayGuard() = %v, %v, wantErr %v", g, err, tt.wantErr)
			}
		})
	}
}

func TestReplayGuardDefaults(t *testing.T) {
	g := newTestReplayGuard(t, ReplayConfig{RequireSeqNum: true})
	want := DefaultReplayConfig()
	want.RequireSeqNum = true
	if g.cfg != want {
		t.Fatalf("cfg = %+v, want %+v", g.cfg, want)
	}
	if d := DefaultReplayConfig(); d.GracePeriod != 60*time.Second || d.MaxKeys != 4096 || d.MaxNoncesPerKey != 1024 || d.RequireSeqNum {
		t.Fatalf("DefaultReplayConfig() = %+v", d)
	}
}

func TestReplayGuardRules(t *testing.T) {
	const grace = 10 * time.Second
	tests := []struct {
		name    string
		cfg     ReplayConfig
		prior   []ReplayInput // each must be accepted at replayT0
		in      ReplayInput
		wantErr error
	}{
		{name: "fresh", in: replayIn("k", 0, "n1")},
		{name: "time missing", in: ReplayInput{Key: "k", Nonce: []byte("n1")}, wantErr: ErrTimeSkew},
		{name: "time at past edge", in: replayIn("k", -grace, "n1")},
		{name: "time before past edge", in: replayIn("k", -grace-time.Millisecond, "n1"), wantErr: ErrTimeSkew},
		{name: "time at future edge", in: replayIn("k", grace, "n1")},
		{name: "time after future edge", in: replayIn("k", grace+time.Millisecond, "n1"), wantErr: ErrTimeSkew},
		{name: "time far future", in: ReplayInput{Key: "k", SigTime: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Nonce: []byte("n1")}, wantErr: ErrTimeSkew},
		{name: "time far past", in: ReplayInput{Key: "k", SigTime: time.Unix(1, 0), Nonce: []byte("n1")}, wantErr: ErrTimeSkew},
		{name: "nonce missing", in: replayIn("k", 0, ""), wantErr: ErrReplay},
		{name: "nonce 1 byte", in: replayIn("k", 0, "x")},
		{name: "nonce 64 bytes", in: replayIn("k", 0, string(make([]byte, 64)))},
		{name: "nonce 65 bytes", in: replayIn("k", 0, string(make([]byte, 65))), wantErr: ErrReplay},
		{
			name:    "same nonce same key",
			prior:   []ReplayInput{replayIn("k", 0, "n1")},
			in:      replayIn("k", 0, "n1"),
			wantErr: ErrReplay,
		},
		{
			name:    "same nonce same key other time",
			prior:   []ReplayInput{replayIn("k", 0, "n1")},
			in:      replayIn("k", time.Second, "n1"),
			wantErr: ErrReplay,
		},
		{
			name:  "same nonce other key",
			prior: []ReplayInput{replayIn("k", 0, "n1")},
			in:    replayIn("k2", 0, "n1"),
		},
		{
			// The design choice: concurrent calls reordered in transit are
			// accepted, unlike ndn-cxx's strictly increasing timestamps.
			name:  "older time new nonce",
			prior: []ReplayInput{replayIn("k", 0, "n1"), replayIn("k", 5*time.Second, "n2")},
			in:    replayIn("k", -5*time.Second, "n3"),
		},
		{
			name:  "equal time new nonce",
			prior: []ReplayInput{replayIn("k", 0, "n1")},
			in:    replayIn("k", 0, "n2"),
		},
		{
			name:  "seq increasing",
			prior: []ReplayInput{replaySeq(replayIn("k", 0, "n1"), 5)},
			in:    replaySeq(replayIn("k", 0, "n2"), 6),
		},
		{
			name:    "seq equal",
			prior:   []ReplayInput{replaySeq(replayIn("k", 0, "n1"), 5)},
			in:      replaySeq(replayIn("k", 0, "n2"), 5),
			wantErr: ErrReplay,
		},
		{
			name:    "seq decreasing",
			prior:   []ReplayInput{replaySeq(replayIn("k", 0, "n1"), 5)},
			in:      replaySeq(replayIn("k", 0, "n2"), 4),
			wantErr: ErrReplay,
		},
		{
			name:  "seq absent after seq",
			prior: []ReplayInput{replaySeq(replayIn("k", 0, "n1"), 5)},
			in:    replayIn("k", 0, "n2"),
		},
		{
			name:  "seq other key",
			prior: []ReplayInput{replaySeq(replayIn("k", 0, "n1"), 5)},
			in:    replaySeq(replayIn("k2", 0, "n2"), 1),
		},
		{
			name: "seq first is zero",
			cfg:  ReplayConfig{RequireSeqNum: true},
			in:   replaySeq(replayIn("k", 0, "n1"), 0),
		},
		{
			name:    "seq required and absent",
			cfg:     ReplayConfig{RequireSeqNum: true},
			in:      replayIn("k", 0, "n1"),
			wantErr: ErrReplay,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.GracePeriod = grace
			g := newTestReplayGuard(t, tt.cfg)
			for i, p := range tt.prior {
				checkReplayErr(t, fmt.Sprintf("prior[%d]", i), g.Accept(replayT0, p), nil)
			}
			keys, nonces := g.Len()
			checkReplayErr(t, "Accept", g.Accept(replayT0, tt.in), tt.wantErr)
			k2, n2 := g.Len()
			if tt.wantErr != nil && (k2 != keys || n2 != nonces) {
				t.Fatalf("rejected Interest changed Len from (%d,%d) to (%d,%d)", keys, nonces, k2, n2)
			}
			if tt.wantErr == nil {
				// Whatever was accepted is a replay from now on.
				checkReplayErr(t, "replay", g.Accept(replayT0, tt.in), ErrReplay)
			}
		})
	}
}

func TestReplayGuardConcurrentSameInput(t *testing.T) {
	const workers = 64
	g := newTestReplayGuard(t, ReplayConfig{})
	in := replaySeq(replayIn("/alice/KEY/1", 0, "nonce"), 7)
	start := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Each worker has its own copy, as if decoded from its own packet.
			mine := in
			mine.Nonce = append([]byte(nil), in.Nonce...)
			errs <- g.Accept(replayT0, mine)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	accepted := 0
	for err := range errs {
		if err == nil {
			accepted++
		} else if !errors.Is(err, ErrReplay) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d concurrent deliveries accepted, want exactly 1", accepted)
	}
}

func TestReplayGuardConcurrentDistinctNonces(t *testing.T) {
	const workers, each = 16, 200
	g := newTestReplayGuard(t, ReplayConfig{MaxNoncesPerKey: workers * each})
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Reordered timestamps from one key: all must pass.
				off := time.Duration((i*7919)%1000) * time.Millisecond
				errs <- g.Accept(replayT0, replayIn("k", off, fmt.Sprintf("%d/%d", w, i)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("distinct nonce rejected: %v", err)
		}
	}
	if keys, nonces := g.Len(); keys != 1 || nonces != workers*each {
		t.Fatalf("Len() = %d, %d; want 1, %d", keys, nonces, workers*each)
	}
}

func TestReplayGuardPerKeyBound(t *testing.T) {
	const maxNonces = 4
	g := newTestReplayGuard(t, ReplayConfig{GracePeriod: time.Minute, MaxNoncesPerKey: maxNonces})
	// Accept 10 nonces with shuffled times; the oldest by time are forgotten.
	offs := []int{5, 1, 9, 3, 7, 0, 8, 2, 6, 4}
	var accepted []ReplayInput
	for _, o := range offs {
		in := replayIn("k", time.Duration(o)*time.Second, fmt.Sprintf("n%d", o))
		if err := g.Accept(replayT0, in); err != nil {
			// Fail closed: an Interest older than a forgotten nonce is
			// rejected, never accepted.
			checkReplayErr(t, fmt.Sprintf("offset %d", o), err, ErrReplay)
			continue
		}
		accepted = append(accepted, in)
		if _, nonces := g.Len(); nonces > maxNonces {
			t.Fatalf("holding %d nonces, bound %d", nonces, maxNonces)
		}
	}
	if len(accepted) < maxNonces {
		t.Fatalf("only %d accepted", len(accepted))
	}
	for _, in := range accepted {
		checkReplayErr(t, "replay of "+string(in.Nonce), g.Accept(replayT0, in), ErrReplay)
	}
	// Newer than every forgotten nonce: still accepted.
	checkReplayErr(t, "newer", g.Accept(replayT0, replayIn("k", 10*time.Second, "fresh")), nil)
	// Other keys are unaffected by k's floor.
	checkReplayErr(t, "other key", g.Accept(replayT0, replayIn("k2", 0, "n0")), nil)
}

func TestReplayGuardPerKeyBoundForgetsOldestByTime(t *testing.T) {
	g := newTestReplayGuard(t, ReplayConfig{MaxNoncesPerKey: 2})
	for _, in := range []ReplayInput{
		replayIn("k", 3*time.Second, "a"),
		replayIn("k", 1*time.Second, "b"),
		replayIn("k", 2*time.Second, "c"), // forgets b (t=1s), floor=1s
	} {
		checkReplayErr(t, string(in.Nonce), g.Accept(replayT0, in), nil)
	}
	// Between the floor and the newest: a reordered call still passes.
	checkReplayErr(t, "t=1.5s", g.Accept(replayT0, replayIn("k", 1500*time.Millisecond, "d")), nil)
	// At the floor: rejected.
	checkReplayErr(t, "t=1s", g.Accept(replayT0, replayIn("k", time.Second, "e")), ErrReplay)
	if _, nonces := g.Len(); nonces != 2 {
		t.Fatalf("holding %d nonces, want 2", nonces)
	}
}

func TestReplayGuardKeyEviction(t *testing.T) {
	g := newTestReplayGuard(t, ReplayConfig{GracePeriod: time.Minute, MaxKeys: 2})
	k1 := replayIn("k1", 5*time.Second, "n")
	k1old := replayIn("k1", -5*time.Second, "old")
	checkReplayErr(t, "k1", g.Accept(replayT0, k1), nil)
	checkReplayErr(t, "k1old", g.Accept(replayT0, k1old), nil)
	checkReplayErr(t, "k2", g.Accept(replayT0, replayIn("k2", 0, "n")), nil)
	checkReplayErr(t, "k1 again", g.Accept(replayT0, replayIn("k1", 0, "n2")), nil) // k1 most recent
	checkReplayErr(t, "k3", g.Accept(replayT0, replayIn("k3", 6*time.Second, "n")), nil)
	if keys, _ := g.Len(); keys != 2 {
		t.Fatalf("holding %d keys, bound 2", keys)
	}
	// k2 was evicted; k1 and k3 kept.
	if _, ok := g.records["k2"]; ok {
		t.Fatal("k2 not evicted")
	}
	checkReplayErr(t, "replay k2", g.Accept(replayT0, replayIn("k2", 0, "n")), ErrReplay)

	// Evict k1 too, then replay every Interest it ever had accepted. k4 is
	// checked against the floor before k1's eviction raised it, so it passes.
	checkReplayErr(t, "k4", g.Accept(replayT0, replayIn("k4", time.Second, "n")), nil)
	if _, ok := g.records["k1"]; ok {
		t.Fatal("k1 not evicted")
	}
	checkReplayErr(t, "replay k1", g.Accept(replayT0, k1), ErrReplay)
	checkReplayErr(t, "replay k1old", g.Accept(replayT0, k1old), ErrReplay)
	// A fresh Interest from k1 newer than what it (and anyone evicted) used
	// passes, and its new record keeps the floor: the replays still fail.
	checkReplayErr(t, "k1 fresh", g.Accept(replayT0, replayIn("k1", 7*time.Second, "fresh")), nil)
	checkReplayErr(t, "replay k1 after re-create", g.Accept(replayT0, k1), ErrReplay)
	checkReplayErr(t, "replay k1old after re-create", g.Accept(replayT0, k1old), ErrReplay)
	// Documented cost: an unknown key with a lagging clock is rejected while
	// evicted records' newest times are ahead of it.
	checkReplayErr(t, "lagging new key", g.Accept(replayT0, replayIn("k9", 0, "n")), ErrReplay)
}

func TestReplayGuardExpiry(t *testing.T) {
	const grace = 10 * time.Second
	g := newTestReplayGuard(t, ReplayConfig{GracePeriod: grace})
	in := replayIn("k", 0, "n")
	checkReplayErr(t, "first", g.Accept(replayT0, in), nil)
	// Inside the window the nonce catches the replay.
	checkReplayErr(t, "replay at edge", g.Accept(replayT0.Add(grace), in), ErrReplay)
	// Outside it, the time check does.
	later := replayT0.Add(grace + time.Millisecond)
	checkReplayErr(t, "replay after window", g.Accept(later, in), ErrTimeSkew)
	// A new Interest on the same key expires the old nonce.
	checkReplayErr(t, "next", g.Accept(later, ReplayInput{Key: "k", SigTime: later, Nonce: []byte("n2")}), nil)
	if keys, nonces := g.Len(); keys != 1 || nonces != 1 {
		t.Fatalf("Len() = %d, %d; want 1, 1", keys, nonces)
	}
	// The nonce is forgotten, but the old Interest still fails, even if the
	// caller's clock went backwards (the floor was raised on expiry).
	checkReplayErr(t, "replay with clock back", g.Accept(replayT0, in), ErrReplay)
	// Reusing a forgotten nonce with a fresh time is a new Interest.
	checkReplayErr(t, "nonce reuse", g.Accept(later, ReplayInput{Key: "k", SigTime: later.Add(time.Second), Nonce: []byte("n")}), nil)
}

func TestReplayGuardDropsIdleKeys(t *testing.T) {
	const grace = 10 * time.Second
	g := newTestReplayGuard(t, ReplayConfig{GracePeriod: grace})
	for i := range 3 {
		checkReplayErr(t, "idle", g.Accept(replayT0, replayIn(fmt.Sprint("idle", i), 0, "n")), nil)
	}
	later := replayT0.Add(3 * grace)
	for i := range 3 {
		in := ReplayInput{Key: fmt.Sprint("busy", i), SigTime: later, Nonce: []byte("n")}
		checkReplayErr(t, "busy", g.Accept(later, in), nil)
	}
	if keys, nonces := g.Len(); keys != 3 || nonces != 3 {
		t.Fatalf("Len() = %d, %d; want idle keys dropped", keys, nonces)
	}
	// Dropping idle records raised unknownFloor only to expired times, so an
	// idle key coming back is not falsely rejected, and its old Interest is.
	checkReplayErr(t, "idle returns", g.Accept(later, ReplayInput{Key: "idle0", SigTime: later.Add(-grace), Nonce: []byte("n")}), nil)
	checkReplayErr(t, "idle replay", g.Accept(replayT0, replayIn("idle1", 0, "n")), ErrReplay)
}

func TestReplayGuardCopiesNonce(t *testing.T) {
	g := newTestReplayGuard(t, ReplayConfig{})
	buf := []byte("abc")
	checkReplayErr(t, "first", g.Accept(replayT0, ReplayInput{Key: "k", SigTime: replayT0, Nonce: buf}), nil)
	copy(buf, "xyz") // caller reuses its buffer
	checkReplayErr(t, "replay", g.Accept(replayT0, replayIn("k", 0, "abc")), ErrReplay)
	checkReplayErr(t, "new", g.Accept(replayT0, replayIn("k", 0, "xyz")), nil)
}

func TestReplayGuardMonotonicClockIgnored(t *testing.T) {
	// now from time.Now carries a monotonic reading; SignatureTime does not.
	// The guard compares wall clocks either way.
	g := newTestReplayGuard(t, ReplayConfig{GracePeriod: time.Second})
	now := time.Now()
	sig := time.UnixMilli(now.UnixMilli())
	checkReplayErr(t, "first", g.Accept(now, ReplayInput{Key: "k", SigTime: sig, Nonce: []byte("n")}), nil)
	checkReplayErr(t, "replay", g.Accept(now, ReplayInput{Key: "k", SigTime: sig, Nonce: []byte("n")}), ErrReplay)
}

func TestReplayGuardBoundedUnderNonceFlood(t *testing.T) {
	const flood = 100_000
	g := newTestReplayGuard(t, ReplayConfig{})
	bound := DefaultReplayConfig().MaxNoncesPerKey
	var nonce [8]byte
	for i := range flood {
		nonce[0], nonce[1], nonce[2] = byte(i), byte(i>>8), byte(i>>16)
		// Spread over the window so the per-key bound, not expiry, limits it.
		sig := replayT0.Add(time.Duration(i%60_000) * time.Millisecond)
		if err := g.Accept(replayT0, ReplayInput{Key: "k", SigTime: sig, Nonce: nonce[:]}); err != nil && !errors.Is(err, ErrReplay) {
			t.Fatalf("flood %d: %v", i, err)
		}
	}
	if keys, nonces := g.Len(); keys != 1 || nonces > bound {
		t.Fatalf("Len() = %d, %d; want 1, <= %d", keys, nonces, bound)
	}
	nonce[0], nonce[1], nonce[2] = 0, 0, 0
	checkReplayErr(t, "replay first", g.Accept(replayT0, ReplayInput{Key: "k", SigTime: replayT0, Nonce: nonce[:]}), ErrReplay)
}

func TestReplayGuardBoundedUnderKeyFlood(t *testing.T) {
	const flood = 100_000
	g := newTestReplayGuard(t, ReplayConfig{})
	bound := DefaultReplayConfig().MaxKeys
	first := replayIn("key0", 0, "n")
	for i := range flood {
		// Increasing times, so every new key passes unknownFloor and evicts.
		in := replayIn(fmt.Sprint("key", i), time.Duration(i)*500*time.Microsecond, "n")
		checkReplayErr(t, fmt.Sprint("flood ", i), g.Accept(replayT0, in), nil)
		if i == 0 {
			checkReplayErr(t, "first", g.Accept(replayT0, in), ErrReplay)
		}
	}
	if keys, nonces := g.Len(); keys != bound || nonces != bound {
		t.Fatalf("Len() = %d, %d; want %d, %d", keys, nonces, bound, bound)
	}
	checkReplayErr(t, "replay evicted", g.Accept(replayT0, first), ErrReplay)
}
