// Command ndn-invoke is the command-line client of ndn-invoke: it calls
// services (call, describe, health, list), follows operations (op),
// publishes and subscribes (pub, sub), joins groups (members, event,
// query), fetches objects, commands repos, manages keys and runs a local
// forwarder.
//
// Exit status: 0 on success; 64 + the status code when a call ends with an
// RPC error (see `ndn-invoke help call`); 2 on bad usage; 1 on local errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/object/storage"
	"github.com/named-data/ndnd/std/security/keychain"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

const usage = `ndn-invoke: service invocation over Named Data Networking

Usage:
  ndn-invoke call NAME [JSON|-]                call /<service>/<method>, print the reply's JSON
  ndn-invoke describe SERVICE                  show a service's methods and request shapes
  ndn-invoke health SERVICE                    print SERVING or NOT_SERVING (exit 0 or 78)
  ndn-invoke list                              list the services the local forwarder reaches
  ndn-invoke op get|wait|cancel|delete NAME    read, wait for, cancel or delete a long-running operation
  ndn-invoke op list SERVICE                   list a service's operations (from its repo)
  ndn-invoke members GROUP                     list a group's members (svs), with status
  ndn-invoke event GROUP NAME PAYLOAD          send an event to a group's members
  ndn-invoke query GROUP NAME PAYLOAD          ask a group's members; print their answers
  ndn-invoke pub TOPIC MSG|-                   publish MSG (or each line of stdin) on a topic; linger until fetched
  ndn-invoke sub TOPIC                         print the messages published on a topic or topic prefix
  ndn-invoke fetch NAME [-o FILE]              fetch a segmented object (newest version), verified
  ndn-invoke repo insert|delete|list|status|join|leave|stats --repo PREFIX ...
                                               command a repo (ndn-repo); see ndn-invoke repo help
  ndn-invoke forwarder [--dir DIR]             run an NDN forwarder (ndnd) until interrupted
  ndn-invoke key anchor NAME [--out FILE]      make a trust anchor (self-signed) in the keychain
  ndn-invoke key issue NAME --issuer NAME      make a key for NAME certified by an identity in the keychain
  ndn-invoke key list                          list the keychain's identities and certificates
  ndn-invoke key cert NAME [--out FILE]        print NAME's certificate (to give to verifiers as an anchor)
  ndn-invoke version
  ndn-invoke help [COMMAND]                    show a command's flags and examples (or COMMAND --help)

Calls exit with 64 + the status code on an RPC error (67 InvalidArgument,
71 PermissionDenied, 76 Unimplemented, 78 Unavailable, ...), 2 on bad usage
and 1 on local errors. Key commands take --keychain dir://PATH (default $NDN_INVOKE_KEYCHAIN, else
dir://$HOME/.ndn-invoke/keys); ndnd's "ndnd sec" reads the same format.
Programs find the forwarder through NDN_CLIENT_TRANSPORT or client.conf.
`

func main() {
	os.Exit(cli(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// cli runs the command in args and returns its exit status, printing the
// error, if any, on stderr: an *exitError (an RPC outcome) exits with its
// code and message as they are; a usage error with 2 and a pointer to help;
// anything else (a local error) with 1.
func cli(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := runIO(args, stdin, stdout, stderr)
	var xe *exitError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &xe):
		if xe.msg != "" {
			fmt.Fprintln(stderr, xe.msg)
		}
		return xe.code
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "ndn-invoke:", err)
		if len(args) > 0 && (rpcHelps[args[0]].text != "" || args[0] == "op" || args[0] == "repo" || args[0] == "fetch" ||
			args[0] == "members" || args[0] == "event" || args[0] == "query" || args[0] == "pub" || args[0] == "sub") {
			fmt.Fprintf(stderr, "Run `ndn-invoke help %s` for its flags and examples.\n", args[0])
		} else {
			fmt.Fprint(stderr, "\n"+usage)
		}
		return 2
	default:
		fmt.Fprintln(stderr, "ndn-invoke:", err)
		return 1
	}
}

