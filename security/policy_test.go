package security_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// policyTestName parses an NDN name URI or fails the test.
func policyTestName(t testing.TB, uri string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(uri)
	if err != nil {
		t.Fatalf("NameFromStr(%q): %v", uri, err)
	}
	return n
}

// policyTestParse parses policy text or fails the test.
func policyTestParse(t testing.TB, text string) *security.Policy {
	t.Helper()
	p, err := security.ParsePolicy(text)
	if err != nil {
		t.Fatalf("ParsePolicy(%q): %v", text, err)
	}
	return p
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string // substring of PolicyError.Msg
	}{
		{name: "unknown verb", in: "permit any to call /a", wantLine: 1, wantMsg: `unknown verb "permit"`},
		{name: "verb is case sensitive", in: "Allow any to call /a", wantLine: 1, wantMsg: "unknown verb"},
		{name: "verb only", in: "allow", wantLine: 1, wantMsg: "missing caller pattern"},
		{name: "missing to call", in: "allow /a /b", wantLine: 1, wantMsg: `missing "to call"`},
		{name: "missing call", in: "allow /a to /b", wantLine: 1, wantMsg: `missing "to call"`},
		{name: "tocall glued", in: "allow /a tocall /b", wantLine: 1, wantMsg: `missing "to call"`},
		{name: "missing target", in: "deny /a to call", wantLine: 1, wantMsg: "missing target pattern"},
		{name: "trailing text", in: "allow /a to call /b /c", wantLine: 1, wantMsg: `unexpected "/c"`},
		{name: "caller not a name", in: "allow alice to call /b", wantLine: 1, wantMsg: `caller pattern "alice": must start with "/"`},
		{name: "target not a name", in: "allow any to call any", wantLine: 1, wantMsg: `target pattern "any": must start with "/"`},
		{name: "bad component", in: "allow /a/%zz to call /b", wantLine: 1, wantMsg: `bad component "%zz"`},
		{name: "bad typed component", in: "allow /a to call /seg=x", wantLine: 1, wantMsg: `bad component "seg=x"`},
		{name: "unknown component type", in: "allow /a to call /foo=1", wantLine: 1, wantMsg: `bad component "foo=1"`},
		{name: "empty component type", in: "allow /a to call /=1", wantLine: 1, wantMsg: "empty type"},
		{name: "two equals", in: "allow /a to call /v=1=2", wantLine: 1, wantMsg: "bad component"},
		{name: "empty component", in: "allow /a//b to call /b", wantLine: 1, wantMsg: "empty component"},
		{name: "double slash", in: "allow // to call /b", wantLine: 1, wantMsg: "empty component"},
		{name: "explicit empty generic", in: "allow /a/8= to call /b", wantLine: 1, wantMsg: "empty component"},
		{name: "rest not last", in: "allow /a/<...>/b to call /b", wantLine: 1, wantMsg: "<...> must be the last component"},
		{name: "named rest not last", in: "allow /a to call /<x...>/b", wantLine: 1, wantMsg: "<x...> must be the last component"},
		{name: "two rests", in: "allow /a to call /<...>/<...>", wantLine: 1, wantMsg: "must be the last component"},
		{name: "unbound capture", in: "allow /users/<u> to call /kv/<v>", wantLine: 1, wantMsg: "capture <v> is not bound by the caller pattern"},
		{name: "capture with any caller", in: "allow any to call /kv/<u>", wantLine: 1, wantMsg: "capture <u> is not bound"},
		{name: "empty capture name", in: "allow /a/<> to call /b", wantLine: 1, wantMsg: "empty capture name"},
		{name: "unclosed placeholder", in: "allow /a/<u to call /b", wantLine: 1, wantMsg: "lacks a closing"},
		{name: "lone open bracket", in: "allow /a/< to call /b", wantLine: 1, wantMsg: "lacks a closing"},
		{name: "bad capture name", in: "allow /a/<u.v> to call /b", wantLine: 1, wantMsg: "bad capture name"},
		{name: "bad rest name", in: "allow /a/<....> to call /b", wantLine: 1, wantMsg: "bad capture name"},
		{name: "duplicate capture in caller", in: "allow /<u>/<u> to call /b", wantLine: 1, wantMsg: "capture <u> appears twice"},
		{name: "duplicate capture in target", in: "allow /<u> to call /<u>/<u>", wantLine: 1, wantMsg: "capture <u> appears twice"},
		{name: "duplicate one and rest", in: "allow /<u>/<u...> to call /b", wantLine: 1, wantMsg: "appears twice"},
		{name: "kind mismatch one to rest", in: "allow /<u> to call /kv/<u...>", wantLine: 1, wantMsg: "one component in one pattern and trailing"},
		{name: "kind mismatch rest to one", in: "allow /<u...> to call /kv/<u>", wantLine: 1, wantMsg: "one component in one pattern and trailing"},
		{
			name:     "names the right line",
			in:       "# header\n\nallow any to call /a\n  deny /x to call /y # ok\nallow /a to call\nallow any to call /b\n",
			wantLine: 5,
			wantMsg:  "missing target",
		},
		{name: "crlf line endings", in: "allow any to call /a\r\nbogus\r\n", wantLine: 2, wantMsg: "unknown verb"},
		{name: "comment cannot hide verb", in: "allow # any to call /a", wantLine: 1, wantMsg: "missing caller"},
		{
			name:     "line too long",
			in:       "allow any to call /a\nallow any to call /" + strings.Repeat("a", security.MaxPolicyLineBytes),
			wantLine: 2,
			wantMsg:  "over the 8192-byte limit",
		},
		{
			name:     "long comment line",
			in:       "#" + strings.Repeat("x", security.MaxPolicyLineBytes),
			wantLine: 1,
			wantMsg:  "over the 8192-byte limit",
		},
		{
			// Each raw byte 0xff becomes %FF in canonical form: 3x longer.
			name:     "canonical rule too long",
			in:       "allow any to call /" + strings.Repeat("\xff", 3000),
			wantLine: 1,
			wantMsg:  "in canonical form",
		},
		{
			name:     "text too long",
			in:       strings.Repeat("# padding padding padding padding\n", security.MaxPolicyBytes/34+1),
			wantLine: 0,
			wantMsg:  "over the 1048576-byte limit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := security.ParsePolicy(tt.in)
			if err == nil {
				t.Fatalf("ParsePolicy succeeded with rules %q, want error", p.String())
			}
			if p != nil {
				t.Errorf("ParsePolicy returned non-nil policy with error %v", err)
			}
			var pe *security.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *PolicyError", err, err)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (%v)", pe.Line, tt.wantLine, err)
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.wantMsg)
			}
		})
	}
}

func TestPolicyErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   security.PolicyError
		want string
	}{
		{name: "line", in: security.PolicyError{Line: 3, Msg: "boom"}, want: "security: policy line 3: boom"},
		{name: "whole text", in: security.PolicyError{Msg: "too long"}, want: "security: policy: too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePolicyCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		want      string // String()
		wantRules []security.Rule
	}{
		{name: "empty", in: "", want: ""},
		{name: "comments and blanks only", in: "# nothing\n\n   \t\n# more", want: ""},
		{
			name: "spacing, comments and verbs",
			in:   "  allow\t/a   to  call /b   # trailing comment\n\ndeny any to call /",
			want: "allow /a to call /b\ndeny any to call /\n",
			wantRules: []security.Rule{
				{Allow: true, Caller: "/a", Target: "/b", Line: 1},
				{Allow: false, Caller: "any", Target: "/", Line: 3},
			},
		},
		{
			name:      "placeholders",
			in:        "allow /example/users/<user>/<dev...> to call /kv/<user>/*/<dev...>",
			want:      "allow /example/users/<user>/<dev...> to call /kv/<user>/*/<dev...>\n",
			wantRules: []security.Rule{{Allow: true, Caller: "/example/users/<user>/<dev...>", Target: "/kv/<user>/*/<dev...>", Line: 1}},
		},
		{
			name:      "trailing slash dropped",
			in:        "allow /a/ to call /b/<...>/",
			want:      "allow /a to call /b/<...>\n",
			wantRules: []security.Rule{{Allow: true, Caller: "/a", Target: "/b/<...>", Line: 1}},
		},
		{
			name:      "typed components",
			in:        "allow /a to call /svc/v=007/seg=3/32=kw/1=abc",
			want:      "allow /a to call /svc/v=7/seg=3/32=kw/sha256digest=616263\n",
			wantRules: []security.Rule{{Allow: true, Caller: "/a", Target: "/svc/v=7/seg=3/32=kw/sha256digest=616263", Line: 1}},
		},
		{
			name:      "escaped literals stay literal",
			in:        "allow /%2A/%3Cu%3E to call /a%20b/...",
			want:      "allow /%2A/%3Cu%3E to call /a%20b/...\n",
			wantRules: []security.Rule{{Allow: true, Caller: "/%2A/%3Cu%3E", Target: "/a%20b/...", Line: 1}},
		},
		{
			name:      "raw bytes escaped",
			in:        "allow /caf\xc3\xa9 to call /x",
			want:      "allow /caf%C3%A9 to call /x\n",
			wantRules: []security.Rule{{Allow: true, Caller: "/caf%C3%A9", Target: "/x", Line: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := policyTestParse(t, tt.in)
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			got := p.Rules()
			if len(got) != len(tt.wantRules) {
				t.Fatalf("Rules() = %+v, want %+v", got, tt.wantRules)
			}
			for i := range got {
				if got[i] != tt.wantRules[i] {
					t.Errorf("Rules()[%d] = %+v, want %+v", i, got[i], tt.wantRules[i])
				}
			}
		})
	}
}

func TestPolicyAuthorize(t *testing.T) {
	t.Parallel()
	const kv = "allow /example/users/<user> to call /kv/<user>/<...>"
	tests := []struct {
		name    string
		policy  string
		caller  string
		target  string
		wantErr bool // true: denied
	}{
		// Captures bind across caller and target.
		{name: "capture same user", policy: kv, caller: "/example/users/alice/KEY/%01%02", target: "/kv/alice/x/y"},
		{name: "capture other user", policy: kv, caller: "/example/users/alice/KEY/%01%02", target: "/kv/bob/x", wantErr: true},
		{name: "rest matches zero components", policy: kv, caller: "/example/users/alice/KEY/%01", target: "/kv/alice"},
		{name: "target too short", policy: kv, caller: "/example/users/alice/KEY/%01", target: "/kv", wantErr: true},
		{name: "caller matched exactly", policy: kv, caller: "/example/users/alice/phone/KEY/%01", target: "/kv/alice/x", wantErr: true},
		{name: "caller too short", policy: kv, caller: "/example/users/KEY/%01", target: "/kv/users/x", wantErr: true},
		{name: "identity without KEY used whole", policy: kv, caller: "/example/users/alice", target: "/kv/alice/x"},
		{name: "KEY not second to last is kept", policy: kv, caller: "/example/users/alice/KEY", target: "/kv/alice", wantErr: true},
		{
			name:   "capture compares type too",
			policy: "allow /users/<n> to call /kv/<n>",
			caller: "/users/seq=5/KEY/%01", target: "/kv/seg=5", wantErr: true,
		},
		{
			name:   "named rest binds a sequence",
			policy: "allow /org/<path...> to call /home/<path...>",
			caller: "/org/a/b/KEY/%01", target: "/home/a/b",
		},
		{
			name:   "named rest sequence differs",
			policy: "allow /org/<path...> to call /home/<path...>",
			caller: "/org/a/b/KEY/%01", target: "/home/a/c", wantErr: true,
		},
		{
			name:   "named rest length differs",
			policy: "allow /org/<path...> to call /home/<path...>",
			caller: "/org/a/b/KEY/%01", target: "/home/a/b/c", wantErr: true,
		},
		{
			name:   "named rest both empty",
			policy: "allow /org/<path...> to call /home/<path...>",
			caller: "/org/KEY/%01", target: "/home",
		},
		{
			name:   "capture used only in caller is a wildcard",
			policy: "allow /users/<u> to call /pub/<...>",
			caller: "/users/zed/KEY/%01", target: "/pub/x",
		},
		// Wildcards.
		{name: "star one component", policy: "allow /users/* to call /svc/*/get", caller: "/users/a/KEY/%01", target: "/svc/x/get"},
		{name: "star not zero components", policy: "allow /users/* to call /svc/*/get", caller: "/users/a/KEY/%01", target: "/svc/get", wantErr: true},
		{name: "star not two components", policy: "allow /users/* to call /svc/*/get", caller: "/users/a/KEY/%01", target: "/svc/x/y/get", wantErr: true},
		{name: "root rest matches everything", policy: "allow any to call /<...>", caller: "/x/KEY/%01", target: "/anything/at/all"},
		{name: "root rest matches root", policy: "allow any to call /<...>", caller: "/x/KEY/%01", target: "/"},
		{name: "root matches only root", policy: "allow any to call /", caller: "/x/KEY/%01", target: "/a", wantErr: true},
		{name: "any matches empty caller", policy: "allow any to call /a", caller: "/", target: "/a"},
		{name: "rest caller for and below", policy: "allow /org/<...> to call /a", caller: "/org/eng/bob/KEY/%01", target: "/a"},
		{name: "rest caller matches org itself", policy: "allow /org/<...> to call /a", caller: "/org/KEY/%01", target: "/a"},
		// Literals.
		{name: "typed literal", policy: "allow any to call /file/v=3/seg=0", caller: "/x", target: "/file/v=3/seg=0"},
		{name: "typed literal differs by type", policy: "allow any to call /file/v=3", caller: "/x", target: "/file/seg=3", wantErr: true},
		{name: "generic vs typed same bytes", policy: "allow any to call /file/%03", caller: "/x", target: "/file/v=3", wantErr: true},
		{name: "escaped star is literal", policy: "allow any to call /a/%2A", caller: "/x", target: "/a/b", wantErr: true},
		{name: "escaped star matches star", policy: "allow any to call /a/%2A", caller: "/x", target: "/a/%2A"},
		// KEY in the caller pattern: match the whole key name.
		{name: "key pattern exact key", policy: "allow /users/alice/KEY/%01%02 to call /a", caller: "/users/alice/KEY/%01%02", target: "/a"},
		{name: "key pattern other key", policy: "allow /users/alice/KEY/%01%02 to call /a", caller: "/users/alice/KEY/%09", target: "/a", wantErr: true},
		{name: "key pattern star key", policy: "allow /users/<u>/KEY/* to call /kv/<u>", caller: "/users/bob/KEY/%09", target: "/kv/bob"},
		{name: "key pattern star key other target", policy: "allow /users/<u>/KEY/* to call /kv/<u>", caller: "/users/bob/KEY/%09", target: "/kv/eve", wantErr: true},
		{name: "key pattern not against identity", policy: "allow /users/<u>/KEY/* to call /a", caller: "/users/bob", target: "/a", wantErr: true},
		{name: "key pattern capture key id", policy: "allow /svc/KEY/<k> to call /by-key/<k>", caller: "/svc/KEY/%AB", target: "/by-key/%AB"},
		{name: "no key pattern ignores key id", policy: "allow /users/bob to call /a", caller: "/users/bob/KEY/%09", target: "/a"},
		// Ordering and defaults.
		{
			name:   "deny before allow",
			policy: "deny /users/mallory to call /<...>\nallow /users/* to call /<...>",
			caller: "/users/mallory/KEY/%01", target: "/kv/x", wantErr: true,
		},
		{
			name:   "deny before allow lets others through",
			policy: "deny /users/mallory to call /<...>\nallow /users/* to call /<...>",
			caller: "/users/alice/KEY/%01", target: "/kv/x",
		},
		{
			name:   "allow before deny",
			policy: "allow /users/* to call /<...>\ndeny /users/mallory to call /<...>",
			caller: "/users/mallory/KEY/%01", target: "/kv/x",
		},
		{
			name:   "non-matching deny is skipped",
			policy: "deny any to call /admin/<...>\nallow any to call /<...>",
			caller: "/u/KEY/%01", target: "/kv",
		},
		{
			name:   "caller match but target miss goes on",
			policy: "allow /users/<u> to call /kv/<u>\nallow any to call /pub",
			caller: "/users/a/KEY/%01", target: "/pub",
		},
		{name: "default deny", policy: "allow /users/alice to call /a", caller: "/users/bob/KEY/%01", target: "/a", wantErr: true},
		{name: "empty policy denies", policy: "", caller: "/users/bob/KEY/%01", target: "/a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := policyTestParse(t, tt.policy)
			caller, target := policyTestName(t, tt.caller), policyTestName(t, tt.target)
			err := p.Authorize(caller, target)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Authorize(%s, %s) = %v, wantErr %v", caller, target, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, security.ErrPolicyDenied) {
					t.Errorf("error %v does not match ErrPolicyDenied", err)
				}
				if !errors.Is(err, security.ErrPermissionDenied) {
					t.Errorf("error %v does not match ErrPermissionDenied", err)
				}
				if errors.Is(err, security.ErrUnauthenticated) {
					t.Errorf("error %v matches ErrUnauthenticated", err)
				}
			}
			// The canonical form must decide the same way.
			p2 := policyTestParse(t, p.String())
			if err2 := p2.Authorize(caller, target); (err2 != nil) != tt.wantErr {
				t.Errorf("re-parsed policy: Authorize = %v, wantErr %v", err2, tt.wantErr)
			}
		})
	}
}

