package store

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WatchKeys follows the keys of kv that match keys until ctx ends, as
// kv.Watch does, and starts the watch over each time the NATS connection
// nc comes back: a key watch does not survive its server restarting, and
// would otherwise wait for ever, delivering nothing. Each watch begins
// with restart, then hands handle every current value and a nil entry
// once they are all in (as jetstream.KeyWatcher does), then each change
// as it comes; restart and handle are called from one goroutine, the
// caller's. A watch that cannot start (NATS away) is tried again each
// second. It returns once ctx ends.
func WatchKeys(ctx context.Context, kv jetstream.KeyValue, nc *nats.Conn, keys string, restart func(), handle func(jetstream.KeyValueEntry), opts ...jetstream.WatchOpt) {
	var reconnected chan nats.Status
	if nc != nil {
		reconnected = nc.StatusChanged(nats.CONNECTED)
		defer nc.RemoveStatusListener(reconnected)
	}
	for ctx.Err() == nil {
		w, err := kv.Watch(ctx, keys, opts...)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-reconnected:
			case <-time.After(time.Second):
			}
			continue
		}
		restart()
		follow(ctx, w, reconnected, handle)
		w.Stop()
	}
}

// follow hands handle what w delivers until w ends, ctx ends or the
// connection came back.
func follow(ctx context.Context, w jetstream.KeyWatcher, reconnected chan nats.Status, handle func(jetstream.KeyValueEntry)) {
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			handle(e)
		case <-reconnected:
			return
		case <-ctx.Done():
			return
		}
	}
}
