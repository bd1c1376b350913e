package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// ndntsDir is the NDNts interop client, relative to this package.
var ndntsDir = filepath.Join("..", "..", "interop", "ndnts")

// ndntsReady installs the NDNts client's pinned dependencies, skipping the
// test when node or npm is missing or the registry cannot be reached.
func ndntsReady(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = ndntsDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("npm ci in %s failed (offline?): %v\n%s", ndntsDir, err, out)
	}
}

// TestInteropNDNts: a client built from NDNts packages (interop/ndnts/
// insert.mjs), with its own key certified by the repo's anchor, inserts
// three Data packets over the ndn-python-repo protocol and deletes one; the
// repo then holds exactly the other two. "range" inserts one segmented
// object by StartBlockId/EndBlockId; "single" inserts three packets by name,
// each reachable only through the publisher's forwarding hint as with
// @ndn/pyrepo.
func TestInteropNDNts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node")
	}
	ndntsReady(t)
	for _, tc := range []struct {
		mode, prefix string
		want         []string
	}{
		{mode: "range", prefix: "/test/ndnts/obj", want: []string{"/test/ndnts/obj/seg=1", "/test/ndnts/obj/seg=2"}},
		// Regression: the single-packet fetch once dropped the
		// ForwardingHint, and the repo registered the object's prefix
		// before fetching, shadowing the producer's shorter route.
		{mode: "single", prefix: "/test/ndnts/data", want: []string{"/test/ndnts/data/1", "/test/ndnts/data/2"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			runNDNts(t, tc.mode, tc.prefix, tc.want)
		})
	}
}

func runNDNts(t *testing.T, mode, prefix string, want []string) {
	d := newDomain(t)
	dataDir := t.TempDir()
	dm := startDaemon(t, d, dataDir)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "insert.mjs", "/test/repo", "/test/ndnts", "3", mode)
	cmd.Dir = ndntsDir
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+dm.transport)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())

	var lines []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if csr, ok := strings.CutPrefix(line, "CSR "); ok {
			// Certify the NDNts key under the repo's trust anchor.
			self, err := base64.StdEncoding.DecodeString(csr)
			require.NoError(t, err)
			cert, err := d.anchor.SignCert(self, nil)
			require.NoError(t, err)
			_, err = fmt.Fprintf(stdin, "CERT %s\n", base64.StdEncoding.EncodeToString(cert))
			require.NoError(t, err)
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	out := strings.Join(lines, "\n")
	t.Logf("insert.mjs output:\n%s\nstderr:\n%s", out, stderr.String())
	if waitErr != nil {
		t.Fatalf("insert.mjs failed: %v\ndaemon log:\n%s", waitErr, dm.out.String())
	}
	require.Contains(t, out, "RESULT insert 200")
	require.Contains(t, out, "RESULT delete 200")

	node := connectTo(t, dm.transport, d, d.user)
	defer node.Close()
	c, err := repo.NewClient(node, mustName("/test/repo"), rpc.ClientConfig{})
	require.NoError(t, err)
	defer c.Close()
	var names []string
	for name, err := range c.List(ctx, mustName(prefix), 100) {
		require.NoError(t, err)
		names = append(names, name)
	}
	slices.Sort(names)
	require.Equal(t, want, names)
	// The repo also keeps the signer's certificate, so that consumers can
	// verify the packets after the NDNts client has gone.
	var certs []string
	for name, err := range c.List(ctx, mustName("/test/ndnts/KEY"), 100) {
		require.NoError(t, err)
		certs = append(certs, name)
	}
	require.Len(t, certs, 1)
	st, err := c.Stats(ctx)
	require.NoError(t, err)
	require.EqualValues(t, len(want)+len(certs), st.Packets)
	dm.stop(t)
}