var errUsage = errors.New("bad usage")

// run runs a command with the process's stdin and stderr.
func run(args []string, out io.Writer) error {
	return runIO(args, os.Stdin, out, os.Stderr)
}

func runIO(args []string, stdin io.Reader, out, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	switch args[0] {
	case "call":
		return cmdCall(args[1:], stdin, out, stderr)
	case "describe":
		return cmdDescribe(args[1:], out, stderr)
	case "health":
		return cmdHealth(args[1:], out, stderr)
	case "list":
		return cmdList(args[1:], out, stderr)
	case "fetch":
		return cmdFetch(args[1:], out, stderr)
	case "repo":
		return cmdRepo(args[1:], out, stderr)
	case "op":
		return cmdOp(args[1:], out, stderr)
	case "members", "event", "query":
		return cmdGroup(args[0], args[1:], stdin, out, stderr)
	case "pub", "sub":
		return cmdPubSub(args[0], args[1:], stdin, out, stderr)
	case "forwarder":
		return cmdForwarder(args[1:], out)
	case "key":
		if len(args) < 2 {
			return fmt.Errorf("%w: key needs a subcommand", errUsage)
		}
		return cmdKey(args[1], args[2:], out)
	case "version":
		fmt.Fprintln(out, "ndn-invoke (dev), on ndnd v1.5.3")
		return nil
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] == "repo" {
			fmt.Fprint(out, repoHelp)
			return nil
		}
		if len(args) > 1 && args[1] == "op" {
			fmt.Fprint(out, opHelp)
			return nil
		}
		if len(args) > 1 && (args[1] == "members" || args[1] == "event" || args[1] == "query") {
			fmt.Fprint(out, groupHelp)
			return nil
		}
		if len(args) > 1 && (args[1] == "pub" || args[1] == "sub") {
			printPubSubHelp(out)
			return nil
		}
		if len(args) > 1 && args[1] == "fetch" {
			fmt.Fprint(out, fetchHelp)
			return nil
		}
		if len(args) > 1 && args[1] != "forwarder" && args[1] != "key" && args[1] != "version" {
			if _, ok := rpcHelps[args[1]]; !ok {
				return fmt.Errorf("%w: no help for %q (commands with their own help: call, describe, health, list, op, repo, fetch, members, event, query, pub, sub)", errUsage, args[1])
			}
			printRPCHelp(args[1], out)
			return nil
		}
		fmt.Fprint(out, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}

func cmdForwarder(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("forwarder", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "ndn-invoke-fw"), "directory for the socket, config and log")
	level := fs.String("log-level", "WARN", "forwarder log level (TRACE DEBUG INFO WARN ERROR)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fw, err := ndnx.StartForwarder(ctx, ndnx.ForwarderConfig{Dir: *dir, LogLevel: *level})
	if err != nil {
		return err
	}
	defer fw.Stop()
	fmt.Fprintf(out, "forwarder running (pid %d, log %s); in another shell:\n  export NDN_CLIENT_TRANSPORT=%s\n",
		fw.Pid(), fw.LogFile(), fw.Transport())
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "stopping forwarder")
		return nil
	case <-fw.Done():
		return fmt.Errorf("forwarder exited; see %s", fw.LogFile())
	}
}

