package ndn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	rdr "github.com/named-data/ndnd/std/ndn/rdr_2024"
)

// MetadataKeyword is the RDR metadata keyword component (32=metadata).
const MetadataKeyword = rdr.MetadataKeyword

// Segmented-object fetch defaults.
const (
	// DefaultFetchWindow is how many segments FetchSegments keeps in flight.
	DefaultFetchWindow = 32
	// DefaultFetchRetries is how many times a lost segment is asked again.
	DefaultFetchRetries = 3
)

// ErrBadObject reports a segmented object that does not follow the
// conventions (no FinalBlockId, metadata without a version, ...).
var ErrBadObject = errors.New("ndn: malformed segmented object")

// FetchOptions configures FetchSegments and FetchObject. The zero value
// (or nil) means: window DefaultFetchWindow, DefaultFetchRetries retries,
// every packet verified, all segments.
type FetchOptions struct {
	// Window is how many segment Interests are outstanding at once.
	Window int
	// Retries is how many times a segment that timed out is asked again.
	Retries int
	// SkipVerify stores or returns packets without checking their
	// signatures (a repo that leaves verification to its consumers).
	SkipVerify bool
	// ForwardingHint is attached to every Interest (the producer's
	// reachable prefix).
	ForwardingHint enc.Name
	// First is the first segment to fetch; Last, when set, the last one
	// (inclusive), else the FinalBlockId of the first segment fetched.
	First uint64
	Last  *uint64
	// OnSegment, if set, receives each segment (with its wire in Data.Raw)
	// once fetched and verified. FetchSegments calls it concurrently from
	// its window goroutines, in no particular order; an error it returns
	// stops the fetch and is returned.
	OnSegment func(ctx context.Context, seg uint64, d *Data) error
	// Progress, if set, is called after each segment with the number of
	// segments done and the total; calls are serialized.
	Progress func(done, total uint64)

	// ahead, if set, blocks fetching segment i until the consumer can
	// buffer it (FetchObject's in-order writer).
	ahead func(ctx context.Context, i uint64) error
}

func (o *FetchOptions) withDefaults() FetchOptions {
	var c FetchOptions
	if o != nil {
		c = *o
	}
	if c.Window <= 0 {
		c.Window = DefaultFetchWindow
	}
	if c.Retries <= 0 {
		c.Retries = DefaultFetchRetries
	}
	return c
}

// Object describes a fetched segmented object.
type Object struct {
	// Name is the versioned name; segments are <Name>/seg=N.
	Name enc.Name
	// First and Last are the segment numbers fetched (inclusive).
	First, Last uint64
	// Bytes is the total content length delivered (FetchObject) or the
	// total wire length of the segments (FetchSegments).
	Bytes uint64
}

// ResolveVersion returns the versioned name of the newest object under
// name, from its RDR metadata (an Interest for <name>/32=metadata with
// CanBePrefix and MustBeFresh), as ndnd's object client and `ndnd cat` do.
// A name that already ends in a version is returned as is. The metadata
// packet is verified unless opts.SkipVerify. Errors: ErrTimeout (nobody
// answered), ErrBadObject, security.ErrUnauthenticated, or Express's.
func (n *Node) ResolveVersion(ctx context.Context, name enc.Name, opts *FetchOptions) (enc.Name, error) {
	if len(name) > 0 && name[len(name)-1].IsVersion() {
		return name, nil
	}
	o := opts.withDefaults()
	mname := append(name.Clone(), enc.NewKeywordComponent(MetadataKeyword))
	d, err := n.fetchOne(ctx, mname, true, true, &o)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", name, err)
	}
	if !o.SkipVerify {
		if _, err := n.VerifyData(ctx, d); err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", name, err)
		}
	}
	var md *rdr.MetaData
	func() {
		defer func() {
			if recover() != nil {
				md, err = nil, errors.New("unparsable metadata")
			}
		}()
		md, err = rdr.ParseMetaData(enc.NewWireView(d.Data.Content()), true)
	}()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: metadata of %s: %w", ErrBadObject, name, err)
	case len(md.Name) == 0 || !md.Name[len(md.Name)-1].IsVersion():
		return nil, fmt.Errorf("%w: metadata of %s names no version", ErrBadObject, name)
	case !name.IsPrefix(md.Name):
		return nil, fmt.Errorf("%w: metadata of %s names %s, not under it", ErrBadObject, name, md.Name)
	}
	return md.Name.Clone(), nil
}

// FetchRetry fetches one packet with an unsigned Interest (CanBePrefix and
// MustBeFresh as given, opts.ForwardingHint attached), giving each attempt
// DefaultLifetime/2 and asking again on timeout up to opts.Retries times
// (nil opts: DefaultFetchRetries). The Data is not verified. Errors:
// ErrTimeout (every attempt timed out), Express's, or ctx's.
func (n *Node) FetchRetry(ctx context.Context, name enc.Name, canBePrefix, mustBeFresh bool, opts *FetchOptions) (*Data, error) {
	o := opts.withDefaults()
	return n.fetchOne(ctx, name, canBePrefix, mustBeFresh, &o)
}

// fetchOne is FetchRetry with the defaults applied.
func (n *Node) fetchOne(ctx context.Context, name enc.Name, canBePrefix, mustBeFresh bool, o *FetchOptions) (*Data, error) {
	cfg := &ndn.InterestConfig{CanBePrefix: canBePrefix, MustBeFresh: mustBeFresh}
	if len(o.ForwardingHint) > 0 {
		cfg.ForwardingHint = []enc.Name{o.ForwardingHint}
	}
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, DefaultLifetime/2)
		i, err := n.MakeInterest(actx, name, cfg, nil, false)
		var d *Data
		if err == nil {
			d, err = n.Express(actx, i)
		}
		cancel()
		if err == nil {
			return d, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		timedOut := errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
		if attempt >= o.Retries || !timedOut {
			if timedOut {
				err = fmt.Errorf("%w: %s", ErrTimeout, name) // the attempt's deadline, not the caller's
			}
			return nil, err
		}
	}
}

