package security

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

func TestNewAnchor(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	a, err := NewAnchor(mustName(t, "/example"), 0)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if !a.Name().Equal(mustName(t, "/example")) {
		t.Fatalf("Name = %s", a.Name())
	}
	if len(a.KeyName()) != 3 || !a.KeyName().At(1).IsGeneric("KEY") {
		t.Fatalf("KeyName = %s", a.KeyName())
	}
	cn := a.CertName()
	if !a.KeyName().IsPrefix(cn) || len(cn) != 5 || !cn.At(3).IsGeneric(SelfIssuerID) || !cn.At(4).IsVersion() {
		t.Fatalf("CertName = %s", cn)
	}
	if !a.Issuer().Equal(a.KeyName()) {
		t.Fatalf("Issuer = %s, want its own key %s", a.Issuer(), a.KeyName())
	}
	nb, na := a.Validity()
	if nb.Before(before) || nb.After(after) || na.Sub(nb) < DefaultCertValidity-time.Second || na.Sub(nb) > DefaultCertValidity {
		t.Fatalf("Validity = %v .. %v", nb, na)
	}
	if a.Signer().Type() != ndn.SignatureEd25519 || !a.Signer().KeyName().Equal(a.KeyName()) {
		t.Fatal("Signer is not the anchor's Ed25519 key")
	}
	w := a.CertWire()
	w[0] ^= 0xff
	if a.CertWire()[0] != 0x06 {
		t.Fatal("CertWire returned the identity's own buffer")
	}
	if !a.Cert().Name().Equal(cn) {
		t.Fatal("Cert does not match CertName")
	}
	if a.String() != cn.String() {
		t.Fatalf("String = %s", a.String())
	}
}

func TestIssue(t *testing.T) {
	a := testAnchor(t, "/example")
	u, err := a.Issue(mustName(t, "/example/alice"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Name().Equal(mustName(t, "/example/alice")) || !u.Issuer().Equal(a.KeyName()) {
		t.Fatalf("issued %s by %s", u.Name(), u.Issuer())
	}
	if !u.CertName().At(-2).IsGeneric(DefaultIssuerID) {
		t.Fatalf("issuer id in %s, want %s", u.CertName(), DefaultIssuerID)
	}
	nb, na := u.Validity()
	if d := na.Sub(nb); d < time.Hour-time.Second || d > time.Hour {
		t.Fatalf("validity %v, want 1h", d)
	}
	custom, err := a.IssueWith(mustName(t, "/example/bob"), &IssueConfig{IssuerID: "ndn-invoke", NotBefore: testT0, Validity: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if nb, na := custom.Validity(); !nb.Equal(testT0) || !na.Equal(testT0.Add(time.Minute)) || !custom.CertName().At(-2).IsGeneric("ndn-invoke") {
		t.Fatalf("custom certificate %s valid %v .. %v", custom.CertName(), nb, na)
	}
}

func TestIssueConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  *IssueConfig
		ok   bool
	}{
		{"nil", nil, true},
		{"zero", &IssueConfig{}, true},
		{"explicit", &IssueConfig{NotBefore: testT0, NotAfter: testT0.Add(time.Hour)}, true},
		{"empty period", &IssueConfig{NotBefore: testT0, NotAfter: testT0}, true},
		{"negative validity", &IssueConfig{Validity: -time.Second}, false},
		{"reversed", &IssueConfig{NotBefore: testT0, NotAfter: testT0.Add(-time.Second)}, false},
	}
	a := testAnchor(t, "/example")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if _, err := a.IssueWith(mustName(t, "/example/x"), tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("IssueWith = %v, want ok=%v", err, tc.ok)
			}
			if _, err := NewSelfSigned(mustName(t, "/x"), tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("NewSelfSigned = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNewIdentityMismatch(t *testing.T) {
	a := testAnchor(t, "/example")
	b := testAnchor(t, "/example")
	// b's certificate with a's key, then with a new key under b's key name.
	if _, err := NewIdentity(a.Signer(), b.CertWire()); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("other key name: err = %v, want ErrInvalidCert", err)
	}
	k, _ := sig.KeygenEd25519(b.KeyName())
	if _, err := NewIdentity(k, b.CertWire()); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("other key: err = %v, want ErrInvalidCert", err)
	}
	if _, err := NewIdentity(a.Signer(), []byte{0x06, 0x00}); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("junk: err = %v, want ErrInvalidCert", err)
	}
	if _, err := NewIdentity(nil, a.CertWire()); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("nil signer: err = %v, want ErrNoIdentity", err)
	}
}

