package pyrepo_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// TestInsertCheckProgress: an insert becomes one Backend.Insert with every
// ObjParam field mapped, and check reports the job's progress, then success.
func TestInsertCheckProgress(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
	f.backend.allow(alice.id, "insert")
	ctx := tctx(t, 20*time.Second)

	obj := pyrepo.ObjectParam{
		Name:           name(t, "/ndntest/data/file/v=1"),
		ForwardingHint: []enc.Name{name(t, "/ndntest/hint")},
		StartBlockID:   u64(0),
		EndBlockID:     u64(9),
		RegisterPrefix: name(t, "/ndntest/data"),
	}
	no, err := alice.client.Publish(ctx, pyrepo.VerbInsert, &pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{obj}})
	require.NoError(t, err)
	sum := sha256.Sum256((&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{obj}}).Encode())
	require.Equal(t, sum[:], no, "request number is the SHA-256 of the command content")

	waitFor(t, "Backend.Insert", func() bool { n, _, _, _ := f.backend.calls(); return n == 1 })
	got := f.backend.insertSpecs()[0]
	require.True(t, got.Name.Equal(obj.Name))
	require.Equal(t, uint64(0), *got.StartSeg)
	require.Equal(t, uint64(9), *got.EndSeg)
	require.True(t, got.ForwardingHint.Equal(obj.ForwardingHint[0]))
	require.True(t, got.Register.Equal(obj.RegisterPrefix))
	require.True(t, alice.id.KeyName().Equal(got.Caller), "caller is the message signer's key: %s", got.Caller)

	check := func() *pyrepo.CommandRes {
		res, err := alice.client.Check(ctx, pyrepo.VerbInsert, no)
		require.NoError(t, err)
		require.Len(t, res.Objects, 1)
		require.True(t, res.Objects[0].Name.Equal(obj.Name))
		return res
	}
	res := check()
	require.Equal(t, pyrepo.StatusInProgress, res.Status)
	require.Equal(t, pyrepo.StatusInProgress, res.Objects[0].Status)
	require.Equal(t, uint64(0), *res.Objects[0].InsertNum)

	f.backend.setJob("job1", repo.JobRunning, 4)
	res = check()
	require.Equal(t, pyrepo.StatusInProgress, res.Status)
	require.Equal(t, uint64(4), *res.Objects[0].InsertNum)

	f.backend.setJob("job1", repo.JobDone, 10)
	res = check()
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	require.Equal(t, pyrepo.StatusCompleted, res.Objects[0].Status)
	require.Equal(t, uint64(10), *res.Objects[0].InsertNum)
	require.Nil(t, res.Objects[0].DeleteNum)
	require.Equal(t, 1, f.backend.count("insert/ok"))

	// A check on the wrong verb does not see the insert.
	res, err = alice.client.Check(ctx, pyrepo.VerbDelete, no)
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusNotFound, res.Status)
}

// TestInsertSubmit: Client.Insert with several objects waits for every job;
// a failed job makes the command FAILED and Insert a *StatusError.
func TestInsertSubmit(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
	f.backend.allow(alice.id, "insert")
	ctx := tctx(t, 20*time.Second)

	objs := []pyrepo.ObjectParam{{Name: name(t, "/ndntest/a")}, {Name: name(t, "/ndntest/b")}}
	done := finishJobs(ctx, f.backend, 2, repo.JobDone, repo.JobDone)
	res, err := alice.client.Insert(ctx, objs...)
	<-done
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	require.Len(t, res.Objects, 2)

	done = finishJobs(ctx, f.backend, 3, repo.JobFailed)
	res, err = alice.client.Insert(ctx, pyrepo.ObjectParam{Name: name(t, "/ndntest/c"), StartBlockID: u64(3)})
	<-done
	var se *pyrepo.StatusError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusFailed, res.Status)
	require.Equal(t, uint64(3), *res.Objects[0].InsertNum)
	spec := f.backend.insertSpecs()[2]
	require.Equal(t, uint64(3), *spec.StartSeg)
	require.Nil(t, spec.EndSeg, "only a start block id: open-ended")
}

