package ndndrepo_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// An application written for ndnd joins the repo to its group with ndnd's
// own ExpressCommand, exactly as alo-history does, with a trust config that
// signs the command with its key.
func TestNdndClientSyncJoin(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	app := newNdndApp(t, "alice", true)
	group := under(f.prefix, "chat")

	o := app.express(t, f.prefix, syncJoin(tlv.SyncProtocolSvsV3, group, 100).Encode())

	require.NotNil(t, o.res, "the repo answered")
	require.Equal(t, ndndrepo.StatusOK, o.res.Status, o.res.Message)
	b := f.b.snapshot()
	require.Len(t, b.joins, 1)
	require.True(t, b.joins[0].Group.Equal(group))
	require.Nil(t, b.joins[0].MulticastPrefix)
	require.Equal(t, uint64(100), b.joins[0].HistorySnapshot)
	require.Equal(t, []string{"join " + app.id.KeyName().String() + " " + group.String()}, b.authz,
		"the signer's key is authorized for the verb on the group")
	require.Equal(t, 1, b.counts["ndnd/join/ok"])

	// ndnd v1.5.3's ExpressCommand validates the reply's signature over the
	// command's bytes instead of the reply's (std/object/client_cmd.go:96),
	// so with a trust config it reports an error for every signed reply,
	// ours or ndnd's repo's. The command ran all the same.
	require.Error(t, o.cbErr)
	require.Contains(t, o.cbErr.Error(), "validation failed")
}

// alo-history as written (object.NewClient(engine, store, nil)) signs its
// command with DigestSha256: secure by default, the repo refuses it (401),
// and, with no trust config, the app's callback gets the refusal.
func TestAloHistoryAsWrittenIsRefused(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	app := newNdndApp(t, "alo", false)
	group := under(f.prefix, "svs")

	o := app.express(t, f.prefix, syncJoin(tlv.SyncProtocolSvsV3, group, 100).Encode())

	require.NoError(t, o.cbErr)
	res, err := ndndrepo.ParseResponse(o.cbContent)
	require.NoError(t, err)
	require.Equal(t, ndndrepo.StatusUnauthorized, res.Status, res.Message)
	b := f.b.snapshot()
	require.Empty(t, b.joins)
	require.Empty(t, b.authz, "no authorization without authentication")
	require.Equal(t, 1, b.counts["ndnd/join/unauthenticated"])

	// The node's own ndnd client (NullSchema trust: DigestSha256 too) gets
	// the same refusal, which its reply validation then hides.
	done := make(chan error, 1)
	app.node.Client().ExpressCommand(ndndrepo.CommandName(f.prefix), app.id.Name().Append(enc.NewKeywordComponent("repo")),
		syncJoin(tlv.SyncProtocolSvsV3, group, 100).Encode(), func(_ enc.Wire, err error) { done <- err })
	select {
	case err := <-done:
		require.Error(t, err)
	case <-tctx(t, 10*time.Second).Done():
		t.Fatal("no callback")
	}
	require.Empty(t, f.b.snapshot().joins)
}