func TestSignCertCSR(t *testing.T) {
	ca := testAnchor(t, "/example")
	// The requester makes a key and a self-signed certificate (the CSR).
	req, err := NewAnchor(mustName(t, "/example/alice"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{"tlv", "pem"} {
		csr := req.CertWire()
		if form == "pem" {
			csr, _ = req.CertPEM()
		}
		cw, err := ca.SignCert(csr, nil)
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		id, err := NewIdentity(req.Signer(), cw)
		if err != nil {
			t.Fatalf("%s: certified key does not match: %v", form, err)
		}
		if !id.Issuer().Equal(ca.KeyName()) {
			t.Fatalf("%s: issuer %s", form, id.Issuer())
		}
	}
	// A CSR whose self-signature is broken proves nothing.
	bad := req.CertWire()
	bad[len(bad)-1] ^= 1
	if _, err := ca.SignCert(bad, nil); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("bad CSR: err = %v, want ErrInvalidCert", err)
	}
	if _, err := ca.SignCert([]byte("nonsense"), nil); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("junk CSR: err = %v, want ErrInvalidCert", err)
	}
	// ndnd's sign-cert also takes the key Data itself.
	kd, _ := sig.MarshalSecret(req.Signer())
	if _, err := ca.SignCert(kd.Join(), nil); err != nil {
		t.Fatalf("key as CSR: %v", err)
	}
}

func sameIdentity(t *testing.T, got, want *Identity) {
	t.Helper()
	if !got.CertName().Equal(want.CertName()) || !bytes.Equal(got.CertWire(), want.CertWire()) {
		t.Fatalf("certificate %s, want %s", got.CertName(), want.CertName())
	}
	gp, _ := got.Signer().Public()
	wp, _ := want.Signer().Public()
	if !bytes.Equal(gp, wp) {
		t.Fatal("loaded another key")
	}
	// The loaded key signs what the original's certificate verifies.
	w, err := spec.Spec{}.MakeData(mustName(t, "/x"), &ndn.DataConfig{}, enc.Wire{[]byte("x")}, got.Signer())
	if err != nil {
		t.Fatal(err)
	}
	d, covered, _ := spec.Spec{}.ReadData(enc.NewWireView(w.Wire))
	if ok, err := sig.ValidateData(d, covered, want.Cert()); !ok || err != nil {
		t.Fatalf("loaded key does not match the certificate: %v", err)
	}
}

func TestSaveLoadIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	a, _ := NewAnchor(mustName(t, "/example"), time.Hour)
	u, _ := a.Issue(mustName(t, "/example/alice"), time.Hour)
	if err := SaveIdentity(dir, u); err != nil {
		t.Fatal(err)
	}
	if err := SaveIdentity(dir, u); err != nil { // idempotent
		t.Fatalf("second save: %v", err)
	}
	got, err := LoadIdentity("dir://"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameIdentity(t, got, u)

	// ndnd's own keychain (what `ndnd sec key-list` uses) reads it too.
	kc, err := keychain.NewKeyChain("dir://"+dir, storage.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	kid := kc.IdentityByName(u.Name())
	if kid == nil || len(kid.Keys()) != 1 || !kid.Keys()[0].KeyName().Equal(u.KeyName()) || len(kid.Keys()[0].UniqueCerts()) != 1 {
		t.Fatalf("ndnd keychain sees %v", kid)
	}
	if w, _ := kc.Store().Get(u.CertName(), false); !bytes.Equal(w, u.CertWire()) {
		t.Fatal("ndnd keychain does not hold the certificate")
	}

	// Two identities: a name is needed.
	if err := SaveIdentity(dir, a); err != nil {
		t.Fatal(err)
	}
	_, err = LoadIdentity("dir://"+dir, nil)
	if !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "/example/alice") || !strings.Contains(err.Error(), "/example,") {
		t.Fatalf("ambiguous: err = %v, want ErrNoIdentity listing both", err)
	}
	got, err = LoadIdentity("dir://"+dir, mustName(t, "/example"))
	if err != nil {
		t.Fatal(err)
	}
	sameIdentity(t, got, a)
	got, err = LoadIdentity("dir://"+dir, u.KeyName())
	if err != nil {
		t.Fatalf("by key name: %v", err)
	}
	sameIdentity(t, got, u)
	if _, err := LoadIdentity("dir://"+dir, mustName(t, "/nobody")); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("unknown name: err = %v", err)
	}
}

