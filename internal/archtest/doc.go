// Package archtest holds the test that keeps imports pointing down the
// layers (STYLE L2): security ← ndn ← rpc, svs ← pubsub; rpc, svs ← repo;
// no library imports cmd/ or examples/.
package archtest
