package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"
	"wsplay/server/chat"
	"wsplay/server/dashboard"
	"wsplay/server/gate"
	"wsplay/server/notify"
	"wsplay/server/playground"
	"wsplay/server/store"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Config is everything the server can be told at start: where it
// listens and logs, and the playground's own configuration, whose fields
// (and their documented defaults) are those of the packages. Every field
// is a flag; an environment variable named WSPLAY_ plus the flag name in
// upper case (dashes become underscores) supplies the default, and a flag
// given on the command line wins over it.
type Config struct {
	// Addr is the TCP address to listen on. Default 127.0.0.1:8080.
	Addr string
	// LogLevel is the lowest level logged. Default info.
	LogLevel slog.Level
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// SiteDir, when set, serves the page from this directory instead of
	// the copy built into the binary.
	SiteDir string
	// ShutdownTimeout bounds a graceful shutdown. Default 5 s.
	ShutdownTimeout time.Duration
	// PprofAddr, when set, is a loopback address on which the Go
	// profiler (net/http/pprof) is served, apart from the playground:
	// for measuring the server, never for the public. Default: off.
	PprofAddr string

	playground.Config
}

// setMessageRate sets the message rate of a chat, a notifications and a
// dashboard connection, which one pair of flags sets.
func (c *Config) setMessageRate(perSecond float64, burst int) {
	c.Chat.MessageRate, c.Chat.MessageBurst = perSecond, burst
	c.Notify.MessageRate, c.Notify.MessageBurst = perSecond, burst
	c.Dashboard.MessageRate, c.Dashboard.MessageBurst = perSecond, burst
}

// envPrefix starts the name of every environment variable the server reads.
const envPrefix = "WSPLAY_"

