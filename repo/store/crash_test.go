package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

const (
	crashChildEnv   = "STORE_CRASH_CHILD" // store directory
	crashCycleEnv   = "STORE_CRASH_CYCLE"
	crashWriters    = 16
	crashCycles     = 20
	crashMaxWriting = 500 * time.Millisecond
)

// crashPacket is the name and wire the crash child writes for (cycle,
// writer, seq); the parent regenerates it to check what it finds.
func crashPacket(cycle, w, seq int) (enc.Name, []byte) {
	name := crashName(cycle, w, seq)
	seed := uint64(cycle)<<40 | uint64(w)<<32 | uint64(seq)
	size := 100 + int(seed*2654435761%8000)
	return name, makeWire(name, size, seed, 0)
}

func crashName(cycle, w, seq int) enc.Name {
	return enc.Name{gc("crash"), gc(fmt.Sprintf("c%d", cycle)), gc(fmt.Sprintf("w%d", w)), enc.NewSequenceNumComponent(uint64(seq))}
}

// crashChild runs in a re-executed test binary: it writes under load and
// prints "cycle writer seq" for every acknowledged Put, until killed.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	cycle, _ := strconv.Atoi(os.Getenv(crashCycleEnv))
	s, err := Open(dir, Config{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	// Safety net if the parent never kills us.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				name, wire := crashPacket(cycle, w, seq)
				if err := s.Put(ctx, name, wire, PutOptions{}); err != nil {
					fmt.Fprintln(os.Stderr, "child put:", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %d %d\n", cycle, w, seq)
				err := out.Flush() // the ack leaves the process only now
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	_ = s.Close()
	os.Exit(3)
}

// TestCrashSafety kills a writing child process with SIGKILL at a random
// moment, crashCycles times, and checks after each kill that the store
// opens, that every acknowledged Put is present byte for byte, and that
// every packet present is whole.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find test binary:", err)
	}
	dir := t.TempDir()
	type ack struct{ cycle, w, seq int }
	var acked []ack
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var totalPresent int
	cache := map[ack][]byte{}
	expected := func(cycle, w, seq int) (enc.Name, []byte) {
		if c, ok := cache[ack{cycle, w, seq}]; ok {
			return crashName(cycle, w, seq), c
		}
		name, wire := crashPacket(cycle, w, seq)
		cache[ack{cycle, w, seq}] = wire
		return name, wire
	}
	for cycle := range crashCycles {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashCycleEnv+"="+strconv.Itoa(cycle))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan ack, 1024)
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var a ack
				if _, err := fmt.Sscanf(sc.Text(), "%d %d %d", &a.cycle, &a.w, &a.seq); err == nil {
					lines <- a
				}
			}
		}()
		// Kill at a random moment after the first ack.
		killAfter := time.Duration(rng.Int64N(int64(crashMaxWriting)))
		var timer <-chan time.Time
		first := true
		n := 0
	collect:
		for {
			select {
			case a, ok := <-lines:
				if !ok {
					break collect
				}
				acked = append(acked, a)
				n++
				if first {
					first = false
					timer = time.After(killAfter)
				}
			case <-timer:
				_ = cmd.Process.Kill()
				timer = nil
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("cycle %d: no progress; child stderr: %s", cycle, stderr.String())
			}
		}
		<-readDone
		werr := cmd.Wait()
		if !strings.Contains(fmt.Sprint(werr), "killed") {
			t.Fatalf("cycle %d: child ended with %v, not by SIGKILL; stderr: %s", cycle, werr, stderr.String())
		}

		s, err := Open(dir, Config{})
		if err != nil {
			t.Fatalf("cycle %d: reopen after kill: %v", cycle, err)
		}
		for _, a := range acked {
			name, want := expected(a.cycle, a.w, a.seq)
			got, err := s.Get(name, false, false, time.Now())
			if err != nil {
				t.Fatalf("cycle %d: acknowledged %v lost: %v", cycle, name, err)
			}
			if string(got) != string(want) {
				t.Fatalf("cycle %d: acknowledged %v differs", cycle, name)
			}
		}
		present := checkAllWhole(t, s, expected)
		if st := s.Stats(); st.Packets != uint64(present) {
			t.Errorf("cycle %d: Stats.Packets = %d, store holds %d", cycle, st.Packets, present)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("cycle %d: killed after %v, %d acks (%d total), %d packets present", cycle, killAfter, n, len(acked), present)
		totalPresent = present
	}
	t.Logf("%d cycles, %d acknowledged, %d present (unacknowledged but committed: %d)", crashCycles, len(acked), totalPresent, totalPresent-len(acked))
}

// checkAllWhole lists every durable packet and checks it is exactly what
// the child would have written under that name.
func checkAllWhole(t *testing.T, s *Store, expected func(cycle, w, seq int) (enc.Name, []byte)) int {
	t.Helper()
	n := 0
	token := ""
	for {
		names, next, err := s.List(enc.Name{gc("crash")}, token, MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			var cycle, w int
			if _, err := fmt.Sscanf(string(name[1].Val), "c%d", &cycle); err != nil {
				t.Fatalf("unexpected name %v", name)
			}
			if _, err := fmt.Sscanf(string(name[2].Val), "w%d", &w); err != nil {
				t.Fatalf("unexpected name %v", name)
			}
			_, want := expected(cycle, w, int(name[3].NumberVal()))
			got, err := s.Get(name, false, false, time.Now())
			if err != nil || string(got) != string(want) {
				t.Fatalf("packet %v is not whole: %v", name, err)
			}
			n++
		}
		if next == "" {
			return n
		}
		token = next
	}
}
