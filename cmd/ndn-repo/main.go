// Command ndn-repo is the repo daemon: a durable store of signed NDN Data
// that it serves on the network (exact name, CanBePrefix, MustBeFresh, RDR
// metadata for segmented objects), filled by signed commands — its own
// (ndn-invoke repo ...), ndnd repo's RepoCmd and the ndn-python-repo
// protocol — and by the SVS sync groups it joins.
//
// It attaches to the local forwarder, or starts an embedded one under
// --data-dir when none answers and prints the transport to use, and runs
// until SIGINT/SIGTERM, then shuts down gracefully. See --help and
// --sample-config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ndn-repo:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	c, done, err := loadConfig(args)
	if err != nil || done {
		return err
	}
	prefix, err := repo.ParseName(c.Name)
	if err != nil || len(prefix) == 0 {
		return fmt.Errorf("bad repo name %q", c.Name)
	}
	idName, err := repo.ParseName(c.Identity)
	if err != nil {
		return fmt.Errorf("bad identity %q", c.Identity)
	}
	var policy *security.Policy
	if c.PolicyFile != "" {
		b, err := os.ReadFile(c.PolicyFile)
		if err != nil {
			return err
		}
		if policy, err = security.ParsePolicy(string(b)); err != nil {
			return fmt.Errorf("%s: %w", c.PolicyFile, err)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The store first: a locked or unwritable data directory is the most
	// likely mistake, and needs no network to report.
	scfg := store.DefaultConfig()
	if c.CacheMaxBytes > 0 {
		scfg.CacheMaxBytes = c.CacheMaxBytes
	}
	if c.CacheTTL > 0 {
		scfg.CacheTTL = c.CacheTTL
	}
	scfg.Logger = logger
	st, err := store.Open(filepath.Join(c.StorageDir, "store"), scfg)
	if err != nil {
		return err
	}
	defer st.Close()

	ncfg := ndnx.Config{Keychain: c.Keychain, IdentityName: idName.String(), AnchorFiles: c.TrustAnchors, Logger: logger}
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	node, fw, err := ndnx.ConnectOrStart(start, ncfg, ndnx.ForwarderConfig{Dir: filepath.Join(c.StorageDir, "fw")})
	cancel()
	if err != nil {
		return fmt.Errorf("%w\n(the repo signs with identity %s from %s: make it with\n  ndn-invoke key issue %s --issuer <anchor identity> --keychain %s)", err, idName, c.Keychain, idName, c.Keychain)
	}
	defer func() {
		node.Close()
		if fw != nil {
			fw.Stop() // the current one, after restarts
		}
	}()
	fwp := &fw

	rcfg := repo.Config{Prefix: prefix, Policy: policy, VerifyData: c.VerifyData, MaxJobs: c.MaxJobs, Logger: logger,
		Archivers: map[string]repo.ArchiverFunc{repo.KindPubSub: pubsubArchiver(logger)}}
	fronts, hookFor := frontEnds(c, logger)
	// The hook needs the Repo, which needs the hook in its Config: set it
	// after New, before Start starts any group member.
	var hook func(ctx context.Context, group, name enc.Name, content []byte)
	if hookFor != nil {
		rcfg.OnGroupPublication = func(ctx context.Context, group, name enc.Name, content []byte) { hook(ctx, group, name, content) }
	}
	r, err := repo.New(node, st, rcfg)
	if err != nil {
		return err
	}
	if hookFor != nil {
		hook = hookFor(r)
	}
	defer r.Close()
	start, cancel = context.WithTimeout(ctx, 30*time.Second)
	err = r.Start(start)
	cancel()
	if err != nil {
		return err
	}
	for _, f := range fronts {
		closeFront, err := f(ctx, node, r)
		if err != nil {
			return err
		}
		defer closeFront()
	}

	if fw != nil {
		fmt.Printf("no forwarder was running: started one (pid %d); clients use\n  export NDN_CLIENT_TRANSPORT=%s\n", fw.Pid(), fw.Transport())
	} else {
		fmt.Printf("using forwarder at %s\n", node.Transport())
	}
	stats := st.Stats()
	fmt.Printf("repo %s ready: %d packets (%d bytes) in %s; identity %s\n", prefix, stats.Packets, stats.Bytes, c.StorageDir, node.Identity().CertName())

	if c.Metrics != "" {
		ln, err := net.Listen("tcp", c.Metrics)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_ = r.WriteMetrics(w)
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		served := make(chan struct{})
		go func() { defer close(served); _ = srv.Serve(ln) }()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-served
		}()
		fmt.Printf("metrics at http://%s/metrics\n", ln.Addr())
	}
	fmt.Println("Ctrl-C to stop")

	err = superviseForwarder(ctx, fwp)
	fmt.Fprintln(os.Stderr, "ndn-repo: shutting down")
	return err
}

// superviseForwarder waits for ctx, restarting the embedded forwarder (if
// we started one) when it exits: ndnd v1.5.3's forwarder panics on some
// malformed packets (fw/defn/zz_generated.go:695, a zero-length HopLimit),
// so one bad packet would otherwise take the host's NDN down. Our Node
// reconnects and re-registers on its own once it is back.
func superviseForwarder(ctx context.Context, fwp **ndnx.Forwarder) error {
	fw := *fwp
	if fw == nil {
		<-ctx.Done()
		return nil
	}
	fwCfg := ndnx.ForwarderConfig{Dir: filepath.Dir(fw.LogFile()), UDPPort: fw.UDPPort()}
	for restarts := 0; ; restarts++ {
		select {
		case <-ctx.Done():
			return nil
		case <-fw.Done():
		}
		if restarts >= 10 {
			return fmt.Errorf("embedded forwarder keeps exiting; see %s", fw.LogFile())
		}
		fmt.Fprintf(os.Stderr, "ndn-repo: embedded forwarder exited; restarting it (log: %s)\n", fw.LogFile())
		start, cancel := context.WithTimeout(ctx, 30*time.Second)
		next, err := ndnx.StartForwarder(start, fwCfg)
		cancel()
		if err != nil {
			return fmt.Errorf("restart embedded forwarder: %w", err)
		}
		fw, *fwp = next, next // the caller's deferred Stop must see the current process
	}
}

// pubsubArchiver keeps the publications of the pub-sub groups the repo
// joins (ndn-invoke repo join --pubsub GROUP), so late subscribers catch
// up from the repo.
func pubsubArchiver(logger *slog.Logger) repo.ArchiverFunc {
	return func(ctx context.Context, node *ndnx.Node, group enc.Name, sink repo.ArchiveSink) (io.Closer, error) {
		c := pubsub.DefaultConfig()
		c.Group, c.Node, c.Logger = group, node, logger
		a, err := pubsub.NewArchiver(c, sink)
		if err != nil {
			return nil, err
		}
		if err := a.Start(ctx); err != nil {
			_ = a.Close()
			return nil, err
		}
		return a, nil
	}
}