// TestInsertBackendError: an Insert the backend refuses is FAILED.
func TestInsertBackendError(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	f.backend.failOn = "insert"
	alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
	f.backend.allow(alice.id, "insert")
	res, err := alice.client.Insert(tctx(t, 10*time.Second), pyrepo.ObjectParam{Name: name(t, "/ndntest/x")})
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusFailed, res.Objects[0].Status)
	require.Equal(t, 1, f.backend.count("insert/failed"))
}

// TestDelete maps each ObjParam form onto Backend.Delete and reports
// delete_num.
func TestDelete(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	bob := newUser(t, f, "bob", pyrepo.ClientConfig{})
	f.backend.allow(bob.id, "delete")
	seg := func(base string, i uint64) enc.Name { return name(t, base).Append(enc.NewSegmentComponent(i)) }
	f.backend.store(name(t, "/ndntest/single"),
		seg("/ndntest/range", 0), seg("/ndntest/range", 1), seg("/ndntest/range", 2), seg("/ndntest/range", 3),
		seg("/ndntest/all", 0), seg("/ndntest/all", 1),
		seg("/ndntest/open", 5), seg("/ndntest/open", 6))

	res, err := bob.client.Delete(tctx(t, 10*time.Second),
		pyrepo.ObjectParam{Name: name(t, "/ndntest/single")},
		pyrepo.ObjectParam{Name: name(t, "/ndntest/range"), StartBlockID: u64(1), EndBlockID: u64(2)},
		pyrepo.ObjectParam{Name: name(t, "/ndntest/all"), StartBlockID: u64(0)},
		pyrepo.ObjectParam{Name: name(t, "/ndntest/open"), StartBlockID: u64(5)},
		pyrepo.ObjectParam{Name: name(t, "/ndntest/missing")},
	)
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	want := []uint64{1, 2, 2, 2, 0}
	for i, o := range res.Objects {
		require.Equal(t, pyrepo.StatusCompleted, o.Status, o.Name.String())
		require.Equal(t, want[i], *o.DeleteNum, o.Name.String())
		require.Nil(t, o.InsertNum)
	}
	f.backend.mu.Lock()
	calls := append([]deleteCall(nil), f.backend.deletes...)
	f.backend.mu.Unlock()
	require.Len(t, calls, 1+2+1+3+1, "range: 2 calls; all: 1 prefix call; open: 2 hits and the miss that stops it")
	require.False(t, calls[0].prefix)
	require.True(t, calls[1].name.Equal(seg("/ndntest/range", 1)))
	require.True(t, calls[3].prefix)
	require.True(t, calls[3].name.Equal(name(t, "/ndntest/all")))
	require.True(t, calls[6].name.Equal(seg("/ndntest/open", 7)))
	require.Equal(t, 1, f.backend.count("delete/ok"))
}

// TestSyncJoinLeave: each SyncParam becomes JoinGroup / LeaveGroup, and the
// sync check extension reports the outcome.
func TestSyncJoinLeave(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	carol := newUser(t, f, "carol", pyrepo.ClientConfig{})
	f.backend.allow(carol.id, "join", "leave")
	ctx := tctx(t, 10*time.Second)
	g1, g2 := name(t, "/ndntest/group/one"), name(t, "/ndntest/group/two")

	res, err := carol.client.Join(ctx, pyrepo.SyncParam{SyncPrefix: g1, DataNameDedupe: true}, pyrepo.SyncParam{SyncPrefix: g2, RegisterPrefix: name(t, "/ndntest/reg")})
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	require.Len(t, res.SyncGroups, 2)
	require.True(t, res.SyncGroups[1].Name.Equal(g2))

	res, err = carol.client.Leave(ctx, pyrepo.SyncParam{SyncPrefix: g1})
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)

	f.backend.mu.Lock()
	defer f.backend.mu.Unlock()
	require.Len(t, f.backend.joins, 2)
	require.True(t, f.backend.joins[0].Group.Equal(g1))
	require.True(t, f.backend.joins[1].Group.Equal(g2))
	require.Len(t, f.backend.leaves, 1)
	require.True(t, f.backend.leaves[0].Equal(g1))
	require.Equal(t, 1, f.backend.counts["join/ok"])
	require.Equal(t, 1, f.backend.counts["leave/ok"])
}

