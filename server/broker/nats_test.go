package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/broker"
	"wsplay/server/broker/brokertest"
	"wsplay/server/internal/natstest"
)

// The NATS broker meets the contract, each check on a NATS server of its
// own.
func TestNATSBrokerConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return broker.NewNATS(natstest.Start(t).Connect(t), "")
	})
}

// What one process publishes reaches the subscribers of another, on a
// connection of its own, and the prefix keeps deployments apart.
func TestNATSBrokerCrossesProcesses(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nodeA := broker.NewNATS(srv.Connect(t), "")
	nodeB := broker.NewNATS(srv.Connect(t), "")
	other := broker.NewNATS(srv.Connect(t), "other")

	onB := brokertest.NewRecorder()
	unsubscribe, err := nodeB.Subscribe("chat:general", onB.Deliver)
	require.NoError(t, err)
	defer unsubscribe()
	onOther := brokertest.NewRecorder()
	unsubscribeOther, err := other.Subscribe("chat:general", onOther.Deliver)
	require.NoError(t, err)
	defer unsubscribeOther()

	ctx := context.Background()
	for seq := uint64(1); seq <= 3; seq++ {
		require.NoError(t, nodeA.Publish(ctx, "chat:general", broker.Event{Seq: seq, Data: []byte{'m', byte('0' + seq)}}))
	}
	got := onB.WaitFor(t, 3)
	assert.Equal(t, []broker.Event{{Seq: 1, Data: []byte("m1")}, {Seq: 2, Data: []byte("m2")}, {Seq: 3, Data: []byte("m3")}}, got)
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, onOther.Events(), "another prefix is another deployment")
	assert.NotEqual(t, nodeA.Subject("a.b"), nodeA.Subject("a.*"), "keys are opaque")
}

// A closed connection is an error to the publisher, not a silent loss.
func TestNATSBrokerPublishFailsOnAClosedConnection(t *testing.T) {
	t.Parallel()
	nc := natstest.Start(t).Connect(t)
	b := broker.NewNATS(nc, "")
	nc.Close()
	assert.Error(t, b.Publish(context.Background(), "k", broker.Event{Seq: 1, Data: []byte("x")}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, broker.NewNATS(natstest.Start(t).Connect(t), "").Publish(ctx, "k", broker.Event{}), context.Canceled)
}
