package ndntest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// NoContentStore turns off the test forwarder's Content Store serving
// until the test ends, so that what a consumer receives provably comes
// from a producer or a repo, not from packets the forwarder cached. The
// setting is the forwarder's (YaNFD cannot erase its cache,
// fw/mgmt/cs.go:53-55): tests that use it must not run in parallel with
// others of their package.
func NoContentStore(t testing.TB) {
	t.Helper()
	node := Connect(t, ndnx.Config{Logger: slog.New(slog.DiscardHandler)})
	set := func(serve bool) error {
		var flags uint64
		if serve {
			flags = mgmt.CsEnableServe
		}
		m := mgmt.NewConfig(true, sig.NewSha256Signer(), spec.Spec{})
		i, err := m.MakeCmd("cs", "config", &mgmt.ControlArgs{Flags: optional.Some(flags), Mask: optional.Some(mgmt.CsEnableServe)},
			&ndn.InterestConfig{Lifetime: optional.Some(2 * time.Second), MustBeFresh: true,
				Nonce: optional.Some(uint32(time.Now().UnixNano()))})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err = node.Express(ctx, i)
		return err
	}
	if err := set(false); err != nil {
		t.Fatalf("ndntest: turn off Content Store serving: %v", err)
	}
	t.Cleanup(func() {
		if err := set(true); err != nil {
			t.Errorf("ndntest: turn Content Store serving back on: %v", err)
		}
	})
}
