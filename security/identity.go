package security

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	sig "github.com/named-data/ndnd/std/security/signer"
)

// Errors about identities and certificates given to this package (as opposed
// to packets it rejects, see errors.go).
var (
	// ErrNoIdentity means a keychain or key file holds no usable identity:
	// no key, no key for the requested name, more than one identity and no
	// name to choose, or no certificate for the key.
	ErrNoIdentity = errors.New("security: no identity")
	// ErrInvalidCert means bytes meant to be an NDN certificate are not one:
	// unparsable, not of ContentType KEY, not named
	// /<identity>/KEY/<key-id>/<issuer-id>/<version>, without a validity
	// period or KeyLocator, or holding a public key this package cannot use.
	ErrInvalidCert = errors.New("security: invalid certificate")
)

// Defaults for certificates this package issues.
const (
	// DefaultCertValidity is the validity period NewAnchor and Issue give a
	// certificate when asked for zero: one year, as `ndnd sec sign-cert`.
	DefaultCertValidity = 365 * 24 * time.Hour
	// DefaultIssuerID is the issuer-id component of certificates signed by
	// Issue and SignCert, as `ndnd sec sign-cert` (and ndn-cxx's ndnsec)
	// use by default.
	DefaultIssuerID = "NA"
	// SelfIssuerID is the issuer-id component of self-signed certificates,
	// as ndnd's security.SelfSign and ndn-cxx use.
	SelfIssuerID = "self"
)

// maxCertSize bounds every certificate this package parses, from files or the
// network: NDN's MAX_NDN_PACKET_SIZE.
const maxCertSize = 8800

// maxKeyFileSize bounds what LoadIdentity, LoadIdentityFile and LoadAnchors
// read from one file, so pointing them at a device or a huge file fails
// instead of exhausting memory. A PEM file of a hundred certificates fits.
const maxKeyFileSize = 1 << 20

// maxRSABits bounds RSA keys in certificates: verification time grows with
// the modulus, and nobody signs NDN packets with more than 8192 bits.
const maxRSABits = 8192

// Identity is a signing identity: an identity name, a private key (as an
// ndn.Signer) and the certificate that binds the key to the name.
//
// Build one with NewAnchor, NewSelfSigned, (*Identity).Issue, NewIdentity or
// the Load functions. An Identity is immutable and safe for concurrent use.
// Names and the ndn.Data it returns are shared with it and must be treated as
// read-only.
type Identity struct {
	name     enc.Name // identity name: certName without KEY/<key-id>/<issuer>/<version>
	keyName  enc.Name
	certName enc.Name
	signer   ndn.Signer
	certWire []byte
	cert     ndn.Data
	info     *certInfo
}

// IssueConfig tunes a certificate that NewSelfSigned, IssueWith or SignCert
// signs. A nil *IssueConfig, and every zero field, means the default.
type IssueConfig struct {
	// Validity is the length of the validity period, starting at NotBefore.
	// Default DefaultCertValidity. Ignored when NotAfter is set.
	Validity time.Duration
	// NotBefore starts the validity period. Default: now. Certificates encode
	// it with one-second precision, rounded down.
	NotBefore time.Time
	// NotAfter ends the validity period. Default NotBefore+Validity. It must
	// not be before NotBefore. Set both to issue an already expired
	// certificate (in tests).
	NotAfter time.Time
	// IssuerID is the issuer-id name component (one generic component).
	// Default SelfIssuerID for self-signed certificates, else DefaultIssuerID.
	IssuerID string
}

// Validate reports a configuration that cannot make a certificate: a negative
// Validity, or NotAfter before NotBefore when both are set.
func (c *IssueConfig) Validate() error {
	if c == nil {
		return nil
	}
	if c.Validity < 0 {
		return fmt.Errorf("security: IssueConfig.Validity %v is negative", c.Validity)
	}
	if !c.NotBefore.IsZero() && !c.NotAfter.IsZero() && c.NotAfter.Before(c.NotBefore) {
		return fmt.Errorf("security: IssueConfig.NotAfter %v is before NotBefore %v", c.NotAfter, c.NotBefore)
	}
	return nil
}

