package security

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
)

// DefaultNonceSize is the length of the SignatureNonce an InterestSigner
// puts in each Interest: 8 random bytes, as ndn-cxx and the NDN packet
// format's signed Interest guidance use.
const DefaultNonceSize = 8

// maxNonceSize is the longest SignatureNonce ReplayGuard accepts.
const maxNonceSize = 64

// InterestSignerConfig configures an InterestSigner. Zero fields mean the
// default.
type InterestSignerConfig struct {
	// Signer is the key that signs (required): Ed25519, ECDSA or RSA.
	// Usually (*Identity).Signer().
	Signer ndn.Signer
	// Now is the clock SignatureTime is read from. Default time.Now.
	Now func() time.Time
	// Rand is where SignatureNonce bytes come from. Default crypto/rand.
	// Tests may pass a deterministic reader; a real one must be
	// unpredictable, or replay checks become guessable.
	Rand io.Reader
	// NonceSize is the SignatureNonce length in bytes, 1 to 64. Default
	// DefaultNonceSize (8).
	NonceSize int
	// SeqNum adds a SignatureSeqNum to each Interest: 0, 1, 2, ... per
	// InterestSigner. Off by default; verifiers require it only with
	// ReplayConfig.RequireSeqNum.
	SeqNum bool
}

// Validate reports a configuration NewInterestSignerConfig refuses: no Signer,
// a Signer that cannot authenticate (none, DigestSha256, HMAC), or NonceSize
// outside 0..64.
func (c InterestSignerConfig) Validate() error {
	if c.Signer == nil {
		return errors.New("security: InterestSignerConfig.Signer is nil")
	}
	switch t := c.Signer.Type(); t {
	case ndn.SignatureEd25519, ndn.SignatureSha256WithEcdsa, ndn.SignatureSha256WithRsa:
	default:
		return fmt.Errorf("security: InterestSignerConfig.Signer: signature type %v cannot sign Interests for verifiers", t)
	}
	if len(c.Signer.KeyLocator()) == 0 {
		return errors.New("security: InterestSignerConfig.Signer has no KeyLocator")
	}
	if c.NonceSize < 0 || c.NonceSize > maxNonceSize {
		return fmt.Errorf("security: InterestSignerConfig.NonceSize %d is outside 1..%d", c.NonceSize, maxNonceSize)
	}
	return nil
}

// InterestSigner signs Interests as the NDN packet format v0.3 specifies for
// signed Interests: each carries InterestSignatureInfo with a fresh random
// SignatureNonce, a SignatureTime in milliseconds that never decreases
// for this signer (held, not bumped, when the clock has not moved or moved
// back, so it never runs ahead of the clock), optionally a SignatureSeqNum, and a KeyLocator naming the key; the
// name ends with the ParametersSha256DigestComponent. Verifiers check these
// with ReplayGuard.
//
// An InterestSigner is safe for concurrent use.
type InterestSigner struct {
	signer    ndn.Signer
	now       func() time.Time
	rand      io.Reader
	nonceSize int
	useSeq    bool

	randSafe bool // rand is crypto/rand, which needs no lock

	// mu guards the fields below and reads from a caller-supplied rand.
	mu       sync.Mutex
	lastTime int64 // last SignatureTime handed out, Unix ms
	seq      uint64
}

// NewInterestSigner returns an InterestSigner for id's key with the default
// configuration (time.Now, 8-byte nonces, no sequence number). id must not be
// nil.
func NewInterestSigner(id *Identity) *InterestSigner {
	return &InterestSigner{
		signer:    id.Signer(),
		now:       time.Now,
		rand:      rand.Reader,
		nonceSize: DefaultNonceSize,
		randSafe:  true,
	}
}

// NewInterestSignerConfig returns an InterestSigner configured by cfg, or
// cfg.Validate's error. It does no I/O.
func NewInterestSignerConfig(cfg InterestSignerConfig) (*InterestSigner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &InterestSigner{
		signer:    cfg.Signer,
		now:       cfg.Now,
		rand:      cfg.Rand,
		nonceSize: cfg.NonceSize,
		useSeq:    cfg.SeqNum,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand, s.randSafe = rand.Reader, true
	}
	if s.nonceSize == 0 {
		s.nonceSize = DefaultNonceSize
	}
	return s, nil
}

// KeyName returns the name of the signing key (what the KeyLocator holds).
func (s *InterestSigner) KeyName() enc.Name { return s.signer.KeyName() }

// Signer returns the underlying ndnd signer.
func (s *InterestSigner) Signer() ndn.Signer { return s.signer }

// Prepare sets cfg's SigNonce, SigTime and (if configured) SigSeqNo for one
// signed Interest, overwriting what they held. Each call hands out a new
// nonce and a SignatureTime later than any before it. It returns an error
// only if a caller-supplied Rand fails. Safe for concurrent use (on distinct
// cfgs).
func (s *InterestSigner) Prepare(cfg *ndn.InterestConfig) error {
	nonce := make([]byte, s.nonceSize)
	if s.randSafe {
		_, _ = rand.Read(nonce) // never fails (Go 1.24+ crashes instead)
	}
	ms := s.now().UnixMilli()

	s.mu.Lock()
	if !s.randSafe {
		if _, err := io.ReadFull(s.rand, nonce); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("security: signature nonce: %w", err)
		}
	}
	// SignatureTime never goes backwards, but equal times are allowed: a
	// strictly increasing time (ms += 1 per call) runs ahead of the clock by
	// (rate/1000 - 1) s every second above 1000 calls/s and leaves the
	// verifiers' grace period after a minute of load. Our ReplayGuard
	// accepts equal times with distinct nonces.
	if ms < s.lastTime {
		ms = s.lastTime
	}
	s.lastTime = ms
	seq := s.seq
	if s.useSeq {
		s.seq++
	}
	s.mu.Unlock()

	cfg.SigNonce = nonce
	cfg.SigTime = optional.Some(time.Duration(ms) * time.Millisecond)
	if s.useSeq {
		cfg.SigSeqNo = optional.Some(seq)
	} else {
		cfg.SigSeqNo = optional.None[uint64]()
	}
	return nil
}

// MakeInterest encodes a signed Interest: Prepare on a copy of cfg (nil means
// a zero InterestConfig; cfg itself is not modified), then ndnd's
// spec_2022.Spec.MakeInterest with this signer. A nil appParam is sent as
// empty ApplicationParameters, which v0.3 requires in a signed Interest. The
// result's FinalName ends with the ParametersSha256DigestComponent. name is
// not modified or retained. Safe for concurrent use.
func (s *InterestSigner) MakeInterest(name enc.Name, cfg *ndn.InterestConfig, appParam enc.Wire) (*ndn.EncodedInterest, error) {
	var c ndn.InterestConfig
	if cfg != nil {
		c = *cfg
	}
	if err := s.Prepare(&c); err != nil {
		return nil, err
	}
	if appParam == nil {
		appParam = enc.Wire{}
	}
	// cloneName: ndnd's encoder appends the digest component into the
	// name's backing array (spec_2022/zz_generated.go:1716).
	ei, err := spec.Spec{}.MakeInterest(cloneName(name), &c, appParam, s.signer)
	if err != nil {
		return nil, fmt.Errorf("security: sign Interest %s: %w", name, err)
	}
	return ei, nil
}
