package main

// The rpc commands: call, describe, health and list. Each builds a Node from
// the environment (NDN_CLIENT_TRANSPORT / client.conf), makes its calls and
// closes the node; the outcome becomes the exit status through exitError.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	sig "github.com/named-data/ndnd/std/security/signer"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codec"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// exitError ends the program with exit status code, printing msg (if not
// empty) on stderr as it is. Commands return it for outcomes that are not
// local failures: an RPC status (64 + code) or an unhealthy service.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

// exitRPC is the exit status of an RPC that ended with status code 0; an
// RPC error exits with exitRPC + its code (67 InvalidArgument, 78
// Unavailable, ...), clear of the 0-2 used for success and local errors.
const exitRPC = 64

// rpcExit turns a call error into an exitError "Code: message" with status
// exitRPC + code; hint, if not empty, goes on the next line.
func rpcExit(err error, hint string) *exitError {
	st := status.Convert(err)
	c := st.Code
	if !c.Valid() {
		c = codes.Unknown // a newer peer's code: report it by number, exit as Unknown
	}
	msg := fmt.Sprintf("%s: %s", st.Code, st.Message)
	if hint != "" {
		msg += "\n" + hint
	}
	return &exitError{code: exitRPC + int(c), msg: msg}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// rpcOptions are the flags of the rpc commands; newRPCFlags says which
// command has which.
type rpcOptions struct {
	timeout  time.Duration
	keychain string
	identity string
	anchors  listFlag
	json     bool

	retries int      // call
	headers listFlag // call
	public  bool     // call
	raw     bool     // call
	wait    bool     // call: wait for a long-running method's operation
	stream  bool     // call: --stream-in, stdin's JSON lines are the client's stream

	probe time.Duration // list
}

// rpcHelp is the help of one rpc command; its flags come from newRPCFlags.
type rpcHelp struct {
	args, text, examples string
}

const anchorsHelp = `Replies are signed: they are checked against trust anchors taken from
--anchor FILE, else every *.cert in $NDN_INVOKE_ANCHORS (files or
directories, separated by ':'), else anchor.cert in the keychain directory.`

const exitHelp = `Exit status: 0 on OK; 64 + the status code on an RPC error, with
"Code: message" on stderr (65 Canceled, 66 Unknown, 67 InvalidArgument,
68 DeadlineExceeded, 69 NotFound, 71 PermissionDenied, 76 Unimplemented,
77 Internal, 78 Unavailable, 80 Unauthenticated); 2 on bad usage; 1 on local
errors (keychain, trust anchors, no forwarder).`

var rpcHelps = map[string]rpcHelp{
	"call": {
		args: "NAME [JSON|-]",
		text: `Calls the method NAME (/<service>/<method>) with the request JSON (default {};
- reads it from stdin) and prints the reply's JSON on stdout, indented when
stdout is a terminal. With --json it prints an envelope instead:
{"name":..., "code":"OK", "reply":<json>, "metadata":{...}} (on an RPC error:
"code" and "message", no "reply").

Calls are signed with the identity in the keychain: --keychain, else
$NDN_INVOKE_KEYCHAIN, else dir://$HOME/.ndn-invoke/keys if it exists.
--public sends an unsigned, cacheable call (the method must be public).

--stream-in calls a client- or bidirectional-streaming method (describe
--json marks them client_stream and bidi_stream): each line of stdin is one
JSON item of the client's stream, and the server's items print as JSON lines
as they arrive (a client-streaming method's response is its one item).

` + anchorsHelp + "\n\n" + exitHelp,
		examples: `  ndn-invoke call /example/calc/add '{"a":2,"b":3}'
  echo '{"a":2,"b":3}' | ndn-invoke call /example/calc/add - --json -H tenant=blue
  ndn-invoke call /example/files/get --raw --public < request.bin > reply.bin
  printf '1\n2\n3\n' | ndn-invoke call /example/calc/sum --stream-in`,
	},
	"describe": {
		args: "SERVICE",
		text: `Prints a service's methods (from SERVICE/_describe): whether each is public,
its cache TTL, whether it is idempotent, and the shape of its request.
With --json, prints the description as JSON.

` + anchorsHelp,
		examples: `  ndn-invoke describe /example/calc
  ndn-invoke describe /example/calc --json | jq '.methods[].name'`,
	},
	"health": {
		args: "SERVICE",
		text: `Prints SERVING or NOT_SERVING (from SERVICE/_health). Exit status 0 when
SERVING; 78 (64 + Unavailable) when NOT_SERVING or when no valid answer
came, with the reason on stderr; 1 on local errors.

` + anchorsHelp,
		examples: `  ndn-invoke health /example/calc --timeout 2s && echo up`,
	},
	"list": {
		args: "",
		text: `Lists the services reachable through the local forwarder: it reads the
forwarder's routes (/localhost/nfd/rib/list), asks each prefix for
PREFIX/_describe (at most --probe-timeout each, 16 at a time) and prints
those that answer, with their version and number of methods. VERIFIED says
whether the description's signature checked out against the trust anchors.
With --json, prints a JSON array.

` + anchorsHelp,
		examples: `  ndn-invoke list
  ndn-invoke list --json --probe-timeout 2s`,
	},
}

// newRPCFlags returns the flag set of an rpc command, filling o.
func newRPCFlags(cmd string, o *rpcOptions) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	timeout := 10 * time.Second
	if cmd == "health" {
		timeout = 5 * time.Second
	}
	usage := fmt.Sprintf("give up after this `duration`, connecting included (default %s)", timeout)
	if cmd == "call" {
		usage = fmt.Sprintf("give up on the call after this `duration`, connecting included (default %s); a stream or --wait "+
			"then runs until it ends or Ctrl-C, unless --timeout is given", timeout)
	}
	fs.DurationVar(&o.timeout, "timeout", timeout, usage)
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` to verify replies with (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print stable JSON for scripts")
	if cmd == "call" {
		fs.StringVar(&o.keychain, "keychain", "", "the caller's keychain: `dir://PATH`, or a .key/.pem file")
		fs.StringVar(&o.identity, "identity", "", "`NAME` of the identity to sign with, when the keychain holds several")
		fs.IntVar(&o.retries, "retries", 2, "retry an Unavailable call up to `N` times (default 2; 0: never)")
		fs.Var(&o.headers, "H", "send metadata `key=value` with the call (repeatable)")
		fs.BoolVar(&o.public, "public", false, "unsigned, cacheable call (the method must be public)")
		fs.BoolVar(&o.raw, "raw", false, "send the request bytes as they are and write the reply bytes as they are (codec raw)")
		fs.BoolVar(&o.wait, "wait", false, "long-running method: wait for the operation and print its result (progress on a terminal)")
		fs.BoolVar(&o.stream, "stream-in", false, "client- or bidi-streaming method: send stdin's JSON lines as the client's items")
	} else {
		fs.StringVar(&o.keychain, "keychain", "", "keychain `dir://PATH`; its anchor.cert is the default trust anchor")
	}
	if cmd == "list" {
		fs.DurationVar(&o.probe, "probe-timeout", 500*time.Millisecond, "wait this `duration` for each prefix's description (default 500ms)")
	}
	return fs
}

