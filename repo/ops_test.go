package repo_test

import (
	"context"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

type vmReq struct {
	Name  string `json:"name"`
	Steps int    `json:"steps"`
}

type vmRes struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// opsService starts a service with a long-running method "create" whose
// records go to the repo of f; step gates each of its progress steps.
func opsService(t *testing.T, f *fixture, step chan struct{}) (svc enc.Name, s *rpc.Server) {
	id := ndntest.Identity(t, "vm")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	rc, err := repo.NewClient(node, f.r.Prefix(), rpc.ClientConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { rc.Close() })
	svc = id.Name()
	opsPrefix := svc.Append(enc.NewGenericComponent("_ops"))
	s, err = rpc.NewServer(node, rpc.ServerConfig{Service: svc, Ops: &rpc.OpsConfig{Store: repo.NewOpStore(rc, opsPrefix)}})
	require.NoError(t, err)
	require.NoError(t, rpc.LongRunning(s.Mux, "create", func(ctx context.Context, r vmReq, op *rpc.Op) (vmRes, error) {
		for i := 1; i <= r.Steps; i++ {
			select {
			case <-step:
			case <-ctx.Done():
				return vmRes{}, ctx.Err()
			}
			if err := op.Progress(ctx, 100*i/r.Steps, "step"); err != nil {
				return vmRes{}, err
			}
		}
		if r.Name == "" {
			return vmRes{}, status.Error(codes.InvalidArgument, "a VM needs a name")
		}
		return vmRes{Name: r.Name, State: "RUNNING"}, nil
	}, rpc.MethodOptions{}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { s.Close() })
	return svc, s
}

// TestOperations: a long-running call answers at once with an operation
// whose records live in the repo; Wait sees the progress and the result,
// which stays readable after the service is gone; a failing operation
// carries its error; cancel ends a running one with Canceled.
func TestOperations(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	step := make(chan struct{})
	svc, s := opsService(t, f, step)
	user := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")})
	c, err := rpc.NewClient(user, rpc.ClientConfig{})
	require.NoError(t, err)
	ctx := ctxT(t, 60*time.Second)
	method := svc.Append(enc.NewGenericComponent("create"))

	op, err := c.Start(ctx, method, vmReq{Name: "web", Steps: 3}, nil)
	require.NoError(t, err)
	require.False(t, op.Done)
	name, err := enc.NameFromStr(op.Name)
	require.NoError(t, err)
	got, err := c.GetOp(ctx, name) // readable at once, from the repo
	require.NoError(t, err)
	require.Equal(t, op.Name, got.Name)

	var seen []int
	done := make(chan *rpc.OpStatus, 1)
	go func() {
		st, err := c.WaitOp(ctx, name, func(st *rpc.OpStatus) { seen = append(seen, st.Progress) })
		if err != nil {
			st = nil
		}
		done <- st
	}()
	for range 3 {
		step <- struct{}{}
	}
	final := <-done
	require.NotNil(t, final)
	require.True(t, final.Done)
	require.NoError(t, final.Err())
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, string(final.Result))
	require.Equal(t, 100, final.Progress)
	require.NotEmpty(t, seen)

	// Calling it as unary is a clear error.
	err = c.CallName(ctx, method, vmReq{Name: "x"}, nil, nil)
	require.Equal(t, codes.Unimplemented, status.Code(err))

	// A failing operation.
	op2, err := c.Start(ctx, method, vmReq{Steps: 0}, nil)
	require.NoError(t, err)
	n2, _ := enc.NameFromStr(op2.Name)
	final, err = c.WaitOp(ctx, n2, nil)
	require.NoError(t, err)
	require.Equal(t, codes.InvalidArgument, status.Code(final.Err()))

	// Cancel a running one: only its caller may.
	op3, err := c.Start(ctx, method, vmReq{Name: "db", Steps: 5}, nil)
	require.NoError(t, err)
	n3, _ := enc.NameFromStr(op3.Name)
	other, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "other")}), rpc.ClientConfig{})
	require.NoError(t, err)
	require.Equal(t, codes.PermissionDenied, status.Code(other.CancelOp(ctx, n3)))
	require.NoError(t, c.CancelOp(ctx, n3))
	final, err = c.WaitOp(ctx, n3, nil)
	require.NoError(t, err)
	require.Equal(t, codes.Canceled, status.Code(final.Err()), "%+v", final.Error)

	// The service shuts down with an operation running: it ends Aborted.
	op4, err := c.Start(ctx, method, vmReq{Name: "cache", Steps: 5}, nil)
	require.NoError(t, err)
	n4, _ := enc.NameFromStr(op4.Name)
	require.NoError(t, s.Shutdown(ctx))
	final, err = c.WaitOp(ctx, n4, nil)
	require.NoError(t, err)
	require.Equal(t, codes.Aborted, status.Code(final.Err()), "%+v", final.Error)

	// The service is gone; its operations stay readable from the repo.
	got, err = c.GetOp(ctx, name)
	require.NoError(t, err)
	require.True(t, got.Done)
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, string(got.Result))
}

