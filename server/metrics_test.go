package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"wsplay/server/metrics"
	"wsplay/shared"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpointNow returns the current counters of one endpoint.
func endpointNow(ts *testServer, name string) metrics.EndpointReading {
	return ts.Metrics().Read().FindEndpoint(name)
}

func TestMetricsCountEchoTraffic(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	c := ts.dial(t, "/ws/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello")))
	}
	for range 3 {
		_, _, err := c.Read(ctx)
		require.NoError(t, err)
	}
	// Wire bytes of one "hello": the client's frame is a 2-byte header, a
	// 4-byte mask and 5 bytes; the server's is unmasked.
	const in, out = 2 + 4 + 5, 2 + 5
	observed := func(e metrics.EndpointReading) (n uint64) {
		for _, c := range e.Fanout {
			n += c
		}
		return n
	}
	// The writer counts a message sent, then its latency: wait for both.
	eventually(t, "the counters to settle", func() bool {
		e := endpointNow(ts, "echo")
		return e.MsgsIn == 3 && e.MsgsOut == 3 && e.BytesIn == 3*in && e.BytesOut == 3*out && observed(e) >= 3
	})
	e := endpointNow(ts, "echo")
	assert.Equal(t, int64(1), e.Open)
	assert.Equal(t, uint64(1), e.Accepted)
	assert.Equal(t, uint64(3), observed(e), "one fan-out latency per echoed message")
	assert.Zero(t, endpointNow(ts, "dashboard").Accepted, "no other endpoint counted")

	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	eventually(t, "the connection to be counted closed", func() bool { return endpointNow(ts, "echo").Open == 0 })
	assert.Equal(t, uint64(1), endpointNow(ts, "echo").Accepted)
}

