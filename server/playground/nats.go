package playground

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wsplay/server/natsembed"
	"wsplay/server/store"
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
		s, err := natsembed.Start(natsembed.Options("wsplay", filepath.Join(dataDir, "nats")))
		if err != nil {
			return nil, err
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

// The cluster bucket: a key per process, its connection count, put every
// clusterRefresh and gone clusterTTL after its process stopped putting
// it (the bucket's limit markers tell the watchers).
const (
	clusterBucket  = "WSPLAY_NODES"
	clusterTTL     = 5 * time.Second
	clusterRefresh = time.Second
)

// cluster is what the dashboard shows of the processes sharing NATS:
// each process puts its own connection count, and watches everyone's.
type cluster struct {
	kv   jetstream.KeyValue
	nc   *nats.Conn // to watch again when it reconnects
	node string
	open func() int // this process's connections
	stop context.CancelFunc
	done chan struct{}

	mu     sync.Mutex
	counts map[string]int // node → its connections, as last put
}

// startCluster joins the cluster bucket as node, whose connections open
// counts. Stop it with close.
func startCluster(ctx context.Context, js jetstream.JetStream, node string, open func() int) (*cluster, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         clusterBucket,
		Description:    "wsplay: each process's connections, for the dashboard",
		TTL:            clusterTTL,
		LimitMarkerTTL: clusterTTL,
		Storage:        jetstream.FileStorage, // still there after NATS restarts
	})
	if err != nil {
		return nil, fmt.Errorf("nats: cluster bucket: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	c := &cluster{kv: kv, nc: js.Conn(), node: node, open: open, stop: stop, done: make(chan struct{}), counts: map[string]int{}}
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(runCtx) })
	wg.Go(func() { c.refresh(runCtx) })
	go func() { wg.Wait(); close(c.done) }()
	return c, nil
}

// Node implements dashboard.Cluster.
func (c *cluster) Node() string { return c.node }

// Connections implements dashboard.Cluster: this process's count now,
// the others' as they last put it.
func (c *cluster) Connections() (connections, nodes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	connections, nodes = c.open(), 1
	for node, n := range c.counts {
		if node != c.node {
			connections, nodes = connections+n, nodes+1
		}
	}
	return connections, nodes
}

func (c *cluster) refresh(ctx context.Context) {
	t := time.NewTicker(clusterRefresh)
	defer t.Stop()
	for {
		putCtx, cancel := context.WithTimeout(ctx, clusterRefresh)
		c.kv.Put(putCtx, c.node, []byte(strconv.Itoa(c.open()))) // NATS away: the next tick tries again
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *cluster) watch(ctx context.Context) {
	var seen map[string]bool // the nodes of a new watch's first values
	restart := func() { seen = map[string]bool{} }
	store.WatchKeys(ctx, c.kv, c.nc, ">", restart, func(e jetstream.KeyValueEntry) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if e == nil {
			if seen != nil { // a new watch has every node: forget the rest
				for node := range c.counts {
					if !seen[node] {
						delete(c.counts, node)
					}
				}
				seen = nil
			}
			return
		}
		if n, err := strconv.Atoi(string(e.Value())); err == nil && e.Operation() == jetstream.KeyValuePut {
			c.counts[e.Key()] = n
			if seen != nil {
				seen[e.Key()] = true
			}
		} else {
			delete(c.counts, e.Key())
		}
	})
}

// close stops putting and watching, and takes this process's key out.
func (c *cluster) close() {
	if c == nil {
		return
	}
	c.stop()
	<-c.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.kv.Delete(ctx, c.node)
}

// nodeName names this process in the cluster: the host and a few random
// letters, since one host may run several.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return host + "-" + strings.ToLower(rand.Text()[:4])
}
