// Package natsembed starts a NATS server with JetStream inside this
// process, on a free loopback port: what the playground's -nats embedded
// runs, what scripts/cluster shares between its nodes, and what the
// tests start (through server/internal/natstest). Nothing is listened on
// but 127.0.0.1.
package natsembed

import (
	"errors"
	"fmt"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// ReadyWithin bounds how long Start waits for the server to accept
// connections.
const ReadyWithin = 10 * time.Second

// Options returns the options Start uses: the server named name, on a
// free port of 127.0.0.1, JetStream's data in storeDir, no log and no
// signal handling (the process that embeds it has its own).
func Options(name, storeDir string) *natsserver.Options {
	return &natsserver.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       -1, // a free port
		JetStream:  true,
		StoreDir:   storeDir,
		NoLog:      true,
		NoSigs:     true,
	}
}

// Start starts a server with opts (see Options) and waits until it
// accepts connections, at most ReadyWithin. The caller stops it with
// Shutdown, then WaitForShutdown.
func Start(opts *natsserver.Options) (*natsserver.Server, error) {
	s, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats: start the embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(ReadyWithin) {
		s.Shutdown()
		return nil, errors.New("nats: the embedded server did not start within " + ReadyWithin.String())
	}
	return s, nil
}
