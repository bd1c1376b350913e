package svs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

func TestMembersConverge(t *testing.T) {
	group := ndntest.Prefix(t)
	ms := joinAll(t, group, 4, nil)
	for _, m := range ms {
		list := m.group.Members()
		require.Len(t, list, 4)
		for i, x := range list {
			assert.Equal(t, svs.StatusAlive, x.Status, "%s sees %s", m.group.Name(), x.Name)
			assert.NotZero(t, x.Boot)
			assert.WithinDuration(t, time.Now(), x.LastHeard, testSuspect)
			if i > 0 {
				assert.Less(t, list[i-1].Name.String(), x.Name.String(), "sorted by name")
			}
		}
		// Every other member was announced as new (Previous none), alive.
		for _, o := range ms {
			if o == m {
				continue
			}
			// Callbacks run on the notification goroutine, after
			// Members shows the change.
			waitFor(t, 5*time.Second, "the change reaches the callback", func() bool {
				return len(m.changesOf(o.group.Name())) > 0
			})
			cs := m.changesOf(o.group.Name())
			assert.Equal(t, svs.StatusNone, cs[0].Previous)
			assert.Equal(t, svs.StatusAlive, cs[0].Member.Status)
		}
	}
	// Heartbeats keep them alive: a few periods later they still are, and
	// their LastHeard moved on.
	before := ms[0].group.Members()
	waitFor(t, 5*time.Second, "heartbeats heard", func() bool {
		after := ms[0].group.Members()
		for i := range after {
			if !after[i].LastHeard.After(before[i].LastHeard) || after[i].Status != svs.StatusAlive {
				return false
			}
		}
		return true
	})
	st := ms[0].group.Stats()
	assert.Positive(t, st.Published)
	assert.Positive(t, st.Fetched)
	assert.Positive(t, st.SyncAccepted)
	assert.Zero(t, st.Rejected)
}

func TestFailureDetection(t *testing.T) {
	group := ndntest.Prefix(t)
	ms := joinAll(t, group, 3, nil)
	victim := ms[2]
	name := victim.group.Name()
	closed := time.Now()
	require.NoError(t, victim.group.Close()) // no Leave: it just goes silent
	for _, m := range ms[:2] {
		waitFor(t, testFailed+5*time.Second, "victim failed", func() bool { return m.status(name) == svs.StatusFailed })
		took := time.Since(closed)
		assert.Less(t, took, testFailed+2*time.Second, "failure detected late")
		assert.GreaterOrEqual(t, took, testFailed-testHeartbeat-50*time.Millisecond, "failure detected early")
		assert.Equal(t, []svs.Status{svs.StatusAlive, svs.StatusSuspect, svs.StatusFailed}, m.statusPath(name))
		cs := m.changesOf(name)
		assert.Equal(t, svs.StatusSuspect, cs[2].Previous)
		assert.Equal(t, svs.StatusAlive, m.status(ms[0].group.Name()))
		assert.Equal(t, svs.StatusAlive, m.status(ms[1].group.Name()))
	}
}

func TestLeave(t *testing.T) {
	group := ndntest.Prefix(t)
	ms := joinAll(t, group, 3, nil)
	leaver := ms[0]
	name := leaver.group.Name()
	require.NoError(t, leaver.group.Leave(ctxT(t, 5*time.Second)))
	for _, m := range ms[1:] {
		waitFor(t, 5*time.Second, "leaver left", func() bool { return m.status(name) == svs.StatusLeft })
	}
	// Left stays left: it is not failed later. Wait until the remaining
	// members heard each other after the time the leaver would have failed.
	failAt := time.Now().Add(testFailed + testHeartbeat)
	waitFor(t, 2*testFailed+5*time.Second, "time passes in the group", func() bool {
		for _, x := range ms[1].group.Members() {
			if x.Name.Equal(ms[2].group.Name()) {
				return x.LastHeard.After(failAt)
			}
		}
		return false
	})
	for _, m := range ms[1:] {
		assert.Equal(t, svs.StatusLeft, m.status(name))
		assert.Equal(t, []svs.Status{svs.StatusAlive, svs.StatusLeft}, m.statusPath(name))
	}
	// The leaver sees itself left, and is closed.
	self := leaver.group.Members()[slices.IndexFunc(leaver.group.Members(), func(x svs.Member) bool { return x.Name.Equal(name) })]
	assert.Equal(t, svs.StatusLeft, self.Status)
	assert.ErrorIs(t, leaver.group.SendEvent(ctxT(t, time.Second), "x", nil), svs.ErrClosed)
	assert.ErrorIs(t, leaver.group.Leave(ctxT(t, time.Second)), svs.ErrClosed)
	assert.NoError(t, leaver.group.Close())
}

