package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestKeyCommands(t *testing.T) {
	dir := t.TempDir()
	kc := "dir://" + filepath.Join(dir, "keys")
	var out bytes.Buffer
	require.NoError(t, run([]string{"key", "anchor", "/example", "--keychain", kc, "--out", filepath.Join(dir, "a.cert")}, &out))
	require.Contains(t, out.String(), "identity /example")
	require.NoError(t, run([]string{"key", "issue", "/example/alice", "--issuer", "/example", "--keychain", kc}, &out))
	out.Reset()
	require.NoError(t, run([]string{"key", "list", "--keychain", kc}, &out))
	require.Contains(t, out.String(), "/example/alice\n")
	out.Reset()
	require.NoError(t, run([]string{"key", "cert", "/example/alice", "--keychain", kc}, &out))
	require.True(t, strings.HasPrefix(out.String(), "-----BEGIN NDN CERT-----"))

	// The anchor file verifies alice's certificate chain.
	anchors, err := security.LoadAnchors(filepath.Join(dir, "a.cert"))
	require.NoError(t, err)
	_, err = security.LoadIdentity(kc, nil)
	require.ErrorIs(t, err, security.ErrNoIdentity, "two identities: a name is needed")
	name, err := enc.NameFromStr("/example/alice")
	require.NoError(t, err)
	alice, err := security.LoadIdentity(kc, name)
	require.NoError(t, err)
	v, err := security.NewVerifier(security.VerifierConfig{Anchors: anchors})
	require.NoError(t, err)
	require.NoError(t, v.AddCert(alice.CertWire()))
	_, err = os.Stat(filepath.Join(dir, "keys"))
	require.NoError(t, err)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil, {"bogus"}, {"key"}, {"key", "bogus"}, {"key", "anchor"}, {"key", "issue", "/a"},
		{"key", "anchor", "/a", "--keychain", "mem://"}, {"key", "anchor", "/a", "--no-such-flag"},
	} {
		err := run(args, &bytes.Buffer{})
		require.True(t, errors.Is(err, errUsage), "%v: want a usage error, got %v", args, err)
	}
}
