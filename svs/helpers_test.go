package svs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

// testLogger discards: expected warnings (rejected packets) would drown
// the test output. Set SVS_LOG=1 to see them.
var testLogger = func() *slog.Logger {
	if os.Getenv("SVS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// Timings for tests: short, with room for a loaded 2-core machine running
// the race detector.
const (
	testHeartbeat = 200 * time.Millisecond
	testSuspect   = time.Second
	testFailed    = 2 * time.Second
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// member is one test member: a node of its own, its group, and what its
// callbacks received.
type member struct {
	t     testing.TB
	id    *security.Identity
	node  *ndnx.Node
	group *svs.Group

	mu      sync.Mutex
	events  []svs.Event
	changes []svs.MemberEvent
}

// testConfig is the Config members use unless a test changes it.
func testConfig(group enc.Name) svs.Config {
	cfg := svs.DefaultConfig()
	cfg.Group = group
	cfg.HeartbeatPeriod = testHeartbeat
	cfg.SuspectAfter = testSuspect
	cfg.FailedAfter = testFailed
	cfg.LeaveLinger = 500 * time.Millisecond
	cfg.Logger = testLogger
	return cfg
}

// newMember connects a node with identity id (a fresh certified one if
// nil) and joins group; mod may change the Config. The group closes when
// the test ends.
func newMember(t testing.TB, group enc.Name, label string, id *security.Identity, mod func(*svs.Config)) *member {
	t.Helper()
	if id == nil {
		id = ndntest.Identity(t, label)
	}
	m := &member{t: t, id: id}
	m.node = ndntest.Connect(t, ndnx.Config{Identity: id, Logger: testLogger})
	cfg := testConfig(group)
	cfg.Node = m.node
	cfg.OnEvent = func(_ context.Context, e svs.Event) {
		m.mu.Lock()
		m.events = append(m.events, e)
		m.mu.Unlock()
	}
	cfg.OnMemberChange = func(_ context.Context, e svs.MemberEvent) {
		m.mu.Lock()
		m.changes = append(m.changes, e)
		m.mu.Unlock()
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := svs.Join(ctxT(t, 10*time.Second), cfg)
	require.NoError(t, err)
	m.group = g
	t.Cleanup(func() { g.Close() })
	return m
}

// status returns what m sees of name, StatusNone if it does not list it.
func (m *member) status(name enc.Name) svs.Status {
	for _, x := range m.group.Members() {
		if x.Name.Equal(name) {
			return x.Status
		}
	}
	return svs.StatusNone
}

// seesAll reports whether m lists every one of others as alive.
func (m *member) seesAll(others []*member) bool {
	for _, o := range others {
		if m.status(o.group.Name()) != svs.StatusAlive {
			return false
		}
	}
	return true
}

func (m *member) eventsCopy() []svs.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]svs.Event(nil), m.events...)
}

func (m *member) changesOf(name enc.Name) []svs.MemberEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []svs.MemberEvent
	for _, c := range m.changes {
		if c.Member.Name.Equal(name) {
			out = append(out, c)
		}
	}
	return out
}

// statusPath lists the statuses name went through, as m's callbacks saw.
func (m *member) statusPath(name enc.Name) []svs.Status {
	var out []svs.Status
	for _, c := range m.changesOf(name) {
		out = append(out, c.Member.Status)
	}
	return out
}

// joinAll starts n members in group and waits until each sees all alive.
func joinAll(t testing.TB, group enc.Name, n int, mod func(*svs.Config)) []*member {
	t.Helper()
	ms := make([]*member, n)
	for i := range ms {
		ms[i] = newMember(t, group, "m", nil, mod)
	}
	waitFor(t, 15*time.Second, "members see each other alive", func() bool {
		for _, m := range ms {
			if !m.seesAll(ms) {
				return false
			}
		}
		return true
	})
	return ms
}
