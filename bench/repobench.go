package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// RepoConfig configures RunRepo.
type RepoConfig struct {
	// ObjectMiB is the size of the fetched object. Default 100.
	ObjectMiB int
	// Puts is the number of 1 KiB packets inserted by command. Default 3000.
	Puts int
	// Writers is the number of concurrent put commands. Default 16.
	Writers int
	// Dir is where the stores go (a real disk: fsync is measured).
	// Default a new directory under the working directory's .bench-tmp.
	Dir string
	// NdndBinary is the ndnd to run. Default: as findNdnd.
	NdndBinary string
	Logger     *slog.Logger
}

// RepoResult holds the measured figures; ratios are against the baseline
// measured in the same run.
type RepoResult struct {
	StorePutsPerSec   float64 `json:"store_puts_per_sec"`   // baseline: store.Put, same writers, no network
	CommandPutsPerSec float64 `json:"command_puts_per_sec"` // one signed put command per packet
	BatchPutsPerSec   float64 `json:"batch_puts_per_sec"`   // put commands of 50 packets
	ObjectBytes       int     `json:"object_bytes"`
	CatFromPutMBps    float64 `json:"cat_from_put_mbps"`    // baseline: ndnd cat ← ndnd put
	InsertMBps        float64 `json:"insert_mbps"`          // repo insert job ← ndnd put (fetch + durable store)
	InsertPktsPerSec  float64 `json:"insert_pkts_per_sec"`  // same, in packets
	CatFromRepoMBps   float64 `json:"cat_from_repo_mbps"`   // ndnd cat ← repo
	FetchFromRepoMBps float64 `json:"fetch_from_repo_mbps"` // ndn-invoke fetch ← repo
}

// WriteTable prints r with ratios.
func (r RepoResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "durable inserts (1 KiB packets)            packets/s   ratio\n")
	fmt.Fprintf(w, "  store.Put, no network (baseline)          %9.0f   1.00\n", r.StorePutsPerSec)
	fmt.Fprintf(w, "  put command, 1 packet each                %9.0f   %.2f\n", r.CommandPutsPerSec, r.CommandPutsPerSec/r.StorePutsPerSec)
	fmt.Fprintf(w, "  put command, 50 packets each              %9.0f   %.2f\n", r.BatchPutsPerSec, r.BatchPutsPerSec/r.StorePutsPerSec)
	fmt.Fprintf(w, "  insert job of the object (fetch+store)    %9.0f   %.2f\n", r.InsertPktsPerSec, r.InsertPktsPerSec/r.StorePutsPerSec)
	fmt.Fprintf(w, "fetch of a %d MiB object                    MB/s   ratio\n", r.ObjectBytes>>20)
	fmt.Fprintf(w, "  ndnd cat <- ndnd put (baseline)           %9.1f   1.00\n", r.CatFromPutMBps)
	fmt.Fprintf(w, "  repo insert <- ndnd put                   %9.1f   %.2f\n", r.InsertMBps, r.InsertMBps/r.CatFromPutMBps)
	fmt.Fprintf(w, "  ndnd cat <- repo                          %9.1f   %.2f\n", r.CatFromRepoMBps, r.CatFromRepoMBps/r.CatFromPutMBps)
	fmt.Fprintf(w, "  ndn-invoke fetch <- repo                  %9.1f   %.2f\n", r.FetchFromRepoMBps, r.FetchFromRepoMBps/r.CatFromPutMBps)
}