func TestMetricsCountRejectedHandshakes(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, origin := range []string{"https://evil.example", "https://evil.example", "null"} {
		_, resp, err := websocket.Dial(ctx, ts.wsURL("/ws/echo"), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		require.Error(t, err)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	}
	resp, err := http.Get(ts.URL + "/ws/echo")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	r := ts.Metrics().Read()
	assert.Equal(t, uint64(2), r.Rejected["origin_not_allowed"])
	assert.Equal(t, uint64(1), r.Rejected["null_origin"])
	assert.Equal(t, uint64(1), r.Rejected["not_a_websocket_handshake"])
	assert.Equal(t, uint64(4), r.TotalRejected)
	assert.Zero(t, endpointNow(ts, "echo").Accepted, "nothing upgraded")
}

func TestMetricsCountHTTPRequests(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	for range 2 {
		resp, err := http.Get(ts.URL + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
	}
	ts.dial(t, "/ws/echo", nil)
	assert.Equal(t, uint64(3), ts.Metrics().Read().HTTPRequests, "two GETs and one handshake")
}

// An echo client that sends but never reads stalls the server's answer
// (the echo writes on the reader's goroutine, so the server stops reading
// too); after the write timeout it is dropped and counted once as a slow
// consumer.
func TestMetricsCountSlowConsumers(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.WriteWait = time.Second
	ts := startServer(t, cfg)
	c := dialSmallBuffer(t, ts.wsURL("/ws/echo"))
	big := bytes.Repeat([]byte("x"), 60<<10)
	for i := 0; i < 1000 && endpointNow(ts, "echo").Slow == 0; i++ {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMessage(gorilla.TextMessage, big); err != nil {
			break // the server has hung up
		}
	}
	eventually(t, "the slow consumer to be counted", func() bool { return endpointNow(ts, "echo").Slow == 1 })
	eventually(t, "the slow consumer to be gone", func() bool { return endpointNow(ts, "echo").Open == 0 })
	assert.Equal(t, uint64(1), endpointNow(ts, "echo").Slow)
}

// dialSmallBuffer connects a gorilla client with a small socket receive
// buffer, so that a server writing to it blocks soon when it does not read.
// The buffer is set before connecting: a window already advertised does
// not shrink.
func dialSmallBuffer(t *testing.T, url string) *gorilla.Conn {
	t.Helper()
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
		return errors.Join(err, serr)
	}}
	d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: nd.DialContext}
	c, _, err := d.Dial(url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// documentedNames returns the words of a doc comment table in a source
// file that match pattern, so that tests hold the docs to the code.
func documentedNames(t *testing.T, file string, pattern *regexp.Regexp) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	var names []string
	for line := range strings.SplitSeq(string(src), "\n") {
		if !strings.HasPrefix(line, "//\t") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "//\t"))
		if len(fields) > 0 && pattern.MatchString(fields[0]) {
			names = append(names, fields[0])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func scrape(t *testing.T, ts *testServer) map[string]*ioFamily {
	t.Helper()
	return scrapeWith(t, ts, "")
}

// scrapeWith is scrape with a bearer token, if not "".
func scrapeWith(t *testing.T, ts *testServer, token string) map[string]*ioFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "/metrics is not in the Prometheus text format:\n%s", body)
	out := map[string]*ioFamily{}
	for name, f := range families {
		fam := &ioFamily{typ: f.GetType().String(), values: map[string]float64{}}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			switch {
			case m.Counter != nil:
				fam.values[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				fam.values[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				fam.values[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
		out[name] = fam
	}
	return out
}

// ioFamily is one scraped metric family: its type and its values by
// label set ("endpoint=echo"); a histogram's value is its count.
type ioFamily struct {
	typ    string
	values map[string]float64
}

func TestPrometheusEndpointCarriesTheDocumentedNames(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	c := ts.dial(t, "/ws/echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello")))
	_, _, err := c.Read(ctx)
	require.NoError(t, err)
	eventually(t, "the echo and its latency to be counted", func() bool {
		e := endpointNow(ts, "echo")
		return e.MsgsOut == 1 && e.FanoutSum > 0
	})

	families := scrape(t, ts)
	documented := documentedNames(t, "metrics/metrics.go", regexp.MustCompile(`^(wsplay|go|process)_[a-z_]+$`))
	require.NotEmpty(t, documented)
	for _, name := range documented {
		assert.Contains(t, families, name, "documented in metrics/metrics.go but not on /metrics")
	}
	for name := range families {
		if strings.HasPrefix(name, "wsplay_") {
			assert.Contains(t, documented, name, "on /metrics but not documented in metrics.go")
		}
	}

	// Every endpoint reports from the start, and the values are the ones counted.
	for _, ep := range shared.Endpoints {
		assert.Contains(t, families["wsplay_connections_open"].values, "endpoint="+ep)
	}
	assert.Equal(t, "GAUGE", families["wsplay_connections_open"].typ)
	assert.Equal(t, 1.0, families["wsplay_connections_open"].values["endpoint=echo"])
	assert.Equal(t, 1.0, families["wsplay_messages_received_total"].values["endpoint=echo"])
	assert.Equal(t, 1.0, families["wsplay_messages_sent_total"].values["endpoint=echo"])
	assert.Equal(t, "HISTOGRAM", families["wsplay_fanout_latency_seconds"].typ)
	assert.Equal(t, 1.0, families["wsplay_fanout_latency_seconds"].values["endpoint=echo"])
	assert.Equal(t, 0.0, families["wsplay_handshakes_rejected_total"].values["reason=origin_not_allowed"])
	assert.Equal(t, 0.0, families["wsplay_users_online"].values[""])
	// The scrape itself is a request: one handshake plus this GET.
	assert.Equal(t, 2.0, families["wsplay_http_requests_total"].values[""])
}

// The methods chat and notifications will call show on /metrics and on the
// dashboard.
// With -metrics-token, /metrics answers only a scraper that sends it;
// /healthz stays open for load balancers.
func TestMetricsTokenGuardsMetrics(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MetricsToken = "metrics-token-0123456789"
	ts := startServer(t, cfg)
	for name, auth := range map[string]string{
		"none":        "",
		"wrong":       "Bearer metrics-token-9876543210",
		"basic":       "Basic bWV0cmljczptZXRyaWNzLXRva2VuLTAxMjM0NTY3ODk=",
		"admin token": "Bearer " + cfg.Notify.AdminToken,
	} {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		assert.Equal(t, `Bearer realm="wsplay metrics"`, resp.Header.Get("WWW-Authenticate"), name)
		assert.NotContains(t, string(body), "wsplay_", name)
		assert.NotContains(t, string(body), cfg.MetricsToken, name)
	}
	families := scrapeWith(t, ts, cfg.MetricsToken)
	assert.Contains(t, families, "wsplay_connections_open")

	resp, err := http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestMetricsFedByChatAndNotifications(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	ts.Metrics().CountRoomsWith(func() int { return 3 })
	ts.Metrics().UserConnected("ada")
	for range 2 {
		ts.Metrics().NotificationStored()
	}
	ts.Metrics().NotificationDelivered()

	r := ts.Metrics().Read()
	assert.Equal(t, int64(3), r.Rooms)
	assert.Equal(t, uint64(2), r.NotesStored)
	assert.Equal(t, uint64(1), r.NotesSent)
	families := scrape(t, ts)
	assert.Equal(t, 3.0, families["wsplay_chat_rooms"].values[""])
	assert.Equal(t, 1.0, families["wsplay_users_online"].values[""])
	assert.Equal(t, 2.0, families["wsplay_notifications_stored_total"].values[""])
	assert.Equal(t, 1.0, families["wsplay_notifications_delivered_total"].values[""])
}

func TestConfigDashboardInterval(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		arg string
		ok  bool
	}{{"10ms", true}, {"1s", true}, {"1m", true}, {"5ms", false}, {"2m", false}} {
		_, err := parseConfig([]string{"-dashboard-interval", tt.arg}, func(string) string { return "" }, io.Discard)
		assert.Equal(t, tt.ok, err == nil, "-dashboard-interval %s: %v", tt.arg, err)
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"WSPLAY_DASHBOARD_INTERVAL": "250ms"}[k]
	}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, cfg.Dashboard.Interval)
}
