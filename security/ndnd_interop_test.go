package security_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// TestNdndSecInterop loads keys and certificates made by the pinned
// `ndnd sec` tool, signs with them and verifies against its anchor, and
// checks that `ndnd sec key-list` reads a keychain we wrote.
func TestNdndSecInterop(t *testing.T) {
	bin, err := ndntest.Ndnd()
	require.NoError(t, err)
	dir := t.TempDir()
	sec := func(stdin []byte, args ...string) []byte {
		cmd := exec.Command(bin, append([]string{"sec"}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "ndnd sec %v: %s", args, stderr.String())
		return out
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	rootKey := sec(nil, "keygen", "/interop/root", "ed25519")
	rootKeyFile := write("root.key", rootKey)
	rootCert := write("root.cert", sec(rootKey, "sign-cert", rootKeyFile))
	aliceKey := sec(nil, "keygen", "/interop/root/alice", "ed25519")
	aliceKeyFile := write("alice.key", aliceKey)
	aliceCert := write("alice.cert", sec(aliceKey, "sign-cert", rootKeyFile))

	anchors, err := security.LoadAnchors(rootCert)
	require.NoError(t, err)
	alice, err := security.LoadIdentityFile(aliceKeyFile, aliceCert)
	require.NoError(t, err)
	require.Equal(t, "/interop/root/alice", alice.Name().String())

	v, err := security.NewVerifier(security.VerifierConfig{Anchors: anchors})
	require.NoError(t, err)
	require.NoError(t, v.AddCert(alice.CertWire()))
	i, err := security.NewInterestSigner(alice).MakeInterest(enc.Name{enc.NewGenericComponent("svc")},
		&ndn.InterestConfig{Lifetime: optional.Some(time.Second)}, enc.Wire{[]byte("x")})
	require.NoError(t, err)
	parsed, sigCov, err := spec.Spec{}.ReadInterest(enc.NewWireView(i.Wire))
	require.NoError(t, err)
	key, err := v.VerifyInterest(context.Background(), parsed, sigCov)
	require.NoError(t, err)
	require.True(t, alice.KeyName().Equal(key))

	// A keychain directory we write is one ndnd reads, and the other way round.
	kc := filepath.Join(dir, "kc")
	require.NoError(t, security.SaveIdentity(kc, alice))
	list := sec(nil, "key-list", "dir://"+kc)
	require.Contains(t, string(list), alice.KeyName().String())
	sec(rootKey, "key-import", "dir://"+kc)
	rootCertBytes, err := os.ReadFile(rootCert)
	require.NoError(t, err)
	sec(rootCertBytes, "key-import", "dir://"+kc)
	root, err := security.LoadIdentity("dir://"+kc, enc.Name{enc.NewGenericComponent("interop"), enc.NewGenericComponent("root")})
	require.NoError(t, err)
	require.Equal(t, "/interop/root", root.Name().String())
}
