package security

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	"github.com/named-data/ndnd/std/security/trust_schema"
)

// Verifier defaults.
const (
	// DefaultMaxCerts is the default VerifierConfig.MaxCerts.
	DefaultMaxCerts = 10000
	// DefaultMaxChainDepth is the default VerifierConfig.MaxChainDepth.
	DefaultMaxChainDepth = 8
)

// TLV types the verifier reads from signed portions (NDN packet format v0.3).
const (
	tlvName                   = 0x07
	tlvContent                = 0x15
	tlvSignatureInfo          = 0x16
	tlvApplicationParameters  = 0x24
	tlvInterestSignatureInfo  = 0x2c
	tlvInterestSignatureValue = 0x2e
)

// CertFetcher retrieves a certificate the Verifier does not hold. ndn.Node
// implements it by expressing an Interest with CanBePrefix for name.
type CertFetcher interface {
	// FetchCert returns the TLV wire of a certificate whose name starts with
	// name, a KeyLocator (a key name /<id>/KEY/<key-id> or a certificate
	// name). It may block until ctx is done. The Verifier calls it from the
	// goroutine that called VerifyInterest or VerifyData, never while holding
	// a lock, possibly concurrently for different names; it copies the
	// result and checks everything about it, so the fetcher need not.
	FetchCert(ctx context.Context, name enc.Name) ([]byte, error)
}

// CertFetcherFunc adapts a function to CertFetcher.
type CertFetcherFunc func(ctx context.Context, name enc.Name) ([]byte, error)

// FetchCert calls f(ctx, name).
func (f CertFetcherFunc) FetchCert(ctx context.Context, name enc.Name) ([]byte, error) {
	return f(ctx, name)
}

// VerifierConfig configures a Verifier. A zero field means the default
// (DefaultVerifierConfig), except Anchors, which is required.
type VerifierConfig struct {
	// Anchors are the trust anchors' certificate wires (required, at least
	// one). A certificate is trusted if a chain of signatures leads from it
	// to one of these exact certificates. They need not be self-signed.
	Anchors [][]byte
	// Fetch retrieves certificates that are neither anchors, cached, nor
	// added with AddCert. Nil means only those are known; any other key is
	// ErrUnknownIssuer.
	Fetch CertFetcher
	// Replay configures the replay check of signed Interests (grace period,
	// memory bounds, sequence numbers); zero fields take ReplayConfig's
	// defaults.
	Replay ReplayConfig
	// Now is the clock certificate validity and SignatureTime are checked
	// against. Default time.Now.
	Now func() time.Time
	// MaxCerts bounds the certificates the Verifier keeps: at most MaxCerts
	// that validated to an anchor (with their parsed public keys), MaxCerts
	// fetched and MaxCerts added with AddCert. When a set is full, a random
	// member is dropped.
	// Default DefaultMaxCerts (10000).
	MaxCerts int
	// MaxChainDepth bounds the certificates between a packet's signing key
	// and an anchor (the anchor not counted). Default DefaultMaxChainDepth
	// (8).
	MaxChainDepth int
	// RequireHierarchy makes every certificate's identity name fall under
	// its issuer's identity name (/example may certify /example/alice, not
	// /other). Off by default: then, as with ndnd's NullSchema, an anchor
	// vouches for every name its chain certifies, and only Policy limits
	// what a caller may do.
	RequireHierarchy bool
}

// DefaultVerifierConfig returns the defaults NewVerifier applies to zero
// fields (Anchors and Fetch left empty).
func DefaultVerifierConfig() VerifierConfig {
	return VerifierConfig{
		Replay:        DefaultReplayConfig(),
		Now:           time.Now,
		MaxCerts:      DefaultMaxCerts,
		MaxChainDepth: DefaultMaxChainDepth,
	}
}

// Validate reports a configuration NewVerifier refuses: no anchors, an anchor
// that is not a well-formed certificate (wrapping ErrInvalidCert), negative
// bounds, or an invalid Replay.
func (c VerifierConfig) Validate() error {
	if len(c.Anchors) == 0 {
		return errors.New("security: VerifierConfig.Anchors is empty")
	}
	for i, a := range c.Anchors {
		if _, err := parseCert(a); err != nil {
			return fmt.Errorf("security: VerifierConfig.Anchors[%d]: %w", i, err)
		}
	}
	if c.MaxCerts < 0 {
		return fmt.Errorf("security: VerifierConfig.MaxCerts %d is negative", c.MaxCerts)
	}
	if c.MaxChainDepth < 0 {
		return fmt.Errorf("security: VerifierConfig.MaxChainDepth %d is negative", c.MaxChainDepth)
	}
	return c.Replay.Validate()
}

