package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// sampleConfig is printed by --sample-config; it documents every key.
const sampleConfig = `# ndn-repo configuration (flags override these keys).
repo:
  # [required] the repo's name: commands go to /<name>/<verb>, and the
  # ndnd (<name>/cmd) and ndn-python-repo (<name>/insert ...) protocols too.
  name: /example/repo
  # where the store (store.db) and an embedded forwarder (fw/) live
  storage_dir: /var/lib/ndn-repo
  # keychain holding the repo's identity (dir://PATH, as ndnd sec and
  # ndn-invoke key use); default $NDN_INVOKE_KEYCHAIN, else ~/.ndn-invoke/keys
  keychain: "dir:///etc/ndn/repo/keys"
  # identity in the keychain; default: the repo name
  identity: /example/repo
  # [required] trust anchor certificate files: identities certified under
  # them may command the repo (subject to policy_file)
  trust_anchors:
    - /etc/ndn/repo/anchor.cert
  # optional policy (allow|deny CALLER to call /<name>/<verb>/<object...>);
  # default: every authenticated identity may do everything
  policy_file: ""
  # verify every inserted packet against the trust anchors (default false:
  # packets are kept as signed, consumers verify)
  verify_data: false
  # serve Prometheus metrics over HTTP on this address (loopback advised)
  metrics: ""
  # front ends for other repos' clients
  ndnd_protocol: true
  pyrepo_protocol: true
  # answer unsigned ndn-python-repo status checks (NDNts sends them so)
  pyrepo_public_status: true
  # cache entries (repo/store): byte bound and default lifetime
  cache_max_bytes: 268435456
  cache_ttl: 1h
  # insert jobs fetching at once
  max_jobs: 8
`

// fileConfig is the YAML file's shape (top-level key "repo", as ndnd's
// repo.sample.yml).
type fileConfig struct {
	Repo daemonConfig `yaml:"repo"`
}

// daemonConfig is the daemon's settings, from the file and then flags.
type daemonConfig struct {
	Name               string        `yaml:"name"`
	StorageDir         string        `yaml:"storage_dir"`
	Keychain           string        `yaml:"keychain"`
	Identity           string        `yaml:"identity"`
	TrustAnchors       []string      `yaml:"trust_anchors"`
	PolicyFile         string        `yaml:"policy_file"`
	VerifyData         bool          `yaml:"verify_data"`
	Metrics            string        `yaml:"metrics"`
	NdndProtocol       *bool         `yaml:"ndnd_protocol"`
	PyrepoProtocol     *bool         `yaml:"pyrepo_protocol"`
	PyrepoPublicStatus *bool         `yaml:"pyrepo_public_status"`
	CacheMaxBytes      int64         `yaml:"cache_max_bytes"`
	CacheTTL           time.Duration `yaml:"cache_ttl"`
	MaxJobs            int           `yaml:"max_jobs"`
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// loadConfig parses flags (and the --config file they name) into a
// daemonConfig. Flags given on the command line override the file.
func loadConfig(args []string) (daemonConfig, bool, error) {
	fs := flag.NewFlagSet("ndn-repo", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ndn-repo [--config FILE] [flags]\n\n"+
			"The NDN repo daemon: stores signed Data durably and serves it; takes insert,\n"+
			"delete and sync-join commands from ndn-invoke, ndnd and ndn-python-repo clients.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	cfgFile := fs.String("config", "", "YAML configuration file (see --sample-config)")
	sample := fs.Bool("sample-config", false, "print a sample configuration file and exit")
	var c daemonConfig
	var anchors stringList
	fs.StringVar(&c.Name, "prefix", "", "the repo's name, e.g. /example/repo")
	fs.StringVar(&c.StorageDir, "data-dir", "", "data directory (default "+filepath.Join(os.TempDir(), "ndn-repo")+")")
	fs.StringVar(&c.Keychain, "keychain", "", "keychain holding the repo's identity (dir://PATH)")
	fs.StringVar(&c.Identity, "identity", "", "identity in the keychain (default: the prefix)")
	fs.Var(&anchors, "anchor", "trust anchor certificate file (repeatable)")
	fs.StringVar(&c.PolicyFile, "policy", "", "authorization policy file")
	fs.BoolVar(&c.VerifyData, "verify-data", false, "verify inserted packets against the trust anchors")
	fs.StringVar(&c.Metrics, "metrics", "", "serve Prometheus metrics on ADDR (e.g. 127.0.0.1:9464)")
	noNdnd := fs.Bool("no-ndnd-protocol", false, "do not serve ndnd's repo command protocol")
	noPy := fs.Bool("no-pyrepo-protocol", false, "do not serve the ndn-python-repo protocol")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if *sample {
		fmt.Print(sampleConfig)
		return c, true, nil
	}
	var out daemonConfig
	if *cfgFile != "" {
		b, err := os.ReadFile(*cfgFile)
		if err != nil {
			return c, false, err
		}
		var fc fileConfig
		if err := yaml.UnmarshalWithOptions(b, &fc, yaml.Strict()); err != nil {
			return c, false, fmt.Errorf("%s: %s", *cfgFile, yaml.FormatError(err, false, true))
		}
		out = fc.Repo
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	override := func(flagName string, dst *string, v string) {
		if set[flagName] {
			*dst = v
		}
	}
	override("prefix", &out.Name, c.Name)
	override("data-dir", &out.StorageDir, c.StorageDir)
	override("keychain", &out.Keychain, c.Keychain)
	override("identity", &out.Identity, c.Identity)
	override("policy", &out.PolicyFile, c.PolicyFile)
	override("metrics", &out.Metrics, c.Metrics)
	if set["verify-data"] {
		out.VerifyData = c.VerifyData
	}
	if len(anchors) > 0 {
		out.TrustAnchors = anchors
	}
	f := false
	if *noNdnd {
		out.NdndProtocol = &f
	}
	if *noPy {
		out.PyrepoProtocol = &f
	}
	if out.StorageDir == "" {
		out.StorageDir = filepath.Join(os.TempDir(), "ndn-repo")
	}
	if out.Keychain == "" {
		out.Keychain = os.Getenv("NDN_INVOKE_KEYCHAIN")
	}
	if out.Keychain == "" {
		if home, err := os.UserHomeDir(); err == nil {
			out.Keychain = "dir://" + filepath.Join(home, ".ndn-invoke", "keys")
		}
	}
	if out.Identity == "" {
		out.Identity = out.Name
	}
	var errs []error
	if out.Name == "" {
		errs = append(errs, errors.New("the repo needs a name: --prefix /example/repo (or repo.name in --config)"))
	}
	if len(out.TrustAnchors) == 0 {
		errs = append(errs, errors.New("the repo needs a trust anchor, whose identities may command it: --anchor FILE (make one with `ndn-invoke key anchor /example --out anchor.cert`)"))
	}
	return out, false, errors.Join(errs...)
}
