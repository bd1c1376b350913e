package groupsync

import (
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"
)

// The tracker is the I/O-free core: these tests drive it step by step with
// a fixed clock.

var (
	t0    = time.Unix(1_700_000_000, 0)
	grp   = enc.Name{enc.NewGenericComponent("g")}
	alice = enc.Name{enc.NewGenericComponent("alice")}
	bob   = enc.Name{enc.NewGenericComponent("bob")}
)

func newTestTracker(mod func(*trackerConfig)) *tracker {
	cfg := trackerConfig{
		group:       grp,
		window:      4,
		retries:     2,
		backoff:     100 * time.Millisecond,
		maxBackoff:  time.Second,
		suppression: 200 * time.Millisecond,
		maxWires:    8,
	}
	if mod != nil {
		mod(&cfg)
	}
	return newTracker(cfg, func() float64 { return 0.5 })
}

func seqs(tasks []task) []uint64 {
	var out []uint64
	for _, tk := range tasks {
		if tk.kind == taskPublication {
			out = append(out, tk.seq)
		}
	}
	return out
}

func stored(tk task) pubResult {
	return pubResult{outcome: outcomeStored, name: pubName(grp, tk.node, tk.boot, tk.seq), content: []byte(fmt.Sprint(tk.seq))}
}

// upTo lists the delivered watermarks and the contents handed over.
func summarize(ds []delivery) (marks []uint64, contents []string) {
	for _, d := range ds {
		marks = append(marks, d.upTo)
		if d.name != nil {
			contents = append(contents, string(d.content))
		}
	}
	return marks, contents
}

func TestTrackerInOrderDelivery(t *testing.T) {
	tr := newTestTracker(nil)
	require.True(t, tr.onVector([]svEntry{{alice, 7, 6}}, []byte("w1"), t0))
	require.False(t, tr.onVector([]svEntry{{alice, 7, 6}}, []byte("w1"), t0), "nothing new")
	tasks := tr.plan(t0)
	require.Equal(t, []uint64{1, 2, 3, 4}, seqs(tasks), "window of 4")
	require.Empty(t, tr.plan(t0), "window full")

	// 2 and 3 finish first: nothing deliverable until 1 does.
	require.Empty(t, tr.onPublication(tasks[1], stored(tasks[1]), t0))
	require.Empty(t, tr.onPublication(tasks[2], stored(tasks[2]), t0))
	require.Equal(t, []uint64{5, 6}, seqs(tr.plan(t0)))
	ds := tr.onPublication(tasks[0], stored(tasks[0]), t0)
	marks, contents := summarize(ds)
	require.Equal(t, []uint64{1, 2, 3}, marks)
	require.Equal(t, []string{"1", "2", "3"}, contents)
	s := tr.streams[ds[0].id]
	require.EqualValues(t, 3, s.settled)
	require.EqualValues(t, 0, s.delivered)
	tr.onDelivered(ds[0].id, 3)
	require.EqualValues(t, 3, s.delivered)
	require.True(t, tr.dirty)
}

func TestTrackerRetries(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 3}}, nil, t0)
	tasks := tr.plan(t0)
	require.Len(t, tasks, 3)

	// Network failure: retried after the backoff, doubling.
	require.Empty(t, tr.onPublication(tasks[0], pubResult{outcome: outcomeFailed}, t0))
	require.Empty(t, tr.plan(t0))
	require.Equal(t, t0.Add(100*time.Millisecond), tr.nextWake(t0))
	retry := tr.plan(t0.Add(100 * time.Millisecond))
	require.Equal(t, []uint64{1}, seqs(retry))
	require.False(t, retry[0].fresh)
	tr.onPublication(retry[0], pubResult{outcome: outcomeFailed}, t0)
	require.Equal(t, t0.Add(200*time.Millisecond), tr.nextWake(t0))

	// Verification failure: retried with MustBeFresh, then skipped.
	require.Empty(t, tr.onPublication(tasks[1], pubResult{outcome: outcomeRejected}, t0))
	retry = tr.plan(t0.Add(100 * time.Millisecond))
	require.Equal(t, []uint64{2}, seqs(retry))
	require.True(t, retry[0].fresh)
	require.Empty(t, tr.onPublication(retry[0], pubResult{outcome: outcomeRejected}, t0))
	require.EqualValues(t, 1, tr.skipped)

	// 1 arrives at last: 1 delivered, 2 skipped (watermark only), 3 waits.
	retry = tr.plan(t0.Add(time.Second))
	require.Equal(t, []uint64{1}, seqs(retry))
	marks, contents := summarize(tr.onPublication(retry[0], stored(retry[0]), t0))
	require.Equal(t, []uint64{1, 2}, marks)
	require.Equal(t, []string{"1"}, contents)
	marks, contents = summarize(tr.onPublication(tasks[2], stored(tasks[2]), t0))
	require.Equal(t, []uint64{3}, marks)
	require.Equal(t, []string{"3"}, contents)
	require.True(t, tr.nextWake(t0).IsZero(), "nothing scheduled")
}

