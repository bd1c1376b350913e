package repo_test

import (
	"testing"

	"github.com/ndn-invoke/ndn-invoke/repo"
)

// FuzzParseName: names in commands come from the network as URIs; parsing
// never panics (ndnd's NameFromStr does on some inputs) and a parsed name
// prints to a URI that parses back to a name printing the same. (Not
// always the same bytes: ndnd prints a non-minimal number component, such
// as an empty version 54=, as v=0, which encodes as one zero byte.)
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"/a/b", "/", "", "/=x", "/v=1/seg=2", "/8=%00%FF", "/32=metadata", "/a//b", "%", "/54=", "/1=a/2=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := repo.ParseName(s)
		if err != nil {
			return
		}
		m, err := repo.ParseName(n.String())
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, n, err)
		}
		if m.String() != n.String() {
			t.Fatalf("%q: %s reparsed as %s", s, n, m)
		}
	})
}
