package natsembed_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/natsembed"
)

// The server listens on loopback only, with JetStream, its data where it
// was told, and a client can use JetStream at once.
func TestStartServesJetStreamOnLoopback(t *testing.T) {
	dir := t.TempDir()
	s, err := natsembed.Start(natsembed.Options("test", dir))
	require.NoError(t, err)
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	assert.Contains(t, s.ClientURL(), "127.0.0.1:")
	assert.Equal(t, filepath.Join(dir, "jetstream"), s.JetStreamConfig().StoreDir, "JetStream's own folder in it")

	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	require.NoError(t, err, "JetStream answers")
}
