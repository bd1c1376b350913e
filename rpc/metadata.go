package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Metadata are key/value pairs that travel with a call and its reply, like
// gRPC metadata or HTTP headers. Keys are lower-case.
type Metadata map[string][]string

// Get returns the first value of key, or "".
func (md Metadata) Get(key string) string {
	if v := md[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Append adds a value to key.
func (md Metadata) Append(key, value string) {
	k := strings.ToLower(key)
	md[k] = append(md[k], value)
}

type traceKey struct{}

// WithTraceParent returns a context carrying a W3C traceparent; calls made
// with it send it, and handlers see the caller's in their context.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	return context.WithValue(ctx, traceKey{}, traceparent)
}

// TraceParent returns the traceparent in ctx, or "".
func TraceParent(ctx context.Context) string {
	s, _ := ctx.Value(traceKey{}).(string)
	return s
}

// newTraceParent starts a trace: version 00, random trace and span ids, sampled.
func newTraceParent() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// childTraceParent keeps the trace id of parent and gives this call a new
// span id, as W3C Trace Context asks of each hop.
func childTraceParent(parent string) string {
	if len(parent) != 55 || parent[2] != '-' || parent[35] != '-' || parent[52] != '-' {
		return newTraceParent()
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return parent[:36] + hex.EncodeToString(b) + parent[52:]
}
