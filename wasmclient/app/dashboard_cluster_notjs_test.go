//go:build !js

package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/assert"

	"wsplay/shared"
)

// A snapshot from a server that shares rooms (-nats) names its node and
// carries the cluster's figures: the panel shows them, the node first.
// One from a server on its own carries neither: the panel lists no such
// values, rather than dashes.
func TestDashboardShowsTheClusterOnlyWhenThereIsOne(t *testing.T) {
	for _, clustered := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			snap := shared.DashboardData{Timestamp: time.Now().UTC(), Metrics: map[string]float64{shared.MetricConnections: 3}}
			if clustered {
				snap.Node = "host-ab12"
				snap.Metrics[shared.MetricClusterConnections] = 7
				snap.Metrics[shared.MetricClusterNodes] = 2
			}
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			wsjson.Write(ctx, c, snap)
			c.Read(ctx) // until the client goes
		}))
		url, _ := SocketURL("http"+strings.TrimPrefix(srv.URL, "http"), "/ws/dashboard")
		loop, d, rec := startDashboard(t, url)
		loop.Post(d.Connect)
		eventually(t, "the snapshot's values", func() bool { return rec.value(shared.MetricConnections) == "3" })
		if clustered {
			assert.Equal(t, "host-ab12", rec.value(nodeValueKey))
			assert.Equal(t, "7", rec.value(shared.MetricClusterConnections))
			assert.Equal(t, "2", rec.value(shared.MetricClusterNodes))
		} else {
			rec.mu.Lock()
			_, node := rec.values[nodeValueKey]
			_, conns := rec.values[shared.MetricClusterConnections]
			_, uptime := rec.values[shared.MetricUptime]
			rec.mu.Unlock()
			assert.False(t, node || conns, "no cluster values for a server on its own")
			assert.True(t, uptime, "the others are listed, with a dash when missing")
		}
		onLoop(loop, d.Disconnect)
		srv.Close()
	}
}