// printRPCHelp writes the help of an rpc command.
func printRPCHelp(cmd string, out io.Writer) {
	h := rpcHelps[cmd]
	var o rpcOptions
	fs := newRPCFlags(cmd, &o)
	args := h.args
	if args != "" {
		args += " "
	}
	fmt.Fprintf(out, "Usage: ndn-invoke %s %s[flags]\n\n%s\n\nFlags:\n", cmd, args, h.text)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(tw, "  %s%s %s\t%s\n", dash, f.Name, arg, usage)
	})
	tw.Flush()
	fmt.Fprintf(out, "\nExamples:\n%s\n", h.examples)
}

// parseRPC parses an rpc command's flags and checks its argument count;
// --help prints the command's help and returns errHelpShown.
func parseRPC(cmd string, args []string, minArgs, maxArgs int, out io.Writer) (*rpcOptions, *flag.FlagSet, error) {
	o := &rpcOptions{}
	fs := newRPCFlags(cmd, o)
	if err := parseRange(fs, args, minArgs, maxArgs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printRPCHelp(cmd, out)
			return nil, nil, errHelpShown
		}
		return nil, nil, err
	}
	if o.timeout <= 0 || (cmd == "list" && o.probe <= 0) || o.retries < 0 {
		return nil, nil, fmt.Errorf("%w: %s: timeouts must be positive and --retries not negative", errUsage, cmd)
	}
	return o, fs, nil
}

