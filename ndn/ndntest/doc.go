// Package ndntest runs tests against a real NDN forwarder.
//
// One ndnd forwarder (YaNFD, a child process) serves a whole test binary:
// TestMain calls Main, which starts it on a unix socket in a fresh temporary
// directory with its own UDP port (so package test binaries that `go test
// ./...` runs in parallel do not collide), runs the tests, checks for leaked
// goroutines, and stops it. The forwarder dies with the test binary even if
// the binary crashes, so no process is left behind.
//
//	func TestMain(m *testing.M) { ndntest.Main(m) }
//
//	func TestCall(t *testing.T) {
//		alice := ndntest.Identity(t, "alice")      // certified under Anchor()
//		node := ndntest.Connect(t, ndn.Config{Identity: alice})
//		prefix := ndntest.Prefix(t)                // unique to this test
//		...
//	}
//
// The ndnd binary is found as ndn.FindNdnd does, then at the module's
// bin/ndnd, and otherwise built once from the pinned module into the user
// cache directory.
package ndntest