func TestEventsDeliveredToAll(t *testing.T) {
	group := ndntest.Prefix(t)
	ms := joinAll(t, group, 4, nil)
	ctx := ctxT(t, 10*time.Second)
	for i, m := range ms {
		for k := range 3 {
			require.NoError(t, m.group.SendEvent(ctx, fmt.Sprintf("ev-%d-%d", i, k), []byte(fmt.Sprintf("payload %d %d", i, k))))
		}
	}
	for _, m := range ms {
		waitFor(t, 10*time.Second, "all events delivered", func() bool { return len(m.eventsCopy()) == 12 })
		evs := m.eventsCopy()
		// Per sender, in order; From and payload as sent.
		for i, s := range ms {
			var got []string
			for _, e := range evs {
				if e.From.Equal(s.group.Name()) {
					got = append(got, e.Name)
					assert.Equal(t, "payload "+e.Name[3:4]+" "+e.Name[5:6], string(e.Payload))
				}
			}
			assert.Equal(t, []string{fmt.Sprintf("ev-%d-0", i), fmt.Sprintf("ev-%d-1", i), fmt.Sprintf("ev-%d-2", i)}, got)
		}
		assert.Equal(t, uint64(12), m.group.Stats().EventsDelivered)
	}
	// Lamport times: an event sent after receiving another is later.
	require.NoError(t, ms[0].group.SendEvent(ctx, "cause", nil))
	ltimeOf := func(m *member, name string) uint64 {
		for _, e := range m.eventsCopy() {
			if e.Name == name {
				return e.LTime
			}
		}
		return 0
	}
	waitFor(t, 10*time.Second, "cause delivered", func() bool { return ltimeOf(ms[3], "cause") > 0 })
	require.NoError(t, ms[3].group.SendEvent(ctx, "effect", nil))
	waitFor(t, 10*time.Second, "effect delivered", func() bool { return ltimeOf(ms[0], "effect") > 0 })
	assert.Greater(t, ltimeOf(ms[0], "effect"), ltimeOf(ms[0], "cause"))
}

func TestEventLimits(t *testing.T) {
	group := ndntest.Prefix(t)
	m := newMember(t, group, "limits", nil, func(c *svs.Config) { c.MaxPayload = 100 })
	ctx := ctxT(t, 5*time.Second)
	assert.ErrorIs(t, m.group.SendEvent(ctx, "big", make([]byte, 101)), svs.ErrPayloadTooLarge)
	assert.NoError(t, m.group.SendEvent(ctx, "ok", make([]byte, 100)))
	for _, bad := range []string{"", string(make([]byte, svs.MaxNameLen+1)), "\xff\xfe"} {
		assert.ErrorIs(t, m.group.SendEvent(ctx, bad, nil), svs.ErrBadName, "%q", bad)
	}
	_, err := m.group.Query(ctx, "q", make([]byte, 101), svs.QueryOptions{})
	assert.ErrorIs(t, err, svs.ErrPayloadTooLarge)
	for _, bad := range []string{"no-slash", "/a b", "/a\n/b", "/a#", "/<...>/x", "/<"} {
		_, err := m.group.Query(ctx, "q", nil, svs.QueryOptions{Filter: bad})
		assert.ErrorIs(t, err, svs.ErrBadFilter, "%q", bad)
	}
}