// TestLoadIdentityNdndFiles reads files as `ndnd sec keygen /alice ed25519 >
// alice.key` and `ndnd sec sign-cert ca.key < alice.key > alice.cert` write
// them (the same ndnd calls, PEM encoded).
func TestLoadIdentityNdndFiles(t *testing.T) {
	ca := testAnchor(t, "/example")
	key, _ := sig.KeygenEd25519(sec.MakeKeyName(mustName(t, "/example/alice")))
	kd, _ := sig.MarshalSecret(key)
	keyPEM, err := sec.PemEncode(kd.Join())
	if err != nil {
		t.Fatal(err)
	}
	csr, _, _ := spec.Spec{}.ReadData(enc.NewBufferView(kd.Join()))
	cw, err := sec.SignCert(sec.SignCertArgs{Signer: ca.Signer(), Data: csr, IssuerId: enc.NewGenericComponent("NA"),
		NotBefore: time.Now(), NotAfter: time.Now().AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := sec.PemEncode(cw.Join())

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile := write("alice.key", keyPEM)
	certFile := write("alice.cert", certPEM)
	write("notes.txt", []byte("ignored"))

	id, err := LoadIdentity("dir://"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !id.KeyName().Equal(key.KeyName()) || !bytes.Equal(id.CertWire(), cw.Join()) {
		t.Fatalf("loaded %s", id)
	}
	if _, err := LoadIdentityFile(keyFile, certFile); err != nil {
		t.Fatalf("LoadIdentityFile(key, cert): %v", err)
	}
	both := write("alice.pem", append(append([]byte{}, keyPEM...), certPEM...))
	if _, err := LoadIdentityFile(both); err != nil {
		t.Fatalf("LoadIdentityFile(pem): %v", err)
	}
	if _, err := LoadIdentityFile(keyFile); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("key without certificate: err = %v, want ErrNoIdentity", err)
	}
	if _, err := LoadIdentityFile(certFile); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("certificate without key: err = %v, want ErrNoIdentity", err)
	}
	if _, err := LoadIdentityFile(filepath.Join(dir, "missing.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestLoadIdentityPrefersValidCert(t *testing.T) {
	ca := testAnchor(t, "/example")
	key, _ := sig.KeygenEd25519(sec.MakeKeyName(mustName(t, "/example/alice")))
	kd, _ := sig.MarshalSecretToData(key)
	old, err := ca.signCert(kd, &IssueConfig{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ca.signCert(kd, &IssueConfig{Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	future, err := ca.signCert(kd, &IssueConfig{NotBefore: time.Now().Add(time.Hour), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	kw, _ := sig.MarshalSecret(key)
	id, err := pickIdentity([]ndn.Signer{key}, [][]byte{old, future, cur, kw.Join()}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(id.CertWire(), cur) {
		t.Fatalf("picked %s, want the currently valid certificate", id.CertName())
	}
	id, err = pickIdentity([]ndn.Signer{key}, [][]byte{old}, nil, "test")
	if err != nil || !bytes.Equal(id.CertWire(), old) {
		t.Fatalf("only an expired certificate: got %v, %v; want it anyway", id, err)
	}
}

func TestLoadIdentityURIs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	for _, uri := range []string{"mem://", "file:///tmp", "/tmp/keys", "dir://", "dir://" + missing} {
		if _, err := LoadIdentity(uri, nil); err == nil {
			t.Fatalf("LoadIdentity(%q) succeeded", uri)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("LoadIdentity created the keychain directory")
	}
	if _, err := LoadIdentity("mem://", nil); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("mem://: err = %v, want ErrNoIdentity", err)
	}
	empty := t.TempDir()
	if _, err := LoadIdentity("dir://"+empty, nil); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("empty keychain: err = %v, want ErrNoIdentity", err)
	}
	// A relative path, as dir://relative/path.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, empty)
	if err == nil && !strings.HasPrefix(rel, "..") {
		if _, err := LoadIdentity("dir://"+rel, nil); !errors.Is(err, ErrNoIdentity) {
			t.Fatalf("relative: err = %v", err)
		}
	}
}

func TestLoadAnchors(t *testing.T) {
	a := testAnchor(t, "/example")
	b := testAnchor(t, "/other")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pa, _ := a.CertPEM()
	pb, _ := b.CertPEM()
	b64 := base64.StdEncoding.EncodeToString(a.CertWire())
	wrapped := ""
	for len(b64) > 64 {
		wrapped += b64[:64] + "\n"
		b64 = b64[64:]
	}
	wrapped += b64 + "\n"
	kw, _ := sig.MarshalSecret(a.Signer())
	kp, _ := sec.PemEncode(kw.Join())

	pem := write("a.cert", pa)
	tlv := write("a.tlv.cert", a.CertWire())
	ndncxx := write("a.ndncxx.cert", []byte(wrapped))
	two := write("two.cert", append(append([]byte{}, pa...), pb...))
	withKey := write("withkey.pem", append(append([]byte{}, kp...), pa...))
	keyOnly := write("key.pem", kp)
	junk := write("junk.cert", []byte("not a certificate"))

	got, err := LoadAnchors(pem, tlv, ndncxx, two, withKey)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{a.CertWire(), a.CertWire(), a.CertWire(), a.CertWire(), b.CertWire(), a.CertWire()}
	if len(got) != len(want) {
		t.Fatalf("got %d anchors, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("anchor %d differs", i)
		}
	}
	for _, p := range []string{keyOnly, junk} {
		_, err := LoadAnchors(pem, p)
		if !errors.Is(err, ErrInvalidCert) || !strings.Contains(err.Error(), p) {
			t.Fatalf("LoadAnchors(%s): err = %v, want ErrInvalidCert naming the file", p, err)
		}
	}
	if _, err := LoadAnchors(filepath.Join(dir, "missing.cert")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: err = %v", err)
	}
	if got, err := LoadAnchors(); err != nil || len(got) != 0 {
		t.Fatalf("no files: %v, %v", got, err)
	}
}

func TestParseCertRejects(t *testing.T) {
	a := testAnchor(t, "/example")
	kw, _ := sig.MarshalSecret(a.Signer())
	mk := func(name string, cfg *ndn.DataConfig, content []byte, s ndn.Signer) []byte {
		w, err := spec.Spec{}.MakeData(mustName(t, name), cfg, enc.Wire{content}, s)
		if err != nil {
			t.Fatal(err)
		}
		return w.Wire.Join()
	}
	pub, _ := a.Signer().Public()
	key := ndn.ContentTypeKey
	good := &ndn.DataConfig{ContentType: optional.Some(key), SigNotBefore: optional.Some(testT0), SigNotAfter: optional.Some(testT0.Add(time.Hour))}
	tests := []struct {
		name string
		wire []byte
	}{
		{"empty", nil},
		{"huge", make([]byte, maxCertSize+1)},
		{"interest", []byte{0x05, 0x03, 0x07, 0x01, 0x08}},
		{"secret key", kw.Join()},
		{"bad name", mk("/example/KEY/x/NA", good, pub, a.Signer())},
		{"no validity", mk("/example/KEY/x/NA/v=1", &ndn.DataConfig{ContentType: optional.Some(key)}, pub, a.Signer())},
		{"digest signed", mk("/example/KEY/x/NA/v=1", good, pub, sig.NewSha256Signer())},
		{"not a key", mk("/example/KEY/x/NA/v=1", good, []byte("hello"), a.Signer())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseCert(tc.wire); !errors.Is(err, ErrInvalidCert) {
				t.Fatalf("parseCert = %v, want ErrInvalidCert", err)
			}
		})
	}
	if _, err := parseCert(mk("/example/KEY/x/NA/v=1", good, pub, a.Signer())); err != nil {
		t.Fatalf("well-formed: %v", err)
	}
}
