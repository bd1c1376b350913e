package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// job is an insert job; mu guards j.
type job struct {
	spec InsertSpec
	done chan struct{} // closed when the job ends (in this process)

	mu sync.Mutex
	j  Job
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.j
	s.Name, s.Version, s.Caller = s.Name.Clone(), s.Version.Clone(), s.Caller.Clone()
	return s
}

// jobRecord is a job as persisted (names as TLV keys, so no URI parsing).
type jobRecord struct {
	ID       string    `json:"id"`
	Name     []byte    `json:"name"`
	Version  []byte    `json:"version,omitempty"`
	State    JobState  `json:"state"`
	Packets  uint64    `json:"packets"`
	Total    uint64    `json:"total"`
	Bytes    uint64    `json:"bytes"`
	Err      string    `json:"err,omitempty"`
	Caller   []byte    `json:"caller,omitempty"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	StartSeg *uint64   `json:"start_seg,omitempty"`
	EndSeg   *uint64   `json:"end_seg,omitempty"`
	Hint     []byte    `json:"hint,omitempty"`
	Register []byte    `json:"register,omitempty"`
}

func nameKey(n enc.Name) []byte {
	if n == nil {
		return nil
	}
	return store.NameKey(n)
}

func keyName(b []byte) enc.Name {
	if len(b) == 0 {
		return nil
	}
	n, err := store.NameFromKey(b)
	if err != nil {
		return nil
	}
	return n
}

func (j *job) record() jobRecord {
	s := j.snapshot()
	return jobRecord{
		ID: s.ID, Name: nameKey(s.Name), Version: nameKey(s.Version), State: s.State,
		Packets: s.Packets, Total: s.Total, Bytes: s.Bytes, Err: s.Err, Caller: nameKey(s.Caller),
		Started: s.Started, Ended: s.Ended,
		StartSeg: j.spec.StartSeg, EndSeg: j.spec.EndSeg, Hint: nameKey(j.spec.ForwardingHint), Register: nameKey(j.spec.Register),
	}
}

func jobFromRecord(rec jobRecord) *job {
	j := &job{done: make(chan struct{})}
	j.j = Job{
		ID: rec.ID, Name: keyName(rec.Name), Version: keyName(rec.Version), State: rec.State,
		Packets: rec.Packets, Total: rec.Total, Bytes: rec.Bytes, Err: rec.Err, Caller: keyName(rec.Caller),
		Started: rec.Started, Ended: rec.Ended,
	}
	j.spec = InsertSpec{Name: j.j.Name, StartSeg: rec.StartSeg, EndSeg: rec.EndSeg,
		ForwardingHint: keyName(rec.Hint), Register: keyName(rec.Register), Caller: j.j.Caller}
	if rec.State != JobRunning {
		close(j.done)
	}
	return j
}

func (r *Repo) saveJob(ctx context.Context, j *job) error {
	b, err := json.Marshal(j.record())
	if err != nil {
		return err
	}
	return r.st.PutRecord(ctx, recJob+j.j.ID, b)
}

// Insert starts a job that fetches the object spec names from its
// producer and stores every packet durably, and returns the job as it
// starts. The job is recorded in the store first, so one the repo was
// running when it stopped resumes at the next Start. Follow it with Job or
// Wait. Errors: ErrBadRequest (empty name, EndSeg before StartSeg),
// ErrClosed, store errors.
func (r *Repo) Insert(ctx context.Context, spec InsertSpec) (Job, error) {
	if len(spec.Name) == 0 {
		return Job{}, fmt.Errorf("%w: insert needs a name", ErrBadRequest)
	}
	if spec.StartSeg != nil && spec.EndSeg != nil && *spec.EndSeg < *spec.StartSeg {
		return Job{}, fmt.Errorf("%w: end segment %d before start %d", ErrBadRequest, *spec.EndSeg, *spec.StartSeg)
	}
	if spec.EndSeg != nil && spec.StartSeg == nil {
		zero := uint64(0)
		spec.StartSeg = &zero
	}
	spec.Name, spec.ForwardingHint, spec.Register, spec.Caller = spec.Name.Clone(), spec.ForwardingHint.Clone(), spec.Register.Clone(), spec.Caller.Clone()
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	j := &job{spec: spec, done: make(chan struct{})}
	j.j = Job{ID: hex.EncodeToString(id), Name: spec.Name, State: JobRunning, Caller: spec.Caller, Started: time.Now()}
	if err := r.saveJob(ctx, j); err != nil {
		return Job{}, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return Job{}, ErrClosed
	}
	r.jobs[j.j.ID] = j
	r.sweepJobsLocked(time.Now())
	r.mu.Unlock()
	r.goOwned(func() { r.runJob(j) })
	return j.snapshot(), nil
}

// Job returns the insert job id. Finished jobs are kept for
// Config.JobRetention, across restarts.
func (r *Repo) Job(id string) (Job, bool) {
	r.mu.Lock()
	j, ok := r.jobs[id]
	r.mu.Unlock()
	if !ok {
		return Job{}, false
	}
	return j.snapshot(), true
}

// Wait blocks until job id ends or ctx does, and returns the job. Errors:
// ErrNoJob, ErrClosed (the repo stopped first; the job resumes at the next
// Start), ctx's error.
func (r *Repo) Wait(ctx context.Context, id string) (Job, error) {
	r.mu.Lock()
	j, ok := r.jobs[id]
	r.mu.Unlock()
	if !ok {
		return Job{}, fmt.Errorf("%w: %s", ErrNoJob, id)
	}
	select {
	case <-j.done:
		return j.snapshot(), nil
	case <-ctx.Done():
		return j.snapshot(), ctx.Err()
	case <-r.base.Done():
		return j.snapshot(), ErrClosed
	}
}

// loadJobs reads the job records: finished ones within retention become
// queryable again, running ones resume, old ones are deleted.
func (r *Repo) loadJobs() error {
	var resume []*job
	var stale []string
	cutoff := time.Now().Add(-r.cfg.JobRetention)
	err := r.st.Records(recJob, func(k string, v []byte) bool {
		var rec jobRecord
		if json.Unmarshal(v, &rec) != nil || rec.ID == "" || len(rec.Name) == 0 {
			stale = append(stale, k)
			return true
		}
		j := jobFromRecord(rec)
		if rec.State != JobRunning && rec.Ended.Before(cutoff) {
			stale = append(stale, k)
			return true
		}
		r.mu.Lock()
		r.jobs[rec.ID] = j
		r.mu.Unlock()
		if rec.State == JobRunning {
			resume = append(resume, j)
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		_ = r.st.DeleteRecord(r.base, k)
	}
	for _, j := range resume {
		r.log.Info("resuming insert", "job", j.j.ID, "name", j.j.Name)
		r.goOwned(func() { r.runJob(j) })
	}
	return nil
}

// sweepJobsLocked forgets finished jobs older than the retention.
func (r *Repo) sweepJobsLocked(now time.Time) {
	cutoff := now.Add(-r.cfg.JobRetention)
	var old []string
	for id, j := range r.jobs {
		s := j.snapshot()
		if s.State != JobRunning && s.Ended.Before(cutoff) {
			delete(r.jobs, id)
			old = append(old, recJob+id)
		}
	}
	if len(old) > 0 {
		r.goOwned(func() {
			for _, k := range old {
				_ = r.st.DeleteRecord(r.base, k)
			}
		})
	}
}

// runJob carries out an insert job on its own goroutine.
func (r *Repo) runJob(j *job) {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-r.base.Done():
		return // still recorded as running: resumes at the next Start
	}
	err := r.fetchInto(r.base, j)
	if r.base.Err() != nil && err != nil {
		return // stopped by Close: resumes at the next Start
	}
	j.mu.Lock()
	j.j.Ended = time.Now()
	result := "ok"
	if err != nil {
		j.j.State, j.j.Err = JobFailed, err.Error()
		result = "error"
	} else {
		j.j.State = JobDone
	}
	j.mu.Unlock()
	close(j.done)
	r.Count("job", "insert", result)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := r.saveJob(ctx, j); serr != nil {
		r.log.Warn("saving job failed", "job", j.j.ID, "err", serr)
	}
	r.log.Info("insert finished", "job", j.j.ID, "name", j.j.Name, "packets", j.j.Packets, "err", err)
}

// fetchInto fetches the job's object and stores it.
func (r *Repo) fetchInto(ctx context.Context, j *job) error {
	spec := j.spec
	register := spec.Register
	if len(register) == 0 {
		register = objectPrefix(spec.Name)
	}
	// Serve the object once it is fetched, not before: a route of ours
	// for its name would be longer than a producer's shorter prefix, and
	// the forwarder would send our own fetch Interests back to us (found
	// by the NDNts interop test).
	err := r.fetchObject(ctx, j)
	if err == nil || j.snapshot().Packets > 0 {
		if serr := r.serve(ctx, register, true); err == nil {
			err = serr
		}
	}
	return err
}

// fetchObject fetches the job's object and stores its packets.
func (r *Repo) fetchObject(ctx context.Context, j *job) error {
	spec := j.spec
	opts := &ndnx.FetchOptions{Window: r.cfg.FetchWindow, SkipVerify: !r.cfg.VerifyData, ForwardingHint: spec.ForwardingHint}
	vname := spec.Name
	switch {
	case spec.StartSeg != nil:
		opts.First, opts.Last = *spec.StartSeg, spec.EndSeg
	case vname[len(vname)-1].IsVersion():
	default:
		// One short try: most names without a version are single packets.
		rctx, cancel := context.WithTimeout(ctx, ndnx.DefaultLifetime/2)
		quick := *opts
		quick.Retries = 1
		v, err := r.node.ResolveVersion(rctx, vname, &quick)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			// No RDR metadata: a single packet, as ndn-python-repo
			// inserts a name without block ids.
			r.log.Debug("no metadata; fetching a single packet", "name", vname, "err", err)
			return r.fetchSingle(ctx, j, opts)
		}
		vname = v
	}
	j.mu.Lock()
	j.j.Version = vname.Clone()
	j.mu.Unlock()
	var chainOnce sync.Once
	opts.OnSegment = func(ctx context.Context, seg uint64, d *ndnx.Data) error {
		chainOnce.Do(func() { r.storeSignerChain(ctx, d) })
		if fb, ok := d.Data.FinalBlockID().Get(); ok && fb.IsSegment() {
			if n := fb.NumberVal() - opts.First + 1; fb.NumberVal() >= opts.First && n > r.cfg.MaxObjectPackets {
				return fmt.Errorf("object of %d packets exceeds the repo's limit of %d", n, r.cfg.MaxObjectPackets)
			}
		}
		w := d.Raw.Join()
		if err := r.st.Put(ctx, d.Data.Name(), w, store.PutOptions{}); err != nil {
			return err
		}
		j.mu.Lock()
		j.j.Packets++
		j.j.Bytes += uint64(len(w))
		j.mu.Unlock()
		return nil
	}
	opts.Progress = func(_, total uint64) {
		j.mu.Lock()
		j.j.Total = total
		j.mu.Unlock()
	}
	_, err := r.node.FetchSegments(ctx, vname, opts)
	return err
}

// fetchSingle fetches and stores the one packet named by the job.
func (r *Repo) fetchSingle(ctx context.Context, j *job, opts *ndnx.FetchOptions) error {
	d, err := r.node.FetchRetry(ctx, j.spec.Name, false, false, opts)
	if err != nil {
		return fmt.Errorf("fetch %s: no producer answered: %w", j.spec.Name, err)
	}
	if !opts.SkipVerify {
		if _, err := r.node.VerifyData(ctx, d); err != nil {
			return err
		}
	}
	w := d.Raw.Join()
	if err := r.st.Put(ctx, d.Data.Name(), w, store.PutOptions{}); err != nil {
		return err
	}
	r.storeSignerChain(ctx, d)
	j.mu.Lock()
	j.j.Version, j.j.Packets, j.j.Total, j.j.Bytes = d.Data.Name().Clone(), 1, 1, uint64(len(w))
	j.mu.Unlock()
	return nil
}

// maxChain bounds the certificates storeSignerChain follows.
const maxChain = 4

// storeSignerChain stores the certificates that sign d (its KeyLocator, and
// that certificate's issuer, up to maxChain or a self-signed one) and
// serves them, so consumers can verify the object after its producer has
// gone. Failures are logged, not fatal: the object itself is stored.
func (r *Repo) storeSignerChain(ctx context.Context, d *ndnx.Data) {
	pkt := d.Data
	for range maxChain {
		s := pkt.Signature()
		if s == nil {
			return
		}
		kl := s.KeyName()
		if len(kl) == 0 {
			return // digest-signed, or a KeyDigest locator
		}
		if _, err := r.st.Get(kl, true, false, time.Now()); err == nil {
			return // stored before, with its issuers
		}
		if r.isAnchor(kl) {
			return // consumers hold their anchors
		}
		w, err := r.node.FetchCert(ctx, kl)
		if err != nil {
			r.log.Warn("cannot fetch signer certificate; consumers will need its producer to verify", "key", kl, "err", err)
			return
		}
		cert, _, err := security.ReadData(w)
		if err != nil {
			return
		}
		if err := r.st.Put(ctx, cert.Name(), w, store.PutOptions{}); err != nil {
			r.log.Warn("storing signer certificate failed", "cert", cert.Name(), "err", err)
			return
		}
		if p := keyPrefix(cert.Name()); p != nil {
			if err := r.serve(ctx, p, true); err != nil {
				r.log.Warn("serving signer certificate failed", "prefix", p, "err", err)
			}
		}
		next := cert.Signature()
		if next == nil || len(next.KeyName()) == 0 || next.KeyName().IsPrefix(cert.Name()) || kl.IsPrefix(next.KeyName()) {
			return // self-signed: an anchor
		}
		pkt = cert
	}
}

// keyPrefix is <identity>/KEY for a certificate name <identity>/KEY/...
func keyPrefix(cert enc.Name) enc.Name {
	for i := len(cert) - 1; i >= 0; i-- {
		if cert[i].Typ == enc.TypeGenericNameComponent && string(cert[i].Val) == "KEY" {
			return cert[:i+1].Clone()
		}
	}
	return nil
}

// isAnchor reports whether kl names one of the node's trust anchors.
func (r *Repo) isAnchor(kl enc.Name) bool {
	v := r.node.Verifier()
	if v == nil {
		return false
	}
	for _, w := range v.Anchors() {
		if a, _, err := security.ReadData(w); err == nil && (kl.IsPrefix(a.Name()) || a.Name().IsPrefix(kl)) {
			return true
		}
	}
	return false
}