// TestSyncJoinMalformed: a register prefix equal to the sync prefix is
// refused, as ndn-python-repo does.
func TestSyncJoinMalformed(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	carol := newUser(t, f, "carol", pyrepo.ClientConfig{})
	f.backend.allow(carol.id, "join")
	g := name(t, "/ndntest/group")
	res, err := carol.client.Join(tctx(t, 10*time.Second), pyrepo.SyncParam{SyncPrefix: g, RegisterPrefix: g})
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusMalformed, res.SyncGroups[0].Status)
	_, _, joins, _ := f.backend.calls()
	require.Zero(t, joins)
}

// TestUnauthorizedCaller: a trusted caller without permission gets FAILED
// with no object results; nothing reaches the backend.
func TestUnauthorizedCaller(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	mallory := newUser(t, f, "mallory", pyrepo.ClientConfig{})
	f.backend.allow(mallory.id, "insert") // may insert, not delete
	f.backend.store(name(t, "/ndntest/victim"))

	res, err := mallory.client.Delete(tctx(t, 10*time.Second), pyrepo.ObjectParam{Name: name(t, "/ndntest/victim")})
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusFailed, res.Status)
	require.Empty(t, res.Objects)
	_, deletes, _, _ := f.backend.calls()
	require.Zero(t, deletes)
	require.Equal(t, 1, f.backend.count("delete/denied"))

	// One denied object rejects the whole command.
	f.backend.mu.Lock()
	f.backend.forbidden = []enc.Name{name(t, "/ndntest/secret")}
	f.backend.mu.Unlock()
	res, err = mallory.client.Insert(tctx(t, 10*time.Second), pyrepo.ObjectParam{Name: name(t, "/ndntest/ok")}, pyrepo.ObjectParam{Name: name(t, "/ndntest/secret/x")})
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusFailed, res.Status)
	require.Empty(t, res.Objects)
	inserts, _, _, _ := f.backend.calls()
	require.Zero(t, inserts)
	require.Equal(t, 1, f.backend.count("insert/denied"))
}

