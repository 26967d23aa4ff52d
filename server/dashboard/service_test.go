package dashboard_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/dashboard"
	"wsplay/shared"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs d behind a test server until the test ends.
func serve(t *testing.T, d *dashboard.Service) string {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, d.Shutdown(ctx))
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func readSnapshot(t *testing.T, c *websocket.Conn) shared.DashboardData {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	var d shared.DashboardData
	require.NoError(t, json.Unmarshal(data, &d))
	return d
}

// A Service of the zero Config with no dependencies pushes snapshots of
// its own metrics, at the interval asked for.
func TestZeroServicePushesSnapshots(t *testing.T) {
	t.Parallel()
	d, err := dashboard.New(dashboard.Config{}, dashboard.Deps{})
	require.NoError(t, err)
	url := serve(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+"?interval=100ms", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	first := readSnapshot(t, c)
	second := readSnapshot(t, c)
	assert.True(t, second.Timestamp.After(first.Timestamp))
	assert.Equal(t, 1.0, second.Metrics[shared.EndpointKey(shared.MetricConnections, shared.EndpointDashboard)], "the viewer itself")
	assert.Positive(t, second.Metrics[shared.MetricGoroutines])
	assert.Equal(t, 1, d.Running())
}

// metricConsts reads the Metric constants of package shared with their
// doc comments: the documentation of every snapshot key.
func metricConsts(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../shared/metrics.go", nil, parser.ParseComments)
	require.NoError(t, err)
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Metric") || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		key, err := strconv.Unquote(lit.Value)
		require.NoError(t, err)
		out[key] = strings.Join(strings.Fields(vs.Doc.Text()), " ")
		return true
	})
	return out
}

// Every key a snapshot carries is a documented constant of package shared,
// and every constant is in a snapshot: per endpoint and per reason where
// its doc says so.
func TestSnapshotKeysAreTheSharedConstants(t *testing.T) {
	t.Parallel()
	docs := metricConsts(t)
	require.Contains(t, docs, "cpu_usage")
	d, err := dashboard.New(dashboard.Config{Interval: 10 * time.Millisecond}, dashboard.Deps{})
	require.NoError(t, err)
	url := serve(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A refused handshake, so that a per-reason key exists.
	if c, _, err := websocket.Dial(ctx, url+"?interval=3s", nil); err == nil {
		c.CloseNow()
		t.Fatal("a bad interval was accepted")
	}
	c, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	readSnapshot(t, c)
	snap := readSnapshot(t, c)

	for key, doc := range docs {
		if strings.Contains(doc, "absent for a server on its own") {
			continue // a cluster's figure: TestNATSDashboardShowsTheCluster (server/playground)
		}
		perEndpoint, only := strings.Contains(doc, "per endpoint"), strings.Contains(doc, "per endpoint only")
		if perEndpoint {
			for _, ep := range shared.Endpoints {
				assert.Contains(t, snap.Metrics, shared.EndpointKey(key, ep))
			}
		}
		if strings.Contains(doc, "per reason") {
			assert.Contains(t, snap.Metrics, shared.EndpointKey(key, "bad_interval"))
		}
		if !only {
			assert.Contains(t, snap.Metrics, key)
		}
	}
	for key := range snap.Metrics {
		base, _, _ := strings.Cut(key, ".")
		assert.Contains(t, docs, base, "snapshot key %q is not a documented constant of package shared", key)
	}
}