// errHelpShown ends a command whose --help was printed; it exits 0.
var errHelpShown = errors.New("help shown")

// parseName parses an NDN name argument with at least minLen components.
func parseName(what, s string, minLen int) (enc.Name, error) {
	n, err := nameFromStr(s)
	if err != nil || len(n) < minLen || !strings.HasPrefix(s, "/") {
		example := "like /example/calc"
		if minLen > 1 {
			example = "/<service>/<method>, like /example/calc/add"
		}
		return nil, fmt.Errorf("%w: %s must be an NDN name %s, got %q", errUsage, what, example, s)
	}
	return n, nil
}

// nameFromStr is enc.NameFromStr turning its panic into an error: ndnd
// v1.5.3 panics on a component that starts with "=" (index out of range,
// std/encoding/component.go:263).
func nameFromStr(s string) (n enc.Name, err error) {
	defer func() {
		if recover() != nil {
			n, err = nil, fmt.Errorf("bad name %q", s)
		}
	}()
	return enc.NameFromStr(s)
}

// anchorFiles resolves the trust anchor files (see anchorsHelp). keychain
// is the keychain URI in use ("" for none).
func anchorFiles(o *rpcOptions, keychain string) ([]string, error) {
	if len(o.anchors) > 0 {
		return o.anchors, nil
	}
	if env := os.Getenv("NDN_INVOKE_ANCHORS"); env != "" {
		var files []string
		for _, p := range filepath.SplitList(env) {
			if p == "" {
				continue
			}
			st, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("NDN_INVOKE_ANCHORS: %w", err)
			}
			if !st.IsDir() {
				files = append(files, p)
				continue
			}
			m, _ := filepath.Glob(filepath.Join(p, "*.cert")) // the pattern is valid
			files = append(files, m...)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("NDN_INVOKE_ANCHORS=%s holds no .cert file", env)
		}
		return files, nil
	}
	if dir, ok := cutPrefix(keychain, "dir://"); ok && dir != "" {
		p := filepath.Join(dir, "anchor.cert")
		if _, err := os.Stat(p); err == nil {
			return []string{p}, nil
		}
	}
	return nil, nil
}

// errNoAnchors explains how to give the trust anchors that replies need.
var errNoAnchors = errors.New("no trust anchor to verify replies with: pass --anchor FILE (the certificate " +
	"of the anchor that issued the service's key, as written by `ndn-invoke key anchor NAME --out FILE` or " +
	"`ndn-invoke key cert NAME`), set NDN_INVOKE_ANCHORS, or copy it to anchor.cert in your keychain directory")

// loadCallIdentity returns the identity that signs a call, or an error that
// says how to get one.
func loadCallIdentity(o *rpcOptions, kc string, explicit bool) (*security.Identity, error) {
	var name enc.Name
	if o.identity != "" {
		n, err := parseName("--identity", o.identity, 1)
		if err != nil {
			return nil, err
		}
		name = n
	}
	if !explicit {
		dir, _ := cutPrefix(kc, "dir://")
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("this call must be signed, but there is no keychain at %s: make an identity with "+
				"`ndn-invoke key issue NAME --issuer ANCHOR`, pass --keychain, or use --public for a public method", kc)
		}
	}
	var id *security.Identity
	var err error
	if strings.Contains(kc, "://") {
		id, err = security.LoadIdentity(kc, name)
	} else {
		id, err = security.LoadIdentityFile(kc)
	}
	if err != nil {
		if errors.Is(err, security.ErrNoIdentity) && name == nil {
			return nil, fmt.Errorf("%w (choose one with --identity NAME)", err)
		}
		return nil, err
	}
	return id, nil
}

