package repo_test

import (
	"context"
	"errors"
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
	require.False(t, errors.Is(err, context.Canceled))
}
