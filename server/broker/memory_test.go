package broker_test

import (
	"testing"

	"wsplay/server/broker"
	"wsplay/server/broker/brokertest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return broker.NewMemory() })
}

// The zero value is ready to use.
func TestMemoryZeroValue(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return &broker.Memory{} })
}

func TestMemoryCountsSubscribers(t *testing.T) {
	t.Parallel()
	b := broker.NewMemory()
	u1, _ := b.Subscribe("ada", func(broker.Event) {})
	u2, _ := b.Subscribe("ada", func(broker.Event) {})
	if got := b.Subscribers("ada"); got != 2 {
		t.Fatalf("Subscribers = %d, want 2", got)
	}
	u1()
	u1()
	if got := b.Subscribers("ada"); got != 1 {
		t.Fatalf("after one unsubscribe (twice): Subscribers = %d, want 1", got)
	}
	u2()
	if got := b.Subscribers("ada"); got != 0 {
		t.Fatalf("after both: Subscribers = %d, want 0", got)
	}
}