// FetchSegments fetches the segments <name>/seg=N of a versioned object,
// opts.Window at a time, verifying each (unless opts.SkipVerify) and
// handing it to opts.OnSegment. The last segment is opts.Last or the
// FinalBlockId carried by the first segment fetched. A segment lost
// opts.Retries+1 times fails the fetch. FetchSegments returns when every
// segment was delivered, on the first error, or when ctx ends; all its
// goroutines have exited by then. Errors: ErrBadObject (no FinalBlockId,
// segment past it), ErrTimeout, security.ErrUnauthenticated (wrapped with
// the segment number), OnSegment's error, or ctx's.
func (n *Node) FetchSegments(ctx context.Context, name enc.Name, opts *FetchOptions) (Object, error) {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obj := Object{Name: name, First: o.First}
	var bytes atomic.Uint64

	get := func(i uint64) (*Data, error) {
		segName := append(name.Clone(), enc.NewSegmentComponent(i))
		d, err := n.fetchOne(ctx, segName, false, false, &o)
		if err != nil {
			return nil, fmt.Errorf("segment %d of %s: %w", i, name, err)
		}
		if !o.SkipVerify {
			if _, err := n.VerifyData(ctx, d); err != nil {
				return nil, fmt.Errorf("segment %d of %s: %w", i, name, err)
			}
		}
		return d, nil
	}
	var (
		progMu sync.Mutex
		done   uint64
	)
	deliver := func(i uint64, d *Data) error {
		if o.OnSegment != nil {
			if err := o.OnSegment(ctx, i, d); err != nil {
				return err
			}
		}
		bytes.Add(uint64(d.Raw.Length()))
		if o.Progress != nil {
			progMu.Lock()
			done++
			o.Progress(done, obj.Last-obj.First+1)
			progMu.Unlock()
		}
		return nil
	}

	if o.ahead != nil {
		if err := o.ahead(ctx, o.First); err != nil {
			return obj, err
		}
	}
	first, err := get(o.First)
	if err != nil {
		return obj, err
	}
	switch fb, ok := first.Data.FinalBlockID().Get(); {
	case o.Last != nil:
		obj.Last = *o.Last
	case ok && fb.IsSegment():
		obj.Last = fb.NumberVal()
	default:
		return obj, fmt.Errorf("%w: segment %d of %s has no FinalBlockId", ErrBadObject, o.First, name)
	}
	if obj.Last < o.First {
		return obj, fmt.Errorf("%w: segment %d of %s is past its FinalBlockId %d", ErrBadObject, o.First, name, obj.Last)
	}
	if err := deliver(o.First, first); err != nil {
		return obj, err
	}

	var (
		next    atomic.Uint64
		errOnce sync.Once
		firstEr error
		wg      sync.WaitGroup
	)
	next.Store(o.First + 1)
	fail := func(err error) {
		errOnce.Do(func() { firstEr = err; cancel() })
	}
	workers := min(uint64(o.Window), obj.Last-o.First)
	for range workers {
		wg.Add(1)
		go func() { // owned: waited for below
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i > obj.Last {
					return
				}
				if o.ahead != nil {
					if err := o.ahead(ctx, i); err != nil {
						fail(err)
						return
					}
				}
				d, err := get(i)
				if err == nil {
					err = deliver(i, d)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	obj.Bytes = bytes.Load()
	if firstEr != nil {
		return obj, firstEr
	}
	return obj, ctx.Err()
}

// FetchObject fetches the segmented object name — resolving the newest
// version through RDR metadata when name has none — and writes its content
// to w in order, holding at most a few windows of segments in memory. It
// returns the versioned name and the content length. Errors: those of
// ResolveVersion and FetchSegments, and w's write error.
func (n *Node) FetchObject(ctx context.Context, name enc.Name, w io.Writer, opts *FetchOptions) (Object, error) {
	o := opts.withDefaults()
	vname, err := n.ResolveVersion(ctx, name, &o)
	if err != nil {
		return Object{Name: name}, err
	}
	// In-order delivery: segments land in pending and are written out as
	// soon as the next expected one is there; a worker waits before
	// fetching a segment more than maxAhead past the next to write.
	maxAhead := uint64(4 * o.Window)
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		nextOut = o.First
		pending = map[uint64][]byte{}
		written uint64
		werr    error
	)
	stop := context.AfterFunc(ctx, func() { mu.Lock(); cond.Broadcast(); mu.Unlock() })
	defer stop()
	o.ahead = func(ctx context.Context, i uint64) error {
		mu.Lock()
		defer mu.Unlock()
		for i >= nextOut+maxAhead && werr == nil && ctx.Err() == nil {
			cond.Wait()
		}
		if werr != nil {
			return werr
		}
		return ctx.Err()
	}
	o.OnSegment = func(_ context.Context, i uint64, d *Data) error {
		mu.Lock()
		defer mu.Unlock()
		if werr != nil {
			return werr
		}
		pending[i] = d.Data.Content().Join()
		for {
			b, ok := pending[nextOut]
			if !ok {
				break
			}
			delete(pending, nextOut)
			nextOut++
			if _, err := w.Write(b); err != nil {
				werr = fmt.Errorf("write: %w", err)
				cond.Broadcast()
				return werr
			}
			written += uint64(len(b))
		}
		cond.Broadcast()
		return nil
	}
	obj, err := n.FetchSegments(ctx, vname, &o)
	obj.Bytes = written
	return obj, err
}