// period resolves the validity period and issuer id from c (nil allowed).
func (c *IssueConfig) period(defIssuer string) (notBefore, notAfter time.Time, issuer enc.Component, err error) {
	if err = c.Validate(); err != nil {
		return
	}
	var cfg IssueConfig
	if c != nil {
		cfg = *c
	}
	notBefore = cfg.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now()
	}
	notAfter = cfg.NotAfter
	if notAfter.IsZero() {
		v := cfg.Validity
		if v == 0 {
			v = DefaultCertValidity
		}
		notAfter = notBefore.Add(v)
	}
	if notAfter.Before(notBefore) {
		err = fmt.Errorf("security: certificate NotAfter %v is before NotBefore %v", notAfter, notBefore)
		return
	}
	id := cfg.IssuerID
	if id == "" {
		id = defIssuer
	}
	return notBefore, notAfter, enc.NewGenericComponent(id), nil
}

// NewAnchor makes a trust anchor: a fresh Ed25519 key for name with a
// self-signed certificate (issuer id "self") valid from now for validity
// (zero means DefaultCertValidity). It does no I/O; save it with SaveIdentity
// and hand its CertWire to verifiers as an anchor.
func NewAnchor(name enc.Name, validity time.Duration) (*Identity, error) {
	return NewSelfSigned(name, &IssueConfig{Validity: validity})
}

// NewSelfSigned is NewAnchor with the certificate's validity period and issuer
// id taken from cfg (nil means defaults, issuer id "self").
func NewSelfSigned(name enc.Name, cfg *IssueConfig) (*Identity, error) {
	nb, na, issuer, err := cfg.period(SelfIssuerID)
	if err != nil {
		return nil, err
	}
	signer, err := sig.KeygenEd25519(sec.MakeKeyName(cloneName(name)))
	if err != nil {
		return nil, fmt.Errorf("security: generate key for %s: %w", name, err)
	}
	wire, err := sec.SelfSign(sec.SignCertArgs{
		Signer:    signer,
		IssuerId:  issuer,
		NotBefore: nb,
		NotAfter:  na,
	})
	if err != nil {
		return nil, fmt.Errorf("security: self-sign %s: %w", signer.KeyName(), err)
	}
	return NewIdentity(signer, wire.Join())
}

// Issue makes a new identity named name: a fresh Ed25519 key whose
// certificate id signs (issuer id DefaultIssuerID), valid from now for
// validity (zero means DefaultCertValidity). name need not be under id's
// name; verifiers with VerifierConfig.RequireHierarchy insist on it.
func (id *Identity) Issue(name enc.Name, validity time.Duration) (*Identity, error) {
	return id.IssueWith(name, &IssueConfig{Validity: validity})
}

// IssueWith is Issue with the certificate's validity period and issuer id
// taken from cfg (nil means defaults).
func (id *Identity) IssueWith(name enc.Name, cfg *IssueConfig) (*Identity, error) {
	signer, err := sig.KeygenEd25519(sec.MakeKeyName(cloneName(name)))
	if err != nil {
		return nil, fmt.Errorf("security: generate key for %s: %w", name, err)
	}
	keyData, err := sig.MarshalSecretToData(signer)
	if err != nil {
		return nil, fmt.Errorf("security: encode key %s: %w", signer.KeyName(), err)
	}
	wire, err := id.signCert(keyData, cfg)
	if err != nil {
		return nil, err
	}
	return NewIdentity(signer, wire)
}