// TestUnauthenticatedMessage: message Data that is unsigned, signed by an
// untrusted key, or forged under a trusted key's name is never executed;
// check answers NOT-FOUND.
func TestUnauthenticatedMessage(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := ndntest.Identity(t, "alice")
	f.backend.allow(alice, "insert", "delete")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	pub := newRawPub(t, node)
	stranger, err := security.NewSelfSigned(name(t, "/ndntest/stranger"), nil)
	require.NoError(t, err)
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	forger := sig.NewEd25519Signer(alice.KeyName(), priv)

	content := (&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/ndntest/data")}}}).Encode()
	for _, tc := range []struct {
		name   string
		signer ndn.Signer
		mangle bool
	}{
		{"digest", sig.NewSha256Signer(), false},
		{"untrusted key", stranger.Signer(), false},
		{"forged key locator", forger, false},
		{"corrupted signature", alice.Signer(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nonce := []byte(tc.name)
			msgName := pyrepo.MsgName(pub.prefix, pyrepo.VerbInsert.Topic(f.repo), nonce)
			d, err := spec.Spec{}.MakeData(msgName, &ndn.DataConfig{}, enc.Wire{content}, tc.signer)
			require.NoError(t, err)
			w := d.Wire
			if tc.mangle {
				b := w.Join()
				b[len(b)-1] ^= 0xff
				w = enc.Wire{b}
			}
			before := f.backend.count("insert/unauthenticated")
			require.NoError(t, pub.publish(t, f.repo, pyrepo.VerbInsert, nonce, w), "the notification is acknowledged")
			waitFor(t, "rejection", func() bool { return f.backend.count("insert/unauthenticated") == before+1 })
			n, _, _, _ := f.backend.calls()
			require.Zero(t, n)
			c, err := pyrepo.NewClient(node, pyrepo.ClientConfig{Repo: f.repo})
			require.NoError(t, err)
			defer c.Close()
			sum := sha256.Sum256(content)
			res, err := c.Check(tctx(t, 5*time.Second), pyrepo.VerbInsert, sum[:])
			require.NoError(t, err)
			require.Equal(t, pyrepo.StatusNotFound, res.Status)
		})
	}
	records, _ := f.srv.Stats()
	require.Zero(t, records, "nothing stored for unauthenticated commands")
}

// TestReplayedNotify: the same notification (publisher, nonce) sent again
// is acknowledged but not run again, even while the publisher still serves
// the message.
func TestReplayedNotify(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := ndntest.Identity(t, "alice")
	f.backend.allow(alice, "insert")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	pub := newRawPub(t, node)
	nonce := []byte{1, 2, 3, 4}
	msgName := pyrepo.MsgName(pub.prefix, pyrepo.VerbInsert.Topic(f.repo), nonce)
	content := (&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/ndntest/data")}}}).Encode()
	w, err := node.SignData(msgName, nil, enc.Wire{content})
	require.NoError(t, err)

	require.NoError(t, pub.publish(t, f.repo, pyrepo.VerbInsert, nonce, w))
	waitFor(t, "insert", func() bool { n, _, _, _ := f.backend.calls(); return n == 1 })
	asked := pub.msgInterests()
	for range 3 {
		require.NoError(t, pub.publish(t, f.repo, pyrepo.VerbInsert, nonce, w), "a replay is acknowledged")
	}
	require.Equal(t, 3, f.backend.count("insert/duplicate"))
	require.Equal(t, asked, pub.msgInterests(), "a replay does not even fetch the message")
	n, _, _, _ := f.backend.calls()
	require.Equal(t, 1, n)
	require.Equal(t, 1, f.backend.count("insert/ok"))
}

// TestTopicSwap: an insert message offered in answer to a delete
// notification is not executed as a delete (nor as an insert).
func TestTopicSwap(t *testing.T) {
	f := newFixture(t, pyrepo.Config{FetchAttempts: 1})
	alice := ndntest.Identity(t, "alice")
	f.backend.allow(alice, "insert", "delete")
	f.backend.store(name(t, "/ndntest/data"))
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	pub := newRawPub(t, node)
	nonce := []byte("swap")
	insertMsg := pyrepo.MsgName(pub.prefix, pyrepo.VerbInsert.Topic(f.repo), nonce)
	content := (&pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/ndntest/data")}}}).Encode()
	w, err := node.SignData(insertMsg, nil, enc.Wire{content})
	require.NoError(t, err)
	pub.mu.Lock()
	pub.any = w // whatever the repo asks for, it gets the signed insert message
	pub.mu.Unlock()

	np := pyrepo.NotifyAppParam{Publisher: pub.prefix, Nonce: nonce}
	err = pub.notify(t, f.repo, pyrepo.VerbDelete, np.Encode(), time.Second)
	require.ErrorIs(t, err, ndnx.ErrTimeout, "no acknowledgement: the repo never got a matching message")
	waitFor(t, "fetch failure", func() bool { return f.backend.count("delete/unreachable") == 1 })
	require.NotZero(t, pub.msgInterests())
	n, d, _, _ := f.backend.calls()
	require.Zero(t, n)
	require.Zero(t, d)
}

// TestGarbageNotify: undecodable, oversize and hostile notify parameters
// are dropped without harm, and the server keeps serving.
func TestGarbageNotify(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
	f.backend.allow(alice.id, "insert")
	pub := newRawPub(t, alice.node)
	long := make([]byte, 300)
	for _, tc := range []struct {
		name  string
		param []byte
	}{
		{"empty", []byte{}},
		{"random", []byte{0xde, 0xad, 0xbe, 0xef}},
		{"tlv bomb", []byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}},
		{"huge length", []byte{0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"no nonce", pub.prefix.Bytes()},
		{"unknown type", append((&pyrepo.NotifyAppParam{Publisher: pub.prefix, Nonce: []byte{1}}).Encode(), 0x81, 0x00)},
		{"oversize", make([]byte, 4096)},
		{"long nonce", (&pyrepo.NotifyAppParam{Publisher: pub.prefix, Nonce: long}).Encode()},
		{"long component", (&pyrepo.NotifyAppParam{Publisher: enc.Name{enc.NewGenericBytesComponent(long)}, Nonce: []byte{1}}).Encode()},
		{"empty publisher", (&pyrepo.NotifyAppParam{Publisher: enc.Name{}, Nonce: []byte{1}}).Encode()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.backend.count("insert/malformed")
			err := pub.notify(t, f.repo, pyrepo.VerbInsert, tc.param, 400*time.Millisecond)
			require.ErrorIs(t, err, ndnx.ErrTimeout, "garbage is not acknowledged")
			require.Equal(t, before+1, f.backend.count("insert/malformed"))
		})
	}
	require.Zero(t, pub.msgInterests())

	// Garbage command content, signed by a trusted key: MALFORMED.
	nonce := []byte{9}
	garbage := []byte{0x01, 0x02, 0x03}
	w, err := alice.node.SignData(pyrepo.MsgName(pub.prefix, pyrepo.VerbInsert.Topic(f.repo), nonce), nil, enc.Wire{garbage})
	require.NoError(t, err)
	require.NoError(t, pub.publish(t, f.repo, pyrepo.VerbInsert, nonce, w))
	sum := sha256.Sum256(garbage)
	res, err := alice.client.Check(tctx(t, 5*time.Second), pyrepo.VerbInsert, sum[:])
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusMalformed, res.Status)
	require.Empty(t, res.Objects)

	// Objects with bad parameters: MALFORMED objects, FAILED command; the
	// good object still runs.
	res, err = alice.client.Insert(tctx(t, 10*time.Second),
		pyrepo.ObjectParam{Name: name(t, "/ndntest/bad"), StartBlockID: u64(5), EndBlockID: u64(1)},
		pyrepo.ObjectParam{Name: f.repo.Append(enc.NewGenericComponent("inside"))},
	)
	require.ErrorIs(t, err, pyrepo.ErrCommandFailed)
	require.Equal(t, pyrepo.StatusMalformed, res.Objects[0].Status)
	require.Equal(t, pyrepo.StatusMalformed, res.Objects[1].Status)

	// Garbage check parameters: MALFORMED.
	i, err := alice.node.MakeInterest(tctx(t, 3*time.Second), pyrepo.VerbInsert.CheckPrefix(f.repo), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte{0xce, 0x05, 1}}, true)
	require.NoError(t, err)
	d, err := alice.node.Express(tctx(t, 3*time.Second), i)
	require.NoError(t, err)
	res, err = pyrepo.DecodeCommandRes(d.Data.Content().Join())
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusMalformed, res.Status)

	// The server still works.
	ctx := tctx(t, 10*time.Second)
	done := finishJobs(ctx, f.backend, 1, repo.JobDone)
	res, err = alice.client.Insert(ctx, pyrepo.ObjectParam{Name: name(t, "/ndntest/good")})
	<-done
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
}

