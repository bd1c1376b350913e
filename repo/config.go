package repo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// Config configures a Repo. The zero value of a field means its default.
type Config struct {
	// Prefix is the repo's name: its command service (Service) lives
	// there, and the ndnd and ndn-python-repo front ends use it too.
	// Required.
	Prefix enc.Name
	// Policy decides which identities may command the repo. Targets are
	// <Prefix>/<verb>/<object name...> with verb insert, put, delete,
	// join, leave, status, list or stats; for example
	//
	//	allow /org/<u>/<...> to call /org/repo/insert/org/<u>/<...>
	//
	// lets each user insert under its own namespace only. Nil means every
	// identity whose certificate chains to the node's trust anchors may do
	// anything (callers are always authenticated first).
	Policy *security.Policy
	// VerifyData makes inserts verify every fetched or put packet against
	// the trust anchors and refuse what does not verify. Off by default:
	// the command is authorized, and consumers verify what they fetch
	// (packets are stored as received, signatures intact), so a repo can
	// keep data signed under trust domains it does not know.
	VerifyData bool
	// MaxJobs bounds insert jobs fetching at once; more wait their turn.
	// Default 8.
	MaxJobs int
	// FetchWindow is the number of segments each job keeps in flight.
	// Default 32.
	FetchWindow int
	// MaxObjectPackets refuses objects of more segments. Default 1<<22
	// (32 GiB of 8 KiB segments).
	MaxObjectPackets uint64
	// JobRetention is how long finished jobs stay queryable. Default 24h.
	JobRetention time.Duration
	// MetadataFreshness is the FreshnessPeriod of the RDR metadata packets
	// the repo makes for stored objects. Default 1s.
	MetadataFreshness time.Duration
	// OnGroupPublication, if set, is called with every publication a sync
	// group member stores (ndndrepo.PublicationHook acts on ndnd's
	// BlobFetch commands found there). It runs on the member's goroutine.
	OnGroupPublication func(ctx context.Context, group, name enc.Name, content []byte)
	// Archivers start the archivers of group kinds other than ndnd's
	// SvsALO groups, by GroupSpec.Kind (see ArchiverFunc). A group joined
	// with a kind missing here is refused (JoinGroup) or skipped with a
	// warning (Start).
	Archivers map[string]ArchiverFunc
	// Logger receives the repo's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with the defaults filled in; Prefix is
// still to be set.
func DefaultConfig() Config {
	return Config{
		MaxJobs:           8,
		FetchWindow:       32,
		MaxObjectPackets:  1 << 22,
		JobRetention:      24 * time.Hour,
		MetadataFreshness: time.Second,
	}
}

// Validate reports a missing Prefix or a negative setting
// (ErrInvalidConfig).
func (c Config) Validate() error {
	var errs []error
	if len(c.Prefix) == 0 {
		errs = append(errs, errors.New("Prefix is required"))
	}
	if c.MaxJobs < 0 || c.FetchWindow < 0 || c.JobRetention < 0 || c.MetadataFreshness < 0 {
		errs = append(errs, errors.New("MaxJobs, FetchWindow, JobRetention and MetadataFreshness must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxJobs == 0 {
		c.MaxJobs = d.MaxJobs
	}
	if c.FetchWindow == 0 {
		c.FetchWindow = d.FetchWindow
	}
	if c.MaxObjectPackets == 0 {
		c.MaxObjectPackets = d.MaxObjectPackets
	}
	if c.JobRetention == 0 {
		c.JobRetention = d.JobRetention
	}
	if c.MetadataFreshness == 0 {
		c.MetadataFreshness = d.MetadataFreshness
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("component", "repo")
	if c.Policy == nil {
		c.Policy = security.AllowAllPolicy()
	}
	return c
}
