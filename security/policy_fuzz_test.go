package security_test

import (
	"errors"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// policyFuzzSeeds are valid policies that seed both fuzz targets.
var policyFuzzSeeds = []string{
	"",
	"allow any to call /<...>",
	"allow /example/users/<user> to call /kv/<user>/<...>",
	"# comment\n\ndeny /users/mallory to call /<...>\nallow /users/* to call /svc/*/get # trailing\n",
	"allow /users/<u>/KEY/<k> to call /keys/<u>/<k>",
	"allow /org/<p...> to call /home/<p...>",
	"deny any to call /admin/<...>\r\nallow any to call /pub/v=1/seg=0/32=kw/sha256digest=00ff\r\n",
	"allow /%2A/%3Cx%3E/a%20b to call /",
	"allow /a/ to call /b/<...>/",
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range policyFuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := security.ParsePolicy(text)
		if err != nil {
			var pe *security.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *PolicyError", err, err)
			}
			if p != nil {
				t.Fatalf("non-nil policy with error %v", err)
			}
			if pe.Line < 0 || pe.Line > strings.Count(text, "\n")+1 {
				t.Fatalf("error line %d outside the text: %v", pe.Line, err)
			}
			return
		}
		s := p.String()
		p2, err := security.ParsePolicy(s)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", s, err)
		}
		if s2 := p2.String(); s2 != s {
			t.Fatalf("canonical form not stable:\n%q\n%q", s, s2)
		}
		r1, r2 := p.Rules(), p2.Rules()
		if len(r1) != len(r2) {
			t.Fatalf("%d rules became %d", len(r1), len(r2))
		}
		for i := range r1 {
			a, b := r1[i], r2[i]
			a.Line, b.Line = 0, 0
			if a != b {
				t.Fatalf("rule %d: %+v became %+v", i, r1[i], r2[i])
			}
		}
	})
}

// policyFuzzName parses uri for FuzzAuthorize. It reports false for text
// that is not a name, and for components starting with '=', on which
// enc.NameFromStr (ndnd v1.5.3) panics.
func policyFuzzName(uri string) (enc.Name, bool) {
	for part := range strings.SplitSeq(uri, "/") {
		if strings.HasPrefix(part, "=") {
			return nil, false
		}
	}
	n, err := enc.NameFromStr(uri)
	return n, err == nil
}

func FuzzAuthorize(f *testing.F) {
	names := []string{"/", "/example/users/alice/KEY/%01%02", "/kv/alice/x/y", "/users/mallory", "/org/a/b/KEY/%01", "/home/a/b", "/pub/v=1/seg=0"}
	for i, s := range policyFuzzSeeds {
		f.Add(s, names[i%len(names)], names[(i+1)%len(names)])
	}
	// Components starting with '=' must be skipped, not crash the target.
	f.Add("allow any to call /<...>", "/=x", "/a/=")
	f.Add("allow /u/<u>/KEY/<k> to call /k/<u>/<k>\ndeny any to call /<...>", "/u/a/KEY/%01", "/k/a/%01")
	f.Fuzz(func(t *testing.T, text, callerURI, targetURI string) {
		p, err := security.ParsePolicy(text)
		if err != nil {
			p = nil // a nil policy must work too
		}
		caller, ok := policyFuzzName(callerURI)
		if !ok {
			return
		}
		target, ok := policyFuzzName(targetURI)
		if !ok {
			return
		}
		err = p.Authorize(caller, target)
		if err != nil && (!errors.Is(err, security.ErrPolicyDenied) || !errors.Is(err, security.ErrPermissionDenied)) {
			t.Fatalf("Authorize error %v does not match ErrPolicyDenied and ErrPermissionDenied", err)
		}
		if p == nil {
			if err == nil {
				t.Fatal("nil policy allowed a call")
			}
			return
		}
		// The canonical form decides the same way.
		p2, perr := security.ParsePolicy(p.String())
		if perr != nil {
			t.Fatalf("canonical form does not parse: %v", perr)
		}
		if err2 := p2.Authorize(caller, target); (err2 == nil) != (err == nil) {
			t.Fatalf("policy says %v, canonical form says %v", err, err2)
		}
		// Allow-all and empty policies are fixed points.
		if security.AllowAllPolicy().Authorize(caller, target) != nil {
			t.Fatal("AllowAllPolicy denied a call")
		}
	})
}
