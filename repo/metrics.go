package repo

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMetrics writes the repo's metrics in the Prometheus text exposition
// format (version 0.0.4): stored packets and bytes, cache entries and hits,
// commits and fsyncs, Interests served, jobs and groups, and commands by
// protocol, verb and result. Safe for concurrent use.
func (r *Repo) WriteMetrics(w io.Writer) error {
	st := r.st.Stats()
	r.mu.Lock()
	served := r.served
	type count struct {
		k [3]string
		v uint64
	}
	counts := make([]count, 0, len(r.counts))
	for k, v := range r.counts {
		counts = append(counts, count{k, v})
	}
	groups, prefixes := len(r.groups), len(r.prefixes)
	r.mu.Unlock()
	running, finished := r.jobCounts()
	sort.Slice(counts, func(i, j int) bool {
		return strings.Join(counts[i].k[:], "\x00") < strings.Join(counts[j].k[:], "\x00")
	})

	var b strings.Builder
	metric := func(name, typ, help string, v uint64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, typ, name, v)
	}
	metric("ndn_repo_packets", "gauge", "Durable Data packets stored.", st.Packets)
	metric("ndn_repo_bytes", "gauge", "Wire bytes of durable Data packets stored.", st.Bytes)
	metric("ndn_repo_cache_packets", "gauge", "Cache entries stored.", st.CachePackets)
	metric("ndn_repo_cache_bytes", "gauge", "Bytes of cache entries stored.", st.CacheBytes)
	metric("ndn_repo_cache_hits_total", "counter", "Lookups answered from a cache entry.", st.CacheHits)
	metric("ndn_repo_durable_hits_total", "counter", "Lookups answered from a durable packet.", st.DurableHits)
	metric("ndn_repo_misses_total", "counter", "Lookups that found nothing.", st.CacheMisses)
	metric("ndn_repo_cache_evictions_total", "counter", "Cache entries evicted to stay within the byte bound.", st.CacheEvictions)
	metric("ndn_repo_commits_total", "counter", "Store transactions committed (group commits).", st.Commits)
	metric("ndn_repo_fsyncs_total", "counter", "fdatasync calls made by commits.", st.Fsyncs)
	metric("ndn_repo_commit_errors_total", "counter", "Store transactions that failed.", st.CommitErrors)
	b.WriteString("# HELP ndn_repo_interests_total Data Interests received, by result.\n# TYPE ndn_repo_interests_total counter\n")
	fmt.Fprintf(&b, "ndn_repo_interests_total{result=\"answered\"} %d\nndn_repo_interests_total{result=\"unanswered\"} %d\n", served[0], served[1])
	b.WriteString("# HELP ndn_repo_jobs Insert jobs known, by state.\n# TYPE ndn_repo_jobs gauge\n")
	fmt.Fprintf(&b, "ndn_repo_jobs{state=\"running\"} %d\nndn_repo_jobs{state=\"finished\"} %d\n", running, finished)
	metric("ndn_repo_groups", "gauge", "Sync groups joined.", uint64(groups))
	metric("ndn_repo_prefixes", "gauge", "Prefixes served.", uint64(prefixes))
	b.WriteString("# HELP ndn_repo_commands_total Repo commands, by protocol, verb and result.\n# TYPE ndn_repo_commands_total counter\n")
	for _, c := range counts {
		fmt.Fprintf(&b, "ndn_repo_commands_total{protocol=%q,verb=%q,result=%q} %d\n", c.k[0], c.k[1], c.k[2], c.v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jobCounts returns how many known insert jobs are running and finished.
func (r *Repo) jobCounts() (running, finished int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.snapshot().State == JobRunning {
			running++
		} else {
			finished++
		}
	}
	return running, finished
}
