package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// callFunc makes one call of the system under test.
type callFunc func(ctx context.Context) error

// phase bounds one run of the load loop.
type phase struct {
	conc     int
	dur      time.Duration // stop issuing calls after this long
	maxCalls int           // and after this many
	timeout  time.Duration // per call
}

// loadStats is what one run of the load loop saw.
type loadStats struct {
	calls    int // completed without error
	errors   int
	firstErr error
	elapsed  time.Duration
	lat      []time.Duration // of successful calls, sorted
}

// runLoad runs p.conc workers calling call until p.dur has passed or
// p.maxCalls calls were issued, whichever comes first, or ctx ends. It
// returns once every worker has returned (each call is bounded by
// p.timeout).
func runLoad(ctx context.Context, p phase, call callFunc) loadStats {
	var (
		issued   atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex // guards the fields below
		errs     int
		firstErr error
		lats     = make([][]time.Duration, p.conc)
	)
	per := p.maxCalls/p.conc + 1
	start := time.Now()
	deadline := start.Add(p.dur)
	for w := range p.conc {
		lats[w] = make([]time.Duration, 0, per)
		wg.Add(1)
		go func() { // owned: ends by deadline or count, awaited below
			defer wg.Done()
			for ctx.Err() == nil && issued.Add(1) <= int64(p.maxCalls) {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, p.timeout)
				err := call(cctx)
				cancel()
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	s := loadStats{elapsed: time.Since(start), errors: errs, firstErr: firstErr}
	for _, l := range lats {
		s.lat = append(s.lat, l...)
	}
	slices.Sort(s.lat)
	s.calls = len(s.lat)
	return s
}

// percentile returns the q-quantile (0..1) of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// procCPU is this process's user+system CPU time so far.
func procCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is Linux's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every mainstream Linux ABI, and reading
// sysconf(_SC_CLK_TCK) would need cgo.
const clockTick = 10 * time.Millisecond

// pidCPU is process pid's user+system CPU time so far, from
// /proc/<pid>/stat (fields 14 and 15), with clockTick resolution.
func pidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

func parseStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces
	// and ')': the fields we want follow the last ')'.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed /proc stat %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short /proc stat %q", stat)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: bad utime/stime in /proc stat %q", stat)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
