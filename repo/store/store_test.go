package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openTest(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func name(parts ...any) enc.Name {
	var n enc.Name
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			n = append(n, gc(p))
		case enc.Component:
			n = append(n, p)
		}
	}
	return n
}

func mustPut(t *testing.T, s *Store, n enc.Name, wire []byte, opts PutOptions) {
	t.Helper()
	if err := s.Put(testCtx(t), n, wire, opts); err != nil {
		t.Fatalf("Put %v: %v", n, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"zero", Config{}, false},
		{"default", DefaultConfig(), false},
		{"negative cache", Config{CacheMaxBytes: -1}, true},
		{"negative ttl", Config{CacheTTL: -1}, true},
		{"negative queue", Config{QueueSize: -1}, true},
		{"negative batch", Config{MaxBatch: -1}, true},
		{"negative packet", Config{MaxPacketSize: -1}, true},
		{"negative lock", Config{LockTimeout: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if _, err := Open(t.TempDir(), tt.cfg); !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("Open = %v, want ErrInvalidConfig", err)
				}
			}
		})
	}
}

func TestGet(t *testing.T) {
	clk := newFakeClock()
	s := openTest(t, Config{Now: clk.Now})
	v := func(n uint64) enc.Component { return enc.NewVersionComponent(n) }
	seg := func(n uint64) enc.Component { return enc.NewSegmentComponent(n) }
	stored := map[string][]byte{}
	put := func(n enc.Name, fresh time.Duration) {
		w := makeWire(n, 200, uint64(len(stored)), fresh)
		mustPut(t, s, n, w, PutOptions{})
		stored[n.String()] = w
	}
	put(name("a", "obj", v(9), seg(0)), 0)
	put(name("a", "obj", v(255), seg(0)), 0)
	put(name("a", "obj", v(256), seg(0)), 0) // newest: 256 > 255 although its value is longer
	put(name("a", "obj", v(256), seg(1)), 0)
	put(name("a", "fresh", v(1)), 10*time.Second)
	put(name("a", "fresh", v(2)), 0)
	put(name("a", "fresh", v(3)), time.Second)
	put(name("b"), 0)
	put(name("b", "c"), 0)
	clk.Advance(2 * time.Second) // v(3) is stale now, v(1) still fresh
	now := clk.Now()

	digestOf := func(n enc.Name) enc.Component {
		sum := sha256.Sum256(stored[n.String()])
		return enc.Component{Typ: enc.TypeImplicitSha256DigestComponent, Val: sum[:]}
	}
	tests := []struct {
		name        string
		in          enc.Name
		canBePrefix bool
		mustBeFresh bool
		want        enc.Name // nil: ErrNotFound
	}{
		{"exact", name("a", "obj", v(9), seg(0)), false, false, name("a", "obj", v(9), seg(0))},
		{"exact missing", name("a", "obj", v(9)), false, false, nil},
		{"exact of a prefix", name("b"), false, false, name("b")},
		{"newest version", name("a", "obj"), true, false, name("a", "obj", v(256), seg(1))},
		{"newest under version", name("a", "obj", v(255)), true, false, name("a", "obj", v(255), seg(0))},
		{"prefix includes itself", name("b", "c"), true, false, name("b", "c")},
		{"prefix none", name("zz"), true, false, nil},
		{"prefix root", enc.Name{}, true, false, name("b", "c")},
		{"fresh exact stale", name("a", "fresh", v(3)), false, true, nil},
		{"fresh exact no period", name("a", "fresh", v(2)), false, true, nil},
		{"fresh exact ok", name("a", "fresh", v(1)), false, true, name("a", "fresh", v(1))},
		{"fresh prefix skips stale", name("a", "fresh"), true, true, name("a", "fresh", v(1))},
		{"not fresh prefix", name("a", "fresh"), true, false, name("a", "fresh", v(3))},
		{"digest", append(name("b"), digestOf(name("b"))), false, false, name("b")},
		{"digest wrong", append(name("b"), digestOf(name("b", "c"))), false, false, nil},
		{"digest ignores canBePrefix", append(name("b"), digestOf(name("b"))), true, false, name("b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Get(tt.in, tt.canBePrefix, tt.mustBeFresh, now)
			if tt.want == nil {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get = %d bytes, %v; want ErrNotFound", len(got), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(stored[tt.want.String()]) {
				t.Fatalf("Get returned the wrong packet, want %v", tt.want)
			}
		})
	}
	// Freshness counts from insertion: after 10 s, v(1) is stale too.
	clk.Advance(8 * time.Second)
	if _, err := s.Get(name("a", "fresh"), true, true, clk.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after expiry: %v, want ErrNotFound", err)
	}
}

