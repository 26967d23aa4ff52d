package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"wsplay/server/chat"
	"wsplay/server/dashboard"
	"wsplay/server/gate"
	"wsplay/server/notify"
	"wsplay/server/playground"
	"wsplay/server/wsconn"
)

// Config is everything the server can be told at start. Every field is a
// flag; an environment variable named WSPLAY_ plus the flag name in upper
// case (dashes become underscores) supplies the default, and a flag given on
// the command line wins over it.
type Config struct {
	// Addr is the TCP address to listen on. Default 127.0.0.1:8080.
	Addr string
	// LogLevel is the lowest level logged. Default info.
	LogLevel slog.Level
	// LogFormat is "text" (default) or "json".
	LogFormat string
	// AllowedOrigins are the origins (scheme://host[:port]) besides the
	// server's own whose pages may open WebSockets. Default none:
	// same-origin only.
	AllowedOrigins []string
	// SiteDir, when set, serves the page from this directory instead of
	// the copy built into the binary.
	SiteDir string

	// ReadLimit is the largest message a client may send, in bytes;
	// larger ones close the connection with 1009. Default 64 KiB.
	ReadLimit int64
	// PingInterval is how often the server pings each client. It must be
	// less than PongWait, so that a pong can arrive in time. Default 54 s.
	PingInterval time.Duration
	// PongWait is how long a client may stay silent (no message, no pong)
	// before the server drops it. Default 60 s.
	PongWait time.Duration
	// WriteWait bounds every write to a client; a client that does not take
	// a frame within it is dropped. Default 10 s.
	WriteWait time.Duration
	// CloseGrace is how long the server waits for the client's answer to
	// its close frame before it hangs up. Default 1 s.
	CloseGrace time.Duration
	// SendQueue is how many outgoing messages may wait for one client;
	// when its queue is full the client is too slow and is closed with
	// 1008. Default 256.
	SendQueue int
	// ShutdownTimeout bounds a graceful shutdown. Default 5 s.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers, the WebSocket handshake included, so that one
	// dribbling them a byte at a time (slowloris) is dropped. Default 10 s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a keep-alive HTTP connection may wait for its
	// next request before the server closes it; without it an idle
	// connection would be held forever. WebSockets are not affected: they
	// have PongWait. Default 60 s.
	IdleTimeout time.Duration

	// DataDir holds the database (chat history, notifications). Default
	// ./data.
	DataDir string
	// HistoryOnJoin is how many of a room's newest messages a joining
	// client receives. Default 50.
	HistoryOnJoin int
	// HistoryRetention is how many messages each room keeps; older ones
	// are deleted. Default 1000.
	HistoryRetention int
	// MaxRooms bounds the rooms open at once and the rooms whose history
	// is kept (the least recently active lose theirs first). Default 1000.
	MaxRooms int
	// MaxContent is the longest chat message, in bytes. Default 4 KiB.
	MaxContent int
	// RoomIdle is how long an empty room keeps its goroutine. Default 30 s.
	RoomIdle time.Duration
	// PresenceBatchAbove is the room size above which joins and leaves are
	// collected for PresenceBatch and sent in runs. Default 100.
	PresenceBatchAbove int
	// PresenceBatch is how long presence changes wait in a big room.
	// Default 250 ms.
	PresenceBatch time.Duration
	// MessageRate is how many messages a second one chat or notifications
	// connection may send, with bursts of MessageBurst. Defaults 10 and 20.
	MessageRate  float64
	MessageBurst int

	// RequireAuth refuses handshakes without a valid token (401). Default
	// off: the playground takes the name in the query.
	RequireAuth bool
	// GuestLogin lets POST /api/login issue a token for any valid name.
	// Default on; turn it off where another service issues tokens.
	GuestLogin bool
	// JWTSecret signs and checks tokens (HS256). Default: random at each
	// start, so tokens do not outlive the process.
	JWTSecret string
	// TokenTTL is how long a token from /api/login is valid. Default 1 h.
	TokenTTL time.Duration
	// SecureCookie marks the login cookie Secure even when the server
	// itself sees plain HTTP, as behind a TLS-terminating proxy. Default
	// off (the cookie is Secure when the request came over TLS).
	SecureCookie bool

	// MaxConns bounds the WebSocket connections in total (503 past it);
	// MaxConnsPerIP and MaxConnsPerUser bound them per remote address and
	// per identity (429). Defaults 10,000, 256 and 32.
	MaxConns        int
	MaxConnsPerIP   int
	MaxConnsPerUser int

	// AdminToken authorises the notification HTTP API (a bearer token).
	// Default: a random one made at start and logged once at Info. When
	// set, it must be at least 16 characters.
	AdminToken string
	// MetricsToken, when set, is the bearer token GET /metrics requires.
	// Default: none, and /metrics answers anyone. At least 16 characters.
	MetricsToken string
	// NotifyRetention is how many notifications each user keeps; older
	// ones are deleted, read or not. Default 500.
	NotifyRetention int
	// NotifyMaxUsers bounds the users the notification store knows: those
	// with notifications, and those who connected and have none yet (who
	// receive broadcasts). A new user beyond it makes the store forget the
	// longest-unseen user who has none; if every user has some, a
	// notification for a new user is refused. Default 10,000.
	NotifyMaxUsers int
	// PokeInterval and PokeBurst limit the pokes of one connection: PokeBurst
	// in a row, then one per PokeInterval. Default 1 s and 3.
	PokeInterval time.Duration
	PokeBurst    int

	// DashboardInterval is how often /ws/dashboard pushes a snapshot to a
	// viewer that does not ask for another interval. Between 10 ms and
	// 1 min. Default 1 s.
	DashboardInterval time.Duration
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
		c       Config
		origins string
	)
	fs := flag.NewFlagSet("wsplay", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "`address` to listen on")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "lowest `level` to log: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated `origins` (scheme://host[:port]) besides the server's own whose pages may connect")
	fs.StringVar(&c.SiteDir, "site-dir", "", "serve the page from this `directory` instead of the copy built into the binary")
	fs.Int64Var(&c.ReadLimit, "read-limit", 64<<10, "largest message a client may send, in `bytes` (larger: close 1009)")
	fs.DurationVar(&c.PingInterval, "ping-interval", 54*time.Second, "how often to ping each client; less than -pong-wait")
	fs.DurationVar(&c.PongWait, "pong-wait", 60*time.Second, "how long a client may stay silent before it is dropped")
	fs.DurationVar(&c.WriteWait, "write-wait", 10*time.Second, "time limit for each write to a client")
	fs.DurationVar(&c.CloseGrace, "close-grace", time.Second, "how long to wait for a client's answer to a close frame")
	fs.IntVar(&c.SendQueue, "send-queue", 256, "outgoing messages that may wait for one client before it counts as too slow")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "time limit for a graceful shutdown")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time limit for a client to send a request's headers")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 60*time.Second, "how long a keep-alive HTTP connection may wait for its next request")
	fs.StringVar(&c.DataDir, "data", "data", "`directory` for the database (chat history, notifications)")
	fs.IntVar(&c.HistoryOnJoin, "history", 50, "newest messages a joining chat client receives")
	fs.IntVar(&c.HistoryRetention, "history-retention", 1000, "messages kept per room")
	fs.IntVar(&c.MaxRooms, "max-rooms", 1000, "rooms open at once, and rooms whose history is kept")
	fs.IntVar(&c.MaxContent, "max-content", 4<<10, "longest chat message, in `bytes`")
	fs.DurationVar(&c.RoomIdle, "room-idle", 30*time.Second, "how long an empty room keeps its goroutine")
	fs.IntVar(&c.PresenceBatchAbove, "presence-batch-above", 100, "room size above which joins and leaves are sent in batches")
	fs.DurationVar(&c.PresenceBatch, "presence-batch", 250*time.Millisecond, "how long joins and leaves wait to be batched in a big room")
	fs.Float64Var(&c.MessageRate, "message-rate", 10, "messages a second one chat or notifications connection may send")
	fs.IntVar(&c.MessageBurst, "message-burst", 20, "messages one chat or notifications connection may send in a burst")
	fs.BoolVar(&c.RequireAuth, "require-auth", false, "refuse WebSocket handshakes without a valid token")
	fs.BoolVar(&c.GuestLogin, "guest-login", true, "let POST /api/login issue a token for any valid name")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "`secret` that signs tokens (HS256); empty: random at each start")
	fs.DurationVar(&c.TokenTTL, "token-ttl", time.Hour, "how long a token from /api/login is valid")
	fs.BoolVar(&c.SecureCookie, "secure-cookie", false, "mark the login cookie Secure (set it behind a TLS-terminating proxy)")
	fs.IntVar(&c.MaxConns, "max-conns", 10000, "WebSocket connections in total")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", 256, "WebSocket connections from one remote address")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", 32, "WebSocket connections of one user")
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer `token` for the notification HTTP API, at least 16 characters (default: random, logged at start)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "bearer `token` that GET /metrics requires, at least 16 characters (default: none, /metrics is public)")
	fs.IntVar(&c.NotifyRetention, "notify-retention", 500, "notifications kept per user, read or not")
	fs.IntVar(&c.NotifyMaxUsers, "notify-max-users", 10000, "users the notification store knows; beyond, the longest-unseen user without notifications is forgotten")
	fs.DurationVar(&c.PokeInterval, "poke-interval", time.Second, "after a burst, one poke per this `interval` per connection")
	fs.IntVar(&c.PokeBurst, "poke-burst", 3, "pokes one connection may send in a row")
	fs.DurationVar(&c.DashboardInterval, "dashboard-interval", time.Second, "how often /ws/dashboard pushes a snapshot, unless the viewer asks for another interval (10ms to 1m)")
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
	for o := range strings.SplitSeq(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
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
	for _, o := range c.AllowedOrigins {
		if _, err := gate.NormalizeOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("-allowed-origins: %w", err))
		}
	}
	if c.ReadLimit < 1 {
		errs = append(errs, fmt.Errorf("-read-limit %d: must be at least 1", c.ReadLimit))
	}
	if c.PongWait <= 0 || c.PingInterval <= 0 || c.PingInterval >= c.PongWait {
		errs = append(errs, fmt.Errorf("-ping-interval %v must be positive and less than -pong-wait %v", c.PingInterval, c.PongWait))
	}
	for name, n := range map[string]int{"-max-conns": c.MaxConns, "-max-conns-per-ip": c.MaxConnsPerIP, "-max-conns-per-user": c.MaxConnsPerUser,
		"-history": c.HistoryOnJoin, "-history-retention": c.HistoryRetention, "-max-rooms": c.MaxRooms, "-max-content": c.MaxContent,
		"-notify-retention": c.NotifyRetention, "-notify-max-users": c.NotifyMaxUsers, "-poke-burst": c.PokeBurst} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s %d: must be at least 1", name, n))
		}
	}
	if c.MessageRate <= 0 || c.MessageBurst < 1 {
		errs = append(errs, fmt.Errorf("-message-rate %g and -message-burst %d: must be positive", c.MessageRate, c.MessageBurst))
	}
	if c.HistoryOnJoin > c.HistoryRetention {
		errs = append(errs, fmt.Errorf("-history %d: cannot exceed -history-retention %d", c.HistoryOnJoin, c.HistoryRetention))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("-jwt-secret: use at least 32 characters"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("-data: must name a directory"))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("-admin-token: must be at least 16 characters (or leave it unset for a random one)"))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("-metrics-token: must be at least 16 characters (or leave it unset for a public /metrics)"))
	}
	for name, d := range map[string]time.Duration{"-write-wait": c.WriteWait, "-close-grace": c.CloseGrace, "-shutdown-timeout": c.ShutdownTimeout, "-room-idle": c.RoomIdle,
		"-presence-batch": c.PresenceBatch, "-poke-interval": c.PokeInterval, "-token-ttl": c.TokenTTL,
		"-read-header-timeout": c.ReadHeaderTimeout, "-idle-timeout": c.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive", name, d))
		}
	}
	if c.DashboardInterval < 10*time.Millisecond || c.DashboardInterval > time.Minute {
		errs = append(errs, fmt.Errorf("-dashboard-interval %v: must be between 10ms and 1m", c.DashboardInterval))
	}
	if c.SendQueue < 1 {
		errs = append(errs, fmt.Errorf("-send-queue %d: must be at least 1", c.SendQueue))
	}
	return errors.Join(errs...)
}