// Commands that are well-signed but wrong get 400, or 403 when the signer
// may not do what it asks; none reaches the backend.
func TestNdndClientRefusals(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	app := newNdndApp(t, "bob", true)
	group := under(f.prefix, "g")
	f.b.setDeny(func(_ enc.Name, _ string, target enc.Name) bool {
		return under(f.prefix, "forbidden").IsPrefix(target)
	})
	otherProto := name(t, "/32=ndn/32=svs/v=2")

	tests := []struct {
		name    string
		cmd     enc.Wire
		want    uint64
		wantMsg string
		count   string
	}{
		{"wrong protocol", syncJoin(otherProto, group, 0).Encode(), ndndrepo.StatusBadRequest, "unsupported sync protocol", "ndnd/join/bad_request"},
		{"no protocol", syncJoin(nil, group, 0).Encode(), ndndrepo.StatusBadRequest, "no sync protocol", "ndnd/join/bad_request"},
		{"missing group", syncJoin(tlv.SyncProtocolSvsV3, nil, 0).Encode(), ndndrepo.StatusBadRequest, "no group", "ndnd/join/bad_request"},
		{"empty group", syncJoin(tlv.SyncProtocolSvsV3, enc.Name{}, 0).Encode(), ndndrepo.StatusBadRequest, "no group", "ndnd/join/bad_request"},
		{"threshold below 10", syncJoin(tlv.SyncProtocolSvsV3, group, 9).Encode(), ndndrepo.StatusBadRequest, "threshold 9", "ndnd/join/bad_request"},
		{"empty RepoCmd", (&tlv.RepoCmd{}).Encode(), ndndrepo.StatusBadRequest, "not a repo command", "ndnd/unknown/bad_request"},
		{"application data", enc.Wire{[]byte("hello repo")}, ndndrepo.StatusBadRequest, "not a repo command", "ndnd/unknown/bad_request"},
		{"two commands", (&tlv.RepoCmd{
			SyncJoin:  syncJoin(tlv.SyncProtocolSvsV3, group, 0).SyncJoin,
			BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: under(group, "x")}},
		}).Encode(), ndndrepo.StatusBadRequest, "exactly one", "ndnd/unknown/bad_request"},
		{"empty BlobFetch", (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{}}).Encode(), ndndrepo.StatusBadRequest, "neither Name nor Data", "ndnd/blobfetch/bad_request"},
		{"unauthorized join", syncJoin(tlv.SyncProtocolSvsV3, under(f.prefix, "forbidden", "g"), 0).Encode(), ndndrepo.StatusForbidden, "may not join", "ndnd/join/denied"},
		{"unauthorized BlobFetch", (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: under(f.prefix, "forbidden", "blob")}}}).Encode(),
			ndndrepo.StatusForbidden, "may not insert", "ndnd/blobfetch/denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := app.express(t, f.prefix, tt.cmd)
			require.NotNil(t, o.res)
			require.Equal(t, tt.want, o.res.Status, o.res.Message)
			require.Contains(t, o.res.Message, tt.wantMsg)
			require.GreaterOrEqual(t, f.b.snapshot().counts[tt.count], 1, "counted as %s", tt.count)
		})
	}
	b := f.b.snapshot()
	require.Empty(t, b.joins)
	require.Empty(t, b.inserts)
}

// Whatever else arrives in ApplicationParameters gets a 400 (or 401 when it
// is a signed Data that does not authenticate), never a panic and never
// backend work.
func TestGarbageParams(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	clientID := ndntest.Identity(t, "mallory")
	client := ndntest.Connect(t, ndnx.Config{Identity: clientID})
	group := under(f.prefix, "g")
	join := syncJoin(tlv.SyncProtocolSvsV3, group, 0).Encode().Join()
	dataName := under(clientID.Name(), "cmd")

	// A Data with no SignatureInfo at all: Name + Content.
	unsigned := tlvOf(0x06, append(dataName.Bytes(), tlvOf(0x15, join)...))
	strangerKey, err := sig.KeygenEd25519(name(t, "/stranger/KEY/k1"))
	require.NoError(t, err)
	corrupt := signedCommand(t, clientID.Signer(), dataName, join)
	corrupt[len(corrupt)-1] ^= 0xff
	// A BlobFetch whose Data element claims 0xFFFFFFF0 bytes: ndnd's
	// parser would make([]byte, l) before noticing it has one.
	bomb := []byte{0xfd, 0x1d, 0xb2, 0x09, 0xfd, 0x01, 0xba, 0xfe, 0xff, 0xff, 0xff, 0xf0, 0x01}

	tests := []struct {
		name   string
		params []byte
		want   uint64
	}{
		{"no parameters", nil, ndndrepo.StatusBadRequest},
		{"garbage", []byte("garbage!"), ndndrepo.StatusBadRequest},
		{"12 GiB name bomb", []byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30}, ndndrepo.StatusBadRequest},
		{"Data with trailing bytes", append(signedCommand(t, clientID.Signer(), dataName, join), 0x00), ndndrepo.StatusBadRequest},
		{"unsigned Data", unsigned, ndndrepo.StatusBadRequest},
		{"content length bomb", signedCommand(t, clientID.Signer(), dataName, bomb), ndndrepo.StatusBadRequest},
		{"DigestSha256", signedCommand(t, sig.NewSha256Signer(), dataName, join), ndndrepo.StatusUnauthorized},
		{"self-signed stranger", signedCommand(t, strangerKey, dataName, join), ndndrepo.StatusUnauthorized},
		{"corrupt signature", corrupt, ndndrepo.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := rawCommand(t, client, f.prefix, tt.params)
			require.Equal(t, tt.want, res.Status, res.Message)
		})
	}
	b := f.b.snapshot()
	require.Empty(t, b.joins)
	require.Empty(t, b.authz)
}