// rpcSession is a connected node for one command.
type rpcSession struct {
	node     *ndnx.Node
	client   *rpc.Client
	anchored bool // trust anchors were loaded
}

// connect resolves anchors (required unless optional) and connects a node
// signing with id (nil: unsigned).
func connect(ctx context.Context, o *rpcOptions, kc string, id *security.Identity, anchorsOptional bool, stderr io.Writer) (*rpcSession, error) {
	files, err := anchorFiles(o, kc)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 && !anchorsOptional {
		return nil, errNoAnchors
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	node, err := ndnx.Connect(ctx, ndnx.Config{Identity: id, AnchorFiles: files, Logger: log})
	if err != nil {
		if errors.Is(err, ndnx.ErrNoForwarder) {
			return nil, fmt.Errorf("%w\nTo start one here, run `ndn-invoke forwarder` in another shell and export the "+
				"NDN_CLIENT_TRANSPORT it prints", err)
		}
		return nil, err
	}
	client, err := rpc.NewClient(node, rpc.ClientConfig{Logger: log})
	if err != nil {
		node.Close()
		return nil, err
	}
	return &rpcSession{node: node, client: client, anchored: len(files) > 0}, nil
}

// commandContext is the command's context: it ends on SIGINT/SIGTERM or
// after timeout.
func commandContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(sctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// maxRequest bounds a request read from stdin (the server's default limit).
const maxRequest = 64 << 20

// callEnvelope is call --json's output; its fields are stable.
type callEnvelope struct {
	Name     string          `json:"name"`
	Code     string          `json:"code"`
	Message  string          `json:"message,omitempty"`
	Reply    json.RawMessage `json:"reply,omitempty"`
	Metadata rpc.Metadata    `json:"metadata"`
}

func cmdCall(args []string, stdin io.Reader, out, stderr io.Writer) error {
	o, fs, err := parseRPC("call", args, 1, 2, out)
	if err != nil {
		return err
	}
	name, err := parseName("NAME", fs.Arg(0), 2)
	if err != nil {
		return err
	}
	if o.raw && o.json {
		return fmt.Errorf("%w: call: --raw and --json do not go together (raw replies are not JSON)", errUsage)
	}
	if o.stream && (o.raw || o.public || fs.Arg(1) == "-") {
		return fmt.Errorf("%w: call: --stream-in reads the items from stdin as JSON lines: it takes no --raw, --public or - request", errUsage)
	}
	md := rpc.Metadata{}
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return fmt.Errorf("%w: call: -H wants key=value, got %q", errUsage, h)
		}
		md.Append(k, v)
	}
	body, err := requestBody(fs, stdin, o.raw)
	if err != nil {
		return err
	}

	kc, explicit := o.keychain, o.keychain != ""
	if !explicit {
		kc = defaultKeychain()
	}
	var id *security.Identity
	if !o.public {
		if id, err = loadCallIdentity(o, kc, explicit); err != nil {
			return err
		}
	}
	// --timeout bounds the call. What follows a call — a stream's items
	// (tail -f), the operation --wait waits for — runs until it ends or
	// Ctrl-C, unless --timeout was given: then it bounds everything.
	explicitTimeout := false
	fs.Visit(func(f *flag.Flag) { explicitTimeout = explicitTimeout || f.Name == "timeout" })
	whole := o.timeout
	if !explicitTimeout {
		whole = 100 * 365 * 24 * time.Hour
	}
	ctx, cancel := commandContext(whole)
	defer cancel()
	cctx, ccancel := context.WithTimeout(ctx, o.timeout)
	s, err := connect(cctx, o, kc, id, false, stderr)
	ccancel()
	if err != nil {
		return err
	}
	defer s.node.Close()

	var replyMD rpc.Metadata
	cc := &rpc.CallConfig{Public: o.public, Metadata: md, ReplyMetadata: &replyMD, MaxAttempts: o.retries + 1, AttemptTimeout: o.timeout}
	if o.stream {
		return streamIn(ctx, s, name, body, cc, stdin, out, o.timeout)
	}
	var reply []byte
	var res *rpc.Result
	if o.raw {
		cc.Codec = codec.Raw{}
		res, err = s.client.Invoke(ctx, name, body, cc)
	} else {
		res, err = s.client.Invoke(ctx, name, json.RawMessage(body), cc)
	}
	if err == nil && res.Stream != nil {
		return printStream(ctx, res.Stream, out, o.raw, name, s, o.timeout)
	}
	if err == nil && res.Operation != nil {
		if !o.wait {
			return writeJSON(out, res.Operation)
		}
		return waitOp(ctx, s, res.Operation.Name, o.json, out, stderr)
	}
	if err == nil {
		reply = res.Payload
	}
	if err != nil {
		if o.json {
			st := status.Convert(err)
			_ = writeJSON(out, callEnvelope{Name: name.String(), Code: st.Code.String(), Message: st.Message, Metadata: rpc.Metadata{}})
		}
		return rpcExit(err, callHint(err, name, s, o.timeout))
	}
	if o.raw {
		_, err = out.Write(reply)
		return err
	}
	if len(reply) == 0 {
		reply = []byte("null")
	}
	if o.json {
		if replyMD == nil {
			replyMD = rpc.Metadata{}
		}
		return writeJSON(out, callEnvelope{Name: name.String(), Code: codes.OK.String(), Reply: reply, Metadata: replyMD})
	}
	return writeJSON(out, json.RawMessage(reply))
}

