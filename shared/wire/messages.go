package wire

import (
	"bytes"

	"wsplay/shared"
)

// Decode is shared.Decode without reflection: a chat message, checked the
// same way (a JSON object, with a type the protocol knows).
func Decode(data []byte) (shared.Message, error) {
	var m shared.Message
	if err := decode(data, func(d *decoder) error { return messageInto(d, "", &m) }); err != nil {
		return shared.Message{}, err
	}
	switch {
	case m.Type == "":
		return shared.Message{}, shared.Errorf(shared.CodeUnknownType, "message has no type")
	case !m.Type.Known():
		return shared.Message{}, shared.Errorf(shared.CodeUnknownType, "unknown message type %.40q", m.Type)
	}
	return m, nil
}

// DecodeNotify is shared.DecodeNotify without reflection.
func DecodeNotify(data []byte) (shared.NotifyMessage, error) {
	var m shared.NotifyMessage
	if err := decode(data, func(d *decoder) error { return notifyInto(d, "", &m) }); err != nil {
		return shared.NotifyMessage{}, err
	}
	switch {
	case m.Type == "":
		return shared.NotifyMessage{}, shared.Errorf(shared.CodeUnknownType, "message has no type")
	case !m.Type.Known():
		return shared.NotifyMessage{}, shared.Errorf(shared.CodeUnknownType, "unknown message type %.40q", m.Type)
	}
	return m, nil
}

// DecodeDashboard decodes a dashboard snapshot, as json.Unmarshal would.
func DecodeDashboard(data []byte) (shared.DashboardData, error) {
	var s shared.DashboardData
	err := decode(data, func(d *decoder) error { return dashboardInto(d, "", &s) })
	return s, err
}

// DecodeLoginResponse decodes the answer to a login, as json.Unmarshal
// would.
func DecodeLoginResponse(data []byte) (shared.LoginResponse, error) {
	var r shared.LoginResponse
	err := decode(data, func(d *decoder) error {
		return d.objectFor("", func(key string) error {
			switch match(key, "token", "username", "expires_at") {
			case "token":
				return stringInto(d, key, &r.Token)
			case "username":
				return stringInto(d, key, &r.Username)
			case "expires_at":
				return d.timeInto(key, &r.ExpiresAt)
			}
			return d.skip()
		})
	})
	return r, err
}

// DecodeAPIError decodes the HTTP API's error answer, as json.Unmarshal
// would.
func DecodeAPIError(data []byte) (shared.APIError, error) {
	var e shared.APIError
	err := decode(data, func(d *decoder) error {
		return d.objectFor("", func(key string) error {
			if match(key, "error") == "" {
				return d.skip()
			}
			return d.objectFor(key, func(key string) error {
				switch match(key, "code", "message") {
				case "code":
					return stringInto(d, key, &e.Error.Code)
				case "message":
					return stringInto(d, key, &e.Error.Message)
				}
				return d.skip()
			})
		})
	})
	return e, err
}

// messageFields are shared.Message's JSON names.
var messageFields = []string{"type", "username", "content", "timestamp", "users", "room", "id", "seq", "code", "messages", "epoch", "recovered", "more"}

//go:noinline
func messageInto(d *decoder, key string, m *shared.Message) error {
	return d.objectFor(key, func(key string) error {
		switch match(key, messageFields...) {
		case "type":
			return stringInto(d, key, &m.Type)
		case "username":
			return stringInto(d, key, &m.Username)
		case "content":
			return stringInto(d, key, &m.Content)
		case "timestamp":
			return d.timeInto(key, &m.Timestamp)
		case "users":
			return sliceInto(d, key, &m.Users, func(s *string) error { return stringInto(d, key, s) })
		case "room":
			return stringInto(d, key, &m.Room)
		case "id":
			return stringInto(d, key, &m.ID)
		case "seq":
			return d.uintInto(key, &m.Seq)
		case "code":
			return stringInto(d, key, &m.Code)
		case "messages":
			return sliceInto(d, key, &m.Messages, func(e *shared.Message) error { return messageInto(d, key, e) })
		case "epoch":
			return stringInto(d, key, &m.Epoch)
		case "recovered":
			return d.boolPtrInto(key, &m.Recovered)
		case "more":
			return d.boolInto(key, &m.More)
		}
		return d.skip()
	})
}

