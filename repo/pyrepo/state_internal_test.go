package pyrepo

import (
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/repo"
)

func gname(comps ...string) enc.Name {
	n := enc.Name{}
	for _, c := range comps {
		n = append(n, enc.NewGenericComponent(c))
	}
	return n
}

// TestCheckMsgName: the fetched message must be exactly the one the
// notification names; an insert message offered for a delete notification
// is a topic mismatch.
func TestCheckMsgName(t *testing.T) {
	pub, repoName, nonce := gname("alice", "pub"), gname("repo"), []byte{1, 2}
	deleteTopic := VerbDelete.Topic(repoName)
	for _, tc := range []struct {
		name    string
		got     enc.Name
		ok      bool
		mention string
	}{
		{"exact", MsgName(pub, deleteTopic, nonce), true, ""},
		{"insert message for delete notify", MsgName(pub, VerbInsert.Topic(repoName), nonce), false, "/repo/insert"},
		{"sync topic", MsgName(pub, VerbLeave.Topic(repoName), nonce), false, "/repo/sync/leave"},
		{"other repo", MsgName(pub, VerbDelete.Topic(gname("other")), nonce), false, "/other/delete"},
		{"other nonce", MsgName(pub, deleteTopic, []byte{1, 3}), false, ""},
		{"other publisher", MsgName(gname("mallory"), deleteTopic, nonce), false, ""},
		{"prefix only", join(pub, enc.NewGenericComponent("msg")), false, ""},
		{"extra component", join(MsgName(pub, deleteTopic, nonce), enc.NewSegmentComponent(0)), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMsgName(pub, deleteTopic, nonce, tc.got)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrTopicMismatch)
			require.Contains(t, err.Error(), tc.mention)
		})
	}
}

// TestJoinDoesNotAlias guards against ndnd's Name.Append writing into
// spare capacity.
func TestJoinDoesNotAlias(t *testing.T) {
	base := make(enc.Name, 1, 8)
	base[0] = enc.NewGenericComponent("base")
	a := join(base, enc.NewGenericComponent("a"))
	b := join(base, enc.NewGenericComponent("b"))
	require.Equal(t, "/base/a", a.String())
	require.Equal(t, "/base/b", b.String())
}

func TestRecordResult(t *testing.T) {
	obj := func(st Status) objState { return objState{param: ObjectParam{Name: gname("o")}, status: st} }
	job := func(st repo.JobState, n uint64) objState {
		o := obj(StatusInProgress)
		o.hasJob, o.jobID, o.job = true, "j", repo.Job{State: st, Packets: n}
		return o
	}
	for _, tc := range []struct {
		name string
		rec  record
		want Status
		objs []Status
	}{
		{"malformed command", record{verb: VerbInsert, fixed: StatusMalformed}, StatusMalformed, nil},
		{"denied command", record{verb: VerbDelete, fixed: StatusFailed}, StatusFailed, nil},
		{"not started", record{verb: VerbInsert, objs: []objState{obj(StatusRoger)}}, StatusInProgress, []Status{StatusRoger}},
		{"job running", record{verb: VerbInsert, executed: true, objs: []objState{job(repo.JobRunning, 3)}}, StatusInProgress, []Status{StatusInProgress}},
		{"jobs done", record{verb: VerbInsert, executed: true, objs: []objState{job(repo.JobDone, 3), job(repo.JobDone, 1)}}, StatusCompleted, []Status{StatusCompleted, StatusCompleted}},
		{"one job failed", record{verb: VerbInsert, executed: true, objs: []objState{job(repo.JobDone, 3), job(repo.JobFailed, 1)}}, StatusFailed, []Status{StatusCompleted, StatusFailed}},
		{"one malformed", record{verb: VerbInsert, executed: true, objs: []objState{job(repo.JobDone, 3), obj(StatusMalformed)}}, StatusFailed, []Status{StatusCompleted, StatusMalformed}},
		{"malformed while running", record{verb: VerbInsert, executed: true, objs: []objState{job(repo.JobRunning, 3), obj(StatusMalformed)}}, StatusInProgress, []Status{StatusInProgress, StatusMalformed}},
		{"delete executing", record{verb: VerbDelete, objs: []objState{obj(StatusCompleted), obj(StatusRoger)}}, StatusInProgress, []Status{StatusCompleted, StatusRoger}},
		{"delete done", record{verb: VerbDelete, executed: true, objs: []objState{obj(StatusCompleted)}}, StatusCompleted, []Status{StatusCompleted}},
		{"sync done", record{verb: VerbJoin, executed: true, groups: []groupState{{param: SyncParam{SyncPrefix: gname("g")}, status: StatusCompleted}}}, StatusCompleted, nil},
		{"sync failed", record{verb: VerbJoin, executed: true, groups: []groupState{{status: StatusCompleted}, {status: StatusFailed}}}, StatusFailed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.rec.result()
			require.Equal(t, tc.want, res.Status)
			require.Len(t, res.Objects, len(tc.objs))
			for i, st := range tc.objs {
				require.Equal(t, st, res.Objects[i].Status)
				if tc.rec.verb == VerbInsert {
					require.NotNil(t, res.Objects[i].InsertNum)
					require.Nil(t, res.Objects[i].DeleteNum)
				} else {
					require.NotNil(t, res.Objects[i].DeleteNum)
				}
			}
			require.Len(t, res.SyncGroups, len(tc.rec.groups))
		})
	}
}

