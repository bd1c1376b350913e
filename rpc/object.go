package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
// We fetch segments ourselves rather than with ndnd's object client: its
// validation path (TrustConfig through ExpressR) stalled without calling
// back when the segments' signer certificate had to be fetched from the
// network (seen with ndnd v1.5.3), and we want one verifier — with its
// cached keys and replay-free Data checks — for everything we accept.
func consume(ctx context.Context, node *ndnx.Node, name enc.Name, max int) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first, last, err := fetchSegment(ctx, node, name, 0)
	if err != nil {
		return nil, err
	}
	if last < 0 {
		return nil, errors.New("segment 0 has no FinalBlockId")
	}
	if max > 0 && (last+1)*len(first) > 2*max+len(first) {
		return nil, fmt.Errorf("object of %d segments is larger than %d bytes", last+1, max)
	}
	segs := make([][]byte, last+1)
	segs[0] = first

	var (
		mu      sync.Mutex
		firstEr error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, fetchWindow)
	for i := 1; i <= last; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() { // owned: waited for below
			defer wg.Done()
			defer func() { <-sem }()
			b, _, err := fetchSegment(ctx, node, name, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstEr == nil {
					firstEr = err
					cancel()
				}
				return
			}
			segs[i] = b
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := 0
	for _, s := range segs {
		total += len(s)
	}
	if max > 0 && total > max {
		return nil, fmt.Errorf("object larger than %d bytes", max)
	}
	out := make([]byte, 0, total)
	for _, s := range segs {
		out = append(out, s...)
	}
	return out, nil
}

// fetchSegment fetches and verifies segment i, retrying a lost one up to
// three times; last is the final segment number, or -1 if not given.
func fetchSegment(ctx context.Context, node *ndnx.Node, name enc.Name, i int) (content []byte, last int, err error) {
	segName := name.Append(enc.NewSegmentComponent(uint64(i)))
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, ndnx.DefaultLifetime/2)
		d, ferr := node.Fetch(actx, segName, false, false)
		cancel()
		if ferr != nil {
			if ctx.Err() != nil || attempt >= 3 {
				return nil, 0, fmt.Errorf("segment %d: %w", i, ferr)
			}
			continue
		}
		if _, err := node.VerifyData(ctx, d); err != nil {
			return nil, 0, fmt.Errorf("segment %d: %w", i, err)
		}
		last = -1
		if fb, ok := d.Data.FinalBlockID().Get(); ok && fb.IsSegment() {
			last = int(fb.NumberVal())
		}
		return d.Data.Content().Join(), last, nil
	}
}
