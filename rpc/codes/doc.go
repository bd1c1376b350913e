// Package codes defines the status codes carried in every ndn-invoke reply.
//
// The codes are gRPC's 17, with the same names, meanings and numeric values, so
// users and tools map 1:1 between the two systems. The numeric value is what
// travels on the wire (in the Response TLV), so a value must never change once
// published. Network outcomes are mapped onto the same codes by the client:
// a Nack NoRoute becomes Unavailable, an Interest timeout DeadlineExceeded, a
// bad reply signature Unauthenticated.
//
// The package has no dependencies, so any layer can import it. Usage:
//
//	if status.Code(err) == codes.NotFound {
//		// create it
//	}
//	var c codes.Code
//	_ = c.UnmarshalText([]byte("DEADLINE_EXCEEDED")) // c == codes.DeadlineExceeded
//
// Code is a plain integer: all its methods are safe for concurrent use and run
// no callbacks.
package codes
