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
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// grpcEchoMethod is the full gRPC method name of the echo method.
const grpcEchoMethod = "/bench.Echo/Echo"

// echoDesc is a hand-written service descriptor (no protoc): one unary
// method taking and returning a google.protobuf.BytesValue, encoded by
// gRPC's default proto codec as a generated service would be.
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
	Metadata: "bench/echo",
}

// grpcSide is the gRPC server and one client connection to it.
type grpcSide struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
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
	})))}
	g.srv.RegisterService(&echoDesc, struct{}{})
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