// notifyFields are shared.NotifyMessage's JSON names.
var notifyFields = []string{"type", "code", "notification", "unread", "all", "seq", "id", "ids", "to", "title", "message", "more"}

//go:noinline
func notifyInto(d *decoder, key string, m *shared.NotifyMessage) error {
	return d.objectFor(key, func(key string) error {
		switch match(key, notifyFields...) {
		case "type":
			return stringInto(d, key, &m.Type)
		case "code":
			return stringInto(d, key, &m.Code)
		case "notification":
			return ptrInto(d, &m.Notification, func(n *shared.Notification) error { return notificationInto(d, key, n) })
		case "unread":
			return d.intInto(key, &m.Unread)
		case "all":
			return d.boolInto(key, &m.All)
		case "seq":
			return d.uintInto(key, &m.Seq)
		case "id":
			return stringInto(d, key, &m.ID)
		case "ids":
			return sliceInto(d, key, &m.IDs, func(s *string) error { return stringInto(d, key, s) })
		case "to":
			return stringInto(d, key, &m.To)
		case "title":
			return stringInto(d, key, &m.Title)
		case "message":
			return stringInto(d, key, &m.Message)
		case "more":
			return d.boolInto(key, &m.More)
		}
		return d.skip()
	})
}

// notificationFields are shared.Notification's JSON names.
var notificationFields = []string{"id", "user_id", "type", "title", "message", "data", "timestamp", "read", "seq", "from"}

//go:noinline
func notificationInto(d *decoder, key string, n *shared.Notification) error {
	return d.objectFor(key, func(key string) error {
		switch match(key, notificationFields...) {
		case "id":
			return stringInto(d, key, &n.ID)
		case "user_id":
			return stringInto(d, key, &n.UserID)
		case "type":
			return stringInto(d, key, &n.Type)
		case "title":
			return stringInto(d, key, &n.Title)
		case "message":
			return stringInto(d, key, &n.Message)
		case "data":
			return d.rawInto(&n.Data)
		case "timestamp":
			return d.timeInto(key, &n.Timestamp)
		case "read":
			return d.boolInto(key, &n.Read)
		case "seq":
			return d.uintInto(key, &n.Seq)
		case "from":
			return stringInto(d, key, &n.From)
		}
		return d.skip()
	})
}

//go:noinline
func dashboardInto(d *decoder, key string, s *shared.DashboardData) error {
	return d.objectFor(key, func(key string) error {
		switch match(key, "timestamp", "metrics", "node", "history", "more") {
		case "timestamp":
			return d.timeInto(key, &s.Timestamp)
		case "metrics":
			if null, err := d.null(); null || err != nil {
				s.Metrics = nil
				return err
			}
			if d.peek() != '{' {
				return d.wrongType(key, "object")
			}
			if s.Metrics == nil {
				s.Metrics = map[string]float64{}
			}
			return d.object(func(name string) error {
				var v float64
				err := d.floatInto(key, &v)
				s.Metrics[name] = v
				return err
			})
		case "node":
			return stringInto(d, key, &s.Node)
		case "history":
			return sliceInto(d, key, &s.History, func(e *shared.DashboardData) error { return dashboardInto(d, key, e) })
		case "more":
			return d.boolInto(key, &s.More)
		}
		return d.skip()
	})
}

// ParsePong is shared.ParsePong without reflection: whether a frame the
// server sent is a pong, and the id it carries.
func ParsePong(data []byte) (id string, ok bool) {
	if !bytes.Contains(data, []byte(`"pong"`)) {
		return "", false
	}
	var typ string
	err := decode(data, func(d *decoder) error {
		return d.objectFor("", func(key string) error {
			switch match(key, "type", "id") {
			case "type":
				return stringInto(d, key, &typ)
			case "id":
				return stringInto(d, key, &id)
			}
			return d.skip()
		})
	})
	if err != nil || typ != shared.HeartbeatPong {
		return "", false
	}
	return id, true
}

// EncodePing is shared.EncodePing without reflection.
func EncodePing(id string) []byte {
	e := &encoder{}
	outer := e.begin()
	e.field("type")
	e.str(shared.HeartbeatPing)
	e.optional("id", id)
	e.end(outer)
	return e.b
}