func TestPutErrors(t *testing.T) {
	s := openTest(t, Config{MaxPacketSize: 1000})
	good := makeWire(name("x"), 100, 1, 0)
	tests := []struct {
		name    string
		in      enc.Name
		wire    []byte
		wantErr error
	}{
		{"ok", name("x"), good, nil},
		{"empty name", enc.Name{}, good, ErrInvalidName},
		{"name mismatch", name("y"), good, ErrInvalidData},
		{"garbage", name("x"), []byte{1, 2, 3}, ErrInvalidData},
		{"empty", name("x"), nil, ErrInvalidData},
		{"trailing bytes", name("x"), append(append([]byte(nil), good...), 0), ErrInvalidData},
		{"truncated", name("x"), good[:len(good)-1], ErrInvalidData},
		{"interest", name("x"), []byte{5, 3, 7, 1, 8}, ErrInvalidData},
		{"oversize", name("x"), makeWire(name("x"), 2000, 1, 0), ErrInvalidData},
		{"huge key", enc.Name{comp(8, 40000)}, good, ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(testCtx(t), tt.in, tt.wire, PutOptions{}); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if st := s.Stats(); st.Packets != 1 {
		t.Fatalf("Packets = %d, want 1 (nothing from the bad puts)", st.Packets)
	}
}

func TestDeleteAndList(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	var all []enc.Name
	for i := range 25 {
		n := name("d", fmt.Sprintf("k%02d", i))
		all = append(all, n)
		mustPut(t, s, n, makeWire(n, 100, uint64(i), 0), PutOptions{})
	}
	mustPut(t, s, name("e"), makeWire(name("e"), 100, 0, 0), PutOptions{})
	mustPut(t, s, name("d", "k03"), makeWire(name("d", "k03"), 120, 0, 0), PutOptions{Cache: true})

	// Paged List in canonical order.
	var got []enc.Name
	token := ""
	pages := 0
	for {
		names, next, err := s.List(name("d"), token, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names...)
		pages++
		if next == "" {
			break
		}
		token = next
	}
	if pages != 3 || len(got) != 25 {
		t.Fatalf("List: %d names in %d pages, want 25 in 3", len(got), pages)
	}
	for i := range got {
		if !got[i].Equal(all[i]) {
			t.Fatalf("List[%d] = %v, want %v", i, got[i], all[i])
		}
	}
	listTests := []struct {
		name    string
		prefix  enc.Name
		token   string
		size    int
		wantN   int
		wantErr error
	}{
		{"default size", enc.Name{}, "", 0, 26, nil},
		{"one", name("e"), "", 5, 1, nil},
		{"none", name("zz"), "", 5, 0, nil},
		{"bad base64", name("d"), "!!", 5, 0, ErrBadPageToken},
		{"token of other prefix", name("e"), token, 5, 0, ErrBadPageToken},
	}
	for _, tt := range listTests {
		t.Run("List/"+tt.name, func(t *testing.T) {
			names, _, err := s.List(tt.prefix, tt.token, tt.size)
			if !errors.Is(err, tt.wantErr) || len(names) != tt.wantN {
				t.Fatalf("List = %d names, %v; want %d, %v", len(names), err, tt.wantN, tt.wantErr)
			}
		})
	}

	if err := s.Delete(ctx, name("d", "k00")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, name("d", "k00")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := s.DeletePrefix(ctx, enc.Name{}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("DeletePrefix(/) = %v, want ErrInvalidName", err)
	}
	n, err := s.DeletePrefix(ctx, name("d"))
	if err != nil || n != 25 { // 24 durable + 1 cache entry
		t.Fatalf("DeletePrefix = %d, %v; want 25", n, err)
	}
	if _, err := s.Get(name("d"), true, false, time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after DeletePrefix: %v", err)
	}
	st := s.Stats()
	if st.Packets != 1 || st.CachePackets != 0 {
		t.Fatalf("Stats after delete: %+v", st)
	}
}

func TestCache(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	s, err := Open(dir, Config{Now: clk.Now, CacheMaxBytes: 3000, CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := testCtx(t)
	wires := map[string][]byte{}
	put := func(n enc.Name, opts PutOptions) {
		w := makeWire(n, 800, uint64(len(wires)), 0)
		wires[n.String()] = w
		mustPut(t, s, n, w, opts)
	}
	get := func(n enc.Name) error {
		got, err := s.Get(n, false, false, clk.Now())
		if err == nil && string(got) != string(wires[n.String()]) {
			t.Fatalf("Get %v: wrong bytes", n)
		}
		return err
	}
	put(name("durable"), PutOptions{})
	put(name("c", "1"), PutOptions{Cache: true})
	put(name("c", "2"), PutOptions{Cache: true, TTL: 10 * time.Second})
	put(name("c", "3"), PutOptions{Cache: true})
	if err := get(name("c", "1")); err != nil { // c/1 becomes most recent
		t.Fatal(err)
	}
	put(name("c", "4"), PutOptions{Cache: true}) // 4 × ~900 B > 3000: evicts c/2, the LRU
	if err := get(name("c", "2")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("c/2 not evicted: %v", err)
	}
	for _, n := range []enc.Name{name("durable"), name("c", "1"), name("c", "3"), name("c", "4")} {
		if err := get(n); err != nil {
			t.Fatalf("%v: %v", n, err)
		}
	}
	st := s.Stats()
	if st.CacheEvictions != 1 || st.CachePackets != 3 || st.CacheBytes > 3000 || st.Packets != 1 {
		t.Fatalf("Stats = %+v", st)
	}
	if st.CacheHits != 4 || st.DurableHits != 1 || st.CacheMisses != 1 {
		t.Fatalf("hit counters = %+v", st)
	}

	// TTL: c/3 and c/4 expire after a minute; purge removes them.
	clk.Advance(2 * time.Minute)
	if err := get(name("c", "3")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired entry returned: %v", err)
	}
	if n, err := s.PurgeExpired(ctx); err != nil || n != 3 {
		t.Fatalf("PurgeExpired = %d, %v; want 3", n, err)
	}
	if err := get(name("durable")); err != nil {
		t.Fatal("eviction touched durable data:", err)
	}

	// Cache entries survive a restart; expired ones are dropped on Open.
	put(name("c", "5"), PutOptions{Cache: true, TTL: time.Hour})
	put(name("c", "6"), PutOptions{Cache: true, TTL: time.Second})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	s, err = Open(dir, Config{Now: clk.Now, CacheMaxBytes: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(name("c", "5")); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.CachePackets != 1 || st.CacheEvictions != 0 || st.Packets != 1 {
		t.Fatalf("after reopen: %+v", st)
	}
	// A smaller capacity on reopen evicts down to it.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Config{Now: clk.Now, CacheMaxBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.CachePackets != 0 || st.CacheEvictions != 1 {
		t.Fatalf("after shrinking reopen: %+v", st)
	}
}

func TestGroupCommit(t *testing.T) {
	s := openTest(t, Config{})
	ctx := testCtx(t)
	const writers, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := name("g", fmt.Sprintf("w%d", w), fmt.Sprintf("%d", i))
				if err := s.Put(ctx, n, makeWire(n, 300, uint64(i), 0), PutOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Packets != writers*each || st.Writes != writers*each {
		t.Fatalf("Stats = %+v", st)
	}
	if st.Commits >= st.Writes {
		t.Fatalf("no batching: %d commits for %d writes", st.Commits, st.Writes)
	}
	t.Logf("%d writes in %d commits", st.Writes, st.Commits)
}

func TestReplaceKeepsCounters(t *testing.T) {
	s := openTest(t, Config{})
	n := name("r")
	mustPut(t, s, n, makeWire(n, 100, 1, 0), PutOptions{})
	w2 := makeWire(n, 500, 2, 0)
	mustPut(t, s, n, w2, PutOptions{})
	if st := s.Stats(); st.Packets != 1 || st.Bytes != uint64(len(w2)) {
		t.Fatalf("Stats = %+v, want 1 packet of %d bytes", st, len(w2))
	}
}

func TestCloseAndContext(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := name("z")
	w := makeWire(n, 100, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, n, w, PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with canceled ctx = %v", err)
	}

	// A second Open of the same directory is refused while s holds it.
	if _, err := Open(dir, Config{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}

	// Close while writers are busy: every Put either lands or gets ErrClosed.
	var wg sync.WaitGroup
	var landed atomic.Int64
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				n := name("z", fmt.Sprint(i), fmt.Sprint(j))
				err := s.Put(testCtx(t), n, makeWire(n, 100, 1, 0), PutOptions{})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				landed.Add(1)
			}
		}()
	}
	for s.Stats().Writes < 20 {
		time.Sleep(time.Millisecond) // poll; bounded by the test timeout
	}
	var cwg sync.WaitGroup
	for range 3 {
		cwg.Add(1)
		go func() { defer cwg.Done(); _ = s.Close() }()
	}
	cwg.Wait()
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testCtx(t), n, w, PutOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close = %v", err)
	}
	if _, err := s.Get(n, false, false, time.Now()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
	if _, _, err := s.List(n, "", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("List after Close = %v", err)
	}
	if err := s.Delete(testCtx(t), n); !errors.Is(err, ErrClosed) {
		t.Fatalf("Delete after Close = %v", err)
	}
	s2, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Close() }()
	if got := s2.Stats().Packets; got != uint64(landed.Load()) {
		t.Fatalf("reopened store holds %d packets, %d Puts succeeded", got, landed.Load())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "sub"), Config{}); !errors.Is(err, ErrIO) {
		t.Fatalf("Open under a file = %v, want ErrIO", err)
	}
	junk := filepath.Join(dir, "junk")
	if err := os.MkdirAll(junk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(junk, FileName), make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk, Config{}); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIO) {
		t.Fatalf("Open of a junk file = %v, want ErrCorrupt or ErrIO", err)
	}
}

// mountTmpfs mounts a tmpfs of size bytes at a new directory, or skips.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestReadOnlyFileSystem(t *testing.T) {
	mnt := mountTmpfs(t, "size=1m")
	dir := filepath.Join(mnt, "repo")
	s, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := name("ro")
	w := makeWire(n, 100, 1, 0)
	mustPut(t, s, n, w, PutOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	if _, err := Open(dir, Config{}); !errors.Is(err, ErrIO) {
		t.Fatalf("Open on read-only fs = %v, want ErrIO", err)
	}
	if _, err := Open(filepath.Join(mnt, "new"), Config{}); !errors.Is(err, ErrIO) {
		t.Fatalf("Open of a new store on read-only fs = %v, want ErrIO", err)
	}
	if out, err := exec.Command("mount", "-o", "remount,rw", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v: %s", err, out)
	}
	s, err = Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if got, err := s.Get(n, false, false, time.Now()); err != nil || string(got) != string(w) {
		t.Fatalf("after read-only episode: %v", err)
	}
}

func TestDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "size=1m")
	quiet := slog.New(slog.DiscardHandler)
	s, err := Open(mnt, Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var acked []enc.Name
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		n := name("full", fmt.Sprint(i))
		if err := s.Put(ctx, n, makeWire(n, 4000, uint64(i), 0), PutOptions{}); err != nil {
			full = err
			break
		}
		acked = append(acked, n)
	}
	if !errors.Is(full, ErrIO) {
		t.Fatalf("filling a 1 MiB disk: err = %v after %d puts, want ErrIO", full, len(acked))
	}
	t.Logf("disk full after %d puts: %v", len(acked), full)
	check := func(s *Store) {
		t.Helper()
		for i, n := range acked {
			got, err := s.Get(n, false, false, time.Now())
			if err != nil || string(got) != string(makeWire(n, 4000, uint64(i), 0)) {
				t.Fatalf("acknowledged %v lost after disk full: %v", n, err)
			}
		}
		if st := s.Stats(); st.Packets != uint64(len(acked)) {
			t.Fatalf("Packets = %d, want %d", st.Packets, len(acked))
		}
	}
	check(s)
	// The store keeps working on the full disk: reads, and more failing
	// puts leave it consistent.
	for i := range 5 {
		n := name("more", fmt.Sprint(i))
		if err := s.Put(ctx, n, makeWire(n, 4000, 0, 0), PutOptions{}); err == nil {
			acked = append(acked, n)
			t.Logf("put %v fitted after all", n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(mnt, Config{Logger: quiet})
	if err != nil {
		t.Fatalf("reopen on full disk: %v", err)
	}
	defer func() { _ = s.Close() }()
	// "more" puts that fitted were made with seed 0; rebuild the check set.
	var full2 []enc.Name
	for _, n := range acked {
		if n[0].String() == "full" {
			full2 = append(full2, n)
		}
	}
	acked = full2
	check(s)
}

func TestRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"job/2", "job/1", "prefix/a"} {
		if err := s.PutRecord(ctx, k, []byte("v-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRecord(ctx, "", nil); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("empty key: %v", err)
	}
	if err := s.DeleteRecord(ctx, "job/9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := s.DeleteRecord(ctx, "job/2"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	if err := s.Records("job/", func(k string, v []byte) bool { got = append(got, k+"="+string(v)); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "job/1=v-job/1" {
		t.Fatalf("records after reopen: %q", got)
	}
	if v, err := s.Record("prefix/a"); err != nil || string(v) != "v-prefix/a" {
		t.Fatalf("Record: %q %v", v, err)
	}
	if st := s.Stats(); st.Packets != 0 {
		t.Fatalf("records counted as packets: %+v", st)
	}
}