// trustedCert is a certificate that validated to an anchor (or is one), with
// its public key parsed once. ndnd re-parses the issuer's public key for
// every packet (std/security/signer/validate_data.go:14-33, x509 parsing on
// each ValidateData call); caching it is most of what makes VerifyInterest
// cheap.
type trustedCert struct {
	name    enc.Name // full certificate name
	keyName enc.Name
	pub     crypto.PublicKey
	// notBefore and notAfter bound the whole chain up to the anchor, so the
	// cached entry expires when any certificate it depends on does.
	notBefore, notAfter time.Time
	anchor              bool
}

func (t *trustedCert) validAt(now time.Time) bool {
	return !now.Before(t.notBefore) && !now.After(t.notAfter)
}

// Verifier checks signed Interests and Data: the signing key's certificate
// must chain to a trust anchor through valid signatures and validity periods,
// the packet's signature must verify, and a signed Interest must pass the
// replay check (ReplayGuard).
//
// Certificates that validated are cached with their parsed public keys
// (bounded by MaxCerts), so a known caller costs one signature check plus
// the replay check. A Verifier is safe for concurrent use. VerifyInterest and
// VerifyData block only while fetching a certificate through
// VerifierConfig.Fetch; concurrent requests for one certificate share a
// fetch.
type Verifier struct {
	now       func() time.Time
	fetch     CertFetcher
	replay    *ReplayGuard
	maxCerts  int
	maxDepth  int
	hierarchy bool
	anchors   *certIndex[*trustedCert] // immutable after NewVerifier
	anchorSet [][]byte                 // anchor wires, owned

	// mu guards the fields below. It is never held while fetching.
	mu       sync.RWMutex
	trusted  *certIndex[*trustedCert]
	pool     *certIndex[*certInfo] // added with AddCert, not yet validated
	fetched  *certIndex[*certInfo] // fetched, not yet (or no longer) validated
	inflight map[string]*certFetch
}

// certFetch is one fetch in progress that other verifications wait for.
type certFetch struct {
	done chan struct{}
	cert *certInfo
	err  error
}

// NewVerifier returns a Verifier for cfg, or cfg.Validate's error. It does no
// I/O.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := DefaultVerifierConfig()
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.MaxCerts == 0 {
		cfg.MaxCerts = d.MaxCerts
	}
	if cfg.MaxChainDepth == 0 {
		cfg.MaxChainDepth = d.MaxChainDepth
	}
	guard, err := NewReplayGuard(cfg.Replay)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		now:       cfg.Now,
		fetch:     cfg.Fetch,
		replay:    guard,
		maxCerts:  cfg.MaxCerts,
		maxDepth:  cfg.MaxChainDepth,
		hierarchy: cfg.RequireHierarchy,
		anchors:   newCertIndex(func(t *trustedCert) enc.Name { return t.name }),
		trusted:   newCertIndex(func(t *trustedCert) enc.Name { return t.name }),
		pool:      newCertIndex(func(c *certInfo) enc.Name { return c.name }),
		fetched:   newCertIndex(func(c *certInfo) enc.Name { return c.name }),
		inflight:  make(map[string]*certFetch),
	}
	for _, a := range cfg.Anchors {
		ci, _ := parseCert(a) // checked by Validate
		v.anchors.put(&trustedCert{
			name:      ci.name,
			keyName:   ci.keyName,
			pub:       ci.pub,
			notBefore: ci.notBefore,
			notAfter:  ci.notAfter,
			anchor:    true,
		})
		v.anchorSet = append(v.anchorSet, ci.wire)
	}
	return v, nil
}

// Anchors returns copies of the trust anchors' certificate wires.
func (v *Verifier) Anchors() [][]byte {
	out := make([][]byte, len(v.anchorSet))
	for i, a := range v.anchorSet {
		out[i] = bytes.Clone(a)
	}
	return out
}