// RunRepo measures the repo against its baselines in one run: a forwarder
// with a tiny Content Store (so fetches reach the producers), a repo on a
// real disk, an `ndnd put` producer and `ndnd cat`.
func RunRepo(ctx context.Context, cfg RepoConfig) (res RepoResult, err error) {
	if cfg.ObjectMiB <= 0 {
		cfg.ObjectMiB = 100
	}
	if cfg.Puts <= 0 {
		cfg.Puts = 3000
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bin := cfg.NdndBinary
	if bin == "" {
		if bin, err = findNdnd(); err != nil {
			return res, err
		}
	}
	dir := cfg.Dir
	if dir == "" {
		if err := os.MkdirAll(".bench-tmp", 0o755); err != nil {
			return res, err
		}
		if dir, err = os.MkdirTemp(".bench-tmp", "repo"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return res, err
	}
	fw, err := ndnx.StartForwarder(ctx, ndnx.ForwarderConfig{Dir: filepath.Join(dir, "fw"), Binary: bin, CSCapacity: 16})
	if err != nil {
		return res, err
	}
	defer fw.Stop()

	anchor, err := security.NewAnchor(enc.Name{enc.NewGenericComponent("bench")}, time.Hour)
	if err != nil {
		return res, err
	}
	repoID, err := anchor.Issue(enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("repo")}, time.Hour)
	if err != nil {
		return res, err
	}
	userID, err := anchor.Issue(enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("user")}, time.Hour)
	if err != nil {
		return res, err
	}
	connect := func(id *security.Identity) (*ndnx.Node, error) {
		return ndnx.Connect(ctx, ndnx.Config{Transport: fw.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}, Logger: cfg.Logger})
	}
	repoNode, err := connect(repoID)
	if err != nil {
		return res, err
	}
	defer repoNode.Close()
	st, err := store.Open(filepath.Join(dir, "store"), store.DefaultConfig())
	if err != nil {
		return res, err
	}
	defer st.Close()
	r, err := repo.New(repoNode, st, repo.Config{Prefix: repoID.Name(), Logger: cfg.Logger})
	if err != nil {
		return res, err
	}
	defer r.Close()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	userNode, err := connect(userID)
	if err != nil {
		return res, err
	}
	defer userNode.Close()
	client, err := repo.NewClient(userNode, repoID.Name(), rpc.ClientConfig{})
	if err != nil {
		return res, err
	}
	defer client.Close()

	// 1. Durable inserts: store baseline, then put commands.
	packets := make([][]byte, cfg.Puts)
	for i := range packets {
		name := enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("pkt"), enc.NewSequenceNumComponent(uint64(i))}
		body := make([]byte, 1024)
		_, _ = rand.Read(body)
		d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{body}, userID.Signer())
		if err != nil {
			return res, err
		}
		packets[i] = d.Wire.Join()
	}
	base, err := store.Open(filepath.Join(dir, "baseline"), store.DefaultConfig())
	if err != nil {
		return res, err
	}
	res.StorePutsPerSec, err = parallel(ctx, cfg.Writers, len(packets), func(ctx context.Context, i int) error {
		d, _, err := security.ReadData(packets[i])
		if err != nil {
			return err
		}
		return base.Put(ctx, d.Name(), packets[i], store.PutOptions{})
	})
	base.Close()
	if err != nil {
		return res, fmt.Errorf("store baseline: %w", err)
	}
	res.CommandPutsPerSec, err = parallel(ctx, cfg.Writers, len(packets), func(ctx context.Context, i int) error {
		_, err := client.Put(ctx, packets[i:i+1], nil)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("put commands: %w", err)
	}
	const batch = 50
	batches := len(packets) / batch
	var batchRate float64
	batchRate, err = parallel(ctx, cfg.Writers, batches, func(ctx context.Context, i int) error {
		_, err := client.Put(ctx, packets[i*batch:(i+1)*batch], nil)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("batched put commands: %w", err)
	}
	res.BatchPutsPerSec = batchRate * batch

	// 2. The object: ndnd put produces it, ndnd cat fetches it (baseline).
	content := make([]byte, cfg.ObjectMiB<<20)
	_, _ = rand.Read(content)
	res.ObjectBytes = len(content)
	objName := "/bench/object"
	put := exec.CommandContext(ctx, bin, "put", objName)
	put.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT="+fw.Transport())
	put.Stdin = bytes.NewReader(content)
	if err := put.Start(); err != nil {
		return res, err
	}
	putDone := make(chan struct{})
	go func() { _ = put.Wait(); close(putDone) }()
	defer func() { _ = put.Process.Kill(); <-putDone }()
	// ndnd put reads, signs and announces: wait for its metadata.
	oname := enc.Name{enc.NewGenericComponent("bench"), enc.NewGenericComponent("object")}
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := userNode.ResolveVersion(rctx, oname, &ndnx.FetchOptions{SkipVerify: true, Retries: 1})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	cat := func() (float64, error) {
		c := exec.CommandContext(ctx, bin, "cat", objName)
		c.Env = put.Env
		t0 := time.Now()
		out, err := c.Output()
		el := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("ndnd cat: %w", err)
		}
		if !bytes.Equal(out, content) {
			return 0, fmt.Errorf("ndnd cat returned %d bytes, not the %d published", len(out), len(content))
		}
		return float64(len(content)) / el.Seconds() / 1e6, nil
	}
	if res.CatFromPutMBps, err = cat(); err != nil {
		return res, err
	}

	// 3. The repo inserts it from the producer.
	t0 := time.Now()
	j, err := r.Insert(ctx, repo.InsertSpec{Name: oname})
	if err == nil {
		j, err = r.Wait(ctx, j.ID)
	}
	el := time.Since(t0)
	if err == nil && j.State != repo.JobDone {
		err = errors.New(j.Err)
	}
	if err != nil {
		return res, fmt.Errorf("insert: %w", err)
	}
	res.InsertMBps = float64(len(content)) / el.Seconds() / 1e6
	res.InsertPktsPerSec = float64(j.Packets) / el.Seconds()
	_ = put.Process.Kill()
	<-putDone

	// 4. Fetches served by the repo.
	if res.CatFromRepoMBps, err = cat(); err != nil {
		return res, fmt.Errorf("from the repo: %w", err)
	}
	var sink countingWriter
	t0 = time.Now()
	// ndnd put signs with DigestSha256 only, and ndnd cat checks nothing:
	// compare like with like.
	if _, err := userNode.FetchObject(ctx, oname, &sink, &ndnx.FetchOptions{SkipVerify: true}); err != nil {
		return res, fmt.Errorf("fetch from the repo: %w", err)
	}
	res.FetchFromRepoMBps = float64(sink.n.Load()) / time.Since(t0).Seconds() / 1e6
	if int(sink.n.Load()) != len(content) {
		return res, fmt.Errorf("fetch returned %d bytes, want %d", sink.n.Load(), len(content))
	}
	return res, nil
}

type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// parallel runs f(0..n-1) on workers goroutines and returns calls/s.
func parallel(ctx context.Context, workers, n int, f func(ctx context.Context, i int) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n) / time.Since(t0).Seconds(), ctx.Err()
}