// A command Data sent again, by its author or anyone who captured it, is
// answered from memory and does no work; a failed one can be retried.
func TestReplayDedup(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	app := newNdndApp(t, "carol", true)
	blob := under(f.prefix, "blob", "v1")
	cmd := (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: blob}}}).Encode()

	first := app.express(t, f.prefix, cmd)
	require.Equal(t, ndndrepo.StatusOK, first.res.Status, first.res.Message)
	require.Equal(t, "job job1", first.res.Message)

	// The app sends the same command again: ExpressCommand makes the same
	// Data (deterministic Ed25519), so it is the same command.
	again := app.express(t, f.prefix, cmd)
	require.Equal(t, first.params, again.params, "same command Data")
	require.Equal(t, ndndrepo.StatusOK, again.res.Status)
	require.Equal(t, "job job1", again.res.Message, "the remembered reply")

	// An eavesdropper replays the captured command Data from elsewhere.
	eve := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "eve")})
	res := rawCommand(t, eve, f.prefix, first.params)
	require.Equal(t, ndndrepo.StatusOK, res.Status)
	require.Equal(t, "job job1", res.Message)

	b := f.b.snapshot()
	require.Len(t, b.inserts, 1, "the insert ran once")
	require.True(t, b.inserts[0].Name.Equal(blob))
	require.True(t, b.inserts[0].Caller.Equal(app.id.KeyName()), "Caller is the signer")
	require.Equal(t, 1, b.counts["ndnd/blobfetch/ok"])
	require.Equal(t, 2, b.counts["ndnd/blobfetch/duplicate"])

	// A failure is not remembered: the same bytes run again.
	blob2 := under(f.prefix, "blob", "v2")
	cmd2 := (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: blob2}}}).Encode()
	f.b.setFailNext(errors.New("disk on fire"))
	failed := app.express(t, f.prefix, cmd2)
	require.Equal(t, ndndrepo.StatusInternalError, failed.res.Status)
	require.NotContains(t, failed.res.Message, "disk on fire", "internal errors stay in the log")
	retried := app.express(t, f.prefix, cmd2)
	require.Equal(t, ndndrepo.StatusOK, retried.res.Status, retried.res.Message)
	require.Len(t, f.b.snapshot().inserts, 2)
}

// A replay arriving after the dedup window runs again (documented limit);
// with a fake clock the window is exact.
func TestReplayAfterWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	f := newFixture(t, ndndrepo.Config{DedupWindow: time.Minute, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}})
	id := ndntest.Identity(t, "dave")
	client := ndntest.Connect(t, ndnx.Config{Identity: id})
	params := signedCommand(t, id.Signer(), under(id.Name(), "repo"), syncJoin(tlv.SyncProtocolSvsV3, under(f.prefix, "g"), 0).Encode().Join())

	require.Equal(t, ndndrepo.StatusOK, rawCommand(t, client, f.prefix, params).Status)
	require.Equal(t, ndndrepo.StatusOK, rawCommand(t, client, f.prefix, params).Status)
	require.Len(t, f.b.snapshot().joins, 1)
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	require.Equal(t, ndndrepo.StatusOK, rawCommand(t, client, f.prefix, params).Status)
	require.Len(t, f.b.snapshot().joins, 2, "SyncJoin replays are idempotent on the core")
}