// AddCert makes a certificate (an intermediate CA's or a caller's) known
// without fetching it. It is not trusted yet: it is chain-checked when a
// packet's KeyLocator leads to it. wire is copied. It returns an error
// wrapping ErrInvalidCert if wire is not a well-formed certificate. Safe for
// concurrent use.
func (v *Verifier) AddCert(wire []byte) error {
	ci, err := parseCert(wire)
	if err != nil {
		return err
	}
	v.mu.Lock()
	if v.pool.len() >= v.maxCerts {
		v.pool.evictOne()
	}
	v.pool.put(ci)
	v.mu.Unlock()
	return nil
}

// CacheLen returns how many validated certificates (anchors not counted) and
// how many added, not yet validated ones the Verifier holds, for tests and
// metrics.
func (v *Verifier) CacheLen() (trusted, added int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.trusted.len(), v.pool.len()
}

// VerifyInterest authenticates a signed Interest (NDN packet format v0.3)
// and returns the name of the key that signed it, the caller's identity for
// Policy.Authorize. sigCovered is the signed portion as ndnd's ReadInterest
// (or the engine's InterestHandlerArgs) returns it; the Verifier checks that
// it belongs to interest: same name (which must end with the single
// ParametersSha256DigestComponent, matching the parameters and signature),
// same ApplicationParameters and same InterestSignatureInfo.
//
// Order: signature type; certificate chain (cache, then AddCert pool, then
// Fetch); signature; replay check, which records the Interest, so a second
// call with the same Interest fails with ErrReplay. Errors wrap one of
// ErrNoSignature (unsigned or DigestSha256), ErrBadSignature, ErrUnknownIssuer
// (also when fetching failed; ctx's error is then wrapped too),
// ErrCertExpired, ErrReplay or ErrTimeSkew, all matching ErrUnauthenticated.
//
// It blocks only while fetching a certificate, until ctx is done. interest
// and sigCovered are not retained; the returned name is the caller's.
func (v *Verifier) VerifyInterest(ctx context.Context, interest ndn.Interest, sigCovered enc.Wire) (enc.Name, error) {
	if interest == nil {
		return nil, fmt.Errorf("%w: nil Interest", ErrNoSignature)
	}
	s := interest.Signature()
	if err := checkSigType(s, "Interest", interest.Name()); err != nil {
		return nil, err
	}
	loc := s.KeyName()
	if err := checkSignedInterest(interest, s, sigCovered); err != nil {
		return nil, fmt.Errorf("%w: Interest %s: %w", ErrBadSignature, interest.Name(), err)
	}
	cert, err := v.resolve(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("%w (Interest %s)", err, interest.Name())
	}
	if !verifySig(cert.pub, s.SigType(), sigCovered.Join(), s.SigValue()) {
		return nil, fmt.Errorf("%w: Interest %s does not verify under %s", ErrBadSignature, interest.Name(), cert.name)
	}
	in := ReplayInput{Key: cert.keyName.String(), Nonce: s.SigNonce(), SeqNum: s.SigSeqNum()}
	if t := s.SigTime(); t != nil {
		in.SigTime = *t
	}
	if err := v.replay.Accept(v.now(), in); err != nil {
		return nil, fmt.Errorf("%w (Interest %s from %s)", err, interest.Name(), cert.keyName)
	}
	return cert.keyName.Clone(), nil
}

// VerifyData authenticates a Data packet and returns the name of the key
// that signed it. sigCovered is the signed portion as ndnd's ReadData returns
// it; the Verifier checks that it carries data's name, content and
// SignatureInfo. A Data that is itself a certificate must also be inside its
// validity period. Errors and blocking are as VerifyInterest's, without the
// replay check (Data may be cached and fetched any number of times).
func (v *Verifier) VerifyData(ctx context.Context, data ndn.Data, sigCovered enc.Wire) (enc.Name, error) {
	if data == nil {
		return nil, fmt.Errorf("%w: nil Data", ErrNoSignature)
	}
	s := data.Signature()
	if err := checkSigType(s, "Data", data.Name()); err != nil {
		return nil, err
	}
	if err := checkSignedData(data, s, sigCovered); err != nil {
		return nil, fmt.Errorf("%w: Data %s: %w", ErrBadSignature, data.Name(), err)
	}
	if ct, ok := data.ContentType().Get(); ok && ct == ndn.ContentTypeKey {
		nb, na := s.Validity()
		if b, ok := nb.Get(); ok {
			a, _ := na.Get()
			if now := v.now(); now.Before(b) || now.After(a) {
				return nil, fmt.Errorf("%w: certificate %s valid %v to %v", ErrCertExpired, data.Name(), b, a)
			}
		}
	}
	cert, err := v.resolve(ctx, s.KeyName())
	if err != nil {
		return nil, fmt.Errorf("%w (Data %s)", err, data.Name())
	}
	if !verifySig(cert.pub, s.SigType(), sigCovered.Join(), s.SigValue()) {
		return nil, fmt.Errorf("%w: Data %s does not verify under %s", ErrBadSignature, data.Name(), cert.name)
	}
	return cert.keyName.Clone(), nil
}

