package repo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestOperationsListDelete: ListOps pages through a service's operations
// in the repo, newest first, with a state filter; DeleteOp removes a
// finished one for its caller only, and refuses a running one.
func TestOperationsListDelete(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	step := make(chan struct{})
	svc, _ := opsService(t, f, step)
	userNode := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")})
	c, err := rpc.NewClient(userNode, rpc.ClientConfig{})
	require.NoError(t, err)
	ctx := ctxT(t, 60*time.Second)
	method := svc.Append(enc.NewGenericComponent("create"))

	// The service describes where its operations are.
	d, err := c.Describe(ctx, svc)
	require.NoError(t, err)
	require.NotNil(t, d.Operations)
	opsPrefix := svc.Append(enc.NewGenericComponent("_ops"))
	require.Equal(t, opsPrefix.String(), d.Operations.Prefix)
	require.Equal(t, f.r.Prefix().String(), d.Operations.Repo)

	// Three finished operations, then two left running.
	var started []string
	for i := range 5 {
		steps := 0
		if i >= 3 {
			steps = 5
		}
		op, err := c.Start(ctx, method, vmReq{Name: fmt.Sprintf("vm%d", i), Steps: steps}, nil)
		require.NoError(t, err)
		started = append(started, op.Name)
		if steps == 0 {
			n, _ := enc.NameFromStr(op.Name)
			_, err := c.WaitOp(ctx, n, nil)
			require.NoError(t, err)
		}
	}
	require.True(t, slices.IsSorted(started), "operation ids sort by creation: %v", started)

	// Anyone may list through the repo (here with the user's own client).
	rc, err := repo.NewClient(userNode, f.r.Prefix(), rpc.ClientConfig{})
	require.NoError(t, err)
	defer rc.Close()
	store := repo.NewOpStore(rc, opsPrefix)
	var listed []string
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		p, err := c.ListOps(ctx, store, opsPrefix, &rpc.ListOpsOptions{PageSize: 2, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(p.Operations), 2)
		require.Zero(t, p.Unreadable)
		for _, op := range p.Operations {
			listed = append(listed, op.Name)
		}
		if token = p.NextPageToken; token == "" {
			break
		}
	}
	want := slices.Clone(started)
	slices.Reverse(want)
	require.Equal(t, want, listed, "every operation once, newest first")

	count := func(filter rpc.OpFilter) (n int) {
		p, err := c.ListOps(ctx, store, opsPrefix, &rpc.ListOpsOptions{Filter: filter})
		require.NoError(t, err)
		for _, op := range p.Operations {
			require.Equal(t, filter == rpc.OpsDone, op.Done)
		}
		return len(p.Operations)
	}
	require.Equal(t, 2, count(rpc.OpsRunning))
	require.Equal(t, 3, count(rpc.OpsDone))
	_, err = c.ListOps(ctx, store, opsPrefix, &rpc.ListOpsOptions{PageToken: "x"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	// Delete: not while running, not by another caller; then gone.
	running, _ := enc.NameFromStr(started[4])
	require.Equal(t, codes.FailedPrecondition, status.Code(c.DeleteOp(ctx, running)))
	first, _ := enc.NameFromStr(started[0])
	other, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "other")}), rpc.ClientConfig{})
	require.NoError(t, err)
	require.Equal(t, codes.PermissionDenied, status.Code(other.DeleteOp(ctx, first)))
	require.NoError(t, c.DeleteOp(ctx, first))
	require.Eventually(t, func() bool { // the forwarder's cache keeps fresh metadata for 1 s
		_, err := c.GetOp(ctx, first)
		return status.Code(err) == codes.NotFound
	}, 10*time.Second, 100*time.Millisecond)
	require.Equal(t, 2, count(rpc.OpsDone))

	// Cancelled, a running one can be deleted.
	require.NoError(t, c.CancelOp(ctx, running))
	_, err = c.WaitOp(ctx, running, nil)
	require.NoError(t, err)
	require.NoError(t, c.DeleteOp(ctx, running))
	require.Equal(t, 1, count(rpc.OpsRunning))
}