// A join slower than the Interest's lifetime still completes, and the
// client's retransmission of the same command gets its result.
func TestSlowJoinAnsweredOnRetransmission(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	gate, _ := f.b.gateJoins()
	id := ndntest.Identity(t, "erin")
	client := ndntest.Connect(t, ndnx.Config{Identity: id})
	params := signedCommand(t, id.Signer(), under(id.Name(), "repo"), syncJoin(tlv.SyncProtocolSvsV3, under(f.prefix, "g"), 0).Encode().Join())

	ctx := tctx(t, 500*time.Millisecond)
	i, err := client.MakeInterest(ctx, ndndrepo.CommandName(f.prefix), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{params}, false)
	require.NoError(t, err)
	_, err = client.Express(ctx, i)
	require.Error(t, err, "no answer while the join runs")

	close(gate)
	res := rawCommand(t, client, f.prefix, params)
	require.Equal(t, ndndrepo.StatusOK, res.Status, res.Message)
	require.Len(t, f.b.snapshot().joins, 1, "joined once")
}

// BlobFetch as a direct command: by name it starts an insert; by value it
// stores the packets, all or none, each authorized as an insert of its name.
func TestBlobFetchDirect(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	app := newNdndApp(t, "frank", true)
	obj := under(f.prefix, "files", "a")
	p0 := blobData(t, obj.Clone().Append(enc.NewVersionComponent(7), enc.NewSegmentComponent(0)), "hello ")
	p1 := blobData(t, obj.Clone().Append(enc.NewVersionComponent(7), enc.NewSegmentComponent(1)), "world")

	o := app.express(t, f.prefix, (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Data: [][]byte{p0, p1}}}).Encode())
	require.Equal(t, ndndrepo.StatusOK, o.res.Status, o.res.Message)
	require.Equal(t, "stored 2 packets", o.res.Message)
	b := f.b.snapshot()
	require.Len(t, b.puts, 2)
	require.Equal(t, p0, b.puts[0].wire, "stored as given")
	require.Equal(t, p1, b.puts[1].wire)
	require.True(t, b.puts[0].register.Equal(obj), "served under the object name: %s", b.puts[0].register)
	require.Len(t, b.authz, 2)
	require.True(t, strings.HasPrefix(b.authz[0], "insert "+app.id.KeyName().String()+" "))

	// One packet the signer may not insert: nothing is stored.
	f.b.setDeny(func(_ enc.Name, verb string, target enc.Name) bool {
		return verb == "insert" && under(f.prefix, "secret").IsPrefix(target)
	})
	p2 := blobData(t, under(f.prefix, "secret", "x"), "no")
	o = app.express(t, f.prefix, (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Data: [][]byte{blobData(t, under(f.prefix, "ok", "y"), "yes"), p2}}}).Encode())
	require.Equal(t, ndndrepo.StatusForbidden, o.res.Status, o.res.Message)
	require.Len(t, f.b.snapshot().puts, 2, "nothing more stored")

	// A BlobFetch Data element that is not a Data packet.
	o = app.express(t, f.prefix, (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Data: [][]byte{[]byte("not a packet")}}}).Encode())
	require.Equal(t, ndndrepo.StatusBadRequest, o.res.Status, o.res.Message)

	// By name.
	o = app.express(t, f.prefix, (&tlv.RepoCmd{BlobFetch: &tlv.BlobFetch{Name: &spec.NameContainer{Name: obj}}}).Encode())
	require.Equal(t, ndndrepo.StatusOK, o.res.Status, o.res.Message)
	b = f.b.snapshot()
	require.Len(t, b.inserts, 1)
	require.True(t, b.inserts[0].Name.Equal(obj))
	require.Nil(t, b.inserts[0].Register, "the core's default route")
}

// SyncLeave, our extension, through SendCommand; leaving a group not joined
// is 404. The backend's own errors map to their statuses.
func TestSyncLeaveAndBackendErrors(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	id := ndntest.Identity(t, "grace")
	client := ndntest.Connect(t, ndnx.Config{Identity: id})
	group := under(f.prefix, "g")

	res, err := ndndrepo.SendCommand(tctx(t, 5*time.Second), client, f.prefix, ndndrepo.EncodeSyncLeave(group))
	require.NoError(t, err)
	require.Equal(t, ndndrepo.StatusOK, res.Status, res.Message)
	b := f.b.snapshot()
	require.Len(t, b.leaves, 1)
	require.True(t, b.leaves[0].Equal(group))
	require.Equal(t, []string{"leave " + id.KeyName().String() + " " + group.String()}, b.authz)

	tests := []struct {
		err  error
		want uint64
	}{
		{repo.ErrNotJoined, ndndrepo.StatusNotFound},
		{repo.ErrBadRequest, ndndrepo.StatusBadRequest},
		{repo.ErrClosed, ndndrepo.StatusUnavailable},
		{security.ErrPolicyDenied, ndndrepo.StatusForbidden},
		{errors.New("boom"), ndndrepo.StatusInternalError},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			f.b.setFailNext(tt.err)
			res, err := ndndrepo.SendCommand(tctx(t, 5*time.Second), client, f.prefix, ndndrepo.EncodeSyncLeave(group))
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Status, res.Message)
		})
	}
}