// TestCheckAuthorization: checks must be signed by a trusted key unless
// PublicStatus; another caller needs "status" permission.
func TestCheckAuthorization(t *testing.T) {
	for _, public := range []bool{false, true} {
		t.Run(map[bool]string{false: "private", true: "public"}[public], func(t *testing.T) {
			f := newFixture(t, pyrepo.Config{PublicStatus: public})
			alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
			f.backend.allow(alice.id, "insert")
			ctx := tctx(t, 10*time.Second)
			no, err := alice.client.Publish(ctx, pyrepo.VerbInsert, &pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/ndntest/x")}}})
			require.NoError(t, err)

			// An NDNts-style check: DigestSha256-signed.
			q := (&pyrepo.StatQuery{RequestNo: no}).Encode()
			i, err := spec.Spec{}.MakeInterest(pyrepo.VerbInsert.CheckPrefix(f.repo), &ndn.InterestConfig{MustBeFresh: true, Lifetime: optional.Some(3 * time.Second), Nonce: optional.Some(rand.Uint32())}, enc.Wire{q}, sig.NewSha256Signer())
			require.NoError(t, err)
			d, err := alice.node.Express(ctx, i)
			require.NoError(t, err)
			res, err := pyrepo.DecodeCommandRes(d.Data.Content().Join())
			require.NoError(t, err)
			if public {
				require.Equal(t, pyrepo.StatusInProgress, res.Status)
			} else {
				require.Equal(t, pyrepo.StatusNotFound, res.Status)
				require.Equal(t, 1, f.backend.count("status/unauthenticated"))
			}

			// Another trusted identity: needs "status".
			eve := newUser(t, f, "eve", pyrepo.ClientConfig{})
			res, err = eve.client.Check(ctx, pyrepo.VerbInsert, no)
			require.NoError(t, err)
			if public {
				require.Equal(t, pyrepo.StatusInProgress, res.Status)
				return
			}
			require.Equal(t, pyrepo.StatusNotFound, res.Status)
			require.Equal(t, 1, f.backend.count("status/denied"))
			f.backend.allow(eve.id, "status")
			res, err = eve.client.Check(ctx, pyrepo.VerbInsert, no)
			require.NoError(t, err)
			require.Equal(t, pyrepo.StatusInProgress, res.Status)
		})
	}
}

// TestUnknownRequest: a check for a request number nobody sent is
// NOT-FOUND.
func TestUnknownRequest(t *testing.T) {
	f := newFixture(t, pyrepo.Config{})
	alice := newUser(t, f, "alice", pyrepo.ClientConfig{})
	res, err := alice.client.Check(tctx(t, 5*time.Second), pyrepo.VerbDelete, make([]byte, 32))
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusNotFound, res.Status)
}

