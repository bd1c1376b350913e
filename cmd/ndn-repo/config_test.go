package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "repo.yml")
	require.NoError(t, os.WriteFile(file, []byte(sampleConfig), 0o644))
	bad := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("repo:\n  nme: /x\n"), 0o644))

	for _, tc := range []struct {
		name    string
		args    []string
		check   func(t *testing.T, c daemonConfig)
		wantErr string
	}{
		{name: "sample file", args: []string{"--config", file}, check: func(t *testing.T, c daemonConfig) {
			require.Equal(t, "/example/repo", c.Name)
			require.Equal(t, []string{"/etc/ndn/repo/anchor.cert"}, c.TrustAnchors)
			require.True(t, *c.PyrepoProtocol)
			require.Equal(t, int64(268435456), c.CacheMaxBytes)
		}},
		{name: "flags override the file", args: []string{"--config", file, "--prefix", "/other", "--anchor", "a.cert", "--anchor", "b.cert", "--no-ndnd-protocol"}, check: func(t *testing.T, c daemonConfig) {
			require.Equal(t, "/other", c.Name)
			require.Equal(t, "/example/repo", c.Identity) // from the file
			require.Equal(t, []string{"a.cert", "b.cert"}, c.TrustAnchors)
			require.False(t, *c.NdndProtocol)
		}},
		{name: "flags only, defaults", args: []string{"--prefix", "/r", "--anchor", "a.cert", "--keychain", "dir:///k"}, check: func(t *testing.T, c daemonConfig) {
			require.Equal(t, "/r", c.Identity)
			require.Equal(t, filepath.Join(os.TempDir(), "ndn-repo"), c.StorageDir)
			require.Nil(t, c.PyrepoProtocol) // nil means on
		}},
		{name: "unknown key", args: []string{"--config", bad}, wantErr: "unknown field"},
		{name: "no prefix", args: []string{"--anchor", "a.cert"}, wantErr: "needs a name"},
		{name: "no anchor", args: []string{"--prefix", "/r"}, wantErr: "trust anchor"},
		{name: "stray argument", args: []string{"--prefix", "/r", "extra"}, wantErr: "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, done, err := loadConfig(tc.args)
			require.False(t, done)
			if tc.wantErr != "" {
				require.Error(t, err)
				require.True(t, strings.Contains(err.Error(), tc.wantErr), err.Error())
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}
