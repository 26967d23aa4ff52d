// Package chat is the chat endpoint: rooms, each run by a hub goroutine;
// who is present in them; typing; stored history with exact resume; and
// the http.Handler of /ws/chat, which any router can mount.
//
// A [Service] is made with [New] from a [Config], whose zero value is
// ready to use, and its dependencies, each optional: where the history is
// kept (a [Store]; default in memory), how broadcasts reach the room's
// members (a broker.Broker; default in this process), who may connect (a
// gate.Gate; default one of its own) and what is counted
// (metrics.Metrics). Package chattest checks any http.Handler of the chat
// endpoint, and any Store, against the behaviour described here and in
// package shared.
//
// # The data path
//
// A handshake passes the gate, which reserves the room; the upgraded
// connection's reader decodes and checks each frame and hands it to
// the room's hub; the hub stores a text message, then publishes it under
// the room's key; the broker hands it back to every hub of the room (one
// per process), and each prepares it once and queues it for its members,
// whose writers send it.
package chat

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode"

	"github.com/gorilla/websocket"

	"wsplay/server/broker"
	"wsplay/server/gate"
	"wsplay/server/internal/httpjson"
	"wsplay/server/internal/keyrate"
	"wsplay/server/metrics"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// Config is how the chat behaves. The zero value is ready to use: each
// field says its default, taken when it is zero (or not positive).
type Config struct {
	// HistoryOnJoin is how many of a room's newest messages a joining
	// client receives. Default 50; at most HistoryRetention.
	HistoryOnJoin int
	// HistoryRetention is how many messages each room keeps; older ones
	// are deleted. Default 1000.
	HistoryRetention int
	// MaxRooms bounds the rooms open at once and the rooms whose history
	// is kept (the least recently active lose theirs first). Default 1000.
	MaxRooms int
	// MaxContent is the longest chat message, in bytes as the message
	// carries it, encoded as a JSON string (a "<" counts 6, as \u003c).
	// Default 4 KiB; at most MaxContentLimit, so that a message fits a
	// frame (New refuses more).
	MaxContent int
	// HistoryBytes bounds what a join receives as history, in encoded
	// bytes (sent in pages of shared.MaxFrame): a resume that
	// missed more gets recovered: false and the newest HistoryOnJoin
	// messages. Default 256 KiB.
	HistoryBytes int
	// RoomIdle is how long an empty room keeps its goroutine. Default 30 s.
	RoomIdle time.Duration
	// PresenceBatchAbove is the room size above which joins and leaves
	// are collected for PresenceBatch and sent in runs. Default 100.
	PresenceBatchAbove int
	// PresenceBatch is how long presence changes wait in a big room.
	// Default 250 ms.
	PresenceBatch time.Duration
	// MessageRate is how many messages a second one connection may send,
	// with bursts of MessageBurst. Defaults 10 and 20.
	MessageRate  float64
	MessageBurst int
	// AddressRate and AddressBurst limit the text messages of all the
	// connections of one client address (an IPv6 client's /64)
	// together. Defaults 30 a second and 60.
	AddressRate  float64
	AddressBurst int
	// Faults lets each connection ask the server to inject a fault into
	// itself (shared.TypeFault), for teaching; off, such a request gets
	// an error of code forbidden. Default off.
	Faults bool
}

// The defaults of Config.
const (
	DefaultHistoryOnJoin      = 50
	DefaultHistoryRetention   = 1000
	DefaultMaxRooms           = 1000
	DefaultMaxContent         = shared.DefaultMaxContent
	DefaultHistoryBytes       = 256 << 10
	DefaultRoomIdle           = 30 * time.Second
	DefaultPresenceBatchAbove = 100
	DefaultPresenceBatch      = 250 * time.Millisecond
	DefaultAddressRate        = 30
	DefaultAddressBurst       = 60
	// MaxContentLimit is the largest Config.MaxContent: a message of
	// that much content, with every other field at its longest, still
	// fits a frame of shared.MaxFrame, alone or as a page of history.
	MaxContentLimit = shared.MaxFrame - 2<<10
)