func TestCoalescing(t *testing.T) {
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("disable=%v", disable), func(t *testing.T) {
			group := ndntest.Prefix(t)
			release := make(chan struct{})
			recv := newMember(t, group, "recv", nil, func(c *svs.Config) {
				c.DisableCoalescing = disable
				next := c.OnEvent
				c.OnEvent = func(ctx context.Context, e svs.Event) {
					next(ctx, e)
					if e.Name == "block" {
						select {
						case <-release:
						case <-ctx.Done():
						}
					}
				}
			})
			send := newMember(t, group, "send", nil, nil)
			waitFor(t, 10*time.Second, "members see each other", func() bool {
				return recv.seesAll([]*member{send}) && send.seesAll([]*member{recv})
			})
			ctx := ctxT(t, 10*time.Second)
			require.NoError(t, send.group.SendEvent(ctx, "block", nil))
			waitFor(t, 5*time.Second, "receiver blocked", func() bool { return len(recv.eventsCopy()) == 1 })
			for _, v := range []string{"1", "2", "3"} {
				require.NoError(t, send.group.SendEvent(ctx, "x", []byte(v)))
			}
			require.NoError(t, send.group.SendEvent(ctx, "y", []byte("other")))
			waitFor(t, 5*time.Second, "events received", func() bool { return recv.group.Stats().EventsReceived == 5 })
			close(release)
			var want []string
			if disable {
				want = []string{"block:", "x:1", "x:2", "x:3", "y:other"}
			} else {
				want = []string{"block:", "x:3", "y:other"}
			}
			waitFor(t, 5*time.Second, "events delivered", func() bool { return len(recv.eventsCopy()) == len(want) })
			var got []string
			for _, e := range recv.eventsCopy() {
				got = append(got, e.Name+":"+string(e.Payload))
			}
			assert.Equal(t, want, got)
			if !disable {
				assert.Equal(t, uint64(2), recv.group.Stats().EventsCoalesced)
			}
		})
	}
}

// A callback that sends an event does not deadlock (ndnd's SvsALO can:
// svs_alo_data.go:124-125).
func TestCallbackMaySend(t *testing.T) {
	group := ndntest.Prefix(t)
	var a *member
	a = newMember(t, group, "echo", nil, func(c *svs.Config) {
		c.OnEvent = func(ctx context.Context, e svs.Event) {
			if e.Name == "ping" {
				_ = a.group.SendEvent(ctx, "pong", e.Payload)
				_, _ = a.group.Query(ctx, "q", nil, svs.QueryOptions{Timeout: 50 * time.Millisecond})
				_ = a.group.Members()
			}
		}
	})
	b := newMember(t, group, "b", nil, nil)
	waitFor(t, 10*time.Second, "members see each other", func() bool { return a.seesAll([]*member{b}) && b.seesAll([]*member{a}) })
	for i := range 20 {
		require.NoError(t, b.group.SendEvent(ctxT(t, 5*time.Second), "ping", []byte{byte(i)}))
	}
	waitFor(t, 10*time.Second, "pongs", func() bool {
		for _, e := range b.eventsCopy() {
			if e.Name == "pong" && len(e.Payload) == 1 && e.Payload[0] == 19 {
				return true
			}
		}
		return false
	})
}