func TestRecordTable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tab := newRecordTable(3, time.Minute, time.Hour)
	put := func(key string, at time.Time) *record {
		r := &record{key: key, created: at}
		tab.put(r, at)
		return r
	}
	a := put("a", t0)
	require.Same(t, a, tab.get("a", t0))

	// Finished records live StatusTTL after being seen finished.
	a.doneAt = t0.Add(time.Second)
	require.NotNil(t, tab.get("a", t0.Add(time.Minute)))
	require.Nil(t, tab.get("a", t0.Add(time.Minute+2*time.Second)))
	require.Zero(t, tab.len())

	// Any record lives at most maxAge.
	put("b", t0)
	require.Nil(t, tab.get("b", t0.Add(time.Hour+time.Second)))

	// Replacing the same request number keeps one record.
	put("c", t0)
	c2 := put("c", t0.Add(time.Second))
	require.Equal(t, 1, tab.len())
	require.Same(t, c2, tab.get("c", t0.Add(time.Second)))

	// Full: expired finished records go first, then the oldest.
	d := put("d", t0.Add(2*time.Second))
	put("e", t0.Add(3*time.Second))
	d.doneAt = t0.Add(3 * time.Second)
	put("f", t0.Add(2*time.Minute)) // d expired (done 1m57s ago): dropped, c2 stays
	require.NotNil(t, tab.get("c", t0.Add(2*time.Minute)))
	require.Nil(t, tab.get("d", t0.Add(2*time.Minute)))
	put("g", t0.Add(2*time.Minute)) // full, nothing expired: the oldest (c) goes
	require.Nil(t, tab.get("c", t0.Add(2*time.Minute)))
	require.Equal(t, 3, tab.len())
	for _, k := range []string{"e", "f", "g"} {
		require.NotNil(t, tab.get(k, t0.Add(2*time.Minute)), k)
	}
	// Old entries are pruned on put even when not full.
	put("h", t0.Add(3*time.Hour))
	require.Equal(t, 1, tab.len())
}

func TestSeenTable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tab := newSeenTable(3, time.Minute)
	require.Equal(t, seenNew, tab.claim("a", t0))
	require.Equal(t, seenPending, tab.claim("a", t0))
	tab.done("a")
	require.Equal(t, seenDone, tab.claim("a", t0.Add(59*time.Second)))
	require.Equal(t, seenNew, tab.claim("a", t0.Add(61*time.Second)), "the window has passed")

	tab.forget("a")
	require.Equal(t, seenNew, tab.claim("a", t0), "forgotten: handled anew")

	// Bounded: the oldest is forgotten early.
	for i := range 5 {
		require.Equal(t, seenNew, tab.claim(fmt.Sprint(i), t0))
	}
	require.Equal(t, 3, tab.len())
	require.Equal(t, seenNew, tab.claim("0", t0))
	tab.done("missing") // no effect
	tab.forget("missing")
}