func TestTrackerRoundRobin(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 10}, {bob, 9, 10}}, nil, t0)
	tasks := tr.plan(t0)
	require.Len(t, tasks, 4)
	var a, b int
	for _, tk := range tasks {
		if tk.node.Equal(alice) {
			a++
		} else {
			b++
		}
	}
	require.Equal(t, 2, a)
	require.Equal(t, 2, b)
}

func TestTrackerAbortedIsRetried(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 1}}, nil, t0)
	tasks := tr.plan(t0)
	require.Empty(t, tr.onPublication(tasks[0], pubResult{outcome: outcomeAborted}, t0))
	require.Equal(t, []uint64{1}, seqs(tr.plan(t0)))
}

func TestTrackerSuppression(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 5}, {bob, 9, 3}}, []byte("from-bob"), t0)
	tr.onVector([]svEntry{{alice, 7, 6}, {bob, 9, 3}}, []byte("from-alice"), t0)
	later := t0.Add(time.Second)
	require.Nil(t, tr.tick(later), "nobody behind")

	// An outdated vector (alice at 4) starts suppression; one that catches
	// up during it cancels the answer.
	tr.onVector([]svEntry{{alice, 7, 4}, {bob, 9, 3}}, nil, later)
	require.True(t, tr.suppressing)
	wake := tr.nextWake(later)
	require.False(t, wake.IsZero())
	require.LessOrEqual(t, wake.Sub(later), 200*time.Millisecond)
	tr.onVector([]svEntry{{alice, 7, 6}, {bob, 9, 3}}, nil, later)
	require.Nil(t, tr.tick(wake))
	require.False(t, tr.suppressing)

	// Still behind when the timer fires: re-send the newest wires.
	tr.onVector([]svEntry{{bob, 9, 3}}, nil, later) // does not know alice
	require.Equal(t, [][]byte{[]byte("from-alice")}, tr.tick(later.Add(time.Second)))

	// A vector in flight while we learnt something (within the
	// suppression period) is not outdated.
	tr.onVector([]svEntry{{alice, 7, 7}, {bob, 9, 3}}, nil, later)
	tr.onVector([]svEntry{{alice, 7, 6}, {bob, 9, 3}}, nil, later.Add(50*time.Millisecond))
	require.False(t, tr.suppressing)
}

func TestTrackerIgnoresUnfetchableNames(t *testing.T) {
	tr := newTestTracker(nil)
	long := enc.Name{enc.NewGenericBytesComponent(make([]byte, 300))}
	require.False(t, tr.onVector([]svEntry{{long, 1, 5}, {enc.Name{}, 1, 5}}, nil, t0))
	require.Empty(t, tr.streams)
}

func TestTrackerSaveLoad(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 3}}, []byte("wa"), t0)
	tr.onVector([]svEntry{{alice, 7, 3}, {bob, 9, 2}}, []byte("wb"), t0)
	tasks := tr.plan(t0)
	for _, tk := range tasks {
		for _, d := range tr.onPublication(tk, stored(tk), t0) {
			if d.upTo <= 2 {
				tr.onDelivered(d.id, d.upTo)
			}
		}
	}
	st := tr.save()
	require.False(t, tr.dirty)
	st2, err := decodeState(encodeState(st))
	require.NoError(t, err)
	require.Equal(t, st, st2)

	re := newTestTracker(nil)
	re.load(st2)
	require.Equal(t, initialResends, re.resends)
	require.Len(t, re.streams, 2)
	// alice: delivered 2 of 3 → fetch 3 only; bob: all delivered.
	require.Equal(t, []uint64{3}, seqs(re.plan(t0)))
	require.Equal(t, [][]byte{[]byte("wb")}, re.tick(t0), "resent after a restart")
	require.Nil(t, re.tick(t0.Add(time.Millisecond)))
	require.NotNil(t, re.tick(t0.Add(resendInterval)), "again, the first may be suppressed")
	re.onVector([]svEntry{{alice, 7, 4}}, nil, t0.Add(resendInterval))
	require.Zero(t, re.resends, "the group answered")
}

// snapTracker is a tracker with history snapshots (threshold 10) and one
// stream alice/7 announced up to latest.
func snapTracker(t *testing.T, latest uint64) (*tracker, streamID) {
	tr := newTestTracker(func(c *trackerConfig) { c.snapshot = 10 })
	tr.onVector([]svEntry{{alice, 7, latest}}, nil, t0)
	return tr, streamID{node: nameKey(alice), boot: 7}
}

func entries(from, to uint64) []snapEntry {
	var out []snapEntry
	for s := from; s <= to; s++ {
		out = append(out, snapEntry{seq: s, content: []byte(fmt.Sprint(s))})
	}
	return out
}