// TestServeErrors covers Serve's argument checks and Close's idempotence.
func TestServeErrors(t *testing.T) {
	ctx := tctx(t, 5*time.Second)
	anon := ndntest.Connect(t, ndnx.Config{})
	_, err := pyrepo.Serve(ctx, anon, newFakeBackend(), pyrepo.Config{Prefix: ndntest.Prefix(t)})
	require.ErrorIs(t, err, pyrepo.ErrNoIdentity)
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "repo")})
	_, err = pyrepo.Serve(ctx, node, newFakeBackend(), pyrepo.Config{})
	require.Error(t, err)
	_, err = pyrepo.NewClient(anon, pyrepo.ClientConfig{Repo: ndntest.Prefix(t)})
	require.ErrorIs(t, err, pyrepo.ErrNoIdentity)

	prefix := ndntest.Prefix(t)
	s, err := pyrepo.Serve(ctx, node, newFakeBackend(), pyrepo.Config{Prefix: prefix})
	require.NoError(t, err)
	_, err = pyrepo.Serve(ctx, node, newFakeBackend(), pyrepo.Config{Prefix: prefix})
	require.Error(t, err, "the prefix is taken")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	s, err = pyrepo.Serve(ctx, node, newFakeBackend(), pyrepo.Config{Prefix: prefix})
	require.NoError(t, err, "Close detached every handler")
	require.NoError(t, s.Close())

	c, err := pyrepo.NewClient(node, pyrepo.ClientConfig{Repo: prefix})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err = c.Publish(ctx, pyrepo.VerbInsert, &pyrepo.CommandParam{})
	require.ErrorIs(t, err, pyrepo.ErrClosed)
}