// SignCert certifies someone else's key, as `ndnd sec sign-cert` does: csr is
// a certificate (usually self-signed) or a key Data holding the key to
// certify, as TLV or PEM. The result is the new certificate's wire, named
// /<identity>/KEY/<key-id>/<issuer-id>/<version> and signed by id. A
// self-signed csr must carry a valid self-signature (proof that its sender
// holds the private key). Errors wrap ErrInvalidCert for a bad csr.
func (id *Identity) SignCert(csr []byte, cfg *IssueConfig) ([]byte, error) {
	if len(csr) > 0 && csr[0] != 0x06 {
		wires := sec.PemDecode(csr)
		if len(wires) != 1 {
			return nil, fmt.Errorf("%w: CSR: expected one PEM block, got %d", ErrInvalidCert, len(wires))
		}
		csr = wires[0]
	}
	if len(csr) > maxCertSize {
		return nil, fmt.Errorf("%w: CSR is %d bytes, max %d", ErrInvalidCert, len(csr), maxCertSize)
	}
	data, covered, err := ReadData(bytes.Clone(csr))
	if err != nil {
		return nil, fmt.Errorf("%w: CSR: %w", ErrInvalidCert, err)
	}
	if ct, _ := data.ContentType().Get(); ct == ndn.ContentTypeKey {
		ci, err := parseCertData(data, covered, nil)
		if err != nil {
			return nil, fmt.Errorf("CSR: %w", err)
		}
		if ci.selfSigned() && !verifySig(ci.pub, ci.sigType, ci.sigCovered, ci.sigValue) {
			return nil, fmt.Errorf("%w: CSR %s: self-signature does not verify", ErrInvalidCert, ci.name)
		}
	}
	return id.signCert(data, cfg)
}

// signCert signs a certificate for the key in data (a certificate or a key
// Data) with id's key.
func (id *Identity) signCert(data ndn.Data, cfg *IssueConfig) ([]byte, error) {
	nb, na, issuer, err := cfg.period(DefaultIssuerID)
	if err != nil {
		return nil, err
	}
	wire, err := sec.SignCert(sec.SignCertArgs{
		Signer:    id.signer,
		Data:      data,
		IssuerId:  issuer,
		NotBefore: nb,
		NotAfter:  na,
	})
	if err != nil {
		return nil, fmt.Errorf("security: sign certificate for %s: %w", data.Name(), err)
	}
	return wire.Join(), nil
}

// NewIdentity assembles an Identity from a private key and its certificate
// (TLV wire). It checks that the certificate is well formed, names the
// signer's key and holds the signer's public key; it does not check who
// signed the certificate or whether it is currently valid. certWire is copied.
// Errors wrap ErrInvalidCert.
func NewIdentity(signer ndn.Signer, certWire []byte) (*Identity, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrNoIdentity)
	}
	ci, err := parseCert(certWire)
	if err != nil {
		return nil, err
	}
	if !ci.keyName.Equal(signer.KeyName()) {
		return nil, fmt.Errorf("%w: certificate %s is not for key %s", ErrInvalidCert, ci.name, signer.KeyName())
	}
	if !signerMatches(signer, ci.pub) {
		return nil, fmt.Errorf("%w: certificate %s holds another public key than %s", ErrInvalidCert, ci.name, signer.KeyName())
	}
	return &Identity{
		name:     ci.keyName.Prefix(-2),
		keyName:  ci.keyName,
		certName: ci.name,
		signer:   signer,
		certWire: ci.wire,
		cert:     ci.data,
		info:     ci,
	}, nil
}

// signerMatches reports whether signer's public key is pub.
func signerMatches(signer ndn.Signer, pub crypto.PublicKey) bool {
	der, err := signer.Public()
	if err != nil {
		return false
	}
	mine, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	eq, ok := mine.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(pub)
}

// Name returns the identity name, e.g. /example/alice.
func (id *Identity) Name() enc.Name { return id.name }

// KeyName returns the key name, /<identity>/KEY/<key-id>: what the KeyLocator
// of every packet this identity signs holds, and what verifiers report as
// the caller.
func (id *Identity) KeyName() enc.Name { return id.keyName }

// CertName returns the certificate name,
// /<identity>/KEY/<key-id>/<issuer-id>/<version>.
func (id *Identity) CertName() enc.Name { return id.certName }