// envName is the environment variable that supplies the flag's default.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads the flags in args, falling back to getenv for those not
// given, and validates the result. Usage and errors go to output.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (Config, error) {
	var (
		c            Config
		origins      string
		hosts        string
		messageRate  float64
		messageBurst int
		faults       bool
	)
	conn, g, chatc, notifyc := &c.Gate.Conn, &c.Gate, &c.Chat, &c.Notify
	fs := flag.NewFlagSet("wsplay", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "`address` to listen on")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "lowest `level` to log: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated `origins` (scheme://host[:port]) besides the server's own whose pages may connect")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "loopback `address` to serve the Go profiler on, apart from the playground (default: off)")
	fs.StringVar(&hosts, "allowed-hosts", "", "comma-separated host `names` the server answers to besides localhost and loopback addresses (and the -addr host); others get 421")
	fs.StringVar(&c.SiteDir, "site-dir", "", "serve the page from this `directory` instead of the copy built into the binary")
	fs.Int64Var(&conn.ReadLimit, "read-limit", wsconn.DefaultReadLimit, "largest message a client may send, in `bytes` (larger: close 1009)")
	fs.DurationVar(&conn.PingInterval, "ping-interval", wsconn.DefaultPongWait*9/10, "how often to ping each client; less than -pong-wait")
	fs.DurationVar(&conn.PongWait, "pong-wait", wsconn.DefaultPongWait, "how long a client may stay silent before it is dropped")
	fs.DurationVar(&conn.WriteWait, "write-wait", wsconn.DefaultWriteWait, "time limit for each write to a client")
	fs.DurationVar(&conn.CloseGrace, "close-grace", wsconn.DefaultCloseGrace, "how long to wait for a client's answer to a close frame")
	fs.IntVar(&conn.SendQueue, "send-queue", wsconn.DefaultSendQueue, "outgoing messages that may wait for one client before it counts as too slow")
	fs.DurationVar(&conn.BatchDelay, "batch-delay", wsconn.DefaultBatchDelay, "how long messages for a client that took wsplay-batch gather before one write (negative: at once)")
	fs.IntVar(&conn.SendQueueBytes, "send-queue-bytes", wsconn.DefaultSendQueueBytes, "outgoing `bytes` that may wait for one client before it counts as too slow")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "time limit for a graceful shutdown")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", playground.DefaultReadHeaderTimeout, "time limit for a client to send a request's headers")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", playground.DefaultIdleTimeout, "how long a keep-alive HTTP connection may wait for its next request")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", playground.DefaultBodyTimeout, "time limit for a client to send an HTTP request's body")
	fs.DurationVar(&c.ResponseTimeout, "response-timeout", playground.DefaultResponseTimeout, "time limit for a client to take an HTTP answer")
	fs.IntVar(&c.MaxHTTPConns, "max-http-conns", playground.DefaultMaxHTTPConns, "plain HTTP connections open at once (WebSockets not included)")
	fs.StringVar(&c.DataDir, "data", playground.DefaultDataDir, "`directory` for the database (chat history, notifications)")
	fs.StringVar(&c.NATS, "nats", "", "share chat rooms and notifications with other wsplay processes through NATS JetStream: server `URLs` (nats://host:4222, comma-separated), or \"embedded\" to start one in this process; empty: one process")
	fs.DurationVar(&c.NATSPresenceTTL, "nats-presence-ttl", store.DefaultPresenceTTL, "with -nats: how long a process's users stay listed elsewhere after it stops without a goodbye (it refreshes them every third of this); at least 1s, the same on every process")
	fs.IntVar(&chatc.HistoryOnJoin, "history", chat.DefaultHistoryOnJoin, "newest messages a joining chat client receives")
	fs.IntVar(&chatc.HistoryRetention, "history-retention", chat.DefaultHistoryRetention, "messages kept per room")
	fs.IntVar(&chatc.MaxRooms, "max-rooms", chat.DefaultMaxRooms, "rooms open at once, and rooms whose history is kept")
	fs.IntVar(&chatc.MaxContent, "max-content", chat.DefaultMaxContent, "longest chat message, in `bytes` as sent (JSON escapes count in full)")
	fs.IntVar(&chatc.HistoryBytes, "history-bytes", chat.DefaultHistoryBytes, "most history a join receives, in encoded `bytes` (sent in pages of 32 KiB)")
	fs.DurationVar(&chatc.RoomIdle, "room-idle", chat.DefaultRoomIdle, "how long an empty room keeps its goroutine")
	fs.IntVar(&chatc.PresenceBatchAbove, "presence-batch-above", chat.DefaultPresenceBatchAbove, "room size above which joins and leaves are sent in batches")
	fs.DurationVar(&chatc.PresenceBatch, "presence-batch", chat.DefaultPresenceBatch, "how long joins and leaves wait to be batched in a big room")
	fs.Float64Var(&chatc.AddressRate, "address-rate", chat.DefaultAddressRate, "chat messages a second all connections of one client address may send together")
	fs.IntVar(&chatc.AddressBurst, "address-burst", chat.DefaultAddressBurst, "chat messages all connections of one client address may send in a burst")
	fs.BoolVar(&faults, "playground-faults", false, "let each chat, notifications and dashboard connection ask the server to inject a fault into itself (latency, dropped frames, no pongs, stalled reads, a chosen close), for teaching; off by default")
	fs.Float64Var(&messageRate, "message-rate", wsconn.DefaultMessageRate, "messages a second one chat, notifications or dashboard connection may send")
	fs.IntVar(&messageBurst, "message-burst", wsconn.DefaultMessageBurst, "messages one chat, notifications or dashboard connection may send in a burst")
	fs.BoolVar(&g.RequireAuth, "require-auth", false, "refuse WebSocket handshakes without a valid token")
	fs.BoolVar(&g.GuestLogin, "guest-login", true, "let POST /api/login issue a token for any valid name (default on, but off under -require-auth unless given)")
	fs.StringVar(&g.JWTSecret, "jwt-secret", "", "`secret` that signs tokens (HS256); empty: random at each start")
	fs.DurationVar(&g.TokenTTL, "token-ttl", gate.DefaultTokenTTL, "how long a token from /api/login is valid")
	fs.BoolVar(&g.SecureCookie, "secure-cookie", false, "mark the login cookie Secure (set it behind a TLS-terminating proxy)")
	fs.IntVar(&g.MaxConns, "max-conns", gate.DefaultMaxConns, "WebSocket connections in total")
	fs.IntVar(&g.MaxConnsPerIP, "max-conns-per-ip", gate.DefaultMaxConnsPerIP, "WebSocket connections from one remote address")
	fs.IntVar(&g.MaxConnsPerUser, "max-conns-per-user", gate.DefaultMaxConnsPerUser, "WebSocket connections of one user")
	fs.StringVar(&notifyc.AdminToken, "admin-token", "", "bearer `token` for the notification HTTP API, at least 16 characters (default: random, logged at start)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "bearer `token` that GET /metrics requires, at least 16 characters (default: none, /metrics is public)")
	fs.IntVar(&notifyc.Retention, "notify-retention", notify.DefaultRetention, "notifications kept per user, read or not")
	fs.IntVar(&notifyc.MaxUsers, "notify-max-users", notify.DefaultMaxUsers, "users the notification store knows; beyond, the longest-unseen user without notifications is forgotten")
	fs.IntVar(&notifyc.PokeRetention, "poke-retention", notify.DefaultPokeRetention, "pokes kept per user, apart from -notify-retention")
	fs.DurationVar(&notifyc.PokeInterval, "poke-interval", notify.DefaultPokeInterval, "after a burst, one poke per this `interval` per sending user, and per recipient")
	fs.IntVar(&notifyc.PokeBurst, "poke-burst", notify.DefaultPokeBurst, "pokes one user may send, and be sent, in a row")
	fs.DurationVar(&c.Dashboard.Interval, "dashboard-interval", dashboard.DefaultInterval, "how often /ws/dashboard pushes a snapshot, unless the viewer asks for another interval (10ms to 1m)")
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " (env " + envName(f.Name) + ")"
	})

	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (all settings are flags; see -h)", fs.Arg(0))
	}
	if err := applyEnv(fs, getenv); err != nil {
		return Config{}, err
	}
	// -require-auth means it: guest login, which gives anyone a token
	// for any free name, stays off unless it is asked for too.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if c.Gate.RequireAuth && !given["guest-login"] {
		c.Gate.GuestLogin = false
	}
	for o := range strings.SplitSeq(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.Gate.AllowedOrigins = append(c.Gate.AllowedOrigins, o)
		}
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Gate.AllowedHosts = append(c.Gate.AllowedHosts, h)
		}
	}
	// The host the server listens on is one it answers to, unless it is
	// every address (then clients' names must be listed).
	if h, _, err := net.SplitHostPort(c.Addr); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			c.Gate.AllowedHosts = append(c.Gate.AllowedHosts, h)
		}
	}
	c.setMessageRate(messageRate, messageBurst)
	c.Chat.Faults, c.Notify.Faults, c.Dashboard.Faults = faults, faults, faults
	// The queue of a notifications connection is also the bound on what
	// waits for it while its stored notifications go out.
	c.Notify.SendQueue = c.Gate.Conn.SendQueue
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// applyEnv sets each flag that was not on the command line from its
// environment variable, if that is set. A malformed value is an error, not
// a silent default.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s=%q: %w", name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

