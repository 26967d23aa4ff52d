package store_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"wsplay/server/internal/natstest"
	"wsplay/server/notify"
	"wsplay/server/notify/notifytest"
	"wsplay/server/store"
)

func newJetStreamNotify(t *testing.T, srv *natstest.Server) *store.JetStreamNotify {
	t.Helper()
	js, err := jetstream.New(srv.Connect(t))
	require.NoError(t, err)
	s, err := store.NewJetStreamNotify(context.Background(), js, nil)
	require.NoError(t, err)
	return s
}

// The JetStream notification store meets the notify.Store contract,
// each check on a NATS server of its own.
func TestJetStreamNotifyConformance(t *testing.T) {
	notifytest.RunStore(t, func(t *testing.T) notify.Store { return newJetStreamNotify(t, natstest.Start(t)) })
}

// Two JetStreamNotify on one NATS server, as two processes have, meet
// the notify.SharedStore contract.
func TestJetStreamNotifySharedConformance(t *testing.T) {
	notifytest.RunSharedStore(t, func(t *testing.T) (notify.SharedStore, notify.SharedStore) {
		srv := natstest.Start(t)
		return newJetStreamNotify(t, srv), newJetStreamNotify(t, srv)
	})
}