// Signer returns the private key as an ndnd signer, for ndnd APIs
// (spec_2022.Spec.MakeData, object Produce). It is safe for concurrent use.
func (id *Identity) Signer() ndn.Signer { return id.signer }

// CertWire returns a copy of the certificate's TLV wire, ready to serve to
// certificate fetchers or to pass as a trust anchor.
func (id *Identity) CertWire() []byte { return bytes.Clone(id.certWire) }

// Cert returns the parsed certificate. It is shared: do not modify it.
func (id *Identity) Cert() ndn.Data { return id.cert }

// Validity returns the certificate's validity period (inclusive, one-second
// precision).
func (id *Identity) Validity() (notBefore, notAfter time.Time) {
	return id.info.notBefore, id.info.notAfter
}

// Issuer returns the KeyLocator of the certificate: the name of the key that
// signed it (the identity's own key name for a self-signed certificate).
func (id *Identity) Issuer() enc.Name { return id.info.issuer }

// CertPEM returns the certificate in ndnd's PEM text format ("NDN CERT"
// block), what `ndnd sec sign-cert` prints and LoadAnchors reads.
func (id *Identity) CertPEM() ([]byte, error) {
	return sec.PemEncode(id.certWire)
}

// String returns the certificate name.
func (id *Identity) String() string { return id.certName.String() }

// LoadIdentity loads an identity from a keychain directory made by
// `ndnd sec keygen` + `sign-cert` + `key-import` (or by SaveIdentity): files
// named *.key, *.cert and *.pem, each holding TLV or PEM entries. keychainURI
// is "dir://PATH" ("dir:///abs/path" or "dir://relative/path"); "mem://"
// keychains hold nothing to load and are refused.
//
// name selects the identity (e.g. /example/alice) or one of its keys
// (/example/alice/KEY/<key-id>). With an empty name the keychain must hold
// exactly one identity; otherwise the error lists the candidates. Of several
// keys and certificates, the one with a currently valid certificate and the
// newest certificate version wins; if every certificate has expired the
// newest is returned anyway (check Validity).
//
// Unlike ndnd's NewKeyChainDir it never creates the directory, and it keeps
// expired certificates instead of silently dropping them
// (keychain_mem.go InsertCert), so the errors can say what is wrong.
// Errors wrap ErrNoIdentity when nothing fits, or the file system error.
func LoadIdentity(keychainURI string, name enc.Name) (*Identity, error) {
	dir, err := keychainDir(keychainURI)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("security: keychain %s: %w", keychainURI, err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, keychain.EXT_KEY) ||
			strings.HasSuffix(n, keychain.EXT_CERT) || strings.HasSuffix(n, keychain.EXT_PEM)) {
			continue
		}
		files = append(files, filepath.Join(dir, n))
	}
	var signers []ndn.Signer
	var certs [][]byte
	for _, f := range files {
		s, c, err := decodeKeyFile(f)
		if err != nil {
			continue // as ndnd's keychain: one bad file does not spoil the rest
		}
		signers = append(signers, s...)
		certs = append(certs, c...)
	}
	return pickIdentity(signers, certs, name, keychainURI)
}

// keychainDir returns the directory of a dir:// keychain URI.
func keychainDir(uri string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	switch {
	case !ok:
		return "", fmt.Errorf("security: keychain %q is not a URI (want dir://PATH)", uri)
	case scheme == "mem":
		return "", fmt.Errorf("%w: keychain %q is in memory and empty when opened", ErrNoIdentity, uri)
	case scheme != "dir":
		return "", fmt.Errorf("security: keychain %q: unsupported scheme %q (want dir://PATH)", uri, scheme)
	case rest == "":
		return "", fmt.Errorf("security: keychain %q has no path", uri)
	}
	return rest, nil
}

