package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// makeWire returns a signed (DigestSha256) Data packet named name whose
// content is size bytes derived deterministically from seed. freshness 0
// means no FreshnessPeriod. Equal inputs give byte-identical output.
func makeWire(name enc.Name, size int, seed uint64, freshness time.Duration) []byte {
	content := make([]byte, size)
	var buf [8]byte
	r := rand.New(rand.NewPCG(seed, uint64(size)))
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(buf[:], r.Uint64())
		copy(content[i:], buf[:])
	}
	cfg := &ndn.DataConfig{}
	if freshness > 0 {
		cfg.Freshness = optional.Some(freshness)
	}
	d, err := spec.Spec{}.MakeData(name, cfg, enc.Wire{content}, signer.NewSha256Signer())
	if err != nil {
		panic(err) // inputs are test constants
	}
	return d.Wire.Join()
}

// benchName returns an NDN-like name of 4 to 8 components, unique per i.
func benchName(i int) enc.Name {
	n := enc.Name{
		enc.NewGenericComponent("bench"),
		enc.NewGenericComponent(fmt.Sprintf("app%d", i%16)),
		enc.NewGenericComponent(fmt.Sprintf("obj%d", i/64)),
		enc.NewVersionComponent(uint64(1700000000000 + i/64)),
	}
	for j := 0; j < i%5; j++ {
		n = append(n, enc.NewGenericComponent(fmt.Sprintf("part%d", j)))
	}
	return append(n, enc.NewSegmentComponent(uint64(i%64)))
}

// benchSize draws a value size between 100 B and 8 KiB, log-uniform
// (mean about 1.8 KiB), like a mix of small records and full segments.
func benchSize(r *rand.Rand) int {
	return int(100 * math.Pow(8192.0/100, r.Float64()))
}