func TestQuery(t *testing.T) {
	group := ndntest.Prefix(t)
	ids := make([]*security.Identity, 4)
	for i := range ids {
		ids[i] = ndntest.Identity(t, fmt.Sprintf("q%d", i))
	}
	ms := make([]*member, len(ids))
	for i, id := range ids {
		ms[i] = newMember(t, group, "", id, func(c *svs.Config) {
			c.QueryHandler = svs.QueryHandlerFunc(func(ctx context.Context, q *svs.Query) ([]byte, error) {
				if q.Name == "decline" && i == 3 {
					return nil, errors.New("no")
				}
				if q.Name == "slow" && i == 3 {
					<-ctx.Done()
					return []byte("too late"), nil
				}
				return []byte(fmt.Sprintf("%s from %d to %s", q.Payload, i, q.From)), nil
			})
		})
	}
	waitFor(t, 15*time.Second, "members see each other", func() bool {
		for _, m := range ms {
			if !m.seesAll(ms) {
				return false
			}
		}
		return true
	})
	q := ms[0].group
	ctx := ctxT(t, 20*time.Second)
	names := func(as []svs.Answer) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.From.String())
		}
		sort.Strings(out)
		return out
	}
	all := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i].Name().String())
		}
		sort.Strings(out)
		return out
	}

	t.Run("everyone", func(t *testing.T) {
		as, err := q.Query(ctx, "hello", []byte("hi"), svs.QueryOptions{Timeout: time.Second})
		require.NoError(t, err)
		assert.Equal(t, all(0, 1, 2, 3), names(as))
		for _, a := range as {
			assert.Contains(t, string(a.Payload), "hi from")
			assert.Contains(t, string(a.Payload), "to "+q.Name().String())
		}
	})
	t.Run("count", func(t *testing.T) {
		start := time.Now()
		as, err := q.Query(ctx, "hello", nil, svs.QueryOptions{Timeout: 5 * time.Second, MaxAnswers: 2})
		require.NoError(t, err)
		assert.Len(t, as, 2)
		assert.Less(t, time.Since(start), 4*time.Second, "returned at the count, not the timeout")
	})
	t.Run("filter", func(t *testing.T) {
		as, err := q.Query(ctx, "hello", nil, svs.QueryOptions{Timeout: time.Second, Filter: ids[2].Name().String()})
		require.NoError(t, err)
		assert.Equal(t, all(2), names(as))
		prefix := ids[1].Name()[:3].String() + "/<...>" // /ndntest/id/q1/<...>
		as, err = q.Query(ctx, "hello", nil, svs.QueryOptions{Timeout: time.Second, Filter: prefix})
		require.NoError(t, err)
		assert.Equal(t, all(1), names(as))
	})
	t.Run("incomplete", func(t *testing.T) {
		as, err := q.Query(ctx, "decline", nil, svs.QueryOptions{Timeout: time.Second})
		require.NoError(t, err)
		assert.Equal(t, all(0, 1, 2), names(as))
		as, err = q.Query(ctx, "slow", nil, svs.QueryOptions{Timeout: 500 * time.Millisecond})
		require.NoError(t, err)
		assert.Equal(t, all(0, 1, 2), names(as))
	})
	t.Run("ctx", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := q.Query(short, "slow", nil, svs.QueryOptions{Timeout: 10 * time.Second})
		assert.NoError(t, err, "the ctx deadline became the query's deadline")
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	st := q.Stats()
	assert.Positive(t, st.AnswersAccepted)
	assert.Positive(t, ms[1].group.Stats().AnswersSent)
}

// An identity that does not chain to the trust anchor is ignored: its Sync
// Interests are dropped, so nobody fetches its publications.
func TestUncertifiedMemberIgnored(t *testing.T) {
	group := ndntest.Prefix(t)
	ms := joinAll(t, group, 2, nil)
	other, err := security.NewAnchor(enc.Name{enc.NewGenericComponent("rogue-anchor")}, time.Hour)
	require.NoError(t, err)
	rogueID, err := other.Issue(enc.Name{enc.NewGenericComponent("ndntest"), enc.NewGenericComponent("rogue")}, time.Hour)
	require.NoError(t, err)
	// The rogue trusts our anchor, so it can join and see us.
	rogue := newMember(t, group, "", rogueID, nil)
	require.NoError(t, rogue.group.SendEvent(ctxT(t, 5*time.Second), "evil", []byte("x")))
	waitFor(t, 10*time.Second, "the rogue sees the members", func() bool { return rogue.seesAll(ms) })
	waitFor(t, 10*time.Second, "the members dropped the rogue's Sync Interests", func() bool {
		return ms[0].group.Stats().SyncRejected > 0 && ms[1].group.Stats().SyncRejected > 0
	})
	// Every later Sync Interest of the rogue (they carry its event's
	// sequence number) is dropped too.
	rejectedMore(t, ms[0].group, ms[1].group)
	for _, m := range ms {
		assert.Equal(t, svs.StatusNone, m.status(rogue.group.Name()))
		assert.Len(t, m.group.Members(), 2)
		for _, e := range m.eventsCopy() {
			assert.NotEqual(t, "evil", e.Name)
		}
	}
}