// LoadIdentityFile loads an identity from key files: path and more are read
// and decoded as ndnd's DecodeFile does (one TLV entry, or any number of PEM
// "NDN KEY" / "NDN CERT" blocks), e.g. LoadIdentityFile("alice.key",
// "alice.cert") or one .pem holding both. The files together must hold keys
// of exactly one identity and a certificate for one of them; the choice
// among several is as in LoadIdentity. Errors wrap ErrNoIdentity, or the file
// system error.
func LoadIdentityFile(path string, more ...string) (*Identity, error) {
	var signers []ndn.Signer
	var certs [][]byte
	for _, p := range append([]string{path}, more...) {
		s, c, err := decodeKeyFile(p)
		if err != nil {
			return nil, err
		}
		signers = append(signers, s...)
		certs = append(certs, c...)
	}
	return pickIdentity(signers, certs, nil, strings.Join(append([]string{path}, more...), ", "))
}

// readBounded reads at most maxKeyFileSize bytes of path.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("security: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("security: read %s: %w", path, err)
	}
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("security: %s is larger than %d bytes", path, maxKeyFileSize)
	}
	return b, nil
}

// decodeKeyFile reads path and decodes its keys and certificates.
func decodeKeyFile(path string) ([]ndn.Signer, [][]byte, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, nil, err
	}
	signers, certs, err := decodeEntries(b)
	if err != nil {
		return nil, nil, fmt.Errorf("security: %s: %w", path, err)
	}
	return signers, certs, nil
}

// decodeEntries is ndnd's DecodeFile (TLV or PEM) plus bare base64, the
// format ndn-cxx's ndnsec writes .cert files in.
func decodeEntries(b []byte) (signers []ndn.Signer, certs [][]byte, err error) {
	// ndnd's DecodeFile parses with its panicking parser (see WellFormed).
	defer func() {
		if r := recover(); r != nil {
			signers, certs, err = nil, nil, fmt.Errorf("malformed key or certificate file: %v", r)
		}
	}()
	signers, certs, err = sec.DecodeFile(b)
	if err == nil && len(signers)+len(certs) > 0 {
		return signers, certs, nil
	}
	if raw, ok := decodeBareBase64(b); ok {
		s, c, err2 := sec.DecodeFile(raw)
		if err2 == nil && len(s)+len(c) > 0 {
			return s, c, nil
		}
	}
	if err == nil {
		err = errors.New("no NDN key or certificate found")
	}
	return nil, nil, err
}

// decodeBareBase64 decodes b as standard base64 with any white space, as
// ndn-cxx writes certificates; ok is false if b is not that.
func decodeBareBase64(b []byte) ([]byte, bool) {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			clean = append(clean, c)
		}
	}
	if len(clean) == 0 {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil || len(raw) == 0 || raw[0] != 0x06 {
		return nil, false
	}
	return raw, true
}

// keyCandidate is one key with its best certificate.
type keyCandidate struct {
	signer ndn.Signer
	cert   *certInfo
}

// better reports whether certificate a is preferable to b at now: currently
// valid first, then the newer version, then the later NotAfter.
func better(a, b *certInfo, now time.Time) bool {
	if av, bv := a.validAt(now), b.validAt(now); av != bv {
		return av
	}
	if av, bv := a.name.At(-1).NumberVal(), b.name.At(-1).NumberVal(); av != bv {
		return av > bv
	}
	return a.notAfter.After(b.notAfter)
}

