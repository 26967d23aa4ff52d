package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"

	"wsplay/server/gate"
	"wsplay/server/internal/httpjson"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// maxStrikes is how many unusable messages in a row a chat client may send
// before it is closed with 1008. Each one before that gets an error
// message; a usable message resets the count.
const maxStrikes = 10

// serveChat handles GET /ws/chat?room=NAME&username=NAME, the query of the
// gorilla chat tutorial. A reconnecting client adds since=SEQ&epoch=EPOCH
// from the last history and message it saw, and receives exactly what it
// missed. The username is fixed here, at connect time; a username inside a
// message is ignored.
func (s *server) serveChat(w http.ResponseWriter, r *http.Request) {
	var (
		join joinRequest
		h    *hub
	)
	c, user := s.gate.Admit(w, r, gate.Endpoint{
		Name: shared.EndpointChat, NameParam: "username",
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
				return nil, gate.Refuse(http.StatusServiceUnavailable, "too many rooms", "too many rooms are open; join an existing one or try later")
			case err != nil:
				return nil, gate.Refuse(http.StatusServiceUnavailable, gate.ReasonShuttingDown, "the server is shutting down")
			}
			return func() { s.rooms.release(h) }, nil
		},
	})
	if c == nil {
		return
	}
	defer s.rooms.release(h)
	s.metrics.UserConnected(user)
	defer s.metrics.UserDisconnected(user)
	room := h.room
	c.LogWith("room", room, "user", user)
	join.m = &member{c: c, user: user}
	if !s.rooms.start(h) || !h.add(join) {
		c.Close(websocket.CloseGoingAway, shared.ReasonShutdown)
	}
	defer h.remove(join.m)

	strikes, limiter := 0, wsconn.NewLimiter(s.cfg.MessageRate, s.cfg.MessageBurst)
	c.Run(func(typ int, data []byte) error {
		if ok, err := limiter.Admit(c, func(e *shared.Error) { c.Enqueue(prepare(errorMessage(room, e))) }); !ok {
			return err
		}
		if typ != websocket.TextMessage {
			c.Log().Info("closing: binary frame on a text endpoint")
			c.Close(websocket.CloseUnsupportedData, shared.ReasonBinary)
			return wsconn.ErrClosedByServer
		}
		msg, perr := s.chatInput(data, room)
		if perr != nil {
			strikes++
			c.Log().Info("bad message", "code", perr.Code, "detail", perr.Detail, "strikes", strikes)
			if strikes >= maxStrikes {
				c.Close(websocket.ClosePolicyViolation, shared.ReasonTooManyFaults)
				return wsconn.ErrClosedByServer
			}
			c.Enqueue(prepare(errorMessage(room, perr)))
			return nil
		}
		strikes = 0
		h.send(inbound{m: join.m, msg: msg})
		return nil
	})
}

// parseChatQuery reads the query of a chat handshake: the room (default
// shared.DefaultRoom) and, for a resume, since and epoch.
func parseChatQuery(q url.Values) (string, joinRequest, *gate.Refusal) {
	room := q.Get("room")
	if room == "" {
		room = shared.DefaultRoom
	}
	if err := shared.ValidateName("room name", room); err != nil {
		return "", joinRequest{}, gate.Refuse(http.StatusBadRequest, "bad room name", "bad room: "+err.Error())
	}
	join := joinRequest{epoch: q.Get("epoch")}
	if v := q.Get("since"); v != "" {
		since, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", joinRequest{}, gate.Refuse(http.StatusBadRequest, "bad since", "bad since: want the seq of the last message seen, a whole number")
		}
		join.resume, join.since = true, since
	}
	return room, join, nil
}

// chatInput decodes and checks one text frame a client sent on /ws/chat in
// room. It returns the message to hand to the room, or the error to send
// back: every refusal is a *shared.Error with a stable code, never another
// kind of error that a caller could mistake for success.
func (s *server) chatInput(data []byte, room string) (shared.Message, *shared.Error) {
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
// content, or typing, for the room it joined.
func (s *server) checkChatMessage(m shared.Message, room string) error {
	switch m.Type {
	case shared.TypeText, shared.TypeTyping:
	default:
		return shared.Errorf(shared.CodeUnknownType, "clients send only text and typing messages, not %q", m.Type)
	}
	if m.Room != "" && m.Room != room {
		return shared.Errorf(shared.CodeForbidden, "this connection is in room %q; connect to another room to talk there", room)
	}
	if m.Type == shared.TypeTyping {
		return nil
	}
	if strings.TrimSpace(m.Content) == "" {
		return shared.Errorf(shared.CodeBadRequest, "empty message")
	}
	if len(m.Content) > s.cfg.MaxContent {
		return shared.Errorf(shared.CodeTooLarge, "content is %d bytes; the limit is %d", len(m.Content), s.cfg.MaxContent)
	}
	if m.ID != "" {
		if err := shared.ValidateClientID(m.ID); err != nil {
			return shared.Errorf(shared.CodeBadRequest, "%v", err)
		}
	}
	return nil
}

// serveRooms handles GET /api/rooms: the live rooms with their user and
// connection counts. With -require-auth it needs a valid token, like the
// sockets: room names and who is around are not for strangers.
func (s *server) serveRooms(w http.ResponseWriter, r *http.Request) {
	if !s.gate.AuthorizeAPI(w, r) {
		return
	}
	httpjson.Write(w, http.StatusOK, shared.RoomList{Rooms: s.rooms.list()})
}
