package retry

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBreakerScenarios runs the scripts in testdata/breaker. Each line is a
// command; lines starting with # are comments:
//
//	config k=v ...              BreakerConfig (min threshold window buckets openfor probes successes)
//	advance D                   move the clock forward by D
//	allow NAME ok|open          Allow must admit (and keep done as NAME) or return ErrOpen
//	done NAME success|failure|ignored
//	state S                     State must be S
//	changes A->B ...            transitions since the last changes line
//
// At the end every transition must have been checked by a changes line.
func TestBreakerScenarios(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "breaker", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			runScenario(t, file)
		})
	}
}

var (
	stateNames   = map[string]State{"closed": Closed, "open": Open, "half-open": HalfOpen}
	outcomeNames = map[string]Outcome{"success": Success, "failure": Failure, "ignored": Ignored}
)

func runScenario(t *testing.T, file string) {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()

	var (
		b       *Breaker
		now     = t0
		changes []string
		permits = map[string]func(time.Time, Outcome){}
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := file + ":" + strconv.Itoa(n) + ": " + line
		args := strings.Fields(line)
		if args[0] != "config" {
			require.NotNil(t, b, "%s: no config line before it", at)
		}
		switch args[0] {
		case "config":
			cfg := parseConfig(t, at, args[1:])
			cfg.OnStateChange = func(from, to State) { changes = append(changes, from.String()+"->"+to.String()) }
			b, err = NewBreaker(cfg)
			require.NoError(t, err, at)
		case "advance":
			require.Len(t, args, 2, at)
			d, err := time.ParseDuration(args[1])
			require.NoError(t, err, at)
			now = now.Add(d)
		case "allow":
			require.Len(t, args, 3, at)
			done, err := b.Allow(now)
			switch args[2] {
			case "ok":
				require.NoError(t, err, at)
				permits[args[1]] = done
			case "open":
				require.ErrorIs(t, err, ErrOpen, at)
			default:
				t.Fatalf("%s: want ok or open", at)
			}
		case "done":
			require.Len(t, args, 3, at)
			done, ok := permits[args[1]]
			require.True(t, ok, "%s: unknown call", at)
			o, ok := outcomeNames[args[2]]
			require.True(t, ok, "%s: unknown outcome", at)
			done(now, o)
		case "state":
			require.Len(t, args, 2, at)
			want, ok := stateNames[args[1]]
			require.True(t, ok, "%s: unknown state", at)
			require.Equal(t, want, b.State(now), at)
		case "changes":
			require.Equal(t, args[1:], changes, at)
			changes = nil
		default:
			t.Fatalf("%s: unknown command", at)
		}
	}
	require.NoError(t, sc.Err())
	require.Empty(t, changes, "%s: transitions not checked by a changes line", file)
}

func parseConfig(t *testing.T, at string, kvs []string) BreakerConfig {
	var cfg BreakerConfig
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, "%s: %q is not k=v", at, kv)
		var err error
		switch k {
		case "min":
			cfg.MinRequests, err = strconv.Atoi(v)
		case "threshold":
			cfg.FailureThreshold, err = strconv.ParseFloat(v, 64)
		case "window":
			cfg.Window, err = time.ParseDuration(v)
		case "buckets":
			cfg.Buckets, err = strconv.Atoi(v)
		case "openfor":
			cfg.OpenFor, err = time.ParseDuration(v)
		case "probes":
			cfg.HalfOpenProbes, err = strconv.Atoi(v)
		case "successes":
			cfg.HalfOpenSuccesses, err = strconv.Atoi(v)
		default:
			t.Fatalf("%s: unknown config key %q", at, k)
		}
		require.NoError(t, err, at)
	}
	return cfg
}