func (c Config) withDefaults() Config {
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&c.HistoryRetention, DefaultHistoryRetention)
	setInt(&c.HistoryOnJoin, min(DefaultHistoryOnJoin, c.HistoryRetention))
	c.HistoryOnJoin = min(c.HistoryOnJoin, c.HistoryRetention)
	setInt(&c.MaxRooms, DefaultMaxRooms)
	setInt(&c.MaxContent, DefaultMaxContent)
	setInt(&c.HistoryBytes, DefaultHistoryBytes)
	setDur(&c.RoomIdle, DefaultRoomIdle)
	setInt(&c.PresenceBatchAbove, DefaultPresenceBatchAbove)
	setDur(&c.PresenceBatch, DefaultPresenceBatch)
	if c.AddressRate <= 0 {
		c.AddressRate = DefaultAddressRate
	}
	setInt(&c.AddressBurst, DefaultAddressBurst)
	return c
}

// Deps are what a Service works with. Every field may be left nil.
type Deps struct {
	// Store keeps the history. Default: a MemoryStore.
	Store Store
	// Broker carries each room's broadcasts to its members. Default: a
	// broker.Memory, which reaches this process only.
	Broker broker.Broker
	// Gate admits the handshakes. Default: a gate of the zero
	// gate.Config, which the Service shuts down itself. A gate given here
	// belongs to the caller, who shuts it down before the Service.
	Gate *gate.Gate
	// Metrics counts users online and rooms, besides what the gate and
	// the connections count. Default: nothing is counted.
	Metrics *metrics.Metrics
	// Log receives the rooms' log lines. Default: discarded.
	Log *slog.Logger
	// NewPresence makes each room's Presence as the room opens. Default:
	// a MemoryPresence per room.
	NewPresence func(room string) Presence
}

// Service is the chat endpoint. Its methods are safe for concurrent use.
type Service struct {
	cfg      Config
	log      *slog.Logger
	gate     *gate.Gate
	ownsGate bool
	metrics  *metrics.Metrics
	rooms    *rooms
	// perAddress limits text messages per client address.
	perAddress *keyrate.Limiter
}

// New returns a chat service. It fails only when it must make a gate of
// its own and cannot.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxContent > MaxContentLimit {
		return nil, fmt.Errorf("chat: MaxContent %d is over %d: a message must fit a frame of %d bytes", cfg.MaxContent, MaxContentLimit, shared.MaxFrame)
	}
	s := &Service{cfg: cfg, log: deps.Log, gate: deps.Gate, metrics: deps.Metrics,
		perAddress: keyrate.New(cfg.AddressRate, cfg.AddressBurst, 100000)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.gate == nil {
		g, err := gate.New(gate.Config{}, s.log, s.metrics)
		if err != nil {
			return nil, err
		}
		s.gate, s.ownsGate = g, true
	}
	st := deps.Store
	if st == nil {
		st = NewMemoryStore()
	}
	b := deps.Broker
	if b == nil {
		b = broker.NewMemory()
	}
	s.rooms = newRooms(&s.cfg, s.log, st, b, deps.NewPresence)
	s.metrics.DeclareRejectReasons(Reasons...)
	s.metrics.CountRoomsWith(s.rooms.count)
	return s, nil
}

// The reasons the chat endpoint refuses handshakes for, after the gate's
// own.
const (
	ReasonBadRoom      = "bad room name"
	ReasonBadSince     = "bad since"
	ReasonTooManyRooms = "too many rooms"
)

// Reasons lists the reasons above.
var Reasons = []string{ReasonBadRoom, ReasonBadSince, ReasonTooManyRooms}

// Rooms returns the live rooms, by name, with their user and connection
// counts.
func (s *Service) Rooms() []shared.RoomInfo { return s.rooms.list() }

// RoomCount returns how many rooms are live.
func (s *Service) RoomCount() int { return s.rooms.count() }

// Shutdown stops every room and refuses new ones. If the Service made its
// own gate, it first closes every connection with 1001 through it, within
// ctx; a gate given in Deps must be shut down by its owner first.
func (s *Service) Shutdown(ctx context.Context) error {
	var err error
	if s.ownsGate {
		err = s.gate.Shutdown(ctx)
	}
	s.rooms.shutdown()
	return err
}

