package chat_test

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/chat"
	"wsplay/server/chat/chattest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve mounts svc at the root of a test server and shuts both down
// when the test ends.
func serve(t *testing.T, svc *chat.Service) string {
	t.Helper()
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, svc.Shutdown(ctx))
		srv.Close()
	})
	return srv.URL
}

// The zero Config and no dependencies: a chat of its own, in memory.
func TestZeroServiceConforms(t *testing.T) {
	chattest.Run(t, func(t *testing.T) string {
		svc, err := chat.New(chat.Config{}, chat.Deps{})
		require.NoError(t, err)
		return serve(t, svc)
	})
}

func TestMemoryStoreConforms(t *testing.T) {
	chattest.RunStore(t, func(*testing.T) chat.Store { return chat.NewMemoryStore() })
	chattest.RunStore(t, func(*testing.T) chat.Store { return &chat.MemoryStore{} })
}

// tempDir makes a directory for an example, which has no t.TempDir.
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "wsplay-example-")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// A MaxContent that would let one message outgrow a frame is refused.
func TestNewRefusesContentOverAFrame(t *testing.T) {
	t.Parallel()
	_, err := chat.New(chat.Config{MaxContent: chat.MaxContentLimit + 1}, chat.Deps{})
	require.ErrorContains(t, err, "MaxContent")
}