// A policy narrows the group: a certified identity outside it is ignored.
func TestPolicyRejection(t *testing.T) {
	group := ndntest.Prefix(t)
	policy, err := security.ParsePolicy("allow /ndntest/id/ok/<...> to call " + group.String())
	require.NoError(t, err)
	withPolicy := func(c *svs.Config) { c.Policy = policy }
	a := newMember(t, group, "ok", nil, withPolicy)
	b := newMember(t, group, "ok", nil, withPolicy)
	out := newMember(t, group, "out", nil, nil) // certified, but not under /ndntest/id/ok
	waitFor(t, 10*time.Second, "ok members see each other", func() bool {
		return a.seesAll([]*member{b}) && b.seesAll([]*member{a})
	})
	waitFor(t, 10*time.Second, "the outsider sees them (it has no policy)", func() bool { return out.seesAll([]*member{a, b}) })
	require.NoError(t, out.group.SendEvent(ctxT(t, 5*time.Second), "evil", nil))
	waitFor(t, 10*time.Second, "the outsider's Sync Interests dropped", func() bool {
		return a.group.Stats().SyncRejected > 0 && b.group.Stats().SyncRejected > 0
	})
	// Queries: the outsider's answers are refused too.
	as, err := a.group.Query(ctxT(t, 5*time.Second), "who", nil, svs.QueryOptions{Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	for _, x := range as {
		assert.False(t, x.From.Equal(out.group.Name()))
	}
	rejectedMore(t, a.group, b.group)
	for _, m := range []*member{a, b} {
		assert.Equal(t, svs.StatusNone, m.status(out.group.Name()))
		for _, e := range m.eventsCopy() {
			assert.NotEqual(t, "evil", e.Name)
		}
	}
}

func TestJoinErrors(t *testing.T) {
	group := ndntest.Prefix(t)
	ctx := ctxT(t, 10*time.Second)

	// ndntest.Connect fills in the test anchor only when Anchors is nil.
	bare := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "bare"), Anchors: [][]byte{}, Logger: testLogger})
	cfg := testConfig(group)
	cfg.Node = bare
	_, err := svs.Join(ctx, cfg)
	assert.ErrorIs(t, err, svs.ErrNoVerifier)

	anon := ndntest.Connect(t, ndnx.Config{Logger: testLogger})
	cfg.Node = anon
	_, err = svs.Join(ctx, cfg)
	assert.ErrorIs(t, err, svs.ErrNoIdentity)

	cfg.Node = nil
	_, err = svs.Join(ctx, cfg)
	assert.ErrorIs(t, err, svs.ErrBadConfig)

	// One node joins a group prefix once, whatever the identity.
	m := newMember(t, group, "dup", nil, nil)
	peer0 := newMember(t, group, "peer0", nil, nil)
	cfg.Node = m.node
	_, err = svs.Join(ctx, cfg)
	assert.Error(t, err)
	cfg.Identity = ndntest.Identity(t, "dup2")
	_, err = svs.Join(ctx, cfg)
	assert.Error(t, err)
	cfg.Identity = nil
	// The failed Joins left the first one working: its route is in place.
	require.NoError(t, m.group.SendEvent(ctx, "still", nil))
	waitFor(t, 10*time.Second, "event after failed joins", func() bool {
		for _, e := range peer0.eventsCopy() {
			if e.Name == "still" {
				return true
			}
		}
		return false
	})

	// Another identity than the node's: the group serves its certificate.
	other := ndntest.Identity(t, "other")
	cfg = testConfig(ndntest.Prefix(t))
	cfg.Node, cfg.Identity = anon, other
	g2, err := svs.Join(ctx, cfg)
	require.NoError(t, err)
	defer g2.Close()
	assert.True(t, g2.Name().Equal(other.Name()))
	peer := newMember(t, cfg.Group, "peer", nil, nil)
	waitFor(t, 10*time.Second, "peer verifies the other identity", func() bool {
		return peer.status(other.Name()) == svs.StatusAlive
	})
}

