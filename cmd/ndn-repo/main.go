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
			fw.Stop()
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
	var fwDone <-chan struct{}
	if fw != nil {
		fwDone = fw.Done()
	}
	select {
	case <-ctx.Done():
		return nil
	case <-fwDone:
		return fmt.Errorf("embedded forwarder exited; see %s", fw.LogFile())
	}
}
