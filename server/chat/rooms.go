package chat

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"wsplay/server/broker"
	"wsplay/shared"
)

// rooms starts a hub for a room when its first connection arrives and
// stops it once the room has stayed empty for Config.RoomIdle, so idle
// rooms hold no goroutine. Handlers acquire a hub before joining it and
// release it after leaving; a hub with holders is never stopped.
type rooms struct {
	cfg    *Config
	log    *slog.Logger
	store  Store
	fanout broker.Broker // shared by the hubs, keyed by room
	// newPresence makes each hub's Presence; nil: a MemoryPresence.
	newPresence func(room string) Presence

	mu     sync.Mutex // guards hubs and closed; never held while waiting
	hubs   map[string]*roomEntry
	closed bool
}

type roomEntry struct {
	h       *hub
	started bool        // h.run is running
	refs    int         // handlers holding the hub
	idle    *time.Timer // set while refs == 0 and started: stops the hub when it fires
}

var (
	errTooManyRooms = errors.New("too many rooms")
	errShuttingDown = errors.New("shutting down")
)

func newRooms(cfg *Config, log *slog.Logger, st Store, b broker.Broker, newPresence func(room string) Presence) *rooms {
	return &rooms{cfg: cfg, log: log, store: st, fanout: b, newPresence: newPresence, hubs: map[string]*roomEntry{}}
}

// acquire returns the room's hub, making it if needed, without starting
// it: a handshake reserves its room before the upgrade, and start runs
// the hub only once the connection is upgraded. The caller must call
// release with it when done, whether it started it or not.
func (r *rooms) acquire(name string) (*hub, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errShuttingDown
	}
	e := r.hubs[name]
	if e == nil {
		if len(r.hubs) >= r.cfg.MaxRooms {
			return nil, errTooManyRooms
		}
		var pres Presence
		if r.newPresence != nil {
			pres = r.newPresence(name)
		}
		e = &roomEntry{h: newHub(name, r.cfg, r.log, r.store, r.fanout, r.inUse, pres)}
		r.hubs[name] = e
	}
	if e.idle != nil {
		e.idle.Stop()
		e.idle = nil
	}
	e.refs++
	return e.h, nil
}

// start runs h, from acquire, if it is not running yet. It reports false
// once shutdown has begun: h will never run.
func (r *rooms) start(h *hub) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.hubs[h.room]
	if r.closed || e == nil || e.h != h {
		return false
	}
	if !e.started {
		e.started = true
		go h.run()
	}
	return true
}

// release gives back a hub from acquire. A hub that never started is
// forgotten at once: the room was only reserved.
func (r *rooms) release(h *hub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.hubs[h.room]
	if e == nil || e.h != h {
		return // stopped by shutdown
	}
	e.refs--
	switch {
	case e.refs > 0:
	case !e.started:
		delete(r.hubs, h.room)
	default:
		e.idle = time.AfterFunc(r.cfg.RoomIdle, func() { r.expire(h) })
	}
}

// expire stops h if its room is still empty.
func (r *rooms) expire(h *hub) {
	r.mu.Lock()
	e := r.hubs[h.room]
	if e == nil || e.h != h || e.refs > 0 {
		r.mu.Unlock()
		return // reacquired meanwhile, or already gone
	}
	delete(r.hubs, h.room)
	r.mu.Unlock()
	h.shutdown()
	r.log.Debug("room idle: hub stopped", "room", h.room)
}

// shutdown stops every hub and refuses new ones. Call it after the
// connections are closed.
func (r *rooms) shutdown() {
	r.mu.Lock()
	r.closed = true
	hubs := make([]*hub, 0, len(r.hubs))
	for _, e := range r.hubs {
		if e.idle != nil {
			e.idle.Stop()
		}
		if e.started {
			hubs = append(hubs, e.h)
		}
	}
	clear(r.hubs)
	r.mu.Unlock()
	for _, h := range hubs {
		h.shutdown()
	}
}

// inUse reports whether a room's hub runs here: its history must not be
// evicted to make room for another.
func (r *rooms) inUse(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.hubs[name]
	return e != nil && e.started
}

// list returns the live rooms, by name; a room only reserved by a
// handshake is not one yet.
func (r *rooms) list() []shared.RoomInfo {
	r.mu.Lock()
	out := make([]shared.RoomInfo, 0, len(r.hubs))
	for name, e := range r.hubs {
		if e.started {
			out = append(out, shared.RoomInfo{Name: name, Users: e.h.users.Load(), Connections: e.h.conns.Load()})
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b shared.RoomInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// count returns the number of live rooms.
func (r *rooms) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.hubs {
		if e.started {
			n++
		}
	}
	return n
}
