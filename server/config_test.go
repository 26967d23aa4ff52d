package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"testing"
	"time"
	"wsplay/server/chat"
	"wsplay/server/dashboard"
	"wsplay/server/gate"
	"wsplay/server/notify"
	"wsplay/server/playground"
	"wsplay/server/store"
	"wsplay/server/wsconn"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env returns a getenv that reads from vars only.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.Addr)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Equal(t, "text", cfg.LogFormat)
	assert.Empty(t, cfg.Gate.AllowedOrigins)
	assert.Empty(t, cfg.SiteDir)
	assert.EqualValues(t, 64<<10, cfg.Gate.Conn.ReadLimit)
	assert.Equal(t, 54*time.Second, cfg.Gate.Conn.PingInterval)
	assert.Equal(t, 60*time.Second, cfg.Gate.Conn.PongWait)
	assert.Equal(t, 10*time.Second, cfg.Gate.Conn.WriteWait)
	assert.Equal(t, time.Second, cfg.Gate.Conn.CloseGrace)
	assert.Equal(t, 256, cfg.Gate.Conn.SendQueue)
	assert.Equal(t, 5*time.Second, cfg.ShutdownTimeout)
	assert.Equal(t, 10*time.Second, cfg.ReadHeaderTimeout)
	assert.Equal(t, 60*time.Second, cfg.IdleTimeout)
}

func TestParseConfigSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "flags",
			args: []string{"-addr", "127.0.0.1:0", "-log-level", "debug", "-log-format", "json",
				"-read-limit", "10", "-ping-interval", "1s", "-pong-wait", "2s", "-send-queue", "3",
				"-read-header-timeout", "300ms", "-idle-timeout", "4s", "-site-dir", "site", "-nats-presence-ttl", "3s"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "127.0.0.1:0", c.Addr)
				assert.Equal(t, slog.LevelDebug, c.LogLevel)
				assert.Equal(t, "json", c.LogFormat)
				assert.EqualValues(t, 10, c.Gate.Conn.ReadLimit)
				assert.Equal(t, time.Second, c.Gate.Conn.PingInterval)
				assert.Equal(t, 2*time.Second, c.Gate.Conn.PongWait)
				assert.Equal(t, 3, c.Gate.Conn.SendQueue)
				assert.Equal(t, 300*time.Millisecond, c.ReadHeaderTimeout)
				assert.Equal(t, 4*time.Second, c.IdleTimeout)
				assert.Equal(t, "site", c.SiteDir)
				assert.Equal(t, 3*time.Second, c.NATSPresenceTTL)
			},
		},
		{
			name: "environment fallback",
			env: map[string]string{
				"WSPLAY_ADDR":                "127.0.0.1:9999",
				"WSPLAY_LOG_LEVEL":           "warn",
				"WSPLAY_LOG_FORMAT":          "json",
				"WSPLAY_ALLOWED_ORIGINS":     "https://a.example, http://b.example:8080",
				"WSPLAY_READ_LIMIT":          "1024",
				"WSPLAY_PONG_WAIT":           "90s",
				"WSPLAY_CLOSE_GRACE":         "250ms",
				"WSPLAY_READ_HEADER_TIMEOUT": "2s",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "127.0.0.1:9999", c.Addr)
				assert.Equal(t, slog.LevelWarn, c.LogLevel)
				assert.Equal(t, "json", c.LogFormat)
				assert.Equal(t, []string{"https://a.example", "http://b.example:8080"}, c.Gate.AllowedOrigins)
				assert.EqualValues(t, 1024, c.Gate.Conn.ReadLimit)
				assert.Equal(t, 90*time.Second, c.Gate.Conn.PongWait)
				assert.Equal(t, 250*time.Millisecond, c.Gate.Conn.CloseGrace)
				assert.Equal(t, 2*time.Second, c.ReadHeaderTimeout)
			},
		},
		{
			name: "a flag beats its environment variable",
			args: []string{"-addr", "127.0.0.1:1", "-allowed-origins", ""},
			env: map[string]string{
				"WSPLAY_ADDR":            "127.0.0.1:2",
				"WSPLAY_ALLOWED_ORIGINS": "https://from-env.example",
				"WSPLAY_READ_LIMIT":      "77", // not on the command line: still used
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "127.0.0.1:1", c.Addr)
				assert.Empty(t, c.Gate.AllowedOrigins, "an empty flag still beats the environment")
				assert.EqualValues(t, 77, c.Gate.Conn.ReadLimit)
			},
		},
		{
			name: "an empty environment variable is unset",
			env:  map[string]string{"WSPLAY_ADDR": "", "WSPLAY_PONG_WAIT": ""},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "127.0.0.1:8080", c.Addr)
				assert.Equal(t, 60*time.Second, c.Gate.Conn.PongWait)
			},
		},
		{
			name: "origins are trimmed and empty entries skipped",
			args: []string{"-allowed-origins", " https://a.example ,, https://b.example/ "},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, []string{"https://a.example", "https://b.example/"}, c.Gate.AllowedOrigins)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseConfig(tt.args, env(tt.env), io.Discard)
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // each must appear in the error
	}{
		{"malformed duration in the environment", nil, map[string]string{"WSPLAY_PONG_WAIT": "soon"},
			[]string{"WSPLAY_PONG_WAIT", `"soon"`}},
		{"malformed number in the environment", nil, map[string]string{"WSPLAY_READ_LIMIT": "lots"},
			[]string{"WSPLAY_READ_LIMIT", `"lots"`}},
		{"malformed level in the environment", nil, map[string]string{"WSPLAY_LOG_LEVEL": "loud"},
			[]string{"WSPLAY_LOG_LEVEL"}},
		{"every malformed variable is named", nil, map[string]string{"WSPLAY_PONG_WAIT": "soon", "WSPLAY_SEND_QUEUE": "many"},
			[]string{"WSPLAY_PONG_WAIT", "WSPLAY_SEND_QUEUE"}},
		{"malformed flag", []string{"-pong-wait", "soon"}, nil, []string{"-pong-wait"}},
		{"unknown flag", []string{"-port", "80"}, nil, []string{"-port"}},
		{"ping interval equal to pong wait", []string{"-ping-interval", "60s", "-pong-wait", "60s"}, nil,
			[]string{"-ping-interval", "-pong-wait"}},
		{"ping interval over pong wait", []string{"-ping-interval", "2m"}, nil, []string{"-ping-interval"}},
		{"ping interval over pong wait from the environment", nil, map[string]string{"WSPLAY_PONG_WAIT": "10s"},
			[]string{"-ping-interval", "less than -pong-wait 10s"}},
		{"zero ping interval", []string{"-ping-interval", "0"}, nil, []string{"-ping-interval"}},
		{"read limit 0", []string{"-read-limit", "0"}, nil, []string{"-read-limit 0"}},
		{"negative read limit", []string{"-read-limit", "-1"}, nil, []string{"-read-limit -1"}},
		{"send queue 0", []string{"-send-queue", "0"}, nil, []string{"-send-queue 0"}},
		{"content over a frame", []string{"-max-content", "40000"}, nil, []string{"-max-content 40000", "at most 30720"}},
		{"no notification users", nil, map[string]string{"WSPLAY_NOTIFY_MAX_USERS": "0"}, []string{"-notify-max-users 0"}},
		{"short metrics token", []string{"-metrics-token", "short"}, nil, []string{"-metrics-token"}},
		{"zero write wait", []string{"-write-wait", "0s"}, nil, []string{"-write-wait"}},
		{"negative close grace", []string{"-close-grace", "-1s"}, nil, []string{"-close-grace"}},
		{"zero shutdown timeout", []string{"-shutdown-timeout", "0s"}, nil, []string{"-shutdown-timeout"}},
		{"zero read header timeout", []string{"-read-header-timeout", "0s"}, nil, []string{"-read-header-timeout"}},
		{"zero idle timeout", []string{"-idle-timeout", "0s"}, nil, []string{"-idle-timeout"}},
		{"presence TTL under a second", []string{"-nats-presence-ttl", "500ms"}, nil, []string{"-nats-presence-ttl 500ms"}},
		{"bad log format", []string{"-log-format", "xml"}, nil, []string{"-log-format", `"xml"`}},
		{"origin without a scheme", []string{"-allowed-origins", "evil.example"}, nil,
			[]string{"-allowed-origins", `"evil.example"`}},
		{"origin with another scheme", []string{"-allowed-origins", "ftp://x"}, nil, []string{`"ftp://x"`}},
		{"origin with a path", []string{"-allowed-origins", "https://x/path"}, nil, []string{`"https://x/path"`}},
		{"origin with a query", []string{"-allowed-origins", "https://x?a=b"}, nil, []string{`"https://x?a=b"`}},
		{"origin with user info", []string{"-allowed-origins", "https://user@x"}, nil, []string{`"https://user@x"`}},
		{"origin that is a wildcard", []string{"-allowed-origins", "*"}, nil, []string{`"*"`}},
		{"one bad origin among good ones", []string{"-allowed-origins", "https://ok.example,ftp://x"}, nil, []string{`"ftp://x"`}},
		{"bad origin from the environment", nil, map[string]string{"WSPLAY_ALLOWED_ORIGINS": "evil.example"},
			[]string{`"evil.example"`}},
		{"positional argument", []string{"-addr", ":0", "serve"}, nil, []string{`"serve"`}},
		{"several problems at once", []string{"-read-limit", "0", "-log-format", "xml"}, nil,
			[]string{"-read-limit", "-log-format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig(tt.args, env(tt.env), io.Discard)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			_, err := parseConfig([]string{arg}, env(nil), &out)
			require.ErrorIs(t, err, flag.ErrHelp)
			usage := out.String()
			// Every flag is listed with the environment variable behind it.
			for _, name := range []string{"addr", "log-level", "log-format", "allowed-origins", "site-dir",
				"read-limit", "ping-interval", "pong-wait", "write-wait", "close-grace", "send-queue",
				"shutdown-timeout", "read-header-timeout", "idle-timeout"} {
				assert.Contains(t, usage, "-"+name)
				assert.Contains(t, usage, "(env "+envName(name)+")")
			}
		})
	}
}

func TestParseConfigErrorPrintsUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	_, err := parseConfig([]string{"-nope"}, env(nil), &out)
	require.Error(t, err)
	assert.Contains(t, out.String(), "-nope", "the flag package names the unknown flag")
	assert.Contains(t, out.String(), "WSPLAY_ADDR", "and shows the usage")
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "WSPLAY_ADDR", envName("addr"))
	assert.Equal(t, "WSPLAY_READ_HEADER_TIMEOUT", envName("read-header-timeout"))
}

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"https://wsplay.example", "https://wsplay.example"},
		{"HTTPS://WSPLAY.Example:8443", "https://wsplay.example:8443"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"evil.example", ""},
		{"//evil.example", ""},
		{"ftp://x", ""},
		{"https://x/path", ""},
		{"https://x#frag", ""},
		{"https://", ""},
		{"null", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := gate.NormalizeOrigin(tt.in)
		if tt.want == "" {
			assert.Error(t, err, "%q", tt.in)
			continue
		}
		if assert.NoError(t, err, "%q", tt.in) {
			assert.Equal(t, tt.want, got, "%q", tt.in)
		}
	}
}

// With no flags, the server runs as the packages do at their zero
// values: each flag's default is its package's documented default, not a
// number of its own.
func TestFlagDefaultsAreThePackagesDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, wsconn.Config{}.WithDefaults(), cfg.Gate.Conn)
	assert.Equal(t, gate.DefaultTokenTTL, cfg.Gate.TokenTTL)
	assert.Equal(t, []int{gate.DefaultMaxConns, gate.DefaultMaxConnsPerIP, gate.DefaultMaxConnsPerUser},
		[]int{cfg.Gate.MaxConns, cfg.Gate.MaxConnsPerIP, cfg.Gate.MaxConnsPerUser})
	assert.Equal(t, chat.Config{
		HistoryOnJoin: chat.DefaultHistoryOnJoin, HistoryRetention: chat.DefaultHistoryRetention,
		MaxRooms: chat.DefaultMaxRooms, MaxContent: chat.DefaultMaxContent, HistoryBytes: chat.DefaultHistoryBytes, RoomIdle: chat.DefaultRoomIdle,
		PresenceBatchAbove: chat.DefaultPresenceBatchAbove, PresenceBatch: chat.DefaultPresenceBatch,
		MessageRate: wsconn.DefaultMessageRate, MessageBurst: wsconn.DefaultMessageBurst,
		AddressRate: chat.DefaultAddressRate, AddressBurst: chat.DefaultAddressBurst,
	}, cfg.Chat)
	assert.Equal(t, notify.Config{
		Retention: notify.DefaultRetention, PokeRetention: notify.DefaultPokeRetention, MaxUsers: notify.DefaultMaxUsers,
		PokeInterval: notify.DefaultPokeInterval, PokeBurst: notify.DefaultPokeBurst,
		MessageRate: wsconn.DefaultMessageRate, MessageBurst: wsconn.DefaultMessageBurst,
		SendQueue: wsconn.DefaultSendQueue,
	}, cfg.Notify)
	assert.Equal(t, dashboard.DefaultInterval, cfg.Dashboard.Interval)
	assert.Equal(t, playground.DefaultDataDir, cfg.DataDir)
	assert.Equal(t, playground.DefaultReadHeaderTimeout, cfg.ReadHeaderTimeout)
	assert.Equal(t, playground.DefaultIdleTimeout, cfg.IdleTimeout)
	assert.Equal(t, playground.DefaultBodyTimeout, cfg.BodyTimeout)
	assert.Equal(t, playground.DefaultResponseTimeout, cfg.ResponseTimeout)
	assert.Equal(t, playground.DefaultMaxHTTPConns, cfg.MaxHTTPConns)
	assert.Equal(t, store.DefaultPresenceTTL, cfg.NATSPresenceTTL)
	// The one default the command changes: a playground lets guests in.
	assert.True(t, cfg.Gate.GuestLogin)
}