func (c *Config) validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format %q: want text or json", c.LogFormat))
	}
	for _, o := range c.Gate.AllowedOrigins {
		if _, err := gate.NormalizeOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("-allowed-origins: %w", err))
		}
	}
	if c.Gate.Conn.ReadLimit < 1 {
		errs = append(errs, fmt.Errorf("-read-limit %d: must be at least 1", c.Gate.Conn.ReadLimit))
	}
	if c.Gate.Conn.PongWait <= 0 || c.Gate.Conn.PingInterval <= 0 || c.Gate.Conn.PingInterval >= c.Gate.Conn.PongWait {
		errs = append(errs, fmt.Errorf("-ping-interval %v must be positive and less than -pong-wait %v", c.Gate.Conn.PingInterval, c.Gate.Conn.PongWait))
	}
	for name, n := range map[string]int{"-max-conns": c.Gate.MaxConns, "-max-conns-per-ip": c.Gate.MaxConnsPerIP, "-max-conns-per-user": c.Gate.MaxConnsPerUser,
		"-history": c.Chat.HistoryOnJoin, "-history-retention": c.Chat.HistoryRetention, "-max-rooms": c.Chat.MaxRooms, "-max-content": c.Chat.MaxContent, "-history-bytes": c.Chat.HistoryBytes,
		"-max-http-conns": c.MaxHTTPConns, "-notify-retention": c.Notify.Retention, "-poke-retention": c.Notify.PokeRetention, "-notify-max-users": c.Notify.MaxUsers, "-poke-burst": c.Notify.PokeBurst} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s %d: must be at least 1", name, n))
		}
	}
	if c.Chat.AddressRate <= 0 || c.Chat.AddressBurst < 1 {
		errs = append(errs, fmt.Errorf("-address-rate %g and -address-burst %d: must be positive", c.Chat.AddressRate, c.Chat.AddressBurst))
	}
	if c.Chat.MessageRate <= 0 || c.Chat.MessageBurst < 1 {
		errs = append(errs, fmt.Errorf("-message-rate %g and -message-burst %d: must be positive", c.Chat.MessageRate, c.Chat.MessageBurst))
	}
	if c.Chat.MaxContent > chat.MaxContentLimit {
		errs = append(errs, fmt.Errorf("-max-content %d: at most %d, so that a message fits a frame of %d bytes", c.Chat.MaxContent, chat.MaxContentLimit, shared.MaxFrame))
	}
	if c.Chat.HistoryOnJoin > c.Chat.HistoryRetention {
		errs = append(errs, fmt.Errorf("-history %d: cannot exceed -history-retention %d", c.Chat.HistoryOnJoin, c.Chat.HistoryRetention))
	}
	if c.Gate.JWTSecret != "" && len(c.Gate.JWTSecret) < 32 {
		errs = append(errs, errors.New("-jwt-secret: use at least 32 characters"))
	}
	if c.PprofAddr != "" {
		if h, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			errs = append(errs, fmt.Errorf("-pprof-addr %q: %w", c.PprofAddr, err))
		} else if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("-pprof-addr %q: must be a loopback address (the profiler shows the server's insides)", c.PprofAddr))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("-data: must name a directory"))
	}
	if c.Notify.AdminToken != "" && len(c.Notify.AdminToken) < 16 {
		errs = append(errs, errors.New("-admin-token: must be at least 16 characters (or leave it unset for a random one)"))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("-metrics-token: must be at least 16 characters (or leave it unset for a public /metrics)"))
	}
	for name, d := range map[string]time.Duration{"-write-wait": c.Gate.Conn.WriteWait, "-close-grace": c.Gate.Conn.CloseGrace, "-shutdown-timeout": c.ShutdownTimeout, "-room-idle": c.Chat.RoomIdle,
		"-presence-batch": c.Chat.PresenceBatch, "-poke-interval": c.Notify.PokeInterval, "-token-ttl": c.Gate.TokenTTL,
		"-read-header-timeout": c.ReadHeaderTimeout, "-idle-timeout": c.IdleTimeout,
		"-body-timeout": c.BodyTimeout, "-response-timeout": c.ResponseTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", name, d))
		}
	}
	if c.NATSPresenceTTL < time.Second {
		errs = append(errs, fmt.Errorf("-nats-presence-ttl %v: must be at least 1s", c.NATSPresenceTTL))
	}
	if c.Dashboard.Interval < 10*time.Millisecond || c.Dashboard.Interval > time.Minute {
		errs = append(errs, fmt.Errorf("-dashboard-interval %v: must be between 10ms and 1m", c.Dashboard.Interval))
	}
	if c.Gate.Conn.SendQueueBytes < 1 {
		errs = append(errs, fmt.Errorf("-send-queue-bytes %d: must be at least 1", c.Gate.Conn.SendQueueBytes))
	}
	if c.Gate.Conn.SendQueue < 1 {
		errs = append(errs, fmt.Errorf("-send-queue %d: must be at least 1", c.Gate.Conn.SendQueue))
	}
	return errors.Join(errs...)
}
