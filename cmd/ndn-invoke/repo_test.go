package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// TestRepoAndFetch drives `repo insert|list|status|stats|delete` and
// `fetch` against an in-process repo on the test forwarder.
func TestRepoAndFetch(t *testing.T) {
	callerEnv(t)
	id := ndntest.Identity(t, "repo")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	st, err := store.Open(t.TempDir(), store.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	r, err := repo.New(node, st, repo.Config{Prefix: id.Name()})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, r.Start(ctx))
	defer r.Close()

	producer := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "producer")})
	require.NoError(t, producer.ServeObjects(ctx))
	name := producer.ObjectPrefix().Append(enc.NewGenericComponent("file"))
	content := make([]byte, 100_000)
	_, _ = rand.Read(content)
	_, err = object.Produce(ndn.ProduceArgs{Name: name.Append(enc.NewVersionComponent(7)), Content: enc.Wire{bytes.Clone(content)}},
		producer.Store(), producer.Identity().Signer())
	require.NoError(t, err)

	rp := id.Name().String()
	code, out, errOut := invoke(t, "", "repo", "insert", name.String(), "--repo", rp, "--json")
	require.Equal(t, 0, code, errOut)
	var j repo.JobStatus
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	require.Equal(t, "done", j.State)
	require.Equal(t, j.Total, j.Packets)

	code, out, errOut = invoke(t, "", "repo", "status", j.ID, "--repo", rp)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "done")
	code, out, _ = invoke(t, "", "repo", "list", name.String(), "--repo", rp)
	require.Equal(t, 0, code)
	require.Equal(t, int(j.Packets), strings.Count(out, "\n"))
	producer.Close()

	file := filepath.Join(t.TempDir(), "out.bin")
	code, _, errOut = invoke(t, "", "fetch", name.String(), "-o", file)
	require.Equal(t, 0, code, errOut)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.True(t, bytes.Equal(content, got))

	code, out, errOut = invoke(t, "", "repo", "delete", name.String(), "--prefix", "--repo", rp)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "deleted")
	code, _, errOut = invoke(t, "", "repo", "status", "no-such-job", "--repo", rp)
	require.Equal(t, exitRPC+5, code, errOut) // NotFound
	require.Contains(t, errOut, "NotFound")
	code, _, errOut = invoke(t, "", "repo", "insert", "/x")
	require.Equal(t, 2, code, errOut) // no --repo
	code, _, _ = invoke(t, "", "repo", "frobnicate", "--repo", rp)
	require.Equal(t, 2, code)
}

// TestCallOperation: `call` on a long-running method prints the operation
// (or waits for it with --wait), and `op get|wait` read it from the repo.
func TestCallOperation(t *testing.T) {
	callerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rid := ndntest.Identity(t, "repo")
	rnode := ndntest.Connect(t, ndnx.Config{Identity: rid})
	st, err := store.Open(t.TempDir(), store.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	r, err := repo.New(rnode, st, repo.Config{Prefix: rid.Name()})
	require.NoError(t, err)
	require.NoError(t, r.Start(ctx))
	defer r.Close()

	sid := ndntest.Identity(t, "vm")
	snode := ndntest.Connect(t, ndnx.Config{Identity: sid})
	rc, err := repo.NewClient(snode, rid.Name(), rpc.ClientConfig{})
	require.NoError(t, err)
	defer rc.Close()
	ops := sid.Name().Append(enc.NewGenericComponent("_ops"))
	s, err := rpc.NewServer(snode, rpc.ServerConfig{Service: sid.Name(), Ops: &rpc.OpsConfig{Store: repo.NewOpStore(rc, ops)}})
	require.NoError(t, err)
	require.NoError(t, rpc.LongRunning(s.Mux, "create", func(ctx context.Context, req struct{ Name string }, op *rpc.Op) (map[string]string, error) {
		if req.Name == "" {
			return nil, status.Error(codes.InvalidArgument, "no name")
		}
		if err := op.Progress(ctx, 50, "half"); err != nil {
			return nil, err
		}
		return map[string]string{"name": req.Name, "state": "RUNNING"}, nil
	}, rpc.MethodOptions{}))
	require.NoError(t, s.Start(ctx))
	defer s.Close()
	method := sid.Name().String() + "/create"

	code, out, errOut := invoke(t, "", "call", method, `{"Name":"web"}`)
	require.Equal(t, 0, code, errOut)
	var op rpc.OpStatus
	require.NoError(t, json.Unmarshal([]byte(out), &op))
	require.False(t, op.Done)
	require.True(t, strings.HasPrefix(op.Name, ops.String()), op.Name)

	code, out, errOut = invoke(t, "", "op", "wait", op.Name)
	require.Equal(t, 0, code, errOut)
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, out)
	code, out, errOut = invoke(t, "", "op", "get", op.Name)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"done":true`)

	code, out, errOut = invoke(t, "", "call", "--wait", method, `{"Name":"db"}`)
	require.Equal(t, 0, code, errOut)
	require.JSONEq(t, `{"name":"db","state":"RUNNING"}`, out)
	code, _, errOut = invoke(t, "", "call", "--wait", method, `{}`)
	require.Equal(t, exitRPC+int(codes.InvalidArgument), code, errOut)
	require.Contains(t, errOut, "InvalidArgument: no name")

	// list: from the service's description, or the prefix and --repo.
	code, out, errOut = invoke(t, "", "op", "list", sid.Name().String())
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "NAME")
	require.Contains(t, out, op.Name)
	require.Equal(t, 4, strings.Count(out, "\n"), out) // header + 3 operations
	require.Contains(t, out, "InvalidArgument")
	code, out, errOut = invoke(t, "", "op", "list", ops.String(), "--repo", rid.Name().String(), "--json", "--limit", "2", "--done")
	require.Equal(t, 0, code, errOut)
	var page rpc.OpsPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Operations, 2)
	require.NotEmpty(t, page.NextPageToken)
	code, out, errOut = invoke(t, "", "op", "list", ops.String(), "--repo", rid.Name().String(), "--json", "--limit", "2", "--all")
	require.Equal(t, 0, code, errOut)
	page = rpc.OpsPage{}
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Operations, 3)
	require.Empty(t, page.NextPageToken)
	code, _, errOut = invoke(t, "", "op", "list", ops.String())
	require.Equal(t, 2, code, errOut) // which repo?
	require.Contains(t, errOut, "--repo")

	// delete: then get finds nothing.
	code, out, errOut = invoke(t, "", "op", "delete", op.Name)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "deleted")
	require.Eventually(t, func() bool {
		code, _, _ := invoke(t, "", "op", "get", op.Name)
		return code == exitRPC+int(codes.NotFound)
	}, 15*time.Second, 200*time.Millisecond)
}