// printStream writes a server stream's items as they arrive: JSON lines
// (raw bytes with --raw). It ends at the end of the stream (exit 0), or
// with the stream's error status.
func printStream(ctx context.Context, st *rpc.Stream, out io.Writer, raw bool, name enc.Name, s *rpcSession, timeout time.Duration) error {
	defer st.Close()
	items := 0
	for {
		b, err := st.RecvRaw()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if items > 0 && status.Code(err) == codes.DeadlineExceeded {
				return rpcExit(err, fmt.Sprintf("(--timeout %s ended the stream; without --timeout it runs until it ends or Ctrl-C)", timeout))
			}
			return rpcExit(err, callHint(err, name, s, timeout))
		}
		items++
		if !raw {
			var buf bytes.Buffer
			if json.Compact(&buf, b) == nil {
				b = buf.Bytes()
			}
			b = append(b, '\n')
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
}

// streamIn calls a client- or bidirectional-streaming method: it sends
// each non-blank line of stdin (JSON) as an item, ends the client's stream
// at EOF, and prints the server's items as JSON lines as they arrive. It
// ends with the server's stream (exit 0), or with its error status.
func streamIn(ctx context.Context, s *rpcSession, name enc.Name, body []byte, cc *rpc.CallConfig, stdin io.Reader, out io.Writer, timeout time.Duration) error {
	d, err := s.client.BidiStreamName(ctx, name, json.RawMessage(body), cc)
	if err != nil {
		return rpcExit(err, callHint(err, name, s, timeout))
	}
	defer d.Close()
	sent := make(chan error, 1)
	go func() { // awaited below, unless it is blocked reading the process's stdin
		err := sendLines(d, stdin)
		sent <- err
		if err != nil {
			d.Close() // stops the Recv below
		}
	}()
	var recvErr error
	for {
		b, err := d.RecvRaw()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				recvErr = err
			}
			break
		}
		var buf bytes.Buffer
		if json.Compact(&buf, b) == nil {
			b = buf.Bytes()
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	d.Close() // a sender still sending stops
	var sendErr error
	if _, ok := stdin.(*os.File); ok {
		// A read of the real stdin cannot be interrupted; the process
		// exits soon, which ends it.
		select {
		case sendErr = <-sent:
		default:
		}
	} else {
		sendErr = <-sent
	}
	if sendErr != nil {
		return sendErr
	}
	if recvErr != nil {
		return rpcExit(recvErr, callHint(recvErr, name, s, timeout))
	}
	return nil
}

// sendLines streams stdin's JSON lines with d and ends d's stream at EOF.
// It returns nil also when the server ended the stream first (its outcome
// comes with the server's items).
func sendLines(d *rpc.Duplex, stdin io.Reader) error {
	r := bufio.NewReader(stdin)
	for line := 1; ; line++ {
		b, rerr := r.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fmt.Errorf("read items from stdin: %w", rerr)
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, t); err != nil {
				return fmt.Errorf("%w: call: stdin line %d is not valid JSON (%v): --stream-in wants one JSON item per line", errUsage, line, err)
			}
			if err := d.SendRaw(buf.Bytes()); err != nil {
				if errors.Is(err, rpc.ErrStreamClosed) {
					return nil
				}
				return rpcExit(err, "")
			}
		}
		if rerr != nil {
			return d.CloseSend()
		}
	}
}

