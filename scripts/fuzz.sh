#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (go test takes one
# target per run). A run that fails without writing a crasher to
# testdata/fuzz is retried once: go1.26's fuzz coordinator sometimes ends a
# healthy run with a bare "context deadline exceeded" (golang/go#75804).
set -euo pipefail
FUZZTIME=${FUZZTIME:-30s}
GO=${GO:-go}
fail=0
for pkg in $($GO list ./...); do
  dir=$($GO list -f '{{.Dir}}' "$pkg")
  for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
    for try in 1 2; do
      echo "== $pkg $t (try $try)"
      before=$(find "$dir/testdata/fuzz/$t" -type f 2>/dev/null | wc -l || true)
      log=$(mktemp)
      rc=0
      $GO test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" >"$log" 2>&1 || rc=$?
      grep -v '^fuzz: elapsed' "$log" || true
      rm -f "$log"
      [ "$rc" -eq 0 ] && break
      after=$(find "$dir/testdata/fuzz/$t" -type f 2>/dev/null | wc -l || true)
      if [ "$after" -gt "$before" ] || [ "$try" -eq 2 ]; then
        echo "FAIL: $pkg $t"; fail=1; break
      fi
      echo "(no crasher written: retrying once)"
    done
  done
done
exit $fail
