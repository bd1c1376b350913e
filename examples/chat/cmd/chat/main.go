// Command chat is a terminal chat room (package chat): each line you type
// is sent to the room, and the others' messages print as "nick: text".
//
//	chat --init                           # make the demo trust domain under ~/.ndn-invoke and exit
//	chat --nick alice                     # join /example/chat/lobby as you (demo keychain)
//	chat --room /example/chat/ops --nick bob --keychain dir://KEYS --anchor example.cert
//
// It needs a forwarder (NDN_CLIENT_TRANSPORT, see `ndn-invoke forwarder`).
// The end of stdin or Ctrl-C leaves the room.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/examples/chat"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run() error {
	demoDir := flag.String("demo-dir", calc.DefaultDomainDir(), "demo trust domain directory (used when --keychain is not given)")
	initOnly := flag.Bool("init", false, "make the demo trust domain (if needed), say where it is, and exit")
	keychain := flag.String("keychain", "", "your keychain (dir://PATH); default: the demo domain's (/example/users/alice)")
	identity := flag.String("identity", "", "the identity in the keychain, when it holds several")
	anchor := flag.String("anchor", "", "trust anchor certificate file; default: the demo domain's")
	roomFlag := flag.String("room", "/example/chat/lobby", "the room (a topic name)")
	nick := flag.String("nick", os.Getenv("USER"), "your name in the room")
	flag.Parse()

	if *keychain == "" {
		d, err := calc.EnsureDomain(*demoDir)
		if err != nil {
			return err
		}
		*keychain = "dir://" + d.UserKeys
		if *anchor == "" {
			*anchor = d.Anchor
		}
		if *initOnly {
			fmt.Printf("demo trust domain in %s: anchor /example (%s), you are /example/users/alice (keychain %s)\n",
				d.Dir, d.Anchor, *keychain)
			return nil
		}
	}
	if *anchor == "" {
		return fmt.Errorf("--anchor is required with --keychain")
	}
	room, err := parseRoom(*roomFlag)
	if err != nil || len(room) == 0 {
		return fmt.Errorf("--room must be a name like /example/chat/lobby, got %q", *roomFlag)
	}
	if *nick == "" {
		*nick = "guest"
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	node, err := ndnx.Connect(start, ndnx.Config{Keychain: *keychain, IdentityName: *identity, AnchorFiles: []string{*anchor}})
	if err != nil {
		return err
	}
	defer node.Close()
	r, err := chat.Join(start, chat.Config{Node: node, Room: room, Nick: *nick})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintf(os.Stderr, "in %s as %s (%s); type a line to send it, Ctrl-D or Ctrl-C to leave\n",
		room, *nick, filepath.Base(r.Name().String()))

	printed := make(chan struct{})
	go func() { // ends when Close closes Messages
		defer close(printed)
		for m := range r.Messages() {
			fmt.Printf("%s: %s\n", m.Nick, m.Text)
		}
	}()
	lines := make(chan string)
	go func() { // ends with stdin (the process exits at Ctrl-C anyway)
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case l, ok := <-lines:
			if !ok {
				done = true
				break
			}
			if err := r.Send(ctx, l); err != nil {
				fmt.Fprintln(os.Stderr, "chat:", err)
			}
		}
	}
	// Linger briefly so the others fetch the last lines.
	fctx, fcancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = r.Flush(fctx)
	fcancel()
	r.Close()
	<-printed
	return nil
}

// parseRoom parses a name; ndnd's NameFromStr panics on a component that
// starts with "=" (std/encoding/component.go:263).
func parseRoom(s string) (n enc.Name, err error) {
	defer func() {
		if recover() != nil {
			n, err = nil, fmt.Errorf("bad name %q", s)
		}
	}()
	return enc.NameFromStr(s)
}
