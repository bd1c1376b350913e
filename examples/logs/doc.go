// Package logs is the example service /example/logs: `tail -f` over NDN.
// Tail is a server stream (rpc.ServerStream) of the lines of a log file,
// the last N and then, with follow, each line as it is appended; List names
// the files there are. Only files inside one configured directory are
// served (Config.Dir, opened as an os.Root: no absolute paths, no "..",
// no symbolic link out of it, regular files only).
//
//	s, err := logs.Start(ctx, node, logs.Config{Dir: "/var/log/myapp"})
//	defer s.Shutdown(ctx)
//
//	st, _ := client.Stream(ctx, logs.Service+"/Tail", logs.TailRequest{File: "app.log", Lines: new(10), Follow: true}, nil)
//	defer st.Close()
//	for { var l logs.Line; if err := st.Recv(&l); err != nil { break }; fmt.Println(l.Line) }
//
// From the shell, `ndn-invoke call /example/logs/Tail '{"file":"app.log","follow":true}'`
// prints the items as JSON lines.
//
// # Following
//
// With follow, the handler looks at the file every Config.Poll: it sends
// what was appended, starts over from the top of a file that was truncated,
// and reopens a file that was replaced (renamed away by log rotation and
// created again), as `tail -F` does. A line is sent once its newline is
// written; lines longer than Config.MaxLineBytes are sent in pieces. The
// stream runs until the client closes it (or goes away: the rpc server
// ends a stream nobody asks anything of for rpc.StreamIdleTimeout) or the
// server shuts down. Send blocks while the client is behind (the stream's
// window), so a fast-growing file costs no memory here.
//
// # Goroutines
//
// Each stream's handler runs on its own goroutine, owned by the rpc server,
// which Shutdown and Close wait for. The package starts none of its own.
package logs
