package playground

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSEmbedded, as Config.NATS, starts a NATS server with JetStream in
// the process, its data under Config.DataDir, listening on a free
// loopback port that the log gives, so that other processes can join it.
const NATSEmbedded = "embedded"

// natsLink is the playground's connection to NATS, and the server it
// started, if it did.
type natsLink struct {
	conn   *nats.Conn
	js     jetstream.JetStream
	server *natsserver.Server // nil unless Config.NATS was NATSEmbedded
}

// checkNATS reports what connectNATS would refuse in setting.
func checkNATS(setting string) error {
	if setting == "" || setting == NATSEmbedded {
		return nil
	}
	for u := range strings.SplitSeq(setting, ",") {
		parsed, err := url.Parse(strings.TrimSpace(u))
		if err != nil || parsed.Host == "" || (parsed.Scheme != "nats" && parsed.Scheme != "tls") {
			return fmt.Errorf("nats: %q is not a NATS server address (nats://host:port, or %q)", u, NATSEmbedded)
		}
	}
	return nil
}

// connectNATS connects to the NATS servers setting names, or starts one
// (NATSEmbedded) with its data in dataDir. It waits for JetStream to
// answer, so that a server without it is refused here, not on the first
// message.
func connectNATS(ctx context.Context, setting, dataDir string) (*natsLink, error) {
	link := &natsLink{}
	addr := setting
	if setting == NATSEmbedded {
		s, err := natsserver.NewServer(&natsserver.Options{
			ServerName: "wsplay",
			Host:       "127.0.0.1",
			Port:       -1, // a free port
			JetStream:  true,
			StoreDir:   filepath.Join(dataDir, "nats"),
			NoLog:      true,
			NoSigs:     true,
		})
		if err != nil {
			return nil, fmt.Errorf("nats: start the embedded server: %w", err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			s.Shutdown()
			return nil, errors.New("nats: the embedded server did not start within 10 s")
		}
		link.server, addr = s, s.ClientURL()
	}
	// Reconnect for ever, and buffer nothing meanwhile: a message sent
	// while NATS is away fails at once (its sender is told, and sends it
	// again) instead of going out later, after its sender gave up on it.
	nc, err := nats.Connect(addr, nats.Name("wsplay"), nats.MaxReconnects(-1), nats.ReconnectBufSize(-1),
		nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		link.close()
		return nil, fmt.Errorf("nats: connect to %s: %w", addr, err)
	}
	link.conn = nc
	if link.js, err = jetstream.New(nc); err != nil {
		link.close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := link.js.AccountInfo(ctx); err != nil {
		link.close()
		return nil, fmt.Errorf("nats: %s has no JetStream (start nats-server with -js): %w", addr, err)
	}
	return link, nil
}

// URL is where other processes reach the NATS server.
func (l *natsLink) URL() string { return l.conn.ConnectedUrlRedacted() }

// close ends the connection, then the embedded server.
func (l *natsLink) close() {
	if l == nil {
		return
	}
	if l.conn != nil {
		l.conn.Close()
	}
	if l.server != nil {
		l.server.Shutdown()
		l.server.WaitForShutdown()
	}
}
