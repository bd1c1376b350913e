package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Full gRPC method names of the echo service.
const (
	grpcEchoMethod   = "/bench.Echo/Echo"
	grpcStreamMethod = "/bench.Echo/Stream"
)

// echoDesc is a hand-written service descriptor (no protoc): a unary
// method Echo taking and returning a google.protobuf.BytesValue, and a
// server-streaming method Stream taking a BytesValue (an encoded
// streamRequest) and sending BytesValue items, all encoded by gRPC's
// default proto codec as a generated service would be. The service value
// registered with it is the *itemSource the stream's items come from.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.BytesValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(_ context.Context, req any) (any, error) {
				return &wrapperspb.BytesValue{Value: req.(*wrapperspb.BytesValue).Value}, nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: grpcEchoMethod}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error {
			in := new(wrapperspb.BytesValue)
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			req, err := decodeStreamRequest(in.Value)
			if err != nil {
				return status.Error(codes.InvalidArgument, err.Error())
			}
			return srv.(*itemSource).produce(ss.Context(), req, func(b []byte) error {
				return ss.SendMsg(&wrapperspb.BytesValue{Value: b})
			})
		},
	}},
	Metadata: "bench/echo",
}

// grpcSide is the gRPC server and one client connection to it.
type grpcSide struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
	src  *itemSource    // of the Stream method
	wg   sync.WaitGroup // the Serve goroutine
}

// startGRPC serves echo with TLS on 127.0.0.1:0 and connects a client.
// On error everything started is stopped.
func startGRPC() (*grpcSide, error) {
	cert, pool, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: grpc listen: %w", err)
	}
	g := &grpcSide{srv: grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
	}))), src: newItemSource()}
	g.srv.RegisterService(&echoDesc, g.src)
	g.wg.Add(1)
	go func() { // owned: ends at g.srv.Stop in close
		defer g.wg.Done()
		_ = g.srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs:    pool,
		MinVersion: tls.VersionTLS13,
	})))
	if err != nil {
		g.close()
		return nil, fmt.Errorf("bench: grpc client: %w", err)
	}
	g.conn = conn
	return g, nil
}

// echo makes one call and checks the echoed length.
func (g *grpcSide) echo(ctx context.Context, payload []byte) error {
	out := new(wrapperspb.BytesValue)
	if err := g.conn.Invoke(ctx, grpcEchoMethod, &wrapperspb.BytesValue{Value: payload}, out); err != nil {
		return err
	}
	if len(out.Value) != len(payload) {
		return fmt.Errorf("grpc echo returned %d bytes, sent %d", len(out.Value), len(payload))
	}
	return nil
}

// grpcStream is a gRPC client stream as an itemStream; cancel ends it.
type grpcStream struct {
	cs     grpc.ClientStream
	cancel context.CancelFunc
}

func (s grpcStream) recv() ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := s.cs.RecvMsg(out); err != nil {
		return nil, err // io.EOF at the end
	}
	return out.Value, nil
}

func (s grpcStream) close() { s.cancel() }

// openStream calls Stream: it sends req and half-closes the stream.
func (g *grpcSide) openStream(ctx context.Context, req streamRequest) (itemStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	cs, err := g.conn.NewStream(ctx, &echoDesc.Streams[0], grpcStreamMethod)
	if err == nil {
		err = cs.SendMsg(&wrapperspb.BytesValue{Value: req.encode()})
	}
	if err == nil {
		err = cs.CloseSend()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return grpcStream{cs: cs, cancel: cancel}, nil
}

// close stops the server and the client and waits for Serve to return.
func (g *grpcSide) close() {
	if g.conn != nil {
		_ = g.conn.Close()
	}
	g.srv.Stop()
	g.wg.Wait()
}

// selfSignedCert makes an ECDSA P-256 certificate for 127.0.0.1, valid for a
// day, and a pool that trusts it.
func selfSignedCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("bench: TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("bench: TLS serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ndn-invoke bench"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("bench: TLS certificate: %w", err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("bench: TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}, pool, nil
}
