package security

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Bounds on policy text, so that a hostile or corrupt policy file cannot make
// ParsePolicy use unbounded memory or time.
const (
	// MaxPolicyBytes is the largest policy text ParsePolicy accepts, and the
	// largest canonical form (String) a parsed policy may have.
	MaxPolicyBytes = 1 << 20
	// MaxPolicyLineBytes is the longest line ParsePolicy accepts, not counting
	// the line break, and the longest canonical form a single rule may have.
	MaxPolicyLineBytes = 8 << 10
)

// PolicyError reports a malformed policy text. ParsePolicy returns it as
// *PolicyError; use errors.As to read the line.
type PolicyError struct {
	// Line is the 1-based line the problem is on, or 0 when it concerns the
	// text as a whole (such as its total length).
	Line int
	// Msg describes the problem without the "security: policy" prefix.
	Msg string
}

// Error formats e as "security: policy line N: msg", or "security: policy:
// msg" when Line is 0.
func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return "security: policy: " + e.Msg
	}
	return "security: policy line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Rule is one rule of a Policy, as shown by Policy.Rules for describing and
// debugging a policy. It is a copy: changing it does not change the Policy.
type Rule struct {
	// Allow is true for an "allow" rule and false for a "deny" rule.
	Allow bool
	// Caller is the caller pattern in canonical text form, or "any".
	Caller string
	// Target is the target pattern in canonical text form.
	Target string
	// Line is the line of the text the rule was parsed from (1-based).
	Line int
}

// String formats r as a policy line, "allow <caller> to call <target>" or
// "deny <caller> to call <target>", without a line break.
func (r Rule) String() string {
	verb := "deny"
	if r.Allow {
		verb = "allow"
	}
	return verb + " " + r.Caller + " to call " + r.Target
}

// Policy is a compiled authorization policy: an ordered list of allow and deny
// rules over caller and target names. Build one with ParsePolicy (or
// AllowAllPolicy for tests and demos).
//
// A Policy is immutable once built and safe for concurrent use by any number
// of goroutines. A nil *Policy is valid and denies everything.
type Policy struct {
	rules []compiledRule
	// public is what Rules returns copies of.
	public []Rule
}

// compiledRule is a Rule with its patterns compiled for matching.
type compiledRule struct {
	allow bool
	// anyCaller is set for the "any" caller pattern; caller is then unused.
	anyCaller bool
	// callerKey is set when the caller pattern has a literal KEY component,
	// so it is matched against the whole key name instead of the identity.
	callerKey bool
	caller    pattern
	target    pattern
}

// elemKind is what one component of a pattern matches.
type elemKind uint8

const (
	// elemLiteral matches a component equal to lit.
	elemLiteral elemKind = iota
	// elemOne matches exactly one component: "*" or "<name>".
	elemOne
	// elemRest matches zero or more trailing components: "<...>" or
	// "<name...>". It is always the last element.
	elemRest
)

// patElem is one compiled component of a pattern.
type patElem struct {
	kind elemKind
	lit  enc.Component
	// name is the capture name of a "<name>" or "<name...>" placeholder;
	// empty for literals, "*" and "<...>".
	name string
	// ref, in a target pattern, is the index of the caller-pattern element
	// that binds the same capture name, so the match compares against the
	// caller component(s) at that index. It is -1 when there is nothing to
	// compare (always, in caller patterns).
	ref int
}

// pattern is a compiled name pattern. Captures are resolved to positions at
// parse time: a caller pattern is a fixed-length prefix plus an optional
// trailing rest, so the component a capture binds is known statically and
// matching needs no binding table and no allocation.
type pattern struct {
	elems []patElem
	// rest reports whether the last element is elemRest.
	rest bool
	// text is the canonical text form.
	text string
}

