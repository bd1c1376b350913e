package rpc

import (
	"context"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// fetchWindow is how many segments are requested at once.
const fetchWindow = 32

// consume fetches the segmented object at name (a versioned name whose
// segments are <name>/seg=N, as ndnd's object.Produce makes them), verifies
// every segment's signature chain with the node's Verifier, and returns the
// content, at most max bytes (0: no limit).
//
// We fetch segments with our Node rather than with ndnd's object client:
// its validation path (TrustConfig through ExpressR) stalled without
// calling back when the segments' signer certificate had to be fetched
// from the network (seen with ndnd v1.5.3), and we want one verifier —
// with its cached keys and replay-free Data checks — for everything we
// accept.
func consume(ctx context.Context, node *ndnx.Node, name enc.Name, max int) ([]byte, error) {
	var buf limitedBuffer
	buf.max = max
	if _, err := node.FetchObject(ctx, name, &buf, &ndnx.FetchOptions{Window: fetchWindow}); err != nil {
		return nil, err
	}
	return buf.b, nil
}

// limitedBuffer collects writes up to max bytes (0: no limit).
type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.max > 0 && len(l.b)+len(p) > l.max {
		return 0, fmt.Errorf("object larger than %d bytes", l.max)
	}
	l.b = append(l.b, p...)
	return len(p), nil
}