// ServeHTTP handles GET /ws/chat?room=NAME&username=NAME, the query of the
// gorilla chat tutorial, wherever it is mounted. A reconnecting client
// adds since=SEQ&epoch=EPOCH from the last history and message it saw, and
// receives exactly what it missed. The username is fixed here, at connect
// time (by a token, if the handshake has one); a username inside a message
// is ignored.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var (
		join joinRequest
		h    *hub
	)
	c, user := s.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointChat, NameParam: "username", Batch: true,
		Check: func(r *http.Request, _ string) (func(), *gate.Refusal) {
			room, j, ref := parseChatQuery(r.URL.Query())
			if ref != nil {
				return nil, ref
			}
			join = j
			// A reservation: the room's hub starts only once the
			// connection is upgraded, so a refused handshake opens no room.
			var err error
			h, err = s.rooms.acquire(room)
			switch {
			case errors.Is(err, errTooManyRooms):
				return nil, gate.Refuse(http.StatusServiceUnavailable, ReasonTooManyRooms, "too many rooms are open; join an existing one or try later")
			case err != nil:
				return nil, gate.Refuse(http.StatusServiceUnavailable, gate.ReasonShuttingDown, "the server is shutting down")
			}
			return func() { s.rooms.release(h) }, nil
		},
	})
	if c == nil {
		return
	}
	s.serve(c, h, join, user, gate.ClientAddress(r))
}

// serve puts an admitted connection in its room and starts it; what it
// took is given back when the connection ends. It returns at once: the
// handler then returns too (see package wsconn).
func (s *Service) serve(c *wsconn.Conn, h *hub, join joinRequest, user, addr string) {
	s.metrics.UserConnected(user)
	room := h.room
	c.LogWith(func() []any { return []any{"room", room, "user", user} })
	cl := &client{s: s, c: c, h: h, addr: addr, limiter: wsconn.NewLimiter(s.cfg.MessageRate, s.cfg.MessageBurst)}
	cl.m = member{c: c, user: user}
	join.m = &cl.m
	if !s.rooms.start(h) || !h.add(join) {
		c.Close(websocket.CloseGoingAway, shared.ReasonShutdown)
	}
	c.Start(cl.handle, cl.ended)
}

// client is one chat connection, in one allocation: an idle connection
// holds this and its wsconn.Conn.
type client struct {
	s       *Service
	c       *wsconn.Conn
	h       *hub
	m       member // in the room's hub
	addr    string // the client's address, for the per-address limit
	strikes wsconn.Strikes
	limiter *wsconn.Limiter
}

// handle is the connection's Handler.
func (cl *client) handle(typ int, data []byte) error {
	s, c, room := cl.s, cl.c, cl.h.room
	if ok, err := cl.limiter.Admit(c, func(e *shared.Error) { c.Enqueue(prepare(errorMessage(room, e))) }); !ok {
		return err
	}
	if typ != websocket.TextMessage {
		c.Log().Info("closing: binary frame on a text endpoint")
		c.Close(websocket.CloseUnsupportedData, shared.ReasonBinary)
		return wsconn.ErrClosedByServer
	}
	msg, perr := s.chatInput(data, room)
	if perr != nil && perr.Code == shared.CodeUnknownType {
		if f, ok := decodeFault(data); ok {
			msg, perr = f, nil
		}
	}
	if perr == nil && msg.Type == shared.TypeFault {
		perr = s.injectFault(c, msg.Content)
	}
	if perr != nil {
		if err := cl.strikes.Bad(c, perr); err != nil {
			return err
		}
		c.Enqueue(prepare(errorMessage(room, perr)))
		return nil
	}
	cl.strikes.Good()
	if msg.Type == shared.TypeFault {
		return nil
	}
	if msg.Type == shared.TypePing {
		if c.NoPong() {
			return nil // a fault: this connection's pings go unanswered
		}
		// The heartbeat: answered at once, to this client only. It
		// counted against the connection's message rate above, as any
		// message does, and as activity (wsconn's PongWait), but it
		// stores nothing, so the per-address limit does not apply.
		c.Enqueue(wsconn.TextFrame(shared.EncodePong(msg.ID)))
		return nil
	}
	// Stored messages are limited per client address too, whatever
	// its connections: one address with many sockets could otherwise
	// push a room's whole history out in seconds.
	if msg.Type == shared.TypeText {
		if wait := s.perAddress.Wait(cl.addr, time.Now()); wait > 0 {
			c.Enqueue(prepare(errorMessage(room, shared.Errorf(shared.CodeRateLimited,
				"too many messages from this address: at most %g a second; retry in %v", s.cfg.AddressRate, wait.Round(time.Millisecond)))))
			return nil
		}
	}
	cl.h.send(inbound{m: &cl.m, msg: msg})
	return nil
}

