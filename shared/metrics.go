package shared

// The keys of [DashboardData.Metrics]. A key marked "per endpoint" also
// comes once per endpoint, as [EndpointKey] makes it (connections.chat,
// fanout_p99_ms.echo); a key marked "per reason" also comes once per
// reason a handshake was refused (handshakes_rejected.origin_not_allowed).
// The endpoints are [Endpoints]. Rates are per second over the last
// interval; "since start" values are cumulative counts. Values are rounded
// to three decimals. The first five keys are the names the well-known
// dashboard tutorial uses, here with real values.
const (
	// MetricCPU: %, CPU time the process used in the last interval (the
	// last half second if the interval is shorter), as a share of all
	// cores (0-100; 50 on a 2-core machine is one core busy).
	MetricCPU = "cpu_usage"
	// MetricMemory: MiB, heap in use: live and not yet swept heap objects
	// (runtime/metrics /memory/classes/heap/objects:bytes).
	MetricMemory = "memory_usage"
	// MetricRequests: requests/s, HTTP requests, WebSocket handshakes
	// included.
	MetricRequests = "requests"
	// MetricActiveUsers: users, distinct users online on chat and
	// notifications.
	MetricActiveUsers = "active_users"
	// MetricResponseTime: ms, chat fan-out latency, median: the same as
	// fanout_p50_ms.chat.
	MetricResponseTime = "response_time"

	// MetricConnections: connections open now, all endpoints; per
	// endpoint.
	MetricConnections = "connections"
	// MetricMessagesIn: messages/s read from clients; per endpoint.
	MetricMessagesIn = "messages_in_per_sec"
	// MetricMessagesOut: messages/s written to clients; per endpoint.
	MetricMessagesOut = "messages_out_per_sec"
	// MetricBytesIn: B/s read from WebSocket connections (wire bytes:
	// frame headers and control frames included); per endpoint.
	MetricBytesIn = "bytes_in_per_sec"
	// MetricBytesOut: B/s written to WebSocket connections; per endpoint.
	MetricBytesOut = "bytes_out_per_sec"
	// MetricFanoutP50: ms, median time from enqueue to the end of the
	// write, over the last 10 intervals, 0 when nothing was sent; per
	// endpoint only.
	MetricFanoutP50 = "fanout_p50_ms"
	// MetricFanoutP99: ms, 99th percentile of the same; per endpoint only.
	MetricFanoutP99 = "fanout_p99_ms"

	// MetricRooms: chat rooms that exist now.
	MetricRooms = "rooms"
	// MetricSlowDisconnects: connections dropped as too slow, since
	// start: closed with 1008 for a full send queue, or hung up when a
	// write did not finish within the write timeout.
	MetricSlowDisconnects = "slow_consumer_disconnects"
	// MetricRejected: WebSocket handshakes refused, since start; per
	// reason.
	MetricRejected = "handshakes_rejected"
	// MetricNotesStored: notifications stored, since start.
	MetricNotesStored = "notifications_stored"
	// MetricNotesDelivered: notifications written to a connection, since
	// start.
	MetricNotesDelivered = "notifications_delivered"
	// MetricConflated: dashboard snapshots a slow viewer skipped, since
	// start.
	MetricConflated = "snapshots_conflated"
	// MetricFaults: faults injected into connections at their clients'
	// request (a server run with -playground-faults), since start.
	MetricFaults = "faults_injected"
	// MetricGoroutines: goroutines now.
	MetricGoroutines = "goroutines"
	// MetricGCPause: ms, longest GC stop-the-world pause in the last
	// interval (its histogram bucket's upper bound); 0 when no GC ran.
	MetricGCPause = "gc_pause_ms"
	// MetricUptime: s, time since the server started.
	MetricUptime = "uptime_seconds"
	// MetricClusterConnections: connections open now on every server
	// process that shares rooms with this one (-nats), this one
	// included; absent for a server on its own.
	MetricClusterConnections = "cluster_connections"
	// MetricClusterNodes: how many such processes there are now; absent
	// for a server on its own.
	MetricClusterNodes = "cluster_nodes"
)

// The endpoints, as they name per-endpoint metrics.
const (
	EndpointEcho          = "echo"
	EndpointChat          = "chat"
	EndpointNotifications = "notifications"
	EndpointDashboard     = "dashboard"
)

// Endpoints lists every endpoint, in the order dashboards show them.
var Endpoints = []string{EndpointEcho, EndpointChat, EndpointNotifications, EndpointDashboard}

// EndpointKey returns the key of a per-endpoint (or per-reason) metric,
// such as connections.chat.
func EndpointKey(metric, endpoint string) string { return metric + "." + endpoint }