// TestOperationsAfterCrash: a service that dies without a word (its node
// gone, no final records written, as after kill -9) leaves operations
// unfinished; the next run of the service finds them in the repo, resumes
// the Resumable one with its stored request and ends the other Aborted.
func TestOperationsAfterCrash(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	id := ndntest.Identity(t, "vm")
	svc := id.Name()
	opsPrefix := svc.Append(enc.NewGenericComponent("_ops"))
	ctx := ctxT(t, 60*time.Second)
	gate := make(chan struct{})
	start := func() (*ndnx.Node, *rpc.Server) {
		node := ndntest.Connect(t, ndnx.Config{Identity: id})
		rc, err := repo.NewClient(node, f.r.Prefix(), rpc.ClientConfig{})
		require.NoError(t, err)
		t.Cleanup(func() { rc.Close() })
		s, err := rpc.NewServer(node, rpc.ServerConfig{Service: svc, Ops: &rpc.OpsConfig{Store: repo.NewOpStore(rc, opsPrefix)}})
		require.NoError(t, err)
		for _, resumable := range []bool{false, true} {
			name := "create"
			if resumable {
				name = "resumable"
			}
			require.NoError(t, rpc.LongRunning(s.Mux, name, func(ctx context.Context, r vmReq, op *rpc.Op) (vmRes, error) {
				if err := op.Progress(ctx, 10, "started"); err != nil {
					return vmRes{}, err
				}
				select {
				case <-gate:
				case <-ctx.Done():
					return vmRes{}, ctx.Err()
				}
				return vmRes{Name: r.Name, State: "RUNNING"}, nil
			}, rpc.MethodOptions{Resumable: resumable}))
		}
		require.NoError(t, s.Start(ctx))
		return node, s
	}
	node1, s1 := start()
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	opA, err := c.Start(ctx, svc.Append(enc.NewGenericComponent("create")), vmReq{Name: "a"}, nil)
	require.NoError(t, err)
	opB, err := c.Start(ctx, svc.Append(enc.NewGenericComponent("resumable")), vmReq{Name: "b"}, nil)
	require.NoError(t, err)
	nA, _ := enc.NameFromStr(opA.Name)
	nB, _ := enc.NameFromStr(opB.Name)
	for _, n := range []enc.Name{nA, nB} { // both running, progress recorded
		require.Eventually(t, func() bool {
			st, err := c.GetOp(ctx, n)
			return err == nil && st.Progress == 10
		}, 20*time.Second, 50*time.Millisecond)
	}

	// Crash: the node goes first, so nothing more reaches the repo.
	node1.Close()
	s1.Close()
	st, err := c.GetOp(ctx, nA)
	require.NoError(t, err)
	require.False(t, st.Done, "a crash leaves the record unfinished")

	_, s2 := start()
	defer s2.Close()
	final, err := c.WaitOp(ctx, nA, nil)
	require.NoError(t, err)
	require.Equal(t, codes.Aborted, status.Code(final.Err()), "%+v", final.Error)
	require.Contains(t, final.Error.Message, "restarted")

	close(gate)
	final, err = c.WaitOp(ctx, nB, nil)
	require.NoError(t, err)
	require.NoError(t, final.Err())
	require.Equal(t, 1, final.Resumed)
	require.JSONEq(t, `{"name":"b","state":"RUNNING"}`, string(final.Result))
	require.Empty(t, final.Request, "the request is dropped from the final record")
}