func TestPolicyDeniedError(t *testing.T) {
	t.Parallel()
	p := policyTestParse(t, "allow /a to call /b")
	err := p.Authorize(policyTestName(t, "/u/KEY/%01"), policyTestName(t, "/svc/x"))
	want := "security: denied by policy: /u/KEY/%01 may not call /svc/x"
	if err == nil || err.Error() != want {
		t.Fatalf("Authorize = %v, want %q", err, want)
	}
}

func TestPolicyNil(t *testing.T) {
	t.Parallel()
	var p *security.Policy
	err := p.Authorize(policyTestName(t, "/a/KEY/%01"), policyTestName(t, "/b"))
	if !errors.Is(err, security.ErrPolicyDenied) || !errors.Is(err, security.ErrPermissionDenied) {
		t.Errorf("nil Policy Authorize = %v, want ErrPolicyDenied", err)
	}
	if s := p.String(); s != "" {
		t.Errorf("nil Policy String() = %q, want empty", s)
	}
	if r := p.Rules(); r != nil {
		t.Errorf("nil Policy Rules() = %v, want nil", r)
	}
}

func TestAllowAllPolicy(t *testing.T) {
	t.Parallel()
	p := security.AllowAllPolicy()
	for _, target := range []string{"/", "/a", "/a/b/seg=1"} {
		for _, caller := range []string{"/", "/x", "/x/KEY/%01"} {
			if err := p.Authorize(policyTestName(t, caller), policyTestName(t, target)); err != nil {
				t.Errorf("AllowAllPolicy().Authorize(%s, %s) = %v", caller, target, err)
			}
		}
	}
	if got, want := p.String(), "allow any to call /<...>\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestPolicyRulesIsACopy(t *testing.T) {
	t.Parallel()
	p := policyTestParse(t, "deny any to call /a")
	r := p.Rules()
	r[0].Allow = true
	r[0].Target = "/<...>"
	if err := p.Authorize(policyTestName(t, "/u"), policyTestName(t, "/a")); err == nil {
		t.Error("changing Rules() result changed the policy")
	}
	if got := p.Rules()[0]; got.Allow || got.Target != "/a" {
		t.Errorf("Rules()[0] = %+v after caller mutation", got)
	}
}

func TestPolicyRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{name: "kv", in: "# kv store\nallow /example/users/<user> to call /kv/<user>/<...>\n"},
		{name: "mixed", in: "deny /users/mallory to call /<...>\nallow /users/*/KEY/<k> to call /keys/<k>\n\nallow /pub/<rest...> to call /pub/v=1/<rest...>  # public\n"},
		{name: "escapes", in: "allow /%2A/a%20b/%C3%A9 to call /8=x/32=kw/sha256digest=00ff/seg=10"},
		{name: "named rest", in: "allow /org/<p...> to call /home/<p...>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := policyTestParse(t, tt.in)
			p2 := policyTestParse(t, p.String())
			if p2.String() != p.String() {
				t.Errorf("String() not stable:\n%q\n%q", p.String(), p2.String())
			}
			r1, r2 := p.Rules(), p2.Rules()
			if len(r1) != len(r2) {
				t.Fatalf("Rules() lengths %d and %d", len(r1), len(r2))
			}
			for i := range r1 {
				a, b := r1[i], r2[i]
				a.Line, b.Line = 0, 0
				if a != b {
					t.Errorf("rule %d: %+v became %+v", i, r1[i], r2[i])
				}
				if r2[i].Line != i+1 {
					t.Errorf("re-parsed rule %d on line %d, want %d", i, r2[i].Line, i+1)
				}
			}
		})
	}
}

