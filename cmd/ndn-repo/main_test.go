package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ndndtlv "github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/ndndrepo"
	"github.com/ndn-invoke/ndn-invoke/repo/pyrepo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

var (
	repoBin string // the ndn-repo binary under test
	ndndBin string // ndnd built from the pinned module
)

// TestMain builds ndn-repo and finds ndnd. These tests run the daemon as a
// user would, each with its own embedded forwarder, so they need no shared
// forwarder.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ndn-repo-test")
	if err != nil {
		panic(err)
	}
	repoBin = filepath.Join(dir, "ndn-repo")
	if out, err := exec.Command("go", "build", "-o", repoBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ndn-repo: %v\n%s", err, out)
		os.Exit(1)
	}
	if ndndBin, err = ndntest.Ndnd(); err != nil {
		fmt.Fprintln(os.Stderr, "ndnd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// domain is a throwaway trust domain: an anchor, the repo's identity
// /test/repo and a user's, in a keychain directory.
type domain struct {
	dir, keychain, anchorFile string
	anchor, user              *security.Identity
}

func newDomain(t *testing.T) *domain {
	d := &domain{dir: t.TempDir()}
	d.keychain = "dir://" + filepath.Join(d.dir, "keys")
	var err error
	d.anchor, err = security.NewAnchor(mustName("/test"), time.Hour)
	require.NoError(t, err)
	rid, err := d.anchor.Issue(mustName("/test/repo"), time.Hour)
	require.NoError(t, err)
	require.NoError(t, security.SaveIdentity(filepath.Join(d.dir, "keys"), rid))
	d.user, err = d.anchor.Issue(mustName("/test/user"), time.Hour)
	require.NoError(t, err)
	pem, err := d.anchor.CertPEM()
	require.NoError(t, err)
	d.anchorFile = filepath.Join(d.dir, "anchor.cert")
	require.NoError(t, os.WriteFile(d.anchorFile, pem, 0o644))
	return d
}

func mustName(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

// daemon is a running ndn-repo process.
type daemon struct {
	cmd       *exec.Cmd
	transport string
	out       *syncBuffer
	exited    chan struct{}
}

// startDaemon runs ndn-repo on dataDir (its embedded forwarder included)
// and waits until it prints that it is ready.
func startDaemon(t *testing.T, d *domain, dataDir string, extra ...string) *daemon {
	t.Helper()
	args := append([]string{"--prefix", "/test/repo", "--data-dir", dataDir, "--keychain", d.keychain, "--anchor", d.anchorFile}, extra...)
	cmd := exec.Command(repoBin, args...)
	cmd.Env = append(os.Environ(), "NDND_BIN="+ndndBin, "NDN_CLIENT_TRANSPORT=unix://"+filepath.Join(dataDir, "fw", "nfd.sock"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	errBuf := &syncBuffer{}
	cmd.Stderr = errBuf
	require.NoError(t, cmd.Start())
	dm := &daemon{cmd: cmd, out: errBuf, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() { // owned: ends when the process's stdout closes
		sc := bufio.NewScanner(stdout)
		transport := ""
		for sc.Scan() {
			line := sc.Text()
			if s, ok := strings.CutPrefix(strings.TrimSpace(line), "export NDN_CLIENT_TRANSPORT="); ok {
				transport = s
			}
			if s, ok := strings.CutPrefix(line, "using forwarder at "); ok {
				transport = s
			}
			if strings.HasPrefix(line, "repo ") && strings.Contains(line, "ready") {
				ready <- transport
			}
		}
		_ = cmd.Wait()
		close(dm.exited)
	}()
	select {
	case dm.transport = <-ready:
	case <-dm.exited:
		t.Fatalf("ndn-repo exited before it was ready: %s", errBuf.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-dm.exited
		t.Fatalf("ndn-repo not ready after 30s: %s", errBuf.String())
	}
	t.Cleanup(func() { dm.kill() })
	return dm
}

func (dm *daemon) kill() {
	_ = dm.cmd.Process.Signal(syscall.SIGKILL)
	<-dm.exited
}

// stop ends the daemon gracefully (SIGTERM) and waits.
func (dm *daemon) stop(t *testing.T) {
	require.NoError(t, dm.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-dm.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("ndn-repo did not stop on SIGTERM")
	}
}

func connectTo(t *testing.T, transport string, d *domain, id *security.Identity) *ndnx.Node {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := ndnx.Connect(ctx, ndnx.Config{Transport: transport, Identity: id, Anchors: [][]byte{d.anchor.CertWire()}})
	require.NoError(t, err)
	return n
}

// TestInteropNdndPutCat: an object published with `ndnd put` is inserted
// through the repo's command and, with the producer gone and the daemon
// (and its forwarder, so its Content Store) restarted, fetched back with
// `ndnd cat`, byte-identical.
func TestInteropNdndPutCat(t *testing.T) {
	d := newDomain(t)
	dataDir := t.TempDir()
	dm := startDaemon(t, d, dataDir)
	content := make([]byte, 1_500_000)
	_, _ = rand.Read(content)

	put := exec.Command(ndndBin, "put", "/test/interop/blob")
	put.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+dm.transport)
	put.Stdin = bytes.NewReader(content)
	putErr := &syncBuffer{}
	put.Stderr = putErr
	require.NoError(t, put.Start())
	putDone := make(chan struct{})
	go func() { _ = put.Wait(); close(putDone) }()
	defer func() { _ = put.Process.Kill(); <-putDone }()

	node := connectTo(t, dm.transport, d, d.user)
	c, err := repo.NewClient(node, mustName("/test/repo"), rpc.ClientConfig{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// ndnd put registers its prefix asynchronously: retry the insert until
	// the producer answers.
	var j repo.JobStatus
	for attempt := 0; ; attempt++ {
		j, err = c.Insert(ctx, repo.InsertRequest{Name: "/test/interop/blob"})
		require.NoError(t, err)
		j, err = c.Wait(ctx, j.ID, 100*time.Millisecond, nil)
		require.NoError(t, err)
		if j.State == "done" || attempt == 10 {
			break
		}
	}
	require.Equal(t, "done", j.State, "job: %+v; ndnd put: %s", j, putErr.String())
	c.Close()
	node.Close()
	_ = put.Process.Kill()
	<-putDone

	dm.stop(t)
	dm = startDaemon(t, d, dataDir) // fresh forwarder: nothing cached but the repo

	cat := exec.Command(ndndBin, "cat", "/test/interop/blob")
	cat.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+dm.transport)
	var catErr bytes.Buffer
	cat.Stderr = &catErr
	got, err := cat.Output()
	require.NoError(t, err, "ndnd cat: %s", catErr.String())
	require.True(t, bytes.Equal(content, got), "ndnd cat returned %d bytes, want %d identical", len(got), len(content))
	dm.stop(t)
}

// TestCrashKill9 puts packets through the daemon's command under load and
// kills it with SIGKILL 20 times: every acknowledged put is present and
// byte-identical at the end, and the store opens cleanly every time.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("20 daemon restarts")
	}
	d := newDomain(t)
	dataDir := t.TempDir()
	prod, err := d.anchor.Issue(mustName("/test/prod"), time.Hour)
	require.NoError(t, err)

	var mu sync.Mutex
	acked := map[string][]byte{} // name TLV → wire
	seq := 0
	const cycles = 20
	for cycle := range cycles {
		dm := startDaemon(t, d, dataDir)
		node := connectTo(t, dm.transport, d, d.user)
		c, err := repo.NewClient(node, mustName("/test/repo"), rpc.ClientConfig{Retry: rpc.RetryPolicy{MaxAttempts: 1}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() { // owned: waited below
				defer wg.Done()
				for i := 0; ctx.Err() == nil && i < 200; i++ {
					mu.Lock()
					seq++
					n := seq
					mu.Unlock()
					name := mustName(fmt.Sprintf("/test/crash/c%d/w%d/%d", cycle, w, n))
					body := make([]byte, 200+n%1500)
					_, _ = rand.Read(body)
					wire, err := signData(prod, name, body)
					if err != nil {
						return
					}
					cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
					_, err = c.Put(cctx, [][]byte{wire}, nil)
					ccancel()
					if err == nil {
						mu.Lock()
						acked[string(store.NameKey(name))] = wire
						mu.Unlock()
					}
				}
			}()
		}
		// Let some puts land, then kill the daemon mid-load.
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= (cycle+1)*40 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// ... at a random point in the middle of the next commits.
		var jitter [1]byte
		_, _ = rand.Read(jitter[:])
		time.Sleep(time.Duration(jitter[0]%50) * time.Millisecond)
		dm.kill()
		cancel()
		wg.Wait()
		c.Close()
		node.Close()
	}
	require.NotEmpty(t, acked)

	// A last clean start and stop, then read the store directly.
	dm := startDaemon(t, d, dataDir)
	dm.stop(t)
	st, err := store.Open(filepath.Join(dataDir, "store"), store.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	missing := 0
	for k, wire := range acked {
		name, err := store.NameFromKey([]byte(k))
		require.NoError(t, err)
		got, err := st.Get(name, false, false, time.Now())
		if err != nil || !bytes.Equal(got, wire) {
			missing++
		}
	}
	require.Zero(t, missing, "%d of %d acknowledged puts lost or altered", missing, len(acked))
	t.Logf("%d cycles, %d acknowledged puts, all present", cycles, len(acked))
}

func signData(id *security.Identity, name enc.Name, content []byte) ([]byte, error) {
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{content}, id.Signer())
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}

// TestPyrepoClientThroughDaemon: a client speaking the ndn-python-repo
// protocol inserts a packet into the daemon and checks its status.
func TestPyrepoClientThroughDaemon(t *testing.T) {
	d := newDomain(t)
	dm := startDaemon(t, d, t.TempDir())
	node := connectTo(t, dm.transport, d, d.user)
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	name := mustName("/test/user/py/one")
	wire, err := signData(d.user, name, []byte("from a python-repo client"))
	require.NoError(t, err)
	require.NoError(t, node.Handle(name, func(_ context.Context, in *ndnx.Incoming) { _ = in.Reply(enc.Wire{wire}) }))
	require.NoError(t, node.Register(ctx, name, nil))

	c, err := pyrepo.NewClient(node, pyrepo.ClientConfig{Repo: mustName("/test/repo")})
	require.NoError(t, err)
	defer c.Close()
	res, err := c.Insert(ctx, pyrepo.ObjectParam{Name: name})
	require.NoError(t, err)
	require.Equal(t, pyrepo.StatusCompleted, res.Status, "%+v", res)
	require.NoError(t, node.Unhandle(name))

	consumer := connectTo(t, dm.transport, d, nil)
	defer consumer.Close()
	got, err := consumer.Fetch(ctx, name, false, false)
	require.NoError(t, err)
	require.Equal(t, wire, got.Raw.Join())
	dm.stop(t)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNdndRepoCmdThroughDaemon: ndnd's RepoCmd SyncJoin makes the daemon
// join a group (visible in stats), our SyncLeave makes it leave, and a
// BlobFetch carrying Data stores it.
func TestNdndRepoCmdThroughDaemon(t *testing.T) {
	d := newDomain(t)
	dm := startDaemon(t, d, t.TempDir())
	node := connectTo(t, dm.transport, d, d.user)
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rp := mustName("/test/repo")
	group := mustName("/test/group")

	res, err := ndndrepo.SendCommand(ctx, node, rp, (&ndndrepo.Command{SyncJoin: &ndndtlv.SyncJoin{
		Protocol: &spec.NameContainer{Name: ndndtlv.SyncProtocolSvsV3},
		Group:    &spec.NameContainer{Name: group},
	}}).Encode())
	require.NoError(t, err)
	require.EqualValues(t, ndndrepo.StatusOK, res.Status, res.Message)

	c, err := repo.NewClient(node, rp, rpc.ClientConfig{})
	require.NoError(t, err)
	defer c.Close()
	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{group.String()}, st.Groups)

	wire, err := signData(d.user, mustName("/test/user/blob/1"), []byte("stored by BlobFetch"))
	require.NoError(t, err)
	res, err = ndndrepo.SendCommand(ctx, node, rp, (&ndndrepo.Command{BlobFetch: &ndndtlv.BlobFetch{Data: [][]byte{wire}}}).Encode())
	require.NoError(t, err)
	require.EqualValues(t, ndndrepo.StatusOK, res.Status, res.Message)

	res, err = ndndrepo.SendCommand(ctx, node, rp, ndndrepo.EncodeSyncLeave(group))
	require.NoError(t, err)
	require.EqualValues(t, ndndrepo.StatusOK, res.Status, res.Message)
	st, err = c.Stats(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Groups)
	require.EqualValues(t, 1, st.Packets)
	dm.stop(t)
}
