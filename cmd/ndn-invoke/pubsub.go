package main

// The pub-sub commands: pub and sub (package pubsub). Each joins a sync
// group, publishes or subscribes, and leaves.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

const pubsubHelp = `Usage: ndn-invoke pub TOPIC MSG|- [flags]
       ndn-invoke sub TOPIC [flags]

Topics on State Vector Sync (package pubsub): pub publishes on TOPIC, sub
prints what is published on TOPIC or on any topic under it (a prefix).

The group. Topics live in a sync group. By default it is the topic's first
component followed by "pubsub": /example/chat and /example/news/today both
use /example/pubsub, so a sub to /example (or to /example/news) meets every
pub under /example. --group GROUP picks another group; pub and sub must
agree. (Not the group of members/event/query: those are svs groups.)

pub publishes MSG, or with - each line of stdin as one message (as lines
arrive; the end of stdin ends pub). NDN has no push: a message exists only
while its publisher serves it. So pub lingers: after publishing it waits
until a subscriber fetched everything (at most --linger, default 5s), then
exits; if nobody did, it says so on stderr (exit status 0: the messages are
lost, as with any pub-sub without subscribers). SVS tells a publisher's runs
apart by their start second, so pub first waits for the next whole second
(up to 1s); run pubs of one identity on one topic one after the other, not
at the same time.

sub prints each message's payload on its own line, in each publisher's
order, until Ctrl-C, --count messages or --timeout. --json prints one
object per line instead: {"topic","publisher","boot","seq","index",
"published","payload"} ("payload_base64" instead of "payload" when the
message is not UTF-8 text). It receives what is published after it started
(and the newest message of a publisher already running). It joins as a
session identity, <you>/_sub/<random>, certified by your key, so it also
receives what you publish under your own identity from another terminal.
With --count, a --timeout that ends sub first is an error (exit 1).

Keys: members sign every packet and check the others' against the trust
anchor. With no key flags both commands use the demo trust domain:
keychain $NDN_INVOKE_KEYCHAIN, else dir://$HOME/.ndn-invoke/keys (made on
first use by the examples, e.g. go run ./examples/chat/cmd/chat --init),
with its anchor.cert as the anchor.

Exit status: 0 on success, 1 on local errors (keychain, no forwarder, sub
--count not reached), 2 on bad usage.

Examples:
  ndn-invoke sub /example/chat                    # terminal 1
  ndn-invoke pub /example/chat hello              # terminal 2: terminal 1 prints hello
  tail -f app.log | ndn-invoke pub /example/logs/app -
  ndn-invoke sub /example --json --count 10 --timeout 1m

Flags:
`

// psLinger is pub's default --linger.
const psLinger = 5 * time.Second

// defaultGroup is the sync group of a topic when --group is not given:
// /<first component>/pubsub. examples/chat uses the same mapping.
func defaultGroup(topic enc.Name) enc.Name {
	return enc.Name{topic[0], enc.NewGenericComponent("pubsub")}
}

// psFlags are the flags of pub and sub.
type psFlags struct {
	o      rpcOptions
	group  string
	linger time.Duration
	count  int
	replay bool
}

