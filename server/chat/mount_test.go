package chat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
	"wsplay/server/chat/chattest"
	"wsplay/server/gate"
)

// newService returns a chat service with a gate of the caller's, as a
// program that mounts it in its own router has, and shuts both down when
// the test ends.
func newService(t *testing.T) (*chat.Service, *gate.Gate) {
	t.Helper()
	g, err := gate.New(gate.Config{}, nil, nil)
	require.NoError(t, err)
	svc, err := chat.New(chat.Config{}, chat.Deps{Gate: g})
	require.NoError(t, err)
	return svc, g
}

// shutdown stops g's connections, then svc, then srv, when the test ends.
func shutdown(t *testing.T, srv *httptest.Server, g *gate.Gate, svc *chat.Service) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, g.Shutdown(ctx))
		require.NoError(t, svc.Shutdown(ctx))
		srv.Close()
	})
}

// The tutorial's "WebSocket with Gin": the chat endpoint and its room
// list mounted in a Gin router, under a group of its own, beside the
// router's own routes. The whole chat protocol works there.
func TestMountedUnderGin(t *testing.T) {
	gin.SetMode(gin.TestMode)
	chattest.Run(t, func(t *testing.T) string {
		svc, g := newService(t)
		r := gin.New()
		r.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hi") })
		play := r.Group("/play")
		play.GET("/ws/chat", gin.WrapH(svc))
		play.GET("/api/rooms", gin.WrapH(svc.RoomsHandler()))
		srv := httptest.NewServer(r)
		shutdown(t, srv, g, svc)
		return srv.URL + "/play/ws/chat"
	})
}

// The same under a bare http.ServeMux, with a path prefix stripped.
func TestMountedUnderServeMuxWithAPrefix(t *testing.T) {
	chattest.Run(t, func(t *testing.T) string {
		svc, g := newService(t)
		inner := http.NewServeMux()
		inner.Handle("/ws/chat", svc)
		mux := http.NewServeMux()
		mux.Handle("/play/", http.StripPrefix("/play", inner))
		srv := httptest.NewServer(mux)
		shutdown(t, srv, g, svc)
		return srv.URL + "/play/ws/chat"
	})
}
