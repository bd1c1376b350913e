// Command ndn-repo is the repo daemon. In this release it attaches to the
// local forwarder — starting an embedded one under --data-dir when none
// answers, and printing the transport to use — and serves its identity's
// certificate until SIGINT/SIGTERM. Durable storage and the repo command
// protocols arrive with the repo package (issue #5).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ndn-repo:", err)
		os.Exit(1)
	}
}

func run() error {
	dataDir := flag.String("data-dir", filepath.Join(os.TempDir(), "ndn-repo"), "data directory (an embedded forwarder lives in DIR/fw)")
	kc := flag.String("keychain", "", "keychain holding the repo's identity (dir://PATH)")
	idName := flag.String("identity", "", "identity in the keychain (default: the only one)")
	anchor := flag.String("anchor", "", "trust anchor certificate file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := ndnx.Config{Keychain: *kc, IdentityName: *idName}
	if *anchor != "" {
		cfg.AnchorFiles = []string{*anchor}
	}
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	node, fw, err := ndnx.ConnectOrStart(start, cfg, ndnx.ForwarderConfig{Dir: filepath.Join(*dataDir, "fw")})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		node.Close()
		if fw != nil {
			fw.Stop() // the current one, after restarts
		}
	}()
	if fw != nil {
		fmt.Printf("no forwarder was running: started one (pid %d); clients use\n  export NDN_CLIENT_TRANSPORT=%s\n", fw.Pid(), fw.Transport())
	} else {
		fmt.Printf("using forwarder at %s\n", node.Transport())
	}
	if id := node.Identity(); id != nil {
		fmt.Printf("identity %s\n", id.CertName())
	}
	fmt.Println("storage and repo commands are not in this release (issue #5); Ctrl-C to stop")
	if fw == nil {
		<-ctx.Done()
		return nil
	}
	// Keep the embedded forwarder up: ndnd v1.5.3's forwarder panics on some
	// malformed packets (fw/defn/zz_generated.go:695, a zero-length
	// HopLimit), so one bad packet would otherwise take the host's NDN down.
	// Our Node reconnects and re-registers on its own once it is back.
	fwCfg := ndnx.ForwarderConfig{Dir: filepath.Join(*dataDir, "fw"), UDPPort: fw.UDPPort()}
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
		fw = next
	}
}