// newPubSubFlags returns the flag set of pub and sub, filling f.
func newPubSubFlags(cmd string, f *psFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.StringVar(&f.o.keychain, "keychain", "", "keychain `dir://PATH` (its identity joins the group)")
	fs.StringVar(&f.o.identity, "identity", "", "`NAME` of the identity to join as, when the keychain holds several")
	fs.Var(&f.o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	fs.BoolVar(&f.o.json, "json", false, "print stable JSON (one object per line) for scripts")
	fs.StringVar(&f.group, "group", "", "sync group `GROUP` (default /<first component of TOPIC>/pubsub)")
	fs.DurationVar(&f.linger, "linger", psLinger, "pub: wait at most this `long` for a subscriber to fetch the messages (0: do not wait)")
	fs.IntVar(&f.count, "count", 0, "sub: exit after `N` messages (0: no limit)")
	fs.BoolVar(&f.replay, "replay", false, "sub: also every earlier message still kept (by its publisher, or a repo that joined the group with --pubsub)")
	fs.DurationVar(&f.o.timeout, "timeout", 0, "sub: exit after this `long` (0: run until Ctrl-C)")
	return fs
}

// printPubSubHelp writes the help of pub and sub.
func printPubSubHelp(out io.Writer) {
	fmt.Fprint(out, pubsubHelp)
	fs := newPubSubFlags("pub", &psFlags{})
	fs.SetOutput(out)
	fs.PrintDefaults()
}

// cmdPubSub is `ndn-invoke pub|sub TOPIC ...`.
func cmdPubSub(cmd string, args []string, stdin io.Reader, out, stderr io.Writer) error {
	f := &psFlags{}
	fs := newPubSubFlags(cmd, f)
	o, linger, count, groupFlag := &f.o, &f.linger, &f.count, &f.group
	nargs := 2
	if cmd == "sub" {
		nargs = 1
	}
	if err := parseRange(fs, args, nargs, nargs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printPubSubHelp(out)
			return errHelpShown
		}
		return err
	}
	if *linger < 0 || *count < 0 || o.timeout < 0 {
		return fmt.Errorf("%w: %s: --linger, --count and --timeout must not be negative", errUsage, cmd)
	}
	topic, err := parseName("TOPIC", fs.Arg(0), 1)
	if err != nil {
		return err
	}
	group := defaultGroup(topic)
	if *groupFlag != "" {
		if group, err = parseName("--group", *groupFlag, 1); err != nil {
			return err
		}
	}

	kc, explicit := o.keychain, o.keychain != ""
	if !explicit {
		kc = defaultKeychain()
		if dir, _ := cutPrefix(kc, "dir://"); !dirExists(dir) {
			return fmt.Errorf("%s joins a group as you, but there is no keychain at %s: make the demo trust domain "+
				"with `go run ./examples/chat/cmd/chat --init`, make an identity with `ndn-invoke key issue NAME "+
				"--issuer ANCHOR`, or pass --keychain", cmd, kc)
		}
	}
	id, err := loadCallIdentity(o, kc, true)
	if err != nil {
		return err
	}
	life := o.timeout
	if life == 0 || cmd == "pub" {
		life = 1 << 62 // until Ctrl-C (pub: until stdin ends and the linger)
	}
	ctx, cancel := commandContext(life)
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	s, err := connect(cctx, o, kc, id, false, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node, cfg.Logger = group, s.node, slog.New(slog.DiscardHandler)
	if cmd == "sub" {
		if cfg.Identity, err = pubsub.SessionIdentity(id, "_sub"); err != nil {
			return err
		}
		return runSub(ctx, cctx, cfg, topic, *count, f.replay, o, out, stderr)
	}
	// SVS tells incarnations apart by their start second (pubsub sets
	// the boot time to time.Now().Unix() in New): a pub that started in
	// the second the previous one did would reuse its sequence numbers,
	// and subscribers would take its messages for ones they have.
	if err := sleepCtx(cctx, time.Until(time.Unix(time.Now().Unix()+1, 0))); err != nil {
		return err
	}
	return runPub(ctx, cctx, cfg, topic, fs.Arg(1), stdin, *linger, o.json, out, stderr)
}

// startPubSub creates and starts the group member.
func startPubSub(ctx context.Context, cfg pubsub.Config) (*pubsub.PubSub, error) {
	ps, err := pubsub.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := ps.Start(ctx); err != nil {
		return nil, err
	}
	return ps, nil
}

// subMessage is sub --json's output line; its fields are stable.
type subMessage struct {
	Topic         string    `json:"topic"`
	Publisher     string    `json:"publisher"`
	Boot          uint64    `json:"boot"`
	Seq           uint64    `json:"seq"`
	Index         int       `json:"index"`
	Published     time.Time `json:"published"`
	Payload       *string   `json:"payload,omitempty"`
	PayloadBase64 []byte    `json:"payload_base64,omitempty"`
}

// runSub subscribes and prints messages until ctx ends or count arrive.
func runSub(ctx, cctx context.Context, cfg pubsub.Config, topic enc.Name, count int, replay bool, o *rpcOptions,
	out, stderr io.Writer) error {
	ps, err := startPubSub(cctx, cfg)
	if err != nil {
		return err
	}
	defer ps.Close()
	ch := make(chan *pubsub.Message, 64)
	if _, err := ps.Subscribe(pubsub.SubscribeConfig{Topic: topic, Chan: ch, Replay: replay}); err != nil {
		if errors.Is(err, pubsub.ErrBadTopic) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	fmt.Fprintf(stderr, "subscribed to %s in group %s as %s (Ctrl-C to stop)\n", topic, cfg.Group, ps.Name())
	n := 0
	for count == 0 || n < count {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && count > 0 {
				return fmt.Errorf("sub: %d of %d messages within --timeout %s", n, count, o.timeout)
			}
			return nil // Ctrl-C or --timeout: the normal end of sub
		case m := <-ch:
			if err := printMessage(out, m, o.json); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

// printMessage writes m as sub prints it.
func printMessage(out io.Writer, m *pubsub.Message, asJSON bool) error {
	if !asJSON {
		_, err := out.Write(append(append([]byte{}, m.Payload...), '\n'))
		return err
	}
	v := subMessage{Topic: m.Topic.String(), Publisher: m.Publisher.String(), Boot: m.Boot, Seq: m.Seq, Index: m.Index,
		Published: m.Published.UTC()}
	if utf8.Valid(m.Payload) {
		s := string(m.Payload)
		v.Payload = &s
	} else {
		v.PayloadBase64 = m.Payload
	}
	return writeJSONLine(out, v)
}

// runPub publishes msg (or stdin's lines when msg is "-"), then lingers
// until a subscriber fetched them or linger passed.
func runPub(ctx, cctx context.Context, cfg pubsub.Config, topic enc.Name, msg string, stdin io.Reader,
	linger time.Duration, asJSON bool, out, stderr io.Writer) error {
	ps, err := startPubSub(cctx, cfg)
	if err != nil {
		return err
	}
	defer ps.Close()
	t, err := ps.Advertise(topic)
	if err != nil {
		if errors.Is(err, pubsub.ErrBadTopic) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	n := 0
	if msg != "-" {
		if err := t.Publish(ctx, []byte(msg)); err != nil {
			return err
		}
		n = 1
	} else if n, err = publishLines(ctx, t, stdin, cfg.MaxMessage); err != nil {
		return err
	}
	fetched := false
	if n > 0 && linger > 0 {
		lctx, lcancel := context.WithTimeout(ctx, linger)
		err := t.Flush(lctx)
		lcancel()
		switch {
		case err == nil:
			fetched = true
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		default:
			return err
		}
	}
	if asJSON {
		if err := writeJSONLine(out, map[string]any{"topic": topic.String(), "group": cfg.Group.String(),
			"publisher": ps.Name().String(), "messages": n, "fetched": fetched}); err != nil {
			return err
		}
	}
	switch {
	case n == 0:
		fmt.Fprintf(stderr, "nothing to publish: stdin was empty\n")
	case fetched:
		fmt.Fprintf(stderr, "published %d message(s) on %s (group %s); fetched by a subscriber\n", n, topic, cfg.Group)
	case linger == 0:
		fmt.Fprintf(stderr, "published %d message(s) on %s (group %s); --linger 0: not waiting for a subscriber\n", n, topic, cfg.Group)
	default:
		fmt.Fprintf(stderr, "published %d message(s) on %s (group %s), but nobody fetched them within %s: no subscriber "+
			"is listening there, and NDN has no push, so they are lost\n", n, topic, cfg.Group, linger)
	}
	return nil
}

// publishLines publishes each line of stdin as it arrives, until stdin
// ends or ctx does. The reader goroutine ends when stdin does (a read
// cannot be interrupted); the process exits soon after anyway.
func publishLines(ctx context.Context, t *pubsub.Topic, stdin io.Reader, maxLine int) (int, error) {
	type line struct {
		b   []byte
		err error
	}
	lines := make(chan line)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine+1)
		for sc.Scan() {
			select {
			case lines <- line{b: append([]byte{}, sc.Bytes()...)}:
			case <-done:
				return
			}
		}
		if err := sc.Err(); err != nil {
			select {
			case lines <- line{err: fmt.Errorf("read stdin: %w", err)}:
			case <-done:
			}
		}
	}()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n, nil // Ctrl-C: linger for what was published
		case l, ok := <-lines:
			switch {
			case !ok:
				return n, nil
			case l.err != nil:
				return n, l.err
			}
			if err := t.Publish(ctx, l.b); err != nil {
				return n, err
			}
			n++
		}
	}
}

// dirExists reports whether dir is an existing directory.
func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