// pickIdentity chooses the identity named name (or the only one) among
// signers and certs, as LoadIdentity documents. source names where they came
// from, for errors.
func pickIdentity(signers []ndn.Signer, certs [][]byte, name enc.Name, source string) (*Identity, error) {
	if len(signers) == 0 {
		return nil, fmt.Errorf("%w: no private key in %s", ErrNoIdentity, source)
	}
	var chosen []ndn.Signer
	byKeyName := len(name) >= 2 && name.At(-2).IsGeneric("KEY")
	ids := map[string]enc.Name{}
	for _, s := range signers {
		kn := s.KeyName()
		idName := kn.Prefix(-2)
		ids[idName.TlvStr()] = idName
		switch {
		case len(name) == 0,
			byKeyName && kn.Equal(name),
			!byKeyName && idName.Equal(name):
			chosen = append(chosen, s)
		}
	}
	candidates := make([]string, 0, len(ids))
	for _, n := range ids {
		candidates = append(candidates, n.String())
	}
	sort.Strings(candidates)
	if len(chosen) == 0 {
		return nil, fmt.Errorf("%w: no key for %s in %s (it holds %s)", ErrNoIdentity, name, source, strings.Join(candidates, ", "))
	}
	if len(name) == 0 && len(ids) > 1 {
		return nil, fmt.Errorf("%w: %s holds %d identities, name one of: %s", ErrNoIdentity, source, len(ids), strings.Join(candidates, ", "))
	}

	parsed := make([]*certInfo, 0, len(certs))
	for _, w := range certs {
		if ci, err := parseCert(w); err == nil {
			parsed = append(parsed, ci)
		}
	}
	now := time.Now()
	var best *keyCandidate
	for _, s := range chosen {
		for _, ci := range parsed {
			if !ci.keyName.Equal(s.KeyName()) || !signerMatches(s, ci.pub) {
				continue
			}
			if best == nil || better(ci, best.cert, now) {
				best = &keyCandidate{signer: s, cert: ci}
			}
		}
	}
	if best == nil {
		keys := make([]string, len(chosen))
		for i, s := range chosen {
			keys[i] = s.KeyName().String()
		}
		return nil, fmt.Errorf("%w: no certificate for key %s in %s", ErrNoIdentity, strings.Join(keys, ", "), source)
	}
	return NewIdentity(best.signer, best.cert.wire)
}

// SaveIdentity writes id's private key and certificate into the keychain
// directory dir (created with mode 0700 if missing), in ndnd's dir keychain
// format: PEM files named by the SHA-256 of the entry, mode 0600, with the
// .key and .cert extensions. `ndnd sec key-list dir://DIR` and LoadIdentity
// read it back. It uses ndnd's own KeyChainDir to write, which refuses a
// certificate that is expired now.
func SaveIdentity(dir string, id *Identity) error {
	if id == nil {
		return fmt.Errorf("%w: nil identity", ErrNoIdentity)
	}
	kc, err := keychain.NewKeyChainDir(dir, storage.NewMemoryStore())
	if err != nil {
		return fmt.Errorf("security: open keychain %s: %w", dir, err)
	}
	if err := kc.InsertKey(id.signer); err != nil {
		return fmt.Errorf("security: save key %s to %s: %w", id.keyName, dir, err)
	}
	if err := kc.InsertCert(id.certWire); err != nil {
		return fmt.Errorf("security: save certificate %s to %s: %w", id.certName, dir, err)
	}
	return nil
}

// LoadAnchors reads trust anchor certificates from .cert files, each holding
// one TLV certificate, PEM "NDN CERT" blocks (ndnd) or bare base64 (ndn-cxx's
// ndnsec). It returns every certificate's TLV wire, in file order; keys in the
// files are ignored. A file that cannot be read or holds no well-formed
// certificate is an error naming it (wrapping ErrInvalidCert or the file
// system error). Expired anchors are returned: verifiers report them when
// used.
func LoadAnchors(paths ...string) ([][]byte, error) {
	var out [][]byte
	for _, p := range paths {
		b, err := readBounded(p)
		if err != nil {
			return nil, err
		}
		_, certs, err := decodeEntries(b)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor file %s: %w", ErrInvalidCert, p, err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("%w: anchor file %s holds no certificate", ErrInvalidCert, p)
		}
		for _, w := range certs {
			if _, err := parseCert(w); err != nil {
				return nil, fmt.Errorf("anchor file %s: %w", p, err)
			}
			out = append(out, bytes.Clone(w))
		}
	}
	return out, nil
}

// certInfo is a parsed, well-formed certificate.
type certInfo struct {
	wire       []byte // owned copy
	data       ndn.Data
	name       enc.Name // full certificate name
	keyName    enc.Name
	issuer     enc.Name // KeyLocator name
	sigType    ndn.SigType
	sigValue   []byte
	sigCovered []byte // joined
	pub        crypto.PublicKey
	notBefore  time.Time
	notAfter   time.Time
}

