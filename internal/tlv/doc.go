// Package tlv holds the NDN TLV primitives that the repo packages
// (groupsync, pyrepo, ndndrepo, store) and svs share: var-numbers, TLV elements,
// NonNegativeIntegers, a Reader that walks a sequence of elements, and Name
// encoding and decoding. The message decoders themselves (SVS state
// vectors, history snapshots, python-repo messages, RepoCmd checks, store
// keys) stay in their packages, built on these.
//
// It is internal to the module. Usage:
//
//	b := tlv.AppendName(nil, name)
//	b = tlv.AppendNat(b, 0xd6, seq)
//	r := tlv.NewReader(b)
//	for r.More() {
//		typ, val, err := r.Next()
//		if err != nil {
//			return fmt.Errorf("%w: %w", ErrMalformed, err) // the caller's sentinel
//		}
//		...
//	}
//
// Everything here is a pure function of its input (no goroutines, no
// state), safe for concurrent use. Errors are plain errors describing what
// is wrong; each caller wraps them with its own sentinel (pyrepo.ErrMalformed,
// store.ErrBadKey, ...), so this package exports none.
//
// # Why hand-written
//
// ndnd v1.5.3 writes a name component's TLV-LENGTH as a NonNegativeInteger
// instead of a var-number (std/encoding/component.go:108 and :114), which
// corrupts components of 253 bytes or more, and its generated parsers trust
// lengths they have not checked (a 9-byte packet can make them allocate
// 12 GiB; see security.WellFormed). The decoders here check every length
// against the bytes left before slicing, allocate at most about their
// input's size, and are fuzzed.
//
// # Strictness
//
// The decoders follow NDN packet format v0.3 where it is strict and say so
// where a caller needs more:
//
//   - A NonNegativeInteger is 1, 2, 4 or 8 bytes (ReadNat); the spec says
//     MUST, and ndnd's ParseNat agrees.
//   - TLV-TYPE 0 is invalid everywhere (Reader.Next).
//   - Name component types are 1-65535 (DecodeName, CheckName).
//   - Var-numbers in any of the spec's forms are accepted by NewReader, as
//     NDN receivers do (ndnd, ndn-cxx): FD 00 08 reads as 8. Store keys
//     need one encoding per name, so NewCanonicalReader also requires the
//     shortest form; every encoder here writes the shortest form.
//   - Component length limits are the caller's choice: CheckName takes one,
//     and NdndEncodable tests for what ndnd can encode.
package tlv
