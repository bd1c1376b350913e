package calc_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// Example runs the calc service on the test binary's real forwarder and
// calls it as a user, as a guest, and anonymously.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	connect := func(uri string) *ndn.Node {
		cfg := ndn.Config{Transport: ndntest.Transport(), Anchors: [][]byte{anchor.CertWire()}}
		if uri != "" {
			id, err := anchor.Issue(name(uri), time.Hour)
			if err != nil {
				panic(err)
			}
			cfg.Identity = id
		}
		n, err := ndn.Connect(ctx, cfg)
		if err != nil {
			panic(err)
		}
		return n
	}
	svcNode := connect(calc.Service)
	defer svcNode.Close()
	policy, _ := calc.Policy()
	s, err := rpc.NewServer(svcNode, rpc.ServerConfig{Service: name(calc.Service), Policy: policy})
	if err != nil {
		panic(err)
	}
	if err := calc.Register(s); err != nil {
		panic(err)
	}
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Close()

	call := func(who, method string, req, resp any, cc *rpc.CallConfig) {
		n := connect(who)
		defer n.Close()
		c, _ := rpc.NewClient(n, rpc.ClientConfig{})
		err := c.Call(ctx, calc.Service+"/"+method, req, resp, cc)
		fmt.Printf("%s %s: %v %v\n", who, method, status.Code(err), resp)
	}
	call("/example/users/alice", "add", calc.AddRequest{A: 2, B: 3}, &calc.SumResponse{}, nil)
	call("/example/users/alice", "div", calc.AddRequest{A: 1, B: 0}, &calc.QuotientResponse{}, nil)
	call("/example/guests/mallory", "add", calc.AddRequest{A: 2, B: 3}, &calc.SumResponse{}, nil)
	call("", "square", calc.SquareRequest{X: 12}, &calc.SquareResponse{}, &rpc.CallConfig{Public: true})
	// Output:
	// /example/users/alice add: OK &{5}
	// /example/users/alice div: InvalidArgument &{0}
	// /example/guests/mallory add: PermissionDenied &{0}
	//  square: OK &{144}
}

func TestEnsureDomainReuses(t *testing.T) {
	dir := t.TempDir()
	d1, err := calc.EnsureDomain(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := readFile(d1.Anchor)
	d2, err := calc.EnsureDomain(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := readFile(d2.Anchor)
	if string(before) != string(after) {
		t.Fatal("a second EnsureDomain must reuse the domain, not make a new anchor")
	}
}

func name(uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	if err != nil {
		panic(err)
	}
	return n
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
