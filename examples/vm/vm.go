package vm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Service is the service name; Method is its long-running method.
const (
	Service = "/example/vm"
	Method  = "CreateVM"
)

// DefaultRepo is the repo that keeps the operation records unless told
// otherwise.
const DefaultRepo = "/example/repo"

// StateRunning is the state of a created VM.
const StateRunning = "RUNNING"

// PolicyText is the service's authorization policy.
const PolicyText = `# /example/vm: users may create VMs.
allow /example/users/<...> to call /example/vm/CreateVM
`

// MaxNameLen bounds a VM name (a DNS label's limit).
const MaxNameLen = 63

// MaxSeconds bounds CreateRequest.Seconds (an hour).
const MaxSeconds = 3600

// CreateRequest is CreateVM's argument: the VM's name and how many seconds
// its creation takes.
type CreateRequest struct {
	Name    string `json:"name"`
	Seconds int    `json:"seconds"`
}

// VM is CreateVM's result.
type VM struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// Validate checks r against the limits of CreateVM: a name of 1 to
// MaxNameLen letters, digits and '-', not starting or ending with '-', and
// 1 to MaxSeconds seconds. Its error is an InvalidArgument status. (It
// makes CreateRequest an rpc.Validator: a bad request fails the call
// itself, before any operation starts.)
func (r CreateRequest) Validate() error {
	switch {
	case r.Name == "":
		return status.Error(codes.InvalidArgument, "a VM needs a name")
	case len(r.Name) > MaxNameLen:
		return status.Errorf(codes.InvalidArgument, "VM name longer than %d characters", MaxNameLen)
	case r.Name[0] == '-' || r.Name[len(r.Name)-1] == '-':
		return status.Errorf(codes.InvalidArgument, "VM name %q starts or ends with '-'", r.Name)
	case r.Seconds < 1 || r.Seconds > MaxSeconds:
		return status.Errorf(codes.InvalidArgument, "seconds must be 1 to %d, got %d", MaxSeconds, r.Seconds)
	}
	for _, c := range r.Name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return status.Errorf(codes.InvalidArgument, "VM name %q: only letters, digits and '-'", r.Name)
		}
	}
	return nil
}

// ErrInvalidConfig is returned by Config.Validate, Register and Start for a
// configuration that cannot work.
var ErrInvalidConfig = errors.New("vm: invalid config")

// ErrNoRepo is returned by Start when the repo does not answer.
var ErrNoRepo = errors.New("vm: the repo does not answer")