// checkSigType sorts out packets that carry no usable signature.
func checkSigType(s ndn.Signature, what string, name enc.Name) error {
	if s == nil {
		return fmt.Errorf("%w: %s %s", ErrNoSignature, what, name)
	}
	switch t := s.SigType(); t {
	case ndn.SignatureNone, ndn.SignatureDigestSha256:
		return fmt.Errorf("%w: %s %s has signature type %v", ErrNoSignature, what, name, t)
	case ndn.SignatureEd25519, ndn.SignatureSha256WithEcdsa, ndn.SignatureSha256WithRsa:
	default:
		return fmt.Errorf("%w: %s %s: unsupported signature type %v", ErrBadSignature, what, name, t)
	}
	if loc := s.KeyName(); !isKeyLocatorName(loc) {
		return fmt.Errorf("%w: %s %s: KeyLocator %q is not a key or certificate name", ErrUnknownIssuer, what, name, loc)
	}
	return nil
}

// isKeyLocatorName reports whether n is /<id>/KEY/<key-id>, optionally
// followed by <issuer-id> and <version>: the forms the certificate cache
// indexes.
func isKeyLocatorName(n enc.Name) bool {
	for _, i := range []int{-2, -3, -4} {
		if len(n) >= -i && n.At(i).IsGeneric("KEY") {
			return i != -4 || n.At(-1).IsVersion()
		}
	}
	return false
}