func TestTrackerSnapshotsEvicted(t *testing.T) {
	tr, id := snapTracker(t, 46)
	tasks := tr.plan(t0)
	require.Len(t, tasks, 1, "backlog of 46: only the snapshot task, fetches held")
	require.Equal(t, taskSnapshots, tasks[0].kind)

	// Index 1, 11, 21, 31, 41: evicted up to 21.
	idx := []uint64{1, 11, 21, 31, 41}
	var prev uint64
	var contents []string
	for _, v := range idx {
		require.True(t, tr.snapWanted(id, v, prev, 21), "new snapshot %d", v)
		ds, ok := tr.onSnapshot(id, v, prev, 21, entries(prev+1, v))
		require.True(t, ok)
		_, c := summarize(ds)
		contents = append(contents, c...)
		prev = v
	}
	require.Len(t, contents, 21)
	require.Equal(t, "21", contents[20])
	require.EqualValues(t, 21, tr.recovered)
	tr.onSnapDone(id, false, t0)
	s := tr.streams[id]
	require.EqualValues(t, 21, s.settled)
	require.EqualValues(t, 41, s.snapKnown)
	require.Equal(t, []uint64{22, 23, 24, 25}, seqs(tr.plan(t0)))
	require.False(t, tr.snapWanted(id, 41, 31, 21), "already stored, nothing stuck")
}

func TestTrackerSnapshotStuck(t *testing.T) {
	tr, id := snapTracker(t, 5)
	tasks := tr.plan(t0)
	require.Equal(t, taskSnapshots, tasks[0].kind, "first sight")
	require.Equal(t, []uint64{1, 2, 3, 4}, seqs(tasks), "small backlog: not held")
	tr.onSnapDone(id, false, t0)
	for _, tk := range tasks[1:] {
		if tk.seq == 2 {
			tr.onPublication(tk, pubResult{outcome: outcomeFailed}, t0)
		} else {
			tr.onPublication(tk, stored(tk), t0)
		}
	}
	// 2 fails again: stuck, look in the snapshots.
	retry := tr.plan(t0.Add(time.Second))
	require.Equal(t, []uint64{2, 5}, seqs(retry))
	for _, tk := range retry {
		if tk.seq == 2 {
			tr.onPublication(tk, pubResult{outcome: outcomeFailed}, t0)
		} else {
			tr.onPublication(tk, stored(tk), t0)
		}
	}
	s := tr.streams[id]
	require.True(t, s.snapNeed)
	snapTasks := tr.plan(t0)
	require.Len(t, snapTasks, 1)
	require.Equal(t, taskSnapshots, snapTasks[0].kind)
	require.True(t, tr.snapWanted(id, 1, 0, 0), "new")
	ds, ok := tr.onSnapshot(id, 1, 0, 0, entries(1, 1))
	require.True(t, ok)
	require.Empty(t, ds, "1 was fetched and settled already")
	require.False(t, tr.snapWanted(id, 1, 0, 0))
	// A compressed snapshot 11 without seq 2: 2 settles with nothing to hand over.
	require.True(t, tr.snapWanted(id, 11, 1, 0))
	ds, ok = tr.onSnapshot(id, 11, 1, 0, []snapEntry{{seq: 5, content: []byte("x")}, {seq: 11, content: []byte("y")}})
	require.True(t, ok)
	marks, contents := summarize(ds)
	require.Equal(t, []uint64{3, 4, 5}, marks)
	require.Equal(t, []string{"3", "4", "5"}, contents, "fetched ones win over the snapshot")
	require.EqualValues(t, 5, s.settled)
	tr.onSnapDone(id, false, t0)
}

func TestTrackerSnapshotMalformed(t *testing.T) {
	tr, id := snapTracker(t, 30)
	tr.plan(t0)
	for _, c := range []struct {
		name          string
		version, prev uint64
		entries       []snapEntry
	}{
		{"version not after prev", 11, 11, nil},
		{"entry before range", 11, 1, entries(1, 11)},
		{"entry after version", 11, 1, entries(2, 12)},
		{"does not end at version", 11, 1, entries(2, 10)},
		{"huge range", maxSnapRange + 2, 1, nil},
	} {
		_, ok := tr.onSnapshot(id, c.version, c.prev, 0, c.entries)
		require.False(t, ok, c.name)
	}
	// A failed task is retried after a backoff, from the same check point.
	s := tr.streams[id]
	tr.onSnapDone(id, true, t0)
	require.EqualValues(t, 0, s.snapChecked)
	require.Equal(t, t0.Add(100*time.Millisecond), tr.nextWake(t0))
	require.Len(t, tr.plan(t0.Add(100*time.Millisecond)), 1+0, "snapshot task again (fetches still held)")
}

func TestTrackerDeadPublisherBounded(t *testing.T) {
	tr := newTestTracker(nil)
	tr.onVector([]svEntry{{alice, 7, 1000}, {bob, 9, 1}}, nil, t0)
	now := t0
	for range 20 {
		for _, tk := range tr.plan(now) {
			if tk.node.Equal(alice) {
				tr.onPublication(tk, pubResult{outcome: outcomeFailed}, now)
			}
		}
		now = now.Add(time.Second)
	}
	s := tr.streams[streamID{node: nameKey(alice), boot: 7}]
	require.LessOrEqual(t, len(s.retry)+len(s.inflight), 4, "at most a window of failing publications")
	require.LessOrEqual(t, s.next, uint64(5))
	b := tr.streams[streamID{node: nameKey(bob), boot: 9}]
	require.True(t, b.inflight[1], "bob still got a slot")
}
