package session

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// newTestSession returns a server Session with the given id that expires at
// t0+lifetime. Its keys are arbitrary: the table never uses them.
func newTestSession(t testing.TB, id byte, lifetime time.Duration) *Session {
	t.Helper()
	k := &Keys{SessionID: [16]byte{id}, Expires: t0.Add(lifetime), ClientMAC: [32]byte{1}, ServerSeal: [32]byte{2}}
	s, err := New(RoleServer, Name(svcPrefix, k.SessionID), k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestTable(t testing.TB, cfg TableConfig) *Table[[16]byte] {
	t.Helper()
	tbl, err := NewTable[[16]byte](cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestTableConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     TableConfig
		wantErr bool
	}{
		{name: "zero", cfg: TableConfig{}},
		{name: "default", cfg: DefaultTableConfig()},
		{name: "MaxSessions", cfg: TableConfig{MaxSessions: -1}, wantErr: true},
		{name: "MaxSessionsPerIdentity", cfg: TableConfig{MaxSessionsPerIdentity: -1}, wantErr: true},
		{name: "IdleTimeout", cfg: TableConfig{IdleTimeout: -1}, wantErr: true},
		{name: "Lifetime", cfg: TableConfig{Lifetime: -1}, wantErr: true},
		{name: "HandshakesPerMinute", cfg: TableConfig{HandshakesPerMinute: -1}, wantErr: true},
		{name: "HandshakeBurst", cfg: TableConfig{HandshakeBurst: -1}, wantErr: true},
		{name: "MaxIdentities", cfg: TableConfig{MaxIdentities: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			if _, err := NewTable[string](tt.cfg); (err != nil) != tt.wantErr {
				t.Fatalf("NewTable = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	tbl := newTestTable(t, TableConfig{MaxSessions: 3})
	if got, want := tbl.Config(), (TableConfig{MaxSessions: 3, MaxSessionsPerIdentity: 64, IdleTimeout: 5 * time.Minute,
		Lifetime: time.Hour, HandshakesPerMinute: 60, HandshakeBurst: 10, MaxIdentities: 4096}); got != want {
		t.Fatalf("Config = %+v, want %+v", got, want)
	}
}

func TestTableGetPut(t *testing.T) {
	tbl := newTestTable(t, TableConfig{IdleTimeout: time.Minute})
	s := newTestSession(t, 1, time.Hour)
	tbl.Put(s.ID(), s, "/alice", t0)
	tbl.Put(s.ID(), nil, "/alice", t0) // ignored
	if got, ok := tbl.Get(s.ID(), t0.Add(30*time.Second)); !ok || got != s {
		t.Fatal("Get missed a fresh session")
	}
	// Get refreshes the idle timer.
	if _, ok := tbl.Get(s.ID(), t0.Add(80*time.Second)); !ok {
		t.Fatal("Get missed a session used 50s ago")
	}
	if _, ok := tbl.Get([16]byte{9}, t0); ok {
		t.Fatal("Get found an unknown id")
	}
	// Idle for a full timeout: dropped and erased.
	if _, ok := tbl.Get(s.ID(), t0.Add(140*time.Second)); ok {
		t.Fatal("Get returned an idle session")
	}
	if !s.Closed() || s.recvMAC != ([32]byte{}) || tbl.Len() != 0 {
		t.Fatalf("idle session not closed and dropped: closed %v len %d", s.Closed(), tbl.Len())
	}

	// Expired: dropped and erased even if used recently.
	e := newTestSession(t, 2, time.Minute)
	tbl.Put(e.ID(), e, "/alice", t0.Add(59*time.Second))
	if _, ok := tbl.Get(e.ID(), t0.Add(time.Minute)); ok || !e.Closed() {
		t.Fatal("Get returned an expired session")
	}

	// Replacing closes the old session; re-putting the same one does not.
	a, b := newTestSession(t, 3, time.Hour), newTestSession(t, 3, time.Hour)
	tbl.Put(a.ID(), a, "/alice", t0)
	tbl.Put(a.ID(), a, "/alice", t0)
	if a.Closed() {
		t.Fatal("re-Put closed the session")
	}
	tbl.Put(a.ID(), b, "/alice", t0)
	if !a.Closed() || b.Closed() || tbl.Len() != 1 {
		t.Fatal("replacing did not close the old session")
	}
	if !tbl.Remove(b.ID()) || !b.Closed() || tbl.Remove(b.ID()) || tbl.Len() != 0 {
		t.Fatal("Remove")
	}
}

func TestTableEviction(t *testing.T) {
	tbl := newTestTable(t, TableConfig{MaxSessions: 3, IdleTimeout: time.Hour})
	ss := make([]*Session, 5)
	for i := range ss {
		ss[i] = newTestSession(t, byte(i), 2*time.Hour)
	}
	for i := range 3 {
		tbl.Put(ss[i].ID(), ss[i], fmt.Sprint("/u", i), t0.Add(time.Duration(i)*time.Second))
	}
	tbl.Get(ss[0].ID(), t0.Add(10*time.Second)) // 1 is now the least recently used
	tbl.Put(ss[3].ID(), ss[3], "/u3", t0.Add(11*time.Second))
	if tbl.Len() != 3 || !ss[1].Closed() || ss[0].Closed() || ss[2].Closed() {
		t.Fatalf("LRU eviction: len %d, closed %v %v %v", tbl.Len(), ss[0].Closed(), ss[1].Closed(), ss[2].Closed())
	}
	if _, ok := tbl.Get(ss[1].ID(), t0.Add(12*time.Second)); ok {
		t.Fatal("evicted session still there")
	}
	if ss[1].recvMAC != ([32]byte{}) {
		t.Fatal("evicted session's keys not erased")
	}
	// An expired session goes before the LRU one, even if recently used.
	exp := newTestSession(t, 9, 20*time.Second)
	tbl.Remove(ss[3].ID())
	tbl.Put(exp.ID(), exp, "/u9", t0.Add(15*time.Second))
	tbl.Put(ss[4].ID(), ss[4], "/u4", t0.Add(30*time.Second))
	if !exp.Closed() || ss[2].Closed() || ss[0].Closed() || tbl.Len() != 3 {
		t.Fatalf("expired not evicted first: exp %v, s2 %v, s0 %v", exp.Closed(), ss[2].Closed(), ss[0].Closed())
	}
}

func TestTablePerIdentity(t *testing.T) {
	tbl := newTestTable(t, TableConfig{MaxSessions: 100, MaxSessionsPerIdentity: 2})
	bob := newTestSession(t, 100, time.Hour)
	tbl.Put(bob.ID(), bob, "/bob", t0)
	var mallory []*Session
	for i := range 10 {
		s := newTestSession(t, byte(i), time.Hour)
		mallory = append(mallory, s)
		tbl.Put(s.ID(), s, "/mallory", t0.Add(time.Duration(i)*time.Second))
	}
	if tbl.Len() != 3 || bob.Closed() {
		t.Fatalf("len %d, bob closed %v", tbl.Len(), bob.Closed())
	}
	for i, s := range mallory {
		if s.Closed() != (i < 8) {
			t.Fatalf("mallory session %d closed = %v", i, s.Closed())
		}
	}
}

func TestTableSweepAndClose(t *testing.T) {
	tbl := newTestTable(t, TableConfig{IdleTimeout: time.Minute})
	a := newTestSession(t, 1, time.Hour)      // goes idle
	b := newTestSession(t, 2, 90*time.Second) // expires
	c := newTestSession(t, 3, time.Hour)      // stays
	tbl.Put(a.ID(), a, "/a", t0)
	tbl.Put(b.ID(), b, "/b", t0.Add(50*time.Second))
	tbl.Put(c.ID(), c, "/c", t0.Add(50*time.Second))
	tbl.Get(b.ID(), t0.Add(80*time.Second))
	tbl.Get(c.ID(), t0.Add(80*time.Second))
	if n := tbl.Sweep(t0.Add(100 * time.Second)); n != 2 || tbl.Len() != 1 {
		t.Fatalf("Sweep dropped %d, len %d", n, tbl.Len())
	}
	if !a.Closed() || !b.Closed() || c.Closed() {
		t.Fatal("Sweep closed the wrong sessions")
	}
	tbl.Close()
	if !c.Closed() || tbl.Len() != 0 {
		t.Fatal("Close left a session")
	}
	// Still usable.
	d := newTestSession(t, 4, time.Hour)
	tbl.Put(d.ID(), d, "/d", t0)
	if tbl.Len() != 1 {
		t.Fatal("table unusable after Close")
	}
}

func TestHandshakeRateLimit(t *testing.T) {
	tbl := newTestTable(t, TableConfig{HandshakesPerMinute: 6, HandshakeBurst: 3, MaxIdentities: 2})
	steps := []struct {
		id   string
		at   time.Duration
		want bool
	}{
		{"/m", 0, true}, {"/m", 0, true}, {"/m", 0, true},
		{"/m", 0, false}, // burst used up
		{"/a", 0, true},  // other identities are unaffected
		{"/m", 9 * time.Second, false},
		{"/m", 10 * time.Second, true}, // one token per 10s
		{"/m", 11 * time.Second, false},
		{"/m", 5 * time.Second, false}, // clock stepping back adds nothing
		{"/m", 10 * time.Minute, true}, {"/m", 10 * time.Minute, true}, {"/m", 10 * time.Minute, true},
		{"/m", 10 * time.Minute, false}, // refill caps at the burst
	}
	for i, st := range steps {
		if got := tbl.AllowHandshake(st.id, t0.Add(st.at)); got != st.want {
			t.Fatalf("step %d: AllowHandshake(%s, +%v) = %v, want %v", i, st.id, st.at, got, st.want)
		}
	}
	// The bucket map is bounded; the flooding identity keeps its (empty)
	// bucket because it stays recently used, while idle ones are dropped.
	now := t0.Add(10 * time.Minute)
	for i := range 20 {
		tbl.AllowHandshake(fmt.Sprint("/x", i), now)
		if tbl.AllowHandshake("/m", now) {
			t.Fatalf("flooder allowed after %d other identities", i)
		}
	}
	tbl.mu.Lock()
	n := len(tbl.buckets)
	tbl.mu.Unlock()
	if n > 2 {
		t.Fatalf("%d buckets, want at most 2", n)
	}
	// Sweep forgets refilled buckets.
	tbl.Sweep(now.Add(time.Hour))
	tbl.mu.Lock()
	n = len(tbl.buckets)
	tbl.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d buckets after Sweep, want 0", n)
	}
}

func TestTableClientKeyedByService(t *testing.T) {
	tbl, err := NewTable[string](TableConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t, 1, time.Hour)
	tbl.Put("/example/svc", s, "/example/svc", t0)
	if got, ok := tbl.Get("/example/svc", t0); !ok || got != s {
		t.Fatal("client-side lookup by service failed")
	}
}

func TestTableConcurrent(t *testing.T) {
	tbl := newTestTable(t, TableConfig{MaxSessions: 16, MaxSessionsPerIdentity: 4, MaxIdentities: 4})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				now := t0.Add(time.Duration(i) * time.Second)
				id := byte(g*100 + i%50)
				s := newTestSession(t, id, time.Hour)
				tbl.Put(s.ID(), s, fmt.Sprint("/u", g), now)
				tbl.Get([16]byte{byte(i)}, now)
				tbl.AllowHandshake(fmt.Sprint("/u", i%7), now)
				if i%25 == 0 {
					tbl.Sweep(now)
				}
				_ = tbl.Len()
			}
		})
	}
	wg.Wait()
	if tbl.Len() > 16 {
		t.Fatalf("Len %d over MaxSessions", tbl.Len())
	}
}