// resolve returns the trusted certificate for a KeyLocator, validating and
// caching the chain up to an anchor if needed.
func (v *Verifier) resolve(ctx context.Context, loc enc.Name) (*trustedCert, error) {
	now := v.now()
	var chain []*certInfo
	var top *trustedCert
	var expired error // a cached certificate on the way had expired
	for {
		if !isKeyLocatorName(loc) {
			return nil, fmt.Errorf("%w: KeyLocator %s is not a key or certificate name", ErrUnknownIssuer, loc)
		}
		t, err := v.lookupTrusted(loc, now)
		if err != nil {
			if t == nil {
				return nil, err // an anchor expired
			}
			expired, t = err, nil
		}
		if t != nil {
			top = t
			break
		}
		if len(chain) >= v.maxDepth {
			return nil, fmt.Errorf("%w: more than %d certificates between %s and a trust anchor", ErrUnknownIssuer, v.maxDepth, chain[0].name)
		}
		c, err := v.findCert(ctx, loc, now)
		if err != nil {
			if expired != nil && ctx.Err() == nil {
				return nil, expired
			}
			return nil, err
		}
		if !c.validAt(now) {
			return nil, fmt.Errorf("%w: certificate %s valid %v to %v, now %v", ErrCertExpired, c.name,
				c.notBefore.UTC().Format(time.RFC3339), c.notAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if c.selfSigned() {
			return nil, fmt.Errorf("%w: certificate %s is self-signed and not a trust anchor", ErrUnknownIssuer, c.name)
		}
		for _, p := range chain {
			if p.name.Equal(c.name) {
				return nil, fmt.Errorf("%w: certificate loop at %s", ErrUnknownIssuer, c.name)
			}
		}
		chain = append(chain, c)
		loc = c.issuer
	}

	issuer := top
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		if !verifySig(issuer.pub, c.sigType, c.sigCovered, c.sigValue) {
			return nil, fmt.Errorf("%w: certificate %s does not verify under %s", ErrBadSignature, c.name, issuer.name)
		}
		if v.hierarchy && !issuer.keyName.Prefix(-2).IsPrefix(c.keyName.Prefix(-2)) {
			return nil, fmt.Errorf("%w: certificate %s is outside the namespace of its issuer %s", ErrUnknownIssuer, c.name, issuer.name)
		}
		t := &trustedCert{
			name:      c.name,
			keyName:   c.keyName,
			pub:       c.pub,
			notBefore: laterTime(c.notBefore, issuer.notBefore),
			notAfter:  earlierTime(c.notAfter, issuer.notAfter),
		}
		v.mu.Lock()
		if v.trusted.len() >= v.maxCerts {
			v.trusted.evictOne()
		}
		v.trusted.put(t)
		v.mu.Unlock()
		issuer = t
	}
	return issuer, nil
}

// lookupTrusted finds an anchor or validated certificate for loc. An expired
// anchor is an error with a nil certificate. An expired cached certificate is
// dropped and reported as (non-nil placeholder, error) so resolve can look
// for a fresh one and still report expiry if there is none.
func (v *Verifier) lookupTrusted(loc enc.Name, now time.Time) (*trustedCert, error) {
	if a := v.anchors.get(loc); a != nil {
		if !a.validAt(now) {
			return nil, fmt.Errorf("%w: trust anchor %s valid %v to %v", ErrCertExpired, a.name,
				a.notBefore.UTC().Format(time.RFC3339), a.notAfter.UTC().Format(time.RFC3339))
		}
		return a, nil
	}
	v.mu.RLock()
	t := v.trusted.get(loc)
	v.mu.RUnlock()
	if t == nil || t.validAt(now) {
		return t, nil
	}
	v.mu.Lock()
	v.trusted.remove(t)
	v.mu.Unlock()
	return t, fmt.Errorf("%w: certificate %s (or one of its issuers) valid %v to %v", ErrCertExpired, t.name,
		t.notBefore.UTC().Format(time.RFC3339), t.notAfter.UTC().Format(time.RFC3339))
}

// findCert returns a not yet trusted certificate for loc: one added with
// AddCert, one fetched earlier, or a new fetch. A known certificate outside
// its validity period is refetched when there is a fetcher (it may have been
// renewed) and returned if that fails, so resolve reports it as expired.
func (v *Verifier) findCert(ctx context.Context, loc enc.Name, now time.Time) (*certInfo, error) {
	v.mu.RLock()
	c := v.pool.get(loc)
	if c == nil {
		c = v.fetched.get(loc)
	}
	v.mu.RUnlock()
	if c != nil && (v.fetch == nil || c.validAt(now)) {
		return c, nil
	}
	if v.fetch == nil {
		return nil, fmt.Errorf("%w: certificate %s is unknown (no fetcher, not added with AddCert)", ErrUnknownIssuer, loc)
	}
	f, err := v.fetchShared(ctx, loc, now)
	if err != nil && c != nil {
		return c, nil
	}
	return f, err
}

// fetchShared fetches loc through v.fetch, sharing one fetch among
// concurrent callers. A caller whose fetch leader gave up because of its own
// ctx retries with its ctx.
func (v *Verifier) fetchShared(ctx context.Context, loc enc.Name, now time.Time) (*certInfo, error) {
	key := loc.TlvStr()
	for {
		v.mu.Lock()
		// A fetch may have finished since findCert looked.
		if c := v.fetched.get(loc); c != nil && c.validAt(now) {
			v.mu.Unlock()
			return c, nil
		}
		f, ok := v.inflight[key]
		if !ok {
			f = &certFetch{done: make(chan struct{})}
			v.inflight[key] = f
			v.mu.Unlock()
			v.runFetch(ctx, loc, key, f)
			return f.cert, f.err
		}
		v.mu.Unlock()
		select {
		case <-f.done:
			if isContextErr(f.err) && ctx.Err() == nil {
				continue // the leader's ctx ended, not ours
			}
			return f.cert, f.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: fetch certificate %s: %w", ErrUnknownIssuer, loc, ctx.Err())
		}
	}
}

// runFetch performs f, checks the result, remembers it in v.fetched and
// wakes f's waiters, in that order, so that no verification misses both the
// fetch and its result. Waiters are woken even if the fetcher panics.
func (v *Verifier) runFetch(ctx context.Context, loc enc.Name, key string, f *certFetch) {
	f.err = fmt.Errorf("%w: certificate fetcher panicked", ErrUnknownIssuer) // replaced unless it does
	defer func() {
		v.mu.Lock()
		if f.err == nil {
			if v.fetched.len() >= v.maxCerts {
				v.fetched.evictOne()
			}
			v.fetched.put(f.cert)
		}
		delete(v.inflight, key)
		v.mu.Unlock()
		close(f.done)
	}()
	f.cert, f.err = v.fetchOne(ctx, loc)
}

// fetchOne fetches and checks a certificate for loc.
func (v *Verifier) fetchOne(ctx context.Context, loc enc.Name) (*certInfo, error) {
	wire, err := v.fetch.FetchCert(ctx, loc.Clone())
	if err != nil {
		return nil, fmt.Errorf("%w: fetch certificate %s: %w", ErrUnknownIssuer, loc, err)
	}
	c, err := parseCert(wire)
	if err != nil {
		return nil, fmt.Errorf("%w: fetched for %s: %w", ErrUnknownIssuer, loc, err)
	}
	if !loc.IsPrefix(c.name) {
		return nil, fmt.Errorf("%w: fetched certificate %s does not match KeyLocator %s", ErrUnknownIssuer, c.name, loc)
	}
	return c, nil
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func earlierTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func laterTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// verifySig checks sigValue over covered with pub, for the signature types
// NDN defines for public keys. The key type must fit the signature type.
// ndnd's equivalents (signer/validate_data.go) take an ndn.Data certificate
// and parse its key every time, and only ValidateRsa is exported.
func verifySig(pub crypto.PublicKey, t ndn.SigType, covered, sigValue []byte) bool {
	switch t {
	case ndn.SignatureEd25519:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, covered, sigValue)
	case ndn.SignatureSha256WithEcdsa:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		d := sha256.Sum256(covered)
		return ecdsa.VerifyASN1(k, d[:], sigValue)
	case ndn.SignatureSha256WithRsa:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := sha256.Sum256(covered)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sigValue) == nil
	default:
		return false
	}
}