// playground is the configuration of the whole server, from the flags.
func (c *Config) playground() playground.Config {
	return playground.Config{
		DataDir: c.DataDir, MetricsToken: c.MetricsToken,
		ReadHeaderTimeout: c.ReadHeaderTimeout, IdleTimeout: c.IdleTimeout,
		Gate: gate.Config{
			AllowedOrigins: c.AllowedOrigins,
			RequireAuth:    c.RequireAuth, GuestLogin: c.GuestLogin, JWTSecret: c.JWTSecret,
			TokenTTL: c.TokenTTL, SecureCookie: c.SecureCookie,
			MaxConns: c.MaxConns, MaxConnsPerIP: c.MaxConnsPerIP, MaxConnsPerUser: c.MaxConnsPerUser,
			Conn: wsconn.Config{
				ReadLimit: c.ReadLimit, PingInterval: c.PingInterval, PongWait: c.PongWait,
				WriteWait: c.WriteWait, CloseGrace: c.CloseGrace, SendQueue: c.SendQueue,
			},
		},
		Chat: chat.Config{
			HistoryOnJoin: c.HistoryOnJoin, HistoryRetention: c.HistoryRetention, MaxRooms: c.MaxRooms,
			MaxContent: c.MaxContent, RoomIdle: c.RoomIdle,
			PresenceBatchAbove: c.PresenceBatchAbove, PresenceBatch: c.PresenceBatch,
			MessageRate: c.MessageRate, MessageBurst: c.MessageBurst,
		},
		Notify: notify.Config{
			Retention: c.NotifyRetention, MaxUsers: c.NotifyMaxUsers,
			PokeInterval: c.PokeInterval, PokeBurst: c.PokeBurst,
			MessageRate: c.MessageRate, MessageBurst: c.MessageBurst,
			SendQueue: c.SendQueue, AdminToken: c.AdminToken,
		},
		Dashboard: dashboard.Config{Interval: c.DashboardInterval},
	}
}
