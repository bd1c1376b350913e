package svs

import (
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The membership core is a pure state machine: these tests drive it with
// explicit times, no network and no clock.

var t0 = time.Unix(1_700_000_000, 0)

func nm(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

func testCore() *core {
	return newCore(coreConfig{
		self:        nm("/self"),
		boot:        uint64(t0.Unix()),
		suspect:     2 * time.Second,
		failed:      5 * time.Second,
		reap:        time.Minute,
		maxMembers:  3,
		window:      2,
		retryMin:    100 * time.Millisecond,
		retryMax:    time.Second,
		maxFailures: 3,
	}, t0)
}

func statuses(c *core) map[string]Status {
	out := map[string]Status{}
	for _, m := range c.list(t0) {
		out[m.Name.String()] = m.Status
	}
	return out
}

func TestCoreJoinFailRevive(t *testing.T) {
	c := testCore()
	a := nm("/a")
	c.announce(a, uint64(t0.Unix()), 3, t0)
	tasks := c.plan(t0)
	require.Len(t, tasks, 1)
	// a booted with us: its history is fetched from 1, one at a time.
	assert.Equal(t, uint64(1), tasks[0].seq)
	assert.Empty(t, c.plan(t0), "one fetch in flight per member")
	c.fetched(tasks[0], fetchOK, &publication{records: []record{{kind: recAlive}}}, t0)
	ch := c.takeChanges()
	require.Len(t, ch, 1)
	assert.Equal(t, StatusNone, ch[0].Previous)
	assert.Equal(t, StatusAlive, ch[0].Member.Status)
	for seq := uint64(2); seq <= 3; seq++ {
		tasks = c.plan(t0)
		require.Len(t, tasks, 1)
		assert.Equal(t, seq, tasks[0].seq)
		c.fetched(tasks[0], fetchOK, &publication{}, t0)
	}
	assert.Empty(t, c.plan(t0))
	assert.Equal(t, t0.Add(2*time.Second), c.nextWake(t0))

	// Silence: suspect, then failed.
	c.tick(t0.Add(1999 * time.Millisecond))
	assert.Empty(t, c.takeChanges())
	c.tick(t0.Add(2 * time.Second))
	ch = c.takeChanges()
	require.Len(t, ch, 1)
	assert.Equal(t, StatusSuspect, ch[0].Member.Status)
	assert.Equal(t, t0.Add(5*time.Second), c.nextWake(t0.Add(2*time.Second)))
	c.tick(t0.Add(5 * time.Second))
	ch = c.takeChanges()
	require.Len(t, ch, 1)
	assert.Equal(t, StatusFailed, ch[0].Member.Status)
	assert.Equal(t, StatusSuspect, ch[0].Previous)

	// Heard again (a Sync Interest it signed): alive.
	c.heard(a, t0.Add(6*time.Second))
	ch = c.takeChanges()
	require.Len(t, ch, 1)
	assert.Equal(t, StatusAlive, ch[0].Member.Status)
}

func TestCoreFirstSightOfOldMember(t *testing.T) {
	c := testCore()
	// b booted an hour before us: only its latest publication is fetched.
	c.announce(nm("/b"), uint64(t0.Add(-time.Hour).Unix()), 40, t0)
	tasks := c.plan(t0)
	require.Len(t, tasks, 1)
	assert.Equal(t, uint64(40), tasks[0].seq)
}

func TestCoreLeave(t *testing.T) {
	c := testCore()
	a := nm("/a")
	c.announce(a, uint64(t0.Unix()), 1, t0)
	task := c.plan(t0)[0]
	acts := c.fetched(task, fetchOK, &publication{records: []record{
		{kind: recEvent, label: "before"}, {kind: recLeave}, {kind: recEvent, label: "after"},
	}}, t0)
	require.Len(t, acts, 1)
	assert.Equal(t, "before", acts[0].label)
	assert.Equal(t, StatusLeft, statuses(c)["/a"])
	// Left is not failed by silence, and a Sync Interest does not revive.
	c.tick(t0.Add(10 * time.Second))
	c.heard(a, t0.Add(10*time.Second))
	assert.Equal(t, StatusLeft, statuses(c)["/a"])
	// A new incarnation does.
	c.announce(a, uint64(t0.Unix())+5, 1, t0.Add(10*time.Second))
	task = c.plan(t0.Add(10 * time.Second))[0]
	c.fetched(task, fetchOK, &publication{}, t0.Add(10*time.Second))
	assert.Equal(t, StatusAlive, statuses(c)["/a"])
	// Silent again: failed, and forgotten ReapAfter later.
	c.tick(t0.Add(2 * time.Minute))
	assert.Equal(t, StatusFailed, statuses(c)["/a"])
	c.tick(t0.Add(4 * time.Minute))
	_, listed := statuses(c)["/a"]
	assert.False(t, listed, "reaped")
	ch := c.takeChanges()
	assert.Equal(t, StatusNone, ch[len(ch)-1].Member.Status)
	assert.Empty(t, c.streams)
}

func TestCoreRetryAndPark(t *testing.T) {
	c := testCore()
	a := nm("/a")
	c.announce(a, uint64(t0.Unix()), 1, t0)
	now := t0
	var backoffs []time.Duration
	for range 3 {
		tasks := c.plan(now)
		require.Len(t, tasks, 1)
		c.fetched(tasks[0], fetchFailed, nil, now)
		wake := c.nextWake(now)
		if wake.IsZero() {
			break
		}
		backoffs = append(backoffs, wake.Sub(now))
		assert.Empty(t, c.plan(now), "not before the backoff")
		now = wake
	}
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, backoffs)
	assert.Empty(t, c.plan(now.Add(time.Hour)), "parked after maxFailures")
	// A new announcement unparks it.
	c.announce(a, uint64(t0.Unix()), 2, now)
	tasks := c.plan(now)
	require.Len(t, tasks, 1)
	assert.Equal(t, uint64(1), tasks[0].seq)
	// Gone: skipped and counted, and the member is alive (it signed that).
	c.fetched(tasks[0], fetchGone, nil, now)
	assert.Equal(t, uint64(1), c.missed)
	assert.Equal(t, StatusAlive, statuses(c)["/a"])
	// Rejected: parked at once.
	tasks = c.plan(now)
	c.fetched(tasks[0], fetchRejected, nil, now)
	assert.Empty(t, c.plan(now.Add(time.Hour)))
}

func TestCoreBounds(t *testing.T) {
	c := testCore()
	boot := uint64(t0.Unix())
	for _, n := range []string{"/a", "/b", "/c", "/d"} {
		c.announce(nm(n), boot, 1, t0)
	}
	assert.Len(t, c.streams, 3, "maxMembers")
	assert.Equal(t, uint64(1), c.ignored)
	assert.Len(t, c.plan(t0), 2, "window")
	assert.Len(t, c.plan(t0), 0)
	// Announcements of ourselves and of older incarnations are ignored.
	c.announce(nm("/self"), boot, 9, t0)
	assert.NotContains(t, c.streams, nameKey(nm("/self")))
	c.announce(nm("/a"), boot-10, 9, t0)
	assert.Equal(t, uint64(1), c.streams[nameKey(nm("/a"))].high)
}

func TestCoreNewIncarnationDropsStaleFetch(t *testing.T) {
	c := testCore()
	a := nm("/a")
	boot := uint64(t0.Unix())
	c.announce(a, boot, 1, t0)
	old := c.plan(t0)[0]
	c.announce(a, boot+1, 1, t0)
	assert.Equal(t, 0, c.inflight)
	assert.Nil(t, c.fetched(old, fetchOK, &publication{records: []record{{kind: recEvent}}}, t0))
	assert.Equal(t, 0, c.inflight)
	tasks := c.plan(t0)
	require.Len(t, tasks, 1)
	assert.Equal(t, boot+1, tasks[0].boot)
}

func TestEventQueue(t *testing.T) {
	from := func(s string) enc.Name { return nm(s) }
	tests := []struct {
		name     string
		coalesce bool
		max      int
		in       []Event
		want     []string // name:payload, in delivery order
	}{
		{"fifo", false, 10, []Event{{Name: "a", Payload: []byte("1")}, {Name: "a", Payload: []byte("2")}, {Name: "b"}}, []string{"a:1", "a:2", "b:"}},
		{"coalesce newer", true, 10, []Event{
			{Name: "a", Payload: []byte("1"), LTime: 1}, {Name: "b", LTime: 2}, {Name: "a", Payload: []byte("2"), LTime: 3},
		}, []string{"a:2", "b:"}},
		{"coalesce keeps newer", true, 10, []Event{
			{Name: "a", Payload: []byte("new"), LTime: 5}, {Name: "a", Payload: []byte("old"), LTime: 4},
		}, []string{"a:new"}},
		{"tie broken by sender", true, 10, []Event{
			{Name: "a", Payload: []byte("x"), LTime: 5, From: from("/z")}, {Name: "a", Payload: []byte("y"), LTime: 5, From: from("/a")},
		}, []string{"a:x"}},
		{"bounded", false, 2, []Event{{Name: "a"}, {Name: "b"}, {Name: "c"}}, []string{"b:", "c:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newEventQueue(tt.coalesce, tt.max)
			for _, e := range tt.in {
				q.push(&e)
			}
			var got []string
			for e := q.pop(); e != nil; e = q.pop() {
				got = append(got, e.Name+":"+string(e.Payload))
			}
			assert.Equal(t, tt.want, got)
			assert.Zero(t, q.len())
			assert.Empty(t, q.byName)
		})
	}
	// An event delivered is no longer coalesced with.
	q := newEventQueue(true, 10)
	q.push(&Event{Name: "a", LTime: 1})
	q.pop()
	q.push(&Event{Name: "a", LTime: 0})
	assert.Equal(t, 1, q.len())
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusNone: "none", StatusAlive: "alive", StatusSuspect: "suspect", StatusFailed: "failed", StatusLeft: "left", 9: "Status(9)"} {
		assert.Equal(t, want, s.String())
	}
}