// checkSignedInterest checks that sigCovered is the signed portion of
// interest as v0.3 defines it, so that what the signature covers is what the
// caller will act on: name components up to the ParametersSha256Digest
// component, then ApplicationParameters and InterestSignatureInfo; and that
// the digest component is SHA-256 of ApplicationParameters through
// InterestSignatureValue. ndnd's ReadInterest checks the digest against the
// received wire (spec_2022/spec.go checkInterest), but VerifyInterest also
// takes Interests and signed portions from other sources.
//
// Non-critical elements after InterestSignatureValue, which v0.3 also puts
// under the digest, are not seen here and make the digest mismatch.
func checkSignedInterest(in ndn.Interest, s ndn.Signature, sigCovered enc.Wire) error {
	name := in.Name()
	if len(name) == 0 || name[len(name)-1].Typ != enc.TypeParametersSha256DigestComponent {
		return errors.New("name does not end with a ParametersSha256DigestComponent")
	}
	for _, c := range name[:len(name)-1] {
		if c.Typ == enc.TypeParametersSha256DigestComponent {
			return errors.New("name has more than one ParametersSha256DigestComponent")
		}
	}
	digest := name[len(name)-1].Val
	if len(digest) != sha256.Size {
		return errors.New("ParametersSha256DigestComponent is not 32 bytes")
	}
	app := in.AppParam()
	if app == nil {
		return errors.New("no ApplicationParameters")
	}
	covered := sigCovered.Join()
	prefix := name[:len(name)-1].BytesInner()
	if !bytes.HasPrefix(covered, prefix) {
		return errors.New("signed portion does not start with the Interest's name")
	}
	rest := covered[len(prefix):]
	typ, val, after, ok := readTLV(rest)
	if !ok || typ != tlvApplicationParameters {
		return errors.New("signed portion does not continue with ApplicationParameters")
	}
	if !wireEqual(app, val) {
		return errors.New("ApplicationParameters differ from the signed portion")
	}
	si, err := findSigInfo(after, tlvInterestSignatureInfo)
	if err != nil {
		return err
	}
	if err := sameSigInfo(si, s, true); err != nil {
		return err
	}
	sv := s.SigValue()
	hdr := make([]byte, 0, 10)
	hdr = appendVarNum(hdr, tlvInterestSignatureValue)
	hdr = appendVarNum(hdr, uint64(len(sv)))
	h := sha256.New()
	h.Write(rest)
	h.Write(hdr)
	h.Write(sv)
	if !bytes.Equal(h.Sum(nil), digest) {
		return errors.New("ParametersSha256DigestComponent does not match the parameters and signature")
	}
	return nil
}

