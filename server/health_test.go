package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"wsplay/shared"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.CloseGrace = time.Minute // the raw client below answers the close when the test says so
	ts, addr := startWireServer(t, cfg)

	status, body := health(t, ts.URL)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"status": "ok", "connections": float64(0)}, body)

	conns := []*websocket.Conn{ts.dial(t, "/ws/echo", nil), ts.dial(t, "/ws/echo", nil)}
	wc := handshake(t, addr, "/ws/echo", nil)
	ts.expectSessions(t, 3)
	status, body = health(t, ts.URL)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"status": "ok", "connections": float64(3)}, body)

	require.NoError(t, conns[1].Close(websocket.StatusNormalClosure, ""))
	ts.expectSessions(t, 2)
	_, body = health(t, ts.URL)
	assert.EqualValues(t, 2, body["connections"])

	// Shutdown begins. The coder client answers its 1001 (a read must be
	// pending for that); the raw one does not yet, so shutdown waits.
	codes := closeCodes(conns[:1])
	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdownErr <- ts.Gate().Shutdown(ctx)
	}()
	assert.Equal(t, websocket.StatusGoingAway, <-codes)
	assert.Equal(t, shared.ReasonShutdown, wc.expectClose(t, 1001))
	ts.expectSessions(t, 1)
	status, body = health(t, ts.URL)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, map[string]any{"status": "shutting down", "connections": float64(1)}, body)

	wc.writeClose(t, 1001)
	require.NoError(t, <-shutdownErr)
	status, body = health(t, ts.URL)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.EqualValues(t, 0, body["connections"])
}

func TestHealthzMethods(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	resp, err := http.Head(ts.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Post(ts.URL+"/healthz", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
