#!/usr/bin/env bash
# make demo-repo: the repo as a user meets it. A trust domain in a
# temporary directory, ndn-repo with its embedded forwarder, an object
# published with `ndnd put`, inserted with `ndn-invoke repo insert`, and
# fetched back with `ndnd cat` and `ndn-invoke fetch` after the producer
# and the daemon have been restarted away. Leaves nothing running.
set -euo pipefail
BIN=${BIN:-$(pwd)/bin}
T=$(mktemp -d)
REPO_PID=; PUT_PID=
cleanup() {
  [ -n "$PUT_PID" ] && kill "$PUT_PID" 2>/dev/null || true
  [ -n "$REPO_PID" ] && kill "$REPO_PID" 2>/dev/null && wait "$REPO_PID" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
run() { printf '\n$ %s\n' "$*" >&2; "$@"; }
KC=dir://$T/keys

echo "# a trust domain: anchor /example, the repo /example/repo, a user /example/users/ada"
"$BIN/ndn-invoke" key anchor /example --keychain "$KC" --out "$T/anchor.cert" >/dev/null
"$BIN/ndn-invoke" key issue /example/repo --issuer /example --keychain "$KC" >/dev/null
"$BIN/ndn-invoke" key issue /example/users/ada --issuer /example --keychain "$KC" >/dev/null
cp "$T/anchor.cert" "$T/keys/anchor.cert"

start_repo() {
  "$BIN/ndn-repo" --prefix /example/repo --data-dir "$T/repo" --keychain "$KC" --anchor "$T/anchor.cert" \
    --metrics 127.0.0.1:0 >"$T/repo.out" 2>"$T/repo.err" &
  REPO_PID=$!
  for _ in $(seq 100); do grep -q "Ctrl-C" "$T/repo.out" 2>/dev/null && break; sleep 0.1; done
  sed 's/^/  ndn-repo| /' "$T/repo.out"
}
echo; echo "# start the repo daemon (no forwarder is running, so it starts one)"
start_repo
export NDN_CLIENT_TRANSPORT=unix://$T/repo/fw/nfd.sock
R="--repo /example/repo --keychain $KC --identity /example/users/ada"

head -c 20000000 /dev/urandom > "$T/blob.bin"
echo; echo "# publish 20 MB with ndnd put (a producer that will go away)"
"$BIN/ndnd" put /example/data/blob < "$T/blob.bin" 2>"$T/put.err" & PUT_PID=$!
for _ in $(seq 50); do grep -q -i "produced\|announc\|register" "$T/put.err" 2>/dev/null && break; sleep 0.2; done
sleep 0.5

run "$BIN/ndn-invoke" repo insert /example/data/blob $R
kill "$PUT_PID"; wait "$PUT_PID" 2>/dev/null || true; PUT_PID=
run "$BIN/ndn-invoke" repo stats $R
echo; echo "# restart the daemon: a fresh forwarder, so nothing is cached but the repo"
kill "$REPO_PID"; wait "$REPO_PID" 2>/dev/null || true
start_repo
run "$BIN/ndnd" cat /example/data/blob > "$T/cat.bin" 2>/dev/null
cmp "$T/blob.bin" "$T/cat.bin" && echo "ndnd cat: byte-identical"
run "$BIN/ndn-invoke" fetch /example/data/blob --insecure -o "$T/fetch.bin"
cmp "$T/blob.bin" "$T/fetch.bin" && echo "ndn-invoke fetch: byte-identical"
echo; echo "# a user the policy does not know: the anchor does not certify it"
"$BIN/ndn-invoke" key anchor /mallory --keychain "dir://$T/mallory" >/dev/null
set +e
"$BIN/ndn-invoke" repo delete /example/data/blob --prefix --repo /example/repo --keychain "dir://$T/mallory" --anchor "$T/anchor.cert"
echo "exit status $?"
set -e
run "$BIN/ndn-invoke" repo delete /example/data/blob --prefix $R
M=$(grep -o 'http://[^ ]*/metrics' "$T/repo.out")
echo; echo "# metrics ($M)"
curl -s "$M" 2>/dev/null | grep -E '^ndn_repo_(packets|commands_total)' || echo "(curl not installed)"