// selfSigned reports whether the certificate's KeyLocator names its own key,
// as ndnd's TrustConfig decides it.
func (c *certInfo) selfSigned() bool { return c.issuer.IsPrefix(c.name) }

// validAt reports whether now is inside the validity period (inclusive).
func (c *certInfo) validAt(now time.Time) bool {
	return !now.Before(c.notBefore) && !now.After(c.notAfter)
}

// parseCert parses and checks a certificate wire; the result owns a copy.
// Errors wrap ErrInvalidCert.
func parseCert(wire []byte) (*certInfo, error) {
	if len(wire) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidCert)
	}
	if len(wire) > maxCertSize {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrInvalidCert, len(wire), maxCertSize)
	}
	own := bytes.Clone(wire)
	data, covered, err := ReadData(own)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCert, err)
	}
	return parseCertData(data, covered, own)
}

// parseCertData checks a parsed certificate. wire may be nil when the caller
// does not keep the certificate.
func parseCertData(data ndn.Data, covered enc.Wire, wire []byte) (*certInfo, error) {
	name := data.Name()
	if ct, ok := data.ContentType().Get(); !ok || ct != ndn.ContentTypeKey {
		return nil, fmt.Errorf("%w: %s: ContentType is not KEY", ErrInvalidCert, name)
	}
	if len(name) < 4 || !name.At(-4).IsGeneric("KEY") || !name.At(-1).IsVersion() {
		return nil, fmt.Errorf("%w: %s is not /<identity>/KEY/<key-id>/<issuer-id>/<version>", ErrInvalidCert, name)
	}
	s := data.Signature()
	if s == nil {
		return nil, fmt.Errorf("%w: %s: no signature", ErrInvalidCert, name)
	}
	switch s.SigType() {
	case ndn.SignatureEd25519, ndn.SignatureSha256WithEcdsa, ndn.SignatureSha256WithRsa:
	default:
		return nil, fmt.Errorf("%w: %s: unsupported signature type %v", ErrInvalidCert, name, s.SigType())
	}
	issuer := s.KeyName()
	if len(issuer) == 0 {
		return nil, fmt.Errorf("%w: %s: no KeyLocator name", ErrInvalidCert, name)
	}
	nbOpt, naOpt := s.Validity()
	notBefore, okB := nbOpt.Get()
	notAfter, okA := naOpt.Get()
	if !okB || !okA {
		return nil, fmt.Errorf("%w: %s: no valid ValidityPeriod", ErrInvalidCert, name)
	}
	pub, err := parsePublicKey(data.Content().Join())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidCert, name, err)
	}
	return &certInfo{
		wire:       wire,
		data:       data,
		name:       name.Clone(),
		keyName:    name.Prefix(-2).Clone(),
		issuer:     issuer.Clone(),
		sigType:    s.SigType(),
		sigValue:   bytes.Clone(s.SigValue()),
		sigCovered: covered.Join(),
		pub:        pub,
		notBefore:  notBefore,
		notAfter:   notAfter,
	}, nil
}

// parsePublicKey parses a certificate's content (DER SubjectPublicKeyInfo)
// into a key this package can verify with.
func parsePublicKey(der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("public key: bad Ed25519 key size")
		}
	case *ecdsa.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() > maxRSABits {
			return nil, fmt.Errorf("public key: RSA key of %d bits, max %d", k.N.BitLen(), maxRSABits)
		}
	default:
		return nil, fmt.Errorf("public key: unsupported type %T", pub)
	}
	return pub, nil
}

// cloneName returns a deep copy of n with no spare capacity. ndnd's
// Name.Append and its Interest encoder (spec_2022/zz_generated.go:1716) append
// into a name's backing array when it has room, which races when two
// goroutines extend the same caller-owned name.
func cloneName(n enc.Name) enc.Name {
	if n == nil {
		return enc.Name{}
	}
	return n.Clone()
}