// requestBody returns the request: the second argument, stdin for "-", or
// the default ({} for JSON, nothing for raw). A JSON request must be valid.
func requestBody(fs *flag.FlagSet, stdin io.Reader, raw bool) ([]byte, error) {
	var body []byte
	switch arg := fs.Arg(1); {
	case fs.NArg() < 2:
		if !raw {
			body = []byte("{}")
		}
	case arg == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, maxRequest+1))
		if err != nil {
			return nil, fmt.Errorf("read request from stdin: %w", err)
		}
		if len(b) > maxRequest {
			return nil, fmt.Errorf("request on stdin is larger than %d bytes", maxRequest)
		}
		body = b
	default:
		body = []byte(arg)
	}
	if raw {
		return body, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte("{}"), nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: call: the request is not valid JSON (%v); use --raw to send bytes as they are", errUsage, err)
	}
	return body, nil
}

// callHint suggests a fix for the errors newcomers meet first.
func callHint(err error, name enc.Name, s *rpcSession, timeout time.Duration) string {
	switch status.Code(err) {
	case codes.Unavailable:
		return fmt.Sprintf("(is the service %s running and connected to the forwarder at %s? `ndn-invoke list` shows the services it reaches)",
			name.Prefix(-1), s.node.Transport())
	case codes.DeadlineExceeded:
		return fmt.Sprintf("(no reply within --timeout %s: the service %s may be slow, or not running or not connected to the "+
			"forwarder at %s; `ndn-invoke list` shows the services it reaches)", timeout, name.Prefix(-1), s.node.Transport())
	case codes.Unauthenticated:
		if strings.Contains(status.Convert(err).Message, "reply from") {
			return "(the reply's signature did not check out: is --anchor the anchor that issued the service's key?)"
		}
	}
	return ""
}

