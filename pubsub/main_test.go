package pubsub_test

import (
	"testing"

	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

func TestMain(m *testing.M) { ndntest.Main(m) }