// ended gives back what the connection took, once it has ended.
func (cl *client) ended() {
	cl.h.remove(&cl.m)
	cl.s.metrics.UserDisconnected(cl.m.user)
	cl.s.rooms.release(cl.h)
}

// parseChatQuery reads the query of a chat handshake: the room (default
// shared.DefaultRoom) and, for a resume, since and epoch.
func parseChatQuery(q url.Values) (string, joinRequest, *gate.Refusal) {
	room := q.Get("room")
	if room == "" {
		room = shared.DefaultRoom
	}
	if err := shared.ValidateName("room name", room); err != nil {
		return "", joinRequest{}, gate.Refuse(http.StatusBadRequest, ReasonBadRoom, "bad room: "+err.Error())
	}
	join := joinRequest{epoch: q.Get("epoch")}
	if v := q.Get("since"); v != "" {
		since, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", joinRequest{}, gate.Refuse(http.StatusBadRequest, ReasonBadSince, "bad since: want the seq of the last message seen, a whole number")
		}
		join.resume, join.since = true, since
	}
	return room, join, nil
}

// chatInput decodes and checks one text frame a client sent on /ws/chat in
// room. It returns the message to hand to the room, or the error to send
// back: every refusal is a *shared.Error with a stable code, never another
// kind of error that a caller could mistake for success.
func (s *Service) chatInput(data []byte, room string) (shared.Message, *shared.Error) {
	msg, err := shared.Decode(data)
	if err == nil {
		err = s.checkChatMessage(msg, room)
	}
	if err == nil {
		return msg, nil
	}
	var perr *shared.Error
	if !errors.As(err, &perr) {
		perr = shared.Errorf(shared.CodeBadRequest, "unusable message")
	}
	return shared.Message{}, perr
}

// checkChatMessage checks what a client may send on /ws/chat: text with
// content, or typing, for the room it joined; or a ping.
func (s *Service) checkChatMessage(m shared.Message, room string) error {
	switch m.Type {
	case shared.TypeText, shared.TypeTyping:
	case shared.TypePing:
		if err := shared.CheckPingID(m.ID); err != nil {
			return err
		}
		return nil
	default:
		return shared.Errorf(shared.CodeUnknownType, "clients send only text, typing and ping messages, not %q", m.Type)
	}
	if m.Room != "" && m.Room != room {
		return shared.Errorf(shared.CodeForbidden, "this connection is in room %q; connect to another room to talk there", room)
	}
	if m.Type == shared.TypeTyping {
		return nil
	}
	if m.ID != "" {
		if err := shared.ValidateClientID(m.ID); err != nil {
			return shared.Errorf(shared.CodeBadRequest, "%v", err)
		}
	}
	// A refused text names its id: the client shows which line was not
	// stored, and does not send it again.
	if blank(m.Content) {
		e := shared.Errorf(shared.CodeBadRequest, "empty message")
		e.ID = m.ID
		return e
	}
	if n := encodedLen(m.Content); n > s.cfg.MaxContent {
		e := shared.Errorf(shared.CodeTooLarge, "content is %d bytes as JSON; the limit is %d", n, s.cfg.MaxContent)
		e.ID = m.ID
		return e
	}
	return nil
}

// RoomsHandler serves GET /api/rooms: the live rooms as a
// [shared.RoomList]. Under the gate's RequireAuth it needs a valid token,
// like the sockets: room names and who is around are not for strangers.
func (s *Service) RoomsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpjson.Error(w, http.StatusMethodNotAllowed, shared.CodeMethodNotAllowed, "use GET to list the rooms")
			return
		}
		if !s.gate.AuthorizeAPI(w, r) {
			return
		}
		httpjson.Write(w, http.StatusOK, shared.RoomList{Rooms: s.rooms.list()})
	})
}

// newID returns a random 128-bit identifier, 26 base32 characters.
func newID() string { return rand.Text() }

// encodedLen is the length of s as a JSON string's contents, as every
// message that carries it sends it: escapes count in full.
func encodedLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b) - 2
}

// blank reports whether s shows nothing: only spaces and invisible
// format characters (zero-width space, joiners, direction marks).
func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
