package security

import "errors"

// Error classes. Every error this package returns for a rejected packet matches
// exactly one of them with errors.Is, so the rpc layer can map it to a status
// code without reading error text: ErrUnauthenticated → codes.Unauthenticated,
// ErrPermissionDenied → codes.PermissionDenied.
var (
	// ErrUnauthenticated is the class of every failure to establish who sent a
	// packet: missing or bad signature, unknown issuer, expired certificate,
	// replay or time skew.
	ErrUnauthenticated = errors.New("security: unauthenticated")
	// ErrPermissionDenied is the class of policy denials: the sender is known,
	// but the policy does not let it reach the name.
	ErrPermissionDenied = errors.New("security: permission denied")
)

// Sentinel errors for rejected packets. Each matches its class (see above)
// with errors.Is as well as itself; callers wrap them with %w to add detail.
var (
	// ErrNoSignature means the packet carries no signature, or one of a type
	// that proves nothing about the sender (DigestSha256).
	ErrNoSignature = classErr(ErrUnauthenticated, "security: packet is not signed")
	// ErrBadSignature means the signature does not verify under the key its
	// KeyLocator names.
	ErrBadSignature = classErr(ErrUnauthenticated, "security: bad signature")
	// ErrUnknownIssuer means the signing key's certificate does not chain to
	// a trust anchor (including self-signed keys that are not anchors), or the
	// certificate could not be retrieved.
	ErrUnknownIssuer = classErr(ErrUnauthenticated, "security: certificate does not chain to a trust anchor")
	// ErrCertExpired means a certificate in the chain is outside its validity
	// period.
	ErrCertExpired = classErr(ErrUnauthenticated, "security: certificate expired or not yet valid")
	// ErrReplay means the signed Interest was seen before (same SignatureNonce,
	// or a SignatureTime or SignatureSeqNum not newer than what the key
	// already used).
	ErrReplay = classErr(ErrUnauthenticated, "security: replayed signed Interest")
	// ErrTimeSkew means the Interest's SignatureTime is missing or further
	// from the verifier's clock than the grace period allows.
	ErrTimeSkew = classErr(ErrUnauthenticated, "security: signature time outside grace period")
	// ErrPolicyDenied means the policy has no rule that lets the caller reach
	// the name (default deny).
	ErrPolicyDenied = classErr(ErrPermissionDenied, "security: denied by policy")
)

// classedError is a sentinel that also matches its class with errors.Is.
type classedError struct {
	class error
	msg   string
}

func classErr(class error, msg string) error { return &classedError{class: class, msg: msg} }

func (e *classedError) Error() string { return e.msg }

// Is reports whether target is e's class, so errors.Is(ErrReplay,
// ErrUnauthenticated) holds.
func (e *classedError) Is(target error) bool { return target == e.class }