// Config configures the service. A zero field means its default.
type Config struct {
	// Tick is how long one of the request's seconds lasts, and so the
	// interval between progress records. Default 1s (tests shorten it).
	Tick time.Duration
	// Logger receives the service's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with the defaults filled in.
func DefaultConfig() Config {
	return Config{Tick: time.Second, Logger: slog.Default()}
}

// Validate reports a negative setting (ErrInvalidConfig).
func (c Config) Validate() error {
	if c.Tick < 0 {
		return fmt.Errorf("%w: Tick must not be negative", ErrInvalidConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Tick == 0 {
		c.Tick = d.Tick
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Logger = c.Logger.With("component", "vm")
	return c
}

// Register adds CreateVM to m as a long-running, Resumable method. The
// server m belongs to must have rpc.ServerConfig.Ops. Errors:
// ErrInvalidConfig, or the Mux's registration errors.
func Register(m *rpc.Mux, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s := &creator{cfg: cfg.withDefaults()}
	return rpc.LongRunning(m, Method, s.create, rpc.MethodOptions{
		Resumable:   true,
		Description: "creates a VM in `seconds` seconds (long-running; progress every second; resumed after a restart)",
	})
}

type creator struct {
	cfg Config
}

// create is CreateVM: one progress record per Tick, a final 100, and the VM.
func (s *creator) create(ctx context.Context, req CreateRequest, op *rpc.Op) (VM, error) {
	done := s.recorded(op, req.Seconds)
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for done < req.Seconds {
		select {
		case <-ctx.Done():
			return VM{}, ctx.Err()
		case <-t.C:
		}
		done++
		if done < req.Seconds {
			s.progress(ctx, op, 100*done/req.Seconds, fmt.Sprintf("creating %s: %d/%d s", req.Name, done, req.Seconds))
		}
	}
	s.progress(ctx, op, 100, "booted "+req.Name)
	return VM{Name: req.Name, State: StateRunning}, nil
}

// recorded returns how many of the creation's seconds the operation's
// record says are done: 0 for a new operation, more for one resumed after
// a restart.
func (s *creator) recorded(op *rpc.Op, seconds int) int {
	st := op.Status()
	if st.Resumed == 0 || st.Progress <= 0 {
		return 0
	}
	done := min(st.Progress, 100) * seconds / 100
	s.cfg.Logger.Info("continuing a creation from its record", "op", op.Name(), "progress", st.Progress, "seconds_done", done)
	return done
}

// progress records progress; a record that cannot be stored (the repo is
// away for a moment) does not stop the creation, the next one may land.
func (s *creator) progress(ctx context.Context, op *rpc.Op, percent int, msg string) {
	if err := op.Progress(ctx, percent, msg); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("storing a progress record failed", "op", op.Name(), "err", err)
	}
}

// Policy parses PolicyText.
func Policy() (*security.Policy, error) { return security.ParsePolicy(PolicyText) }

// Server is the vm service running on a node: an rpc.Server whose
// operation records go to a repo. Shutdown and Close also release the
// repo client; the node stays the caller's.
type Server struct {
	*rpc.Server
	repo *repo.Client
}

// Start serves Service on node (whose identity should be /example/vm) with
// PolicyText, keeping the operation records in the repo at repoPrefix
// under <Service>/_ops. It checks that the repo answers (ErrNoRepo), and
// returns once the forwarder routes the service and operations a previous
// run left unfinished are resumed. Errors: ErrNoRepo, ErrInvalidConfig,
// rpc.Server.Start's.
func Start(ctx context.Context, node *ndnx.Node, repoPrefix enc.Name, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger // for rpc and repo, which name their own component
	if logger == nil {
		logger = slog.Default()
	}
	policy, err := Policy()
	if err != nil {
		return nil, err
	}
	rc, err := repo.NewClient(node, repoPrefix, rpc.ClientConfig{Logger: logger})
	if err != nil {
		return nil, err
	}
	s := &Server{repo: rc}
	fail := func(err error) (*Server, error) {
		s.release()
		return nil, err
	}
	// Probe the repo first: without it the server's Start would wait its
	// whole ctx listing operations. Any answer will do (a policy may deny
	// stats); only silence means no repo.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = rc.Stats(pctx)
	cancel()
	if c := status.Code(err); c == codes.Unavailable || c == codes.DeadlineExceeded {
		return fail(fmt.Errorf("%w: %s: %w", ErrNoRepo, repoPrefix, err))
	}
	svc := name(Service)
	ops := append(svc.Clone(), enc.NewGenericComponent("_ops"))
	s.Server, err = rpc.NewServer(node, rpc.ServerConfig{
		Service: svc, Version: "1.0.0", Policy: policy, Logger: logger,
		Ops: &rpc.OpsConfig{Store: repo.NewOpStore(rc, ops), Prefix: ops},
	})
	if err != nil {
		return fail(err)
	}
	if err := Register(s.Mux, cfg); err != nil {
		return fail(err)
	}
	if err := s.Server.Start(ctx); err != nil {
		_ = s.Server.Close()
		return fail(err)
	}
	return s, nil
}

// Shutdown stops the service as rpc.Server.Shutdown does (creations still
// running are left for the next run, which resumes them), then releases
// the repo client. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	s.release()
	return err
}

// Close stops the service at once and releases the repo client.
// Idempotent.
func (s *Server) Close() error {
	err := s.Server.Close()
	s.release()
	return err
}

func (s *Server) release() { _ = s.repo.Close() }

// EnsureDomain returns the demo trust domain under dir (calc.EnsureDomain)
// with the identities of this example added to its service keychain on
// first use: /example/vm and the repo /example/repo.
func EnsureDomain(dir string) (calc.Domain, error) {
	d, err := calc.EnsureDomain(dir)
	if err != nil {
		return d, err
	}
	return d, errors.Join(ensureIdentity(d, Service), ensureIdentity(d, DefaultRepo))
}

// ensureIdentity issues uri under the domain's anchor into its service
// keychain unless it is there already.
func ensureIdentity(d calc.Domain, uri string) error {
	kc := "dir://" + d.ServiceKeys
	if _, err := security.LoadIdentity(kc, name(uri)); err == nil {
		return nil
	}
	anchor, err := security.LoadIdentity(kc, name("/example"))
	if err != nil {
		return fmt.Errorf("vm: the demo domain's anchor: %w", err)
	}
	id, err := anchor.Issue(name(uri), 365*24*time.Hour)
	if err != nil {
		return err
	}
	return security.SaveIdentity(d.ServiceKeys, id)
}

func name(uri string) enc.Name {
	n, _ := enc.NameFromStr(uri)
	return n
}