// Serve refuses what cannot work; Close is idempotent, concurrent, and
// leaves nothing answering.
func TestServeAndClose(t *testing.T) {
	ctx := tctx(t, 10*time.Second)
	prefix := ndntest.Prefix(t)
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "repo")})

	_, err := ndndrepo.Serve(ctx, node, newFake(), ndndrepo.Config{})
	require.ErrorIs(t, err, ndndrepo.ErrInvalidConfig)
	_, err = ndndrepo.Serve(ctx, node, nil, ndndrepo.Config{Prefix: prefix})
	require.ErrorIs(t, err, ndndrepo.ErrInvalidConfig)
	_, err = ndndrepo.Serve(ctx, node, newFake(), ndndrepo.Config{Prefix: prefix, DedupWindow: -1})
	require.ErrorIs(t, err, ndndrepo.ErrInvalidConfig)

	// A node that cannot verify anyone cannot serve: secure by default.
	bare, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport()})
	require.NoError(t, err)
	defer bare.Close()
	_, err = ndndrepo.Serve(ctx, bare, newFake(), ndndrepo.Config{Prefix: prefix})
	require.ErrorIs(t, err, ndndrepo.ErrNoTrust)

	srv, err := ndndrepo.Serve(ctx, node, newFake(), ndndrepo.Config{Prefix: prefix})
	require.NoError(t, err)
	_, err = ndndrepo.Serve(ctx, node, newFake(), ndndrepo.Config{Prefix: prefix})
	require.Error(t, err, "one server per prefix and node")

	client := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "c")})
	res, err := ndndrepo.SendCommand(ctx, client, prefix, ndndrepo.EncodeSyncLeave(under(prefix, "g")))
	require.NoError(t, err)
	require.Equal(t, ndndrepo.StatusOK, res.Status)

	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- srv.Close() }()
	}
	for range 3 {
		require.NoError(t, <-errs)
	}
	require.NoError(t, srv.Close())

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = ndndrepo.SendCommand(short, client, prefix, ndndrepo.EncodeSyncLeave(under(prefix, "g")))
	require.Error(t, err, "nothing answers after Close")
}

// Close waits for a command in progress, which its cancellation ends: the
// command's answer is 503 (the repo is shutting down).
func TestCloseWaitsForCommands(t *testing.T) {
	f := newFixture(t, ndndrepo.Config{})
	_, entered := f.b.gateJoins() // never opened: JoinGroup waits for ctx
	id := ndntest.Identity(t, "heidi")
	client := ndntest.Connect(t, ndnx.Config{Identity: id})
	params := signedCommand(t, id.Signer(), under(id.Name(), "repo"), syncJoin(tlv.SyncProtocolSvsV3, under(f.prefix, "g"), 0).Encode().Join())

	ctx := tctx(t, 5*time.Second)
	i, err := client.MakeInterest(ctx, ndndrepo.CommandName(f.prefix), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{params}, false)
	require.NoError(t, err)
	type result struct {
		d   *ndnx.Data
		err error
	}
	got := make(chan result, 1)
	go func() {
		d, err := client.Express(ctx, i)
		got <- result{d, err}
	}()
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the command never reached JoinGroup")
	}
	require.NoError(t, f.srv.Close())
	r := <-got
	require.NoError(t, r.err)
	res, err := ndndrepo.ParseResponse(r.d.Data.Content().Join())
	require.NoError(t, err)
	require.Equal(t, ndndrepo.StatusUnavailable, res.Status, res.Message)
	require.Empty(t, f.b.snapshot().joins)
}
