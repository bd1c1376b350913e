package ndntest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"go.uber.org/goleak"

	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// ndndModule is the pinned forwarder this package builds when no binary is found.
const ndndModule = "github.com/named-data/ndnd/cmd/ndnd"

// The test binary's forwarder and anchor. Set once by Main before any test
// runs and only read afterwards; a forwarder is per process by nature.
var (
	fw         *ndn.Forwarder
	anchorOnce sync.Once
	anchor     *security.Identity
	anchorErr  error
)

// Main starts the forwarder, runs the tests, verifies no goroutine leaked
// (when the tests passed), stops the forwarder and exits. Call it from
// TestMain. goleak options are passed through (for example
// goleak.IgnoreTopFunction for a known third-party goroutine).
func Main(m *testing.M, opts ...goleak.Option) {
	os.Exit(run(m, opts))
}

func run(m *testing.M, opts []goleak.Option) int {
	dir, err := os.MkdirTemp("", "ndntest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ndntest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := Ndnd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ndntest:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f, err := ndn.StartForwarder(ctx, ndn.ForwarderConfig{Dir: dir, Binary: bin})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ndntest:", err)
		return 1
	}
	fw = f
	code := m.Run()
	if err := f.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "ndntest: stop forwarder:", err)
	}
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintln(os.Stderr, "ndntest: goroutine leak:", err)
			code = 1
		}
	}
	return code
}

// Forwarder is the test binary's forwarder. It panics if Main did not run:
// that is a wiring error in the test, not a test failure.
func Forwarder() *ndn.Forwarder {
	if fw == nil {
		panic("ndntest: no forwarder: call ndntest.Main(m) from TestMain")
	}
	return fw
}

// Transport is the URI of the test binary's forwarder.
func Transport() string { return Forwarder().Transport() }

// Prefix returns a name unique to this test: /ndntest/<test name>/<random>.
func Prefix(t testing.TB) enc.Name {
	t.Helper()
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '%' || r == '=' {
			return '_'
		}
		return r
	}, t.Name())
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name, err := enc.NameFromStr("/ndntest/" + clean + "/" + hex.EncodeToString(b))
	if err != nil {
		t.Fatalf("ndntest: prefix for %s: %v", t.Name(), err)
	}
	return name
}

// Anchor is the test binary's throwaway trust anchor (/ndntest/anchor),
// made on first use.
func Anchor() *security.Identity {
	anchorOnce.Do(func() {
		name, _ := enc.NameFromStr("/ndntest/anchor")
		anchor, anchorErr = security.NewAnchor(name, 24*time.Hour)
	})
	if anchorErr != nil {
		panic("ndntest: make anchor: " + anchorErr.Error())
	}
	return anchor
}

// Identity returns a fresh identity /ndntest/id/<name>/<random>, certified
// by Anchor for a day.
func Identity(t testing.TB, name string) *security.Identity {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n, err := enc.NameFromStr("/ndntest/id/" + name + "/" + hex.EncodeToString(b))
	if err != nil {
		t.Fatalf("ndntest: identity name %q: %v", name, err)
	}
	id, err := Anchor().Issue(n, 24*time.Hour)
	if err != nil {
		t.Fatalf("ndntest: issue identity %s: %v", n, err)
	}
	return id
}

// Connect connects a Node to the test binary's forwarder and closes it when
// the test ends. Empty Transport and Anchors in cfg are filled with the
// forwarder's and Anchor's.
func Connect(t testing.TB, cfg ndn.Config) *ndn.Node {
	t.Helper()
	if cfg.Transport == "" {
		cfg.Transport = Transport()
	}
	if cfg.Anchors == nil && cfg.AnchorFiles == nil {
		cfg.Anchors = [][]byte{Anchor().CertWire()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := ndn.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("ndntest: connect: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// Ndnd returns the path of an ndnd binary built from the pinned module:
// ndn.FindNdnd's answer, else the module's bin/ndnd, else one built once
// into the user cache directory (go build's cache makes later builds quick).
func Ndnd() (string, error) {
	if p, err := ndn.FindNdnd(); err == nil {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if p := filepath.Join(root, "bin", "ndnd"); isExec(p) {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "ndn-invoke")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "ndnd-v1.5.3")
	// Package test binaries start together: build under a lock, once.
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExec(out) {
		return out, nil
	}
	cmd := exec.Command("go", "build", "-o", out+".tmp", ndndModule)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ndntest: build ndnd: %v\n%s", err, b)
	}
	return out, os.Rename(out+".tmp", out)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("ndntest: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("ndntest: not inside a Go module; set NDND_BIN")
	}
	return filepath.Dir(gomod), nil
}
