// Package security holds identities, certificates, trust anchors, signed-Interest
// signing and verification with replay protection, and the name-pattern
// authorization policy used by every ndn-invoke component.
//
// It stands on ndnd's std/security alone and imports no other package of ours,
// so ndn.Node can hold identities and trust without an import cycle.
//
// Errors: every rejection matches ErrUnauthenticated or ErrPermissionDenied
// with errors.Is, plus a specific sentinel (ErrBadSignature, ErrReplay, ...).
package security