// ParsePolicy parses policy text into a Policy. The text holds one rule per
// line; "#" starts a comment that runs to the end of the line, and blank
// lines are ignored:
//
//	allow <caller> to call <target>
//	deny  <caller> to call <target>
//
// Rules are tried in order and the first whose caller and target patterns
// both match decides; when none matches, the call is denied (default deny).
//
// A target pattern, and a caller pattern other than the keyword "any", is an
// NDN name in URI form starting with "/" ("/" alone is the empty name). Each
// component is one of:
//
//	literal    an NDN name component, typed ones included (seg=3, v=1, 32=x);
//	           compared exactly. Write "*" or "<" as %2A or %3C.
//	*          any one component.
//	<name>     any one component, captured as name.
//	<...>      zero or more trailing components; last component only.
//	<name...>  zero or more trailing components, captured as name; last only.
//
// Capture names are letters, digits, "_" and "-". A capture in the target
// pattern must be bound by the caller pattern, with the same kind (one
// component or trailing), and then matches only the component(s) the caller
// bound: "allow /example/users/<u> to call /kv/<u>/<...>" lets
// /example/users/alice call /kv/alice/x but not /kv/bob/x. A capture name
// may appear at most once per pattern.
//
// The caller "any" matches every caller. Other caller patterns are matched,
// exactly, against the caller's identity (its key name with the trailing
// KEY/<key-id> removed), unless the pattern has a literal KEY component, in
// which case they are matched against the whole key name.
//
// The text may be at most MaxPolicyBytes long, and each line at most
// MaxPolicyLineBytes. On malformed text ParsePolicy returns a nil Policy and
// a *PolicyError naming the first bad line. It does no I/O.
func ParsePolicy(text string) (*Policy, error) {
	if len(text) > MaxPolicyBytes {
		return nil, &PolicyError{Msg: fmt.Sprintf("text is %d bytes, over the %d-byte limit", len(text), MaxPolicyBytes)}
	}
	p := &Policy{}
	canonical := 0 // length of p.String() so far
	lineNo := 0
	for len(text) > 0 {
		lineNo++
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if len(line) > MaxPolicyLineBytes {
			return nil, &PolicyError{Line: lineNo, Msg: fmt.Sprintf("line is %d bytes, over the %d-byte limit", len(line), MaxPolicyLineBytes)}
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		r, msg := parseRule(fields)
		if msg != "" {
			return nil, &PolicyError{Line: lineNo, Msg: msg}
		}
		pub := Rule{Allow: r.allow, Caller: "any", Target: r.target.text, Line: lineNo}
		if !r.anyCaller {
			pub.Caller = r.caller.text
		}
		// Canonical forms can be longer than what was written (%-escapes,
		// typed components), and String must always parse back.
		n := len(pub.String())
		if n > MaxPolicyLineBytes {
			return nil, &PolicyError{Line: lineNo, Msg: fmt.Sprintf("rule is %d bytes in canonical form, over the %d-byte line limit", n, MaxPolicyLineBytes)}
		}
		canonical += n + 1
		if canonical > MaxPolicyBytes {
			return nil, &PolicyError{Line: lineNo, Msg: fmt.Sprintf("policy is over %d bytes in canonical form", MaxPolicyBytes)}
		}
		p.rules = append(p.rules, r)
		p.public = append(p.public, pub)
	}
	return p, nil
}

// allowAllText is the policy AllowAllPolicy compiles.
const allowAllText = "allow any to call /<...>"

// AllowAllPolicy returns a policy that lets every caller call every name:
// "allow any to call /<...>". It is meant for tests and demos; a deployment
// should state what each identity may call.
func AllowAllPolicy() *Policy {
	p, err := ParsePolicy(allowAllText)
	if err != nil {
		// Unreachable: allowAllText is valid. Fail closed rather than panic.
		return &Policy{}
	}
	return p
}

// Authorize reports whether caller may call target under p. caller is the
// key name that signed the call (such as /example/users/alice/KEY/%01%02),
// already authenticated by the caller of Authorize; target is the name being
// called. It returns nil if the first matching rule allows the call, and
// otherwise an error wrapping ErrPolicyDenied (which also matches
// ErrPermissionDenied with errors.Is): when the first matching rule is a
// deny rule, when no rule matches, and always when p is nil.
//
// Authorize does not retain caller or target, does not allocate when the
// call is allowed, and is safe for concurrent use.
func (p *Policy) Authorize(caller enc.Name, target enc.Name) error {
	if p != nil {
		identity := identityOf(caller)
		for i := range p.rules {
			r := &p.rules[i]
			subject := identity
			if r.callerKey {
				subject = caller
			}
			if !r.anyCaller && !r.caller.match(subject, nil) {
				continue
			}
			if !r.target.match(target, subject) {
				continue
			}
			if r.allow {
				return nil
			}
			break
		}
	}
	return fmt.Errorf("%w: %s may not call %s", ErrPolicyDenied, caller, target)
}

// String returns p in canonical text form: one rule per line, each ended by
// a line break, with no comments. ParsePolicy parses it back to a policy with
// the same rules in the same order (their Line fields aside). A nil or empty
// policy gives "".
func (p *Policy) String() string {
	if p == nil {
		return ""
	}
	var sb strings.Builder
	for _, r := range p.public {
		sb.WriteString(r.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Rules returns a copy of p's rules in evaluation order; nil for a nil or
// empty policy. The caller owns the returned slice.
func (p *Policy) Rules() []Rule {
	if p == nil || len(p.public) == 0 {
		return nil
	}
	out := make([]Rule, len(p.public))
	copy(out, p.public)
	return out
}

// parseRule compiles the fields of one non-blank line. It returns a non-empty
// message when the line is malformed.
func parseRule(f []string) (compiledRule, string) {
	var r compiledRule
	switch f[0] {
	case "allow":
		r.allow = true
	case "deny":
	default:
		return r, fmt.Sprintf("unknown verb %q, want \"allow\" or \"deny\"", f[0])
	}
	if len(f) < 2 {
		return r, "missing caller pattern after " + strconv.Quote(f[0])
	}
	if len(f) < 4 || f[2] != "to" || f[3] != "call" {
		return r, "missing \"to call\" after caller pattern"
	}
	if len(f) < 5 {
		return r, "missing target pattern after \"to call\""
	}
	if len(f) > 5 {
		return r, fmt.Sprintf("unexpected %q after target pattern", f[5])
	}

	var bound map[string]int // caller capture name -> element index
	if f[1] == "any" {
		r.anyCaller = true
	} else {
		c, captures, msg := parsePattern(f[1])
		if msg != "" {
			return r, fmt.Sprintf("caller pattern %q: %s", f[1], msg)
		}
		r.caller, bound = c, captures
		for _, e := range c.elems {
			if e.kind == elemLiteral && isKeyComponent(e.lit) {
				r.callerKey = true
				break
			}
		}
	}

	t, _, msg := parsePattern(f[4])
	if msg != "" {
		return r, fmt.Sprintf("target pattern %q: %s", f[4], msg)
	}
	for i := range t.elems {
		e := &t.elems[i]
		if e.name == "" {
			continue
		}
		ci, ok := bound[e.name]
		if !ok {
			return r, fmt.Sprintf("target pattern %q: capture <%s> is not bound by the caller pattern", f[4], e.name)
		}
		if r.caller.elems[ci].kind != e.kind {
			return r, fmt.Sprintf("target pattern %q: capture <%s> is one component in one pattern and trailing in the other", f[4], e.name)
		}
		e.ref = ci
	}
	r.target = t
	return r, ""
}

// parsePattern compiles one name pattern. It returns the capture names with
// their element indexes, or a non-empty message when s is malformed.
func parsePattern(s string) (pattern, map[string]int, string) {
	var p pattern
	if !strings.HasPrefix(s, "/") {
		return p, nil, "must start with \"/\""
	}
	if s == "/" {
		p.text = "/"
		return p, nil, ""
	}
	// One trailing "/" is allowed, as in ndnd's NameFromStr.
	body := strings.TrimSuffix(s[1:], "/")
	var captures map[string]int
	var text strings.Builder
	parts := strings.Split(body, "/")
	p.elems = make([]patElem, 0, len(parts))
	for i, part := range parts {
		if p.rest {
			return p, nil, fmt.Sprintf("%s must be the last component", parts[i-1])
		}
		e := patElem{ref: -1}
		switch {
		case part == "":
			return p, nil, fmt.Sprintf("empty component at position %d", i+1)
		case part == "*":
			e.kind = elemOne
		case part[0] == '<':
			if len(part) < 2 || part[len(part)-1] != '>' {
				return p, nil, fmt.Sprintf("placeholder %q lacks a closing \">\"", part)
			}
			name := part[1 : len(part)-1]
			e.kind = elemOne
			if n, ok := strings.CutSuffix(name, "..."); ok {
				e.kind, name = elemRest, n
				p.rest = true
			}
			if name == "" && e.kind == elemOne {
				return p, nil, "empty capture name <>"
			}
			if !validCaptureName(name) {
				return p, nil, fmt.Sprintf("bad capture name %q: use letters, digits, '_' and '-'", name)
			}
			if name != "" {
				if _, dup := captures[name]; dup {
					return p, nil, fmt.Sprintf("capture <%s> appears twice", name)
				}
				if captures == nil {
					captures = make(map[string]int)
				}
				captures[name] = i
				e.name = name
			}
		default:
			// ndnd's component parser indexes the type string without a
			// length check, so "=x" would panic inside it.
			if part[0] == '=' {
				return p, nil, fmt.Sprintf("bad component %q: empty type before '='", part)
			}
			c, err := enc.ComponentFromStr(part)
			if err != nil {
				return p, nil, fmt.Sprintf("bad component %q: %v", part, err)
			}
			if c.Typ == enc.TypeGenericNameComponent && len(c.Val) == 0 {
				return p, nil, fmt.Sprintf("empty component %q at position %d", part, i+1)
			}
			e.kind, e.lit = elemLiteral, c
		}
		p.elems = append(p.elems, e)
		text.WriteByte('/')
		writeElem(&text, &e)
	}
	p.text = text.String()
	return p, captures, ""
}

// writeElem writes the canonical text form of e.
func writeElem(sb *strings.Builder, e *patElem) {
	switch e.kind {
	case elemLiteral:
		// Component.String percent-escapes everything but letters, digits
		// and "-._~", so a literal never reads back as "*" or "<...>".
		e.lit.WriteTo(sb)
	case elemOne:
		if e.name == "" {
			sb.WriteByte('*')
		} else {
			sb.WriteString("<" + e.name + ">")
		}
	case elemRest:
		sb.WriteString("<" + e.name + "...>")
	}
}

// validCaptureName reports whether s is made of letters, digits, '_' and
// '-' (it may be empty; the caller decides whether that is allowed).
func validCaptureName(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// match reports whether name matches p. For a target pattern, subject is the
// name the caller pattern matched, which captures are compared against.
func (p *pattern) match(name, subject enc.Name) bool {
	n := len(p.elems)
	if p.rest {
		n--
		if len(name) < n {
			return false
		}
	} else if len(name) != n {
		return false
	}
	for i := 0; i < n; i++ {
		e := &p.elems[i]
		switch e.kind {
		case elemLiteral:
			if !componentsEqual(e.lit, name[i]) {
				return false
			}
		case elemOne:
			if e.ref >= 0 && !componentsEqual(name[i], subject[e.ref]) {
				return false
			}
		}
	}
	if p.rest {
		if ref := p.elems[n].ref; ref >= 0 && !namesEqual(name[n:], subject[ref:]) {
			return false
		}
	}
	return true
}

// identityOf strips a trailing KEY/<key-id> from a key name, as ndnd's
// security.GetIdentityFromKeyName does; other names are returned whole. The
// result shares name's backing array.
func identityOf(name enc.Name) enc.Name {
	if len(name) >= 2 && isKeyComponent(name[len(name)-2]) {
		return name[:len(name)-2]
	}
	return name
}

// isKeyComponent reports whether c is the generic component "KEY".
func isKeyComponent(c enc.Component) bool {
	return c.Typ == enc.TypeGenericNameComponent && string(c.Val) == "KEY"
}

// componentsEqual is enc.Component.Equal without the conversion to the
// ComponentPattern interface, which would allocate on every comparison.
func componentsEqual(a, b enc.Component) bool {
	return a.Typ == b.Typ && bytes.Equal(a.Val, b.Val)
}

// namesEqual reports whether a and b have equal components.
func namesEqual(a, b enc.Name) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !componentsEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}
