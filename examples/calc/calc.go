// Package calc is the example service /example/calc: add and div for
// identities under /example/users, slow (sleeps, for deadline tests) for any
// authenticated caller, and square, public and cacheable, for anyone.
//
// cmd/calc runs it; cmd/calc-demo is `make demo`. Domain makes (or reuses)
// a demo trust domain so that nothing needs setting up by hand; real
// deployments pass keys made with `ndnd sec keygen` / `sign-cert` instead.
package calc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Service is the service name.
const Service = "/example/calc"

// PolicyText is the service's authorization policy.
const PolicyText = `# /example/calc: users may add and divide; anyone authenticated may be slow.
allow /example/users/<...> to call /example/calc/add
allow /example/users/<...> to call /example/calc/div
allow any to call /example/calc/slow
`

// AddRequest is the argument of add and div.
type AddRequest struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// SumResponse is add's reply.
type SumResponse struct {
	Sum float64 `json:"sum"`
}

// QuotientResponse is div's reply.
type QuotientResponse struct {
	Quotient float64 `json:"quotient"`
}

// SlowRequest asks slow to sleep Ms milliseconds.
type SlowRequest struct {
	Ms int `json:"ms"`
}

// SquareRequest is square's argument; SquareResponse its reply.
type SquareRequest struct {
	X float64 `json:"x"`
}

// SquareResponse is square's reply.
type SquareResponse struct {
	Y float64 `json:"y"`
}

// Register adds the four methods to s.
func Register(s *rpc.Server) error {
	return errors.Join(
		rpc.Unary(s.Mux, "add", func(_ context.Context, r AddRequest) (SumResponse, error) {
			return SumResponse{Sum: r.A + r.B}, nil
		}, rpc.MethodOptions{Idempotent: true, Description: "a + b"}),
		rpc.Unary(s.Mux, "div", func(_ context.Context, r AddRequest) (QuotientResponse, error) {
			if r.B == 0 {
				return QuotientResponse{}, status.Error(codes.InvalidArgument, "division by zero")
			}
			return QuotientResponse{Quotient: r.A / r.B}, nil
		}, rpc.MethodOptions{Idempotent: true, Description: "a / b; InvalidArgument when b is 0"}),
		rpc.Unary(s.Mux, "slow", func(ctx context.Context, r SlowRequest) (SlowRequest, error) {
			t := time.NewTimer(time.Duration(r.Ms) * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				return r, nil
			case <-ctx.Done():
				return SlowRequest{}, ctx.Err()
			}
		}, rpc.MethodOptions{Idempotent: true, Description: "sleeps ms milliseconds, then echoes"}),
		rpc.Unary(s.Mux, "square", func(_ context.Context, r SquareRequest) (SquareResponse, error) {
			return SquareResponse{Y: r.X * r.X}, nil
		}, rpc.MethodOptions{Public: true, CacheTTL: time.Minute, Idempotent: true, Description: "x²; public, cached for a minute"}),
	)
}

// Start serves /example/calc on node (whose identity should be
// /example/calc) with PolicyText, and returns once the forwarder routes it.
// The caller shuts the server down.
func Start(ctx context.Context, node *ndnx.Node) (*rpc.Server, error) {
	policy, err := Policy()
	if err != nil {
		return nil, err
	}
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: name(Service), Version: "1.0.0", Policy: policy})
	if err != nil {
		return nil, err
	}
	if err := Register(s); err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Policy parses PolicyText.
func Policy() (*security.Policy, error) { return security.ParsePolicy(PolicyText) }

// Domain is a demo trust domain kept under one directory:
//
//	DIR/keys/            alice (/example/users/alice): the CLI's default keychain
//	DIR/keys/anchor.cert the trust anchor (/example)
//	DIR/service-keys/    the service (/example/calc) and the anchor's key
//	DIR/mallory-keys/    mallory (/example/guests/mallory): certified, but not a user
type Domain struct {
	Dir, Anchor, UserKeys, ServiceKeys, MalloryKeys string
}

// EnsureDomain returns the demo trust domain under dir, creating it on first
// use and reusing it afterwards.
func EnsureDomain(dir string) (Domain, error) {
	d := Domain{
		Dir:         dir,
		Anchor:      filepath.Join(dir, "keys", "anchor.cert"),
		UserKeys:    filepath.Join(dir, "keys"),
		ServiceKeys: filepath.Join(dir, "service-keys"),
		MalloryKeys: filepath.Join(dir, "mallory-keys"),
	}
	if _, err := os.Stat(d.Anchor); err == nil {
		if _, err := security.LoadIdentity("dir://"+d.ServiceKeys, name(Service)); err == nil {
			return d, nil
		}
	}
	anchor, err := security.NewAnchor(name("/example"), 365*24*time.Hour)
	if err != nil {
		return d, err
	}
	issue := func(dir, n string) error {
		id, err := anchor.Issue(name(n), 365*24*time.Hour)
		if err != nil {
			return err
		}
		return security.SaveIdentity(dir, id)
	}
	pem, err := anchor.CertPEM()
	if err != nil {
		return d, err
	}
	if err := errors.Join(
		os.MkdirAll(d.UserKeys, 0o700),
		issue(d.ServiceKeys, Service),
		security.SaveIdentity(d.ServiceKeys, anchor),
		issue(d.UserKeys, "/example/users/alice"),
		issue(d.MalloryKeys, "/example/guests/mallory"),
	); err != nil {
		return d, fmt.Errorf("calc: make demo trust domain in %s: %w", dir, err)
	}
	return d, os.WriteFile(d.Anchor, pem, 0o644)
}

// DefaultDomainDir is where the demo trust domain lives: ~/.ndn-invoke.
func DefaultDomainDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "ndn-invoke")
	}
	return filepath.Join(home, ".ndn-invoke")
}

func name(uri string) enc.Name {
	n, _ := enc.NameFromStr(uri)
	return n
}
