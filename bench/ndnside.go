package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Names of the ndn-invoke side.
const (
	ndnService      = "/bench/echo"
	ndnEchoMethod   = ndnService + "/echo"
	ndnCachedMethod = ndnService + "/cached"
)

// ErrNoNdnd is returned by Run when no ndnd binary can be found.
var ErrNoNdnd = errors.New("bench: ndnd binary not found: run `make build` in the repository root " +
	"(it makes bin/ndnd) or set NDND_BIN")

// ndnSide is a forwarder, a server node running /bench/echo and a client
// node, all with identities under one fresh anchor.
type ndnSide struct {
	dir    string
	bin    string // the ndnd executable
	fw     *ndn.Forwarder
	srv    *ndn.Node
	server *rpc.Server
	cli    *ndn.Node
	client *rpc.Client     // Ed25519 on every signed packet
	sess   *rpc.Client     // Sessions: HMAC-SHA256 after one handshake
	raw    *rpc.CallConfig // signed, raw codec
	sealed *rpc.CallConfig // signed and sealed, raw codec
	public *rpc.CallConfig // public, raw codec
}

// findNdnd is ndn.FindNdnd, then ../bin/ndnd: `go run ./cmd/compare` and
// `go test` in bench/ run with bench/ as the working directory and their
// executable in a temporary directory, where FindNdnd does not look.
func findNdnd() (string, error) {
	if p, err := ndn.FindNdnd(); err == nil {
		return p, nil
	} else if os.Getenv("NDND_BIN") != "" {
		return "", fmt.Errorf("%w (%v)", ErrNoNdnd, err)
	}
	p, err := filepath.Abs(filepath.Join("..", "bin", "ndnd"))
	if err == nil {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoNdnd
}

// startNDN starts everything; on error it stops what it started.
func startNDN(ctx context.Context, cfg Config, log *slog.Logger) (_ *ndnSide, err error) {
	bin := cfg.NdndBinary
	if bin == "" {
		if bin, err = findNdnd(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "ndnbench-") // short: the socket path is limited to 107 bytes
	if err != nil {
		return nil, fmt.Errorf("bench: forwarder dir: %w", err)
	}
	n := &ndnSide{dir: dir, bin: bin}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	n.fw, err = ndn.StartForwarder(ctx, ndn.ForwarderConfig{Dir: dir, Binary: bin, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bench: start forwarder: %w", err)
	}

	root, _ := enc.NameFromStr("/bench")
	anchor, err := security.NewAnchor(root, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	svc, _ := enc.NameFromStr(ndnService)
	srvID, err := anchor.Issue(svc, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	cliName, _ := enc.NameFromStr("/bench/client")
	cliID, err := anchor.Issue(cliName, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	anchors := [][]byte{anchor.CertWire()}

	n.srv, err = ndn.Connect(ctx, ndn.Config{Transport: n.fw.Transport(), Identity: srvID, Anchors: anchors, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bench: connect server node: %w", err)
	}
	n.server, err = rpc.NewServer(n.srv, rpc.ServerConfig{Service: svc, Version: "bench", Logger: log})
	if err != nil {
		return nil, err
	}
	echo := func(_ context.Context, b []byte) ([]byte, error) { return b, nil }
	// echo keeps the default options (signed, not idempotent), as a method
	// gets them unless its author says otherwise.
	if err := rpc.Unary(n.server.Mux, "echo", echo, rpc.MethodOptions{}); err != nil {
		return nil, err
	}
	if err := rpc.Unary(n.server.Mux, "cached", echo,
		rpc.MethodOptions{Public: true, CacheTTL: 10 * time.Second, Idempotent: true}); err != nil {
		return nil, err
	}
	if err := n.server.Start(ctx); err != nil {
		return nil, fmt.Errorf("bench: start server: %w", err)
	}

	n.cli, err = ndn.Connect(ctx, ndn.Config{Transport: n.fw.Transport(), Identity: cliID, Anchors: anchors, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bench: connect client node: %w", err)
	}
	n.client, err = rpc.NewClient(n.cli, rpc.ClientConfig{Logger: log})
	if err != nil {
		return nil, err
	}
	// A second client on the same node: sessions are a client setting. It
	// makes one handshake with /bench/echo, in the first warm-up that uses
	// it, and serves both ndn-session and ndn-sealed.
	n.sess, err = rpc.NewClient(n.cli, rpc.ClientConfig{Sessions: true, Logger: log})
	if err != nil {
		return nil, err
	}
	n.raw = &rpc.CallConfig{Codec: codec.Raw{}}
	n.sealed = &rpc.CallConfig{Codec: codec.Raw{}, Sealed: true}
	n.public = &rpc.CallConfig{Codec: codec.Raw{}, Public: true}
	return n, nil
}

// echo makes one signed call and checks the echoed length.
func (n *ndnSide) echo(ctx context.Context, payload []byte) error {
	return n.call(ctx, n.client, ndnEchoMethod, payload, n.raw)
}

// sessionEcho makes one session-signed call of the same method.
func (n *ndnSide) sessionEcho(ctx context.Context, payload []byte) error {
	return n.call(ctx, n.sess, ndnEchoMethod, payload, n.raw)
}

// sealedEcho makes one session-signed, sealed call of the same method.
func (n *ndnSide) sealedEcho(ctx context.Context, payload []byte) error {
	return n.call(ctx, n.sess, ndnEchoMethod, payload, n.sealed)
}

// cached makes one public call of the cacheable method.
func (n *ndnSide) cached(ctx context.Context, payload []byte) error {
	return n.call(ctx, n.client, ndnCachedMethod, payload, n.public)
}

func (n *ndnSide) call(ctx context.Context, c *rpc.Client, method string, payload []byte, cc *rpc.CallConfig) error {
	var out []byte
	if err := c.Call(ctx, method, payload, &out, cc); err != nil {
		return err
	}
	if len(out) != len(payload) {
		return fmt.Errorf("%s returned %d bytes, sent %d", method, len(out), len(payload))
	}
	return nil
}

// close stops everything that was started, in reverse order, and waits:
// the forwarder has exited when it returns. Safe on a partly started side.
func (n *ndnSide) close() {
	if n.cli != nil {
		_ = n.cli.Close()
	}
	if n.server != nil {
		_ = n.server.Close()
	}
	if n.srv != nil {
		_ = n.srv.Close()
	}
	if n.fw != nil {
		_ = n.fw.Stop()
	}
	_ = os.RemoveAll(n.dir)
}
