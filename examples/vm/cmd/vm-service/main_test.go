package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/examples/vm"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// service is one run of the vm-service binary.
type service struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	ready  chan struct{} // closed when it says it is serving
	exited chan struct{} // closed when it exited
}

// start runs bin with args against the test forwarder and waits until it
// serves.
func start(t *testing.T, bin string, args ...string) *service {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+ndntest.Transport())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &service{cmd: cmd, stderr: &syncBuffer{}, ready: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	go func() { // owned: ends when the process's stdout closes, which wait below awaits
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "serving ") {
				once.Do(func() { close(s.ready) })
			}
		}
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-s.exited
		}
	})
	select {
	case <-s.ready:
	case <-s.exited:
		t.Fatalf("vm-service exited before serving:\n%s", s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("vm-service did not start serving:\n%s", s.stderr)
	}
	return s
}

// kill9 kills the service with SIGKILL: no shutdown, no final record.
func (s *service) kill9(t *testing.T) {
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("vm-service did not die")
	}
}

// TestKill9Resume is the issue's scenario with real processes: the
// service binary runs CreateVM (6 s), is killed with SIGKILL once progress
// shows, the operation stays readable from the repo while it is down
// (done false), and after a restart the client that was waiting all along
// gets the VM, with the record counting one resumption.
func TestKill9Resume(t *testing.T) {
	bin := buildService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The repo, in this process, on the same forwarder.
	rid := ndntest.Identity(t, "repo")
	st, err := store.Open(t.TempDir(), store.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	r, err := repo.New(ndntest.Connect(t, ndnx.Config{Identity: rid}), st, repo.Config{Prefix: rid.Name()})
	require.NoError(t, err)
	require.NoError(t, r.Start(ctx))
	defer r.Close()

	// The service's keychain and the anchor, as files.
	dir := t.TempDir()
	svcID, err := ndntest.Anchor().Issue(name(t, vm.Service), time.Hour)
	require.NoError(t, err)
	require.NoError(t, security.SaveIdentity(filepath.Join(dir, "keys"), svcID))
	pem, err := ndntest.Anchor().CertPEM()
	require.NoError(t, err)
	anchorFile := filepath.Join(dir, "anchor.cert")
	require.NoError(t, os.WriteFile(anchorFile, pem, 0o644))
	args := []string{"--keychain", "dir://" + filepath.Join(dir, "keys"), "--identity", vm.Service,
		"--anchor", anchorFile, "--repo", rid.Name().String(), "--demo-dir", dir}

	svc := start(t, bin, args...)
	alice, err := ndntest.Anchor().Issue(name(t, "/example/users/alice"), time.Hour)
	require.NoError(t, err)
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: alice}), rpc.ClientConfig{})
	require.NoError(t, err)
	op, err := c.Start(ctx, name(t, vm.Service+"/"+vm.Method), vm.CreateRequest{Name: "web", Seconds: 6}, nil)
	require.NoError(t, err)
	opName := name(t, op.Name)

	// A client waits from the start, through the crash.
	waited := make(chan *rpc.OpStatus, 1)
	go func() {
		st, err := c.WaitOp(ctx, opName, nil)
		if err != nil {
			st = nil
		}
		waited <- st
	}()

	require.Eventually(t, func() bool {
		st, err := c.GetOp(ctx, opName)
		return err == nil && st.Progress > 0
	}, 20*time.Second, 50*time.Millisecond, "no progress recorded")
	svc.kill9(t)

	down, err := c.GetOp(ctx, opName)
	require.NoError(t, err, "the record is readable from the repo while the service is down")
	require.False(t, down.Done)
	require.Greater(t, down.Progress, 0)
	require.Less(t, down.Progress, 100)

	start(t, bin, args...)
	var final *rpc.OpStatus
	select {
	case final = <-waited:
	case <-ctx.Done():
		t.Fatal("the waiting client got no result")
	}
	require.NotNil(t, final, "WaitOp failed")
	require.True(t, final.Done)
	require.NoError(t, final.Err())
	require.JSONEq(t, `{"name":"web","state":"RUNNING"}`, string(final.Result))
	require.GreaterOrEqual(t, final.Resumed, 1)
	require.Equal(t, 100, final.Progress)
}

// buildService builds this command, with the race detector when the test
// runs with it (so the build reuses the test's compiled packages).
func buildService(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vm-service")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

func name(t *testing.T, uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	require.NoError(t, err)
	return n
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