func defaultKeychain() string {
	if k := os.Getenv("NDN_INVOKE_KEYCHAIN"); k != "" {
		return k
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return "dir://" + filepath.Join(home, ".ndn-invoke", "keys")
}

func keychainDir(uri string) (string, error) {
	p, ok := cutPrefix(uri, "dir://")
	if !ok || p == "" {
		return "", fmt.Errorf("%w: --keychain must be dir://PATH, got %q", errUsage, uri)
	}
	return p, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func cmdKey(sub string, args []string, out io.Writer) error {
	switch sub {
	case "anchor", "issue", "list", "cert":
	default:
		return fmt.Errorf("%w: unknown key command %q", errUsage, sub)
	}
	fs := flag.NewFlagSet("key "+sub, flag.ContinueOnError)
	kc := fs.String("keychain", defaultKeychain(), "keychain (dir://PATH)")
	validity := fs.Duration("validity", 365*24*time.Hour, "certificate validity")
	issuer := fs.String("issuer", "", "issuing identity (key issue)")
	outFile := fs.String("out", "", "also write the certificate to this file")
	nargs := 1
	if sub == "list" {
		nargs = 0
	}
	if err := parse(fs, args, nargs); err != nil {
		return err
	}
	dir, err := keychainDir(*kc)
	if err != nil {
		return err
	}
	var name enc.Name
	if nargs == 1 {
		if name, err = nameFromStr(fs.Arg(0)); err != nil || len(name) == 0 {
			return fmt.Errorf("%w: bad name %q", errUsage, fs.Arg(0))
		}
	}
	switch sub {
	case "anchor":
		id, err := security.NewAnchor(name, *validity)
		if err != nil {
			return err
		}
		return saveAndReport(dir, id, *outFile, out)
	case "issue":
		if *issuer == "" {
			return fmt.Errorf("%w: key issue needs --issuer NAME", errUsage)
		}
		iname, err := nameFromStr(*issuer)
		if err != nil {
			return fmt.Errorf("%w: bad issuer %q", errUsage, *issuer)
		}
		parent, err := security.LoadIdentity(*kc, iname)
		if err != nil {
			return err
		}
		id, err := parent.Issue(name, *validity)
		if err != nil {
			return err
		}
		return saveAndReport(dir, id, *outFile, out)
	case "cert":
		id, err := security.LoadIdentity(*kc, name)
		if err != nil {
			return err
		}
		pem, err := id.CertPEM()
		if err != nil {
			return err
		}
		if *outFile != "" {
			return os.WriteFile(*outFile, pem, 0o644)
		}
		_, err = out.Write(pem)
		return err
	case "list":
		k, err := keychain.NewKeyChain(*kc, storage.NewMemoryStore())
		if err != nil {
			return err
		}
		ids := k.Identities()
		if len(ids) == 0 {
			fmt.Fprintf(out, "no identities in %s\n", *kc)
		}
		for _, id := range ids {
			fmt.Fprintln(out, id.Name())
			for _, key := range id.Keys() {
				fmt.Fprintln(out, "  key ", key.KeyName())
				for _, c := range key.UniqueCerts() {
					fmt.Fprintln(out, "    cert", c)
				}
			}
		}
	}
	return nil
}

func saveAndReport(dir string, id *security.Identity, outFile string, out io.Writer) error {
	if err := security.SaveIdentity(dir, id); err != nil {
		return err
	}
	fmt.Fprintf(out, "identity %s\ncert     %s\nkeychain dir://%s\n", id.Name(), id.CertName(), dir)
	if outFile != "" {
		pem, err := id.CertPEM()
		if err != nil {
			return err
		}
		if err := os.WriteFile(outFile, pem, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote    %s\n", outFile)
	}
	return nil
}

// parse parses flags given before or after the positional arguments and
// checks their count.
func parse(fs *flag.FlagSet, args []string, nargs int) error {
	return parseRange(fs, args, nargs, nargs)
}

// parseRange is parse for a command taking minArgs to maxArgs arguments.
// -h/--help gives an error matching both errUsage and flag.ErrHelp.
func parseRange(fs *flag.FlagSet, args []string, minArgs, maxArgs int) error {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %s: %w", errUsage, fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < minArgs || len(pos) > maxArgs {
		want := fmt.Sprint(minArgs)
		if maxArgs != minArgs {
			want = fmt.Sprintf("%d to %d", minArgs, maxArgs)
		}
		return fmt.Errorf("%w: %s takes %s argument(s), got %d", errUsage, fs.Name(), want, len(pos))
	}
	return fs.Parse(pos) // leaves pos as fs.Args() (no flags among them)
}