// TestNoRepo: publishing to a repo nobody serves fails with ErrNoAck.
func TestNoRepo(t *testing.T) {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "alice")})
	c, err := pyrepo.NewClient(node, pyrepo.ClientConfig{Repo: ndntest.Prefix(t), NotifyAttempts: 2})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err = c.Publish(ctx, pyrepo.VerbInsert, &pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/x")}}})
	require.True(t, errors.Is(err, pyrepo.ErrNoAck) || errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// TestCloseWhileFetching: Close cancels a message fetch in progress and
// returns without waiting for the notify lifetime; beyond MaxInFlight,
// notifications are dropped as busy.
func TestCloseWhileFetching(t *testing.T) {
	f := newFixture(t, pyrepo.Config{MaxInFlight: 1})
	alice := ndntest.Identity(t, "alice")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	pub := newRawPub(t, node) // serves nothing: the fetch hangs

	np1 := pyrepo.NotifyAppParam{Publisher: pub.prefix, Nonce: []byte{1}}
	ctx := tctx(t, 5*time.Second)
	i, err := node.MakeInterest(ctx, pyrepo.VerbInsert.NotifyPrefix(f.repo), &ndn.InterestConfig{Lifetime: optional.Some(2500 * time.Millisecond)}, enc.Wire{np1.Encode()}, true)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := node.Express(ctx, i)
		errc <- err
	}()
	waitFor(t, "msg Interest", func() bool { return pub.msgInterests() > 0 })
	np := pyrepo.NotifyAppParam{Publisher: pub.prefix, Nonce: []byte{2}}
	require.ErrorIs(t, pub.notify(t, f.repo, pyrepo.VerbInsert, np.Encode(), 300*time.Millisecond), ndnx.ErrTimeout)
	require.Equal(t, 1, f.backend.count("insert/busy"))

	start := time.Now()
	require.NoError(t, f.srv.Close())
	require.Less(t, time.Since(start), 2*time.Second, "Close does not wait for the notify lifetime")
	require.ErrorIs(t, <-errc, ndnx.ErrTimeout)
	require.Equal(t, 1, f.backend.count("insert/unreachable"))
}

// TestStatusExpiry: a finished command's status is forgotten StatusTTL
// after a check first saw it finished.
func TestStatusExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFixture(t, pyrepo.Config{StatusTTL: time.Minute, Now: clock})
	bob := newUser(t, f, "bob", pyrepo.ClientConfig{})
	f.backend.allow(bob.id, "delete")
	ctx := tctx(t, 10*time.Second)
	no, err := bob.client.Publish(ctx, pyrepo.VerbDelete, &pyrepo.CommandParam{Objects: []pyrepo.ObjectParam{{Name: name(t, "/ndntest/x")}}})
	require.NoError(t, err)
	waitFor(t, "delete", func() bool { return f.backend.count("delete/ok") == 1 })
	res, err := bob.client.Check(ctx, pyrepo.VerbDelete, no)
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	advance(59 * time.Second)
	res, err = bob.client.Check(ctx, pyrepo.VerbDelete, no)
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status)
	advance(2 * time.Second)
	res, err = bob.client.Check(ctx, pyrepo.VerbDelete, no)
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusNotFound, res.Status)
	records, pubs := f.srv.Stats()
	require.Zero(t, records)
	require.Equal(t, 1, pubs)
}