func TestPolicyAuthorizeAllocs(t *testing.T) {
	p := policyTestParse(t, "deny /users/mallory to call /<...>\n"+
		"allow /users/<u>/KEY/* to call /keys/<u>\n"+
		"allow /org/<p...> to call /home/<p...>\n"+
		"allow /users/<u> to call /kv/<u>/*/<...>\n")
	caller := policyTestName(t, "/users/alice/KEY/%01%02")
	target := policyTestName(t, "/kv/alice/x/y/z")
	if err := p.Authorize(caller, target); err != nil {
		t.Fatalf("Authorize = %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = p.Authorize(caller, target) }); n != 0 {
		t.Errorf("allowed Authorize allocates %v times per call, want 0", n)
	}
}

func TestPolicyConcurrentAuthorize(t *testing.T) {
	t.Parallel()
	p := policyTestParse(t, "allow /users/<u> to call /kv/<u>/<...>")
	alice := policyTestName(t, "/users/alice/KEY/%01")
	own, other := policyTestName(t, "/kv/alice/x"), policyTestName(t, "/kv/bob/x")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if err := p.Authorize(alice, own); err != nil {
					errs <- err
					return
				}
				if err := p.Authorize(alice, other); err == nil {
					errs <- fmt.Errorf("alice may call %s", other)
					return
				}
				_ = p.Rules()
				_ = p.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkPolicyAuthorize(b *testing.B) {
	p := policyTestParse(b, "deny /users/mallory to call /<...>\n"+
		"allow /admins/* to call /<...>\n"+
		"allow /users/<u> to call /kv/<u>/<...>\n")
	caller := policyTestName(b, "/users/alice/KEY/%01%02")
	target := policyTestName(b, "/kv/alice/x/y")
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Authorize(caller, target); err != nil {
			b.Fatal(err)
		}
	}
}

func ExamplePolicy_Authorize() {
	p, err := security.ParsePolicy(`
# Everyone may read their own keys; mallory may do nothing.
deny  /example/users/mallory to call /<...>
allow /example/users/<user> to call /kv/<user>/<...>
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	alice, _ := enc.NameFromStr("/example/users/alice/KEY/%01%02")
	own, _ := enc.NameFromStr("/kv/alice/photos/1")
	bobs, _ := enc.NameFromStr("/kv/bob/photos/1")

	fmt.Println(p.Authorize(alice, own))
	err = p.Authorize(alice, bobs)
	fmt.Println(errors.Is(err, security.ErrPermissionDenied))
	fmt.Print(p)
	// Output:
	// <nil>
	// true
	// deny /example/users/mallory to call /<...>
	// allow /example/users/<user> to call /kv/<user>/<...>
}