func TestCloseIdempotent(t *testing.T) {
	group := ndntest.Prefix(t)
	m := newMember(t, group, "c", nil, nil)
	done := make(chan struct{})
	for range 3 {
		go func() {
			m.group.Close()
			done <- struct{}{}
		}()
	}
	for range 3 {
		<-done
	}
	assert.NoError(t, m.group.Close())
	ctx := ctxT(t, time.Second)
	assert.ErrorIs(t, m.group.SendEvent(ctx, "x", nil), svs.ErrClosed)
	_, err := m.group.Query(ctx, "x", nil, svs.QueryOptions{})
	assert.ErrorIs(t, err, svs.ErrClosed)
	assert.ErrorIs(t, m.group.Leave(ctx), svs.ErrClosed)
	assert.NotEmpty(t, m.group.Members())
	// The node still works, and may join the group again.
	cfg := testConfig(group)
	cfg.Node = m.node
	g, err := svs.Join(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, g.Close())
}

// After the forwarder restarts (forgetting routes and strategies), the
// group recovers: the nodes put their routes back, the group sets the
// multicast strategy again and announces itself, and events reach every
// member again.
func TestForwarderRestart(t *testing.T) {
	dir, err := os.MkdirTemp("", "svsfw")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bin, err := ndntest.Ndnd()
	require.NoError(t, err)
	fw, err := ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	defer func() { fw.Stop() }()

	group := ndntest.Prefix(t)
	ms := make([]*member, 3)
	for i := range ms {
		id := ndntest.Identity(t, "fw")
		m := &member{t: t, id: id}
		m.node = ndntest.Connect(t, ndnx.Config{Transport: fw.Transport(), Identity: id, ReconnectMax: 200 * time.Millisecond, Logger: testLogger})
		cfg := testConfig(group)
		cfg.Node = m.node
		cfg.OnEvent = func(_ context.Context, e svs.Event) {
			m.mu.Lock()
			m.events = append(m.events, e)
			m.mu.Unlock()
		}
		m.group, err = svs.Join(ctxT(t, 10*time.Second), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { m.group.Close() })
		ms[i] = m
	}
	converged := func() bool {
		for _, m := range ms {
			if !m.seesAll(ms) {
				return false
			}
		}
		return true
	}
	waitFor(t, 10*time.Second, "converged", converged)

	fw.Kill()
	waitFor(t, 5*time.Second, "faces down", func() bool { return !ms[0].node.Up() })
	fw, err = ndnx.StartForwarder(ctxT(t, 20*time.Second), ndnx.ForwarderConfig{Dir: dir, Binary: bin})
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "faces up", func() bool {
		for _, m := range ms {
			if !m.node.Up() {
				return false
			}
		}
		return true
	})
	waitFor(t, 15*time.Second, "converged again", converged)
	require.NoError(t, ms[0].group.SendEvent(ctxT(t, 5*time.Second), "after", nil))
	for _, m := range ms {
		waitFor(t, 10*time.Second, "event after restart", func() bool {
			for _, e := range m.eventsCopy() {
				if e.Name == "after" {
					return true
				}
			}
			return false
		})
	}
}

// rejectedMore waits until each group dropped five more Sync Interests:
// evidence that an outsider kept announcing and was kept out.
func rejectedMore(t *testing.T, gs ...*svs.Group) {
	t.Helper()
	before := make([]uint64, len(gs))
	for i, g := range gs {
		before[i] = g.Stats().SyncRejected
	}
	waitFor(t, 10*time.Second, "more Sync Interests rejected", func() bool {
		for i, g := range gs {
			if g.Stats().SyncRejected < before[i]+5 {
				return false
			}
		}
		return true
	})
}