// writeJSON writes v as JSON and a newline, indented on a terminal.
func writeJSON(out io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if isTerminal(out) {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// serviceCommand parses `CMD SERVICE` and its flags, connects, and runs f;
// describe and health share it.
func serviceCommand(cmd string, args []string, out, stderr io.Writer,
	f func(ctx context.Context, o *rpcOptions, s *rpcSession, svc enc.Name) error) error {
	o, fs, err := parseRPC(cmd, args, 1, 1, out)
	if err != nil {
		return err
	}
	svc, err := parseName("SERVICE", fs.Arg(0), 1)
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(o.timeout)
	defer cancel()
	s, err := connect(ctx, o, keychainOrDefault(o), nil, false, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	return f(ctx, o, s, svc)
}

func cmdDescribe(args []string, out, stderr io.Writer) error {
	return serviceCommand("describe", args, out, stderr, func(ctx context.Context, o *rpcOptions, s *rpcSession, svc enc.Name) error {
		return describe(ctx, o, s, svc, out)
	})
}

func describe(ctx context.Context, o *rpcOptions, s *rpcSession, svc enc.Name, out io.Writer) error {
	d, err := s.client.Describe(ctx, svc)
	if err != nil {
		return rpcExit(err, "")
	}
	if o.json {
		return writeJSON(out, d)
	}
	return printDescription(out, d)
}

func keychainOrDefault(o *rpcOptions) string {
	if o.keychain != "" {
		return o.keychain
	}
	return defaultKeychain()
}

// printDescription writes d as a table.
func printDescription(out io.Writer, d *rpc.Description) error {
	fmt.Fprintf(out, "service %s", d.Service)
	if d.Version != "" {
		fmt.Fprintf(out, " (version %s)", d.Version)
	}
	fmt.Fprintf(out, ", %d method(s)\n\n", len(d.Methods))
	hasDesc := false
	for _, m := range d.Methods {
		hasDesc = hasDesc || m.Description != ""
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	head := "METHOD\tPUBLIC\tCACHE TTL\tIDEMPOTENT\tREQUEST"
	if hasDesc {
		head += "\tDESCRIPTION"
	}
	fmt.Fprintln(tw, head)
	for _, m := range d.Methods {
		ttl := "-"
		if m.CacheTTLMillis > 0 {
			ttl = (time.Duration(m.CacheTTLMillis) * time.Millisecond).String()
		}
		req := "-"
		if m.Request != nil {
			if b, err := json.Marshal(m.Request); err == nil {
				req = string(b)
			}
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", m.Name, yesNo(m.Public), ttl, yesNo(m.Idempotent), req)
		if hasDesc {
			line += "\t" + m.Description
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// healthReport is health --json's output.
type healthReport struct {
	Service string `json:"service"`
	Status  string `json:"status"` // SERVING, NOT_SERVING or UNKNOWN (no valid answer)
	Message string `json:"message,omitempty"`
}

func cmdHealth(args []string, out, stderr io.Writer) error {
	return serviceCommand("health", args, out, stderr, func(ctx context.Context, o *rpcOptions, s *rpcSession, svc enc.Name) error {
		return health(ctx, o, s, svc, out)
	})
}

func health(ctx context.Context, o *rpcOptions, s *rpcSession, svc enc.Name, out io.Writer) error {
	h, err := s.client.Health(ctx, svc)
	unhealthy := &exitError{code: exitRPC + int(codes.Unavailable)}
	if err != nil {
		if o.json {
			_ = writeJSON(out, healthReport{Service: svc.String(), Status: "UNKNOWN", Message: status.Convert(err).Message})
		}
		unhealthy.msg = rpcExit(err, "").msg
		return unhealthy
	}
	if o.json {
		err = writeJSON(out, healthReport{Service: svc.String(), Status: h})
	} else {
		_, err = fmt.Fprintln(out, h)
	}
	if err != nil {
		return err
	}
	if h != "SERVING" {
		return unhealthy
	}
	return nil
}

// listedService is one line of list's output (a JSON array element with --json).
type listedService struct {
	Service  string `json:"service"`
	Version  string `json:"version,omitempty"`
	Methods  int    `json:"methods"`
	Verified bool   `json:"verified"`
}

// probeConcurrency bounds list's concurrent _describe probes.
const probeConcurrency = 16

func cmdList(args []string, out, stderr io.Writer) error {
	o, _, err := parseRPC("list", args, 0, 0, out)
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(o.timeout)
	defer cancel()
	s, err := connect(ctx, o, keychainOrDefault(o), nil, true, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	prefixes, err := ribPrefixes(ctx, s.node)
	if err != nil {
		return fmt.Errorf("read the forwarder's routes: %w", err)
	}

	found := make([]*listedService, len(prefixes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeConcurrency)
	for i, p := range prefixes {
		wg.Add(1)
		sem <- struct{}{}
		go func() { // awaited below
			defer wg.Done()
			defer func() { <-sem }()
			found[i] = probe(ctx, s, p, o.probe)
		}()
	}
	wg.Wait()
	list := []*listedService{}
	for _, f := range found {
		if f != nil {
			list = append(list, f)
		}
	}
	if o.json {
		return writeJSON(out, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(stderr, "no service answered among the %d route(s) of the forwarder at %s\n", len(prefixes), s.node.Transport())
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tVERSION\tMETHODS\tVERIFIED")
	for _, l := range list {
		v := l.Version
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", l.Service, v, l.Methods, yesNo(l.Verified))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !s.anchored {
		fmt.Fprintln(stderr, "(no trust anchor given: descriptions were not verified; see `ndn-invoke help list`)")
	}
	return nil
}

// probe fetches prefix/_describe; nil when nothing usable answers in time.
func probe(ctx context.Context, s *rpcSession, prefix enc.Name, timeout time.Duration) *listedService {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := prefix.Append(enc.NewGenericComponent("_describe"))
	d, err := s.node.Fetch(ctx, name, false, true)
	if err != nil {
		return nil
	}
	var desc rpc.Description
	if json.Unmarshal(d.Data.Content().Join(), &desc) != nil || desc.Service == "" {
		return nil // not an ndn-invoke service
	}
	verified := false
	if s.node.Verifier() != nil {
		key, err := s.node.VerifyData(ctx, d)
		verified = err == nil && keyIdentity(key).IsPrefix(name)
	}
	return &listedService{Service: prefix.String(), Version: desc.Version, Methods: len(desc.Methods), Verified: verified}
}

// keyIdentity strips /KEY/... from a key name (the rpc client's default
// rule: a service's key lives under its name).
func keyIdentity(key enc.Name) enc.Name {
	for i := len(key) - 1; i >= 0; i-- {
		if isGeneric(key[i], "KEY") {
			return key[:i]
		}
	}
	return key
}

func isGeneric(c enc.Component, s string) bool {
	return c.Typ == enc.TypeGenericNameComponent && string(c.Val) == s
}

// ribPrefixes reads the forwarder's RIB and returns the prefixes that may be
// services: not /localhost or /localhop, no certificate (KEY) or object
// (_obj) routes; sorted and without duplicates.
func ribPrefixes(ctx context.Context, node *ndnx.Node) ([]enc.Name, error) {
	ds, err := fetchDataset(ctx, node, enc.Name{enc.NewGenericComponent("localhost"), enc.NewGenericComponent("nfd"),
		enc.NewGenericComponent("rib"), enc.NewGenericComponent("list")})
	if err != nil {
		return nil, err
	}
	rib, err := mgmt.ParseRibStatus(enc.NewBufferView(ds), true)
	if err != nil {
		return nil, fmt.Errorf("bad RIB dataset: %w", err)
	}
	seen := map[string]bool{}
	var out []enc.Name
next:
	for _, e := range rib.Entries {
		if len(e.Name) == 0 || isGeneric(e.Name[0], "localhost") || isGeneric(e.Name[0], "localhop") {
			continue
		}
		for _, c := range e.Name {
			if isGeneric(c, "KEY") || isGeneric(c, "_obj") {
				continue next
			}
		}
		if k := e.Name.TlvStr(); !seen[k] {
			seen[k] = true
			out = append(out, e.Name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// maxDatasetSegments bounds a status dataset (each segment is up to ~8 KB).
const maxDatasetSegments = 1024

// fetchDataset fetches a management status dataset: a segmented object
// with no RDR metadata, the first segment found by prefix. Segments must
// carry the local forwarder's DigestSha256 signature, as management replies
// do (ndn.Node checks the same for commands).
func fetchDataset(ctx context.Context, node *ndnx.Node, name enc.Name) ([]byte, error) {
	d, err := node.Fetch(ctx, name, true, true)
	if err != nil {
		return nil, err
	}
	var buf []byte
	for seg := uint64(1); ; seg++ {
		if !sig.ValidateSha256(d.SigCovered, d.Data.Signature()) {
			return nil, fmt.Errorf("%s: not signed by the local forwarder", d.Data.Name())
		}
		buf = append(buf, d.Data.Content().Join()...)
		dn := d.Data.Name()
		if len(dn) == 0 || !dn[len(dn)-1].IsSegment() {
			return buf, nil // one unsegmented packet
		}
		if f, ok := d.Data.FinalBlockID().Get(); !ok || f.Equal(dn[len(dn)-1]) {
			return buf, nil
		}
		if seg >= maxDatasetSegments {
			return nil, fmt.Errorf("%s: more than %d segments", name, maxDatasetSegments)
		}
		next := dn.Prefix(-1).Append(enc.NewSegmentComponent(seg))
		if d, err = node.Fetch(ctx, next, false, false); err != nil {
			return nil, err
		}
	}
}