// checkSignedData checks that sigCovered is the signed portion of data: its
// Name, Content and SignatureInfo.
func checkSignedData(data ndn.Data, s ndn.Signature, sigCovered enc.Wire) error {
	covered := sigCovered.Join()
	typ, val, rest, ok := readTLV(covered)
	if !ok || typ != tlvName || !bytes.Equal(val, data.Name().BytesInner()) {
		return errors.New("signed portion does not start with the Data's name")
	}
	var content []byte
	hasContent := false
	for b := rest; len(b) > 0; {
		typ, val, next, ok := readTLV(b)
		if !ok {
			return errors.New("malformed signed portion")
		}
		if typ == tlvContent {
			if hasContent {
				return errors.New("signed portion has two Content elements")
			}
			content, hasContent = val, true
		}
		b = next
	}
	if !wireEqual(data.Content(), content) {
		return errors.New("content differs from the signed portion")
	}
	si, err := findSigInfo(rest, tlvSignatureInfo)
	if err != nil {
		return err
	}
	return sameSigInfo(si, s, false)
}

// findSigInfo parses the one SignatureInfo element of type typ in b.
func findSigInfo(b []byte, typ uint64) (*spec.SignatureInfo, error) {
	var raw []byte
	found := false
	for len(b) > 0 {
		t, val, next, ok := readTLV(b)
		if !ok {
			return nil, errors.New("malformed signed portion")
		}
		if t == typ {
			if found {
				return nil, errors.New("signed portion has two SignatureInfo elements")
			}
			raw, found = val, true
		}
		b = next
	}
	if !found {
		return nil, errors.New("signed portion has no SignatureInfo")
	}
	si, err := spec.ParseSignatureInfo(enc.NewBufferView(raw), false)
	if err != nil {
		return nil, fmt.Errorf("signed SignatureInfo: %w", err)
	}
	return si, nil
}

// sameSigInfo checks that the signed SignatureInfo si says what the packet's
// parsed signature s says.
func sameSigInfo(si *spec.SignatureInfo, s ndn.Signature, interest bool) error {
	if ndn.SigType(si.SignatureType) != s.SigType() {
		return errors.New("signature type differs from the signed portion")
	}
	var kl enc.Name
	if si.KeyLocator != nil {
		kl = si.KeyLocator.Name
	}
	if !kl.Equal(s.KeyName()) {
		return errors.New("KeyLocator differs from the signed portion")
	}
	if !interest {
		return nil
	}
	if !bytes.Equal(si.SignatureNonce, s.SigNonce()) {
		return errors.New("SignatureNonce differs from the signed portion")
	}
	st, hasT := si.SignatureTime.Get()
	pt := s.SigTime()
	if hasT != (pt != nil) || (hasT && st.Milliseconds() != pt.UnixMilli()) {
		return errors.New("SignatureTime differs from the signed portion")
	}
	sq, hasS := si.SignatureSeqNum.Get()
	ps := s.SigSeqNum()
	if hasS != (ps != nil) || (hasS && sq != *ps) {
		return errors.New("SignatureSeqNum differs from the signed portion")
	}
	return nil
}

// readTLV splits the TLV element at the start of b; ok is false if b does not
// start with a complete one. Unlike ndnd's ParseTLNum it never panics.
func readTLV(b []byte) (typ uint64, val, rest []byte, ok bool) {
	typ, n, ok := readVarNum(b)
	if !ok {
		return 0, nil, nil, false
	}
	l, m, ok := readVarNum(b[n:])
	if !ok || l > uint64(len(b)-n-m) {
		return 0, nil, nil, false
	}
	start := n + m
	return typ, b[start : start+int(l)], b[start+int(l):], true
}

// readVarNum reads an NDN TLV VAR-NUMBER.
func readVarNum(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch x := b[0]; {
	case x < 0xfd:
		return uint64(x), 1, true
	case x == 0xfd:
		n = 3
	case x == 0xfe:
		n = 5
	default:
		n = 9
	}
	if len(b) < n {
		return 0, 0, false
	}
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, true
}

// appendVarNum appends v as an NDN TLV VAR-NUMBER.
func appendVarNum(b []byte, v uint64) []byte {
	n := enc.TLNum(v)
	buf := make([]byte, n.EncodingLength())
	n.EncodeInto(buf)
	return append(b, buf...)
}