// TestOperationsRetention: a server with OpsConfig.Retention deletes its
// finished operations once their last record is older, and keeps running
// ones.
func TestOperationsRetention(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	id := ndntest.Identity(t, "vm")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	rc, err := repo.NewClient(node, f.r.Prefix(), rpc.ClientConfig{})
	require.NoError(t, err)
	defer rc.Close()
	svc := id.Name()
	opsPrefix := svc.Append(enc.NewGenericComponent("_ops"))
	store := repo.NewOpStore(rc, opsPrefix)
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: svc, Ops: &rpc.OpsConfig{Store: store, Retention: time.Second}})
	require.NoError(t, err)
	release := make(chan struct{})
	require.NoError(t, rpc.LongRunning(s.Mux, "create", func(ctx context.Context, r vmReq, op *rpc.Op) (vmRes, error) {
		if r.Steps > 0 {
			select {
			case <-release:
			case <-ctx.Done():
				return vmRes{}, ctx.Err()
			}
		}
		return vmRes{Name: r.Name, State: "RUNNING"}, nil
	}, rpc.MethodOptions{}))
	ctx := ctxT(t, 60*time.Second)
	require.NoError(t, s.Start(ctx))
	defer s.Close()
	defer close(release)

	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	method := svc.Append(enc.NewGenericComponent("create"))
	done, err := c.Start(ctx, method, vmReq{Name: "a"}, nil)
	require.NoError(t, err)
	running, err := c.Start(ctx, method, vmReq{Name: "b", Steps: 1}, nil)
	require.NoError(t, err)
	count := func() int {
		p, err := c.ListOps(ctx, store, opsPrefix, nil)
		require.NoError(t, err)
		return len(p.Operations)
	}
	require.Equal(t, 2, count())
	require.Eventually(t, func() bool { return count() == 1 }, 20*time.Second, 200*time.Millisecond, "the finished operation is deleted")
	p, err := c.ListOps(ctx, store, opsPrefix, nil)
	require.NoError(t, err)
	require.Equal(t, running.Name, p.Operations[0].Name)
	require.NotEqual(t, done.Name, running.Name)

	_, err = rpc.NewServer(node, rpc.ServerConfig{Service: svc, Ops: &rpc.OpsConfig{Store: putOnly{store}, Retention: time.Hour}})
	require.ErrorContains(t, err, "lists and deletes")
}

// putOnly is an OpStore that cannot list or delete.
type putOnly struct{ rpc.OpStore }

// checkedReq is a request that validates itself.
type checkedReq struct {
	Name string `json:"name"`
}

func (r checkedReq) Validate() error {
	if r.Name == "" {
		return errors.New("a name is required")
	}
	return nil
}

// TestOperationsValidateAndResumeAfterShutdown: a request that fails
// Validate fails the call, with no operation; a Resumable operation that a
// graceful shutdown interrupts is left unfinished and resumed by the next
// run, whose handler sees the progress and resume count in op.Status.
func TestOperationsValidateAndResumeAfterShutdown(t *testing.T) {
	f := startRepo(t, t.TempDir(), repo.Config{}, nil)
	id := ndntest.Identity(t, "vm")
	svc := id.Name()
	opsPrefix := svc.Append(enc.NewGenericComponent("_ops"))
	ctx := ctxT(t, 60*time.Second)
	seen := make(chan rpc.OpStatus, 2)
	gate := make(chan struct{})
	start := func() *rpc.Server {
		node := ndntest.Connect(t, ndnx.Config{Identity: id})
		rc, err := repo.NewClient(node, f.r.Prefix(), rpc.ClientConfig{})
		require.NoError(t, err)
		t.Cleanup(func() { rc.Close() })
		s, err := rpc.NewServer(node, rpc.ServerConfig{Service: svc, Ops: &rpc.OpsConfig{Store: repo.NewOpStore(rc, opsPrefix)}})
		require.NoError(t, err)
		require.NoError(t, rpc.LongRunning(s.Mux, "create", func(ctx context.Context, r checkedReq, op *rpc.Op) (vmRes, error) {
			seen <- op.Status()
			if op.Status().Resumed == 0 {
				if err := op.Progress(ctx, 40, "halfway"); err != nil {
					return vmRes{}, err
				}
			}
			select {
			case <-gate:
			case <-ctx.Done():
				return vmRes{}, ctx.Err()
			}
			return vmRes{Name: r.Name, State: "RUNNING"}, nil
		}, rpc.MethodOptions{Resumable: true}))
		require.NoError(t, s.Start(ctx))
		t.Cleanup(func() { s.Close() })
		return s
	}
	s1 := start()
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "user")}), rpc.ClientConfig{})
	require.NoError(t, err)
	method := svc.Append(enc.NewGenericComponent("create"))

	_, err = c.Start(ctx, method, checkedReq{}, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.ErrorContains(t, err, "a name is required")
	_, err = c.Start(ctx, method, "not an object", nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	op, err := c.Start(ctx, method, checkedReq{Name: "web"}, nil)
	require.NoError(t, err)
	name, _ := enc.NameFromStr(op.Name)
	require.Zero(t, (<-seen).Resumed)
	require.Eventually(t, func() bool {
		st, err := c.GetOp(ctx, name)
		return err == nil && st.Progress == 40
	}, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, s1.Shutdown(ctx))
	var st *rpc.OpStatus
	require.Eventually(t, func() bool { // cached metadata stays fresh for 1 s
		st, err = c.GetOp(ctx, name)
		return err == nil && st.Version == 3
	}, 10*time.Second, 100*time.Millisecond)
	require.False(t, st.Done, "a graceful shutdown leaves a resumable operation for the next run")
	require.Contains(t, st.Message, "resumes")

	start()
	again := <-seen
	require.Equal(t, 1, again.Resumed)
	require.Equal(t, 40, again.Progress)
	close(gate)
	final, err := c.WaitOp(ctx, name, nil)
	require.NoError(t, err)
	require.NoError(t, final.Err())
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, string(final.Result))
}