// wireEqual reports whether w's bytes equal b without joining w.
func wireEqual(w enc.Wire, b []byte) bool {
	for _, seg := range w {
		if len(seg) > len(b) || !bytes.Equal(seg, b[:len(seg)]) {
			return false
		}
		b = b[len(seg):]
	}
	return len(b) == 0
}

// certIndex finds certificates by any KeyLocator form: full certificate
// name, key name plus issuer id, or key name (the latest put wins, as in
// ndnd's CertCache). It is not synchronized.
type certIndex[E comparable] struct {
	nameOf   func(E) enc.Name
	byName   map[string]E
	byPrefix map[string]E
}

func newCertIndex[E comparable](nameOf func(E) enc.Name) *certIndex[E] {
	return &certIndex[E]{nameOf: nameOf, byName: map[string]E{}, byPrefix: map[string]E{}}
}

func (ix *certIndex[E]) len() int { return len(ix.byName) }

func (ix *certIndex[E]) put(e E) {
	n := ix.nameOf(e)
	if old, ok := ix.byName[n.TlvStr()]; ok {
		ix.remove(old)
	}
	ix.byName[n.TlvStr()] = e
	ix.byPrefix[n.Prefix(-1).TlvStr()] = e
	ix.byPrefix[n.Prefix(-2).TlvStr()] = e
}

func (ix *certIndex[E]) get(loc enc.Name) E {
	k := loc.TlvStr()
	if e, ok := ix.byName[k]; ok {
		return e
	}
	return ix.byPrefix[k]
}

func (ix *certIndex[E]) remove(e E) {
	n := ix.nameOf(e)
	for _, m := range []struct {
		m map[string]E
		k string
	}{{ix.byName, n.TlvStr()}, {ix.byPrefix, n.Prefix(-1).TlvStr()}, {ix.byPrefix, n.Prefix(-2).TlvStr()}} {
		if cur, ok := m.m[m.k]; ok && cur == e {
			delete(m.m, m.k)
		}
	}
}

// evictOne drops an arbitrary entry (Go's map order is randomized).
func (ix *certIndex[E]) evictOne() {
	for _, e := range ix.byName {
		ix.remove(e)
		return
	}
}

// NewTrustConfig builds ndnd's TrustConfig for anchors, for ndnd APIs that
// validate Data themselves (object Consume, SVS): an in-memory keychain
// holding the anchors and trust_schema.NewNullSchema (every chain to an
// anchor is accepted, as Verifier does). It returns the keychain too: its
// Store holds the anchors and the certificates TrustConfig fetches, and
// TrustConfigValidateArgs.Fetch must look there first. The keychain is not
// safe for concurrent use (ndn.KeyChain); TrustConfig locks around its own
// use of it.
//
// Every anchor must be a well-formed certificate valid now (ndnd's keychain
// refuses expired ones); errors wrap ErrInvalidCert or ErrCertExpired.
//
// TrustConfig differs from Verifier: it reads time.Now, has no replay
// check, and its certificate cache (std/security/cert_cache.go:37) keeps
// serving a certificate for 5 minutes after its NotAfter, and never checks
// NotBefore.
func NewTrustConfig(anchors [][]byte) (*sec.TrustConfig, ndn.KeyChain, error) {
	if len(anchors) == 0 {
		return nil, nil, errors.New("security: NewTrustConfig: no anchors")
	}
	kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
	roots := make([]enc.Name, 0, len(anchors))
	now := time.Now()
	for i, a := range anchors {
		ci, err := parseCert(a)
		if err != nil {
			return nil, nil, fmt.Errorf("security: NewTrustConfig: anchor %d: %w", i, err)
		}
		if !ci.validAt(now) {
			return nil, nil, fmt.Errorf("security: NewTrustConfig: %w: anchor %s", ErrCertExpired, ci.name)
		}
		if err := kc.InsertCert(ci.wire); err != nil {
			return nil, nil, fmt.Errorf("security: NewTrustConfig: anchor %s: %w", ci.name, err)
		}
		roots = append(roots, ci.name)
	}
	tc, err := sec.NewTrustConfig(kc, trust_schema.NewNullSchema(), roots)
	if err != nil {
		return nil, nil, fmt.Errorf("security: NewTrustConfig: %w", err)
	}
	return tc, kc, nil
}
