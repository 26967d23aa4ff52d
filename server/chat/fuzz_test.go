package chat

import (
	"strings"
	"testing"
	"time"

	"wsplay/shared"
)

// maxDetail bounds what an error tells a client: enough to fix the
// message, never the client's input echoed back at length.
const maxDetail = 300

// chatSeeds are one frame of every message type, and the near misses that
// the chat check refuses.
func chatSeeds() [][]byte {
	ts := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	msgs := []shared.Message{
		{Type: shared.TypeText, Content: "hello"},
		{Type: shared.TypeText, Content: "hello", ID: "c-1", Room: "general"},
		{Type: shared.TypeText, Content: "forged", Username: "admin", Seq: 99, Timestamp: ts},
		{Type: shared.TypeText, Content: "elsewhere", Room: "other"},
		{Type: shared.TypeText, Content: "   "},
		{Type: shared.TypeText, Content: "bad id", ID: "<script>"},
		{Type: shared.TypeText, Content: strings.Repeat("x", 4<<10+1)},
		{Type: shared.TypeTyping},
		{Type: shared.TypeTyping, Room: "general"},
		{Type: shared.TypeJoin, Username: "ada", Room: "general", Timestamp: ts},
		{Type: shared.TypeLeave, Username: "ada", Room: "general", Timestamp: ts},
		{Type: shared.TypeUserList, Room: "general", Users: []string{"ada", "bob"}},
		{Type: shared.TypeHistory, Room: "general", Messages: []shared.Message{{Type: shared.TypeText, Content: "old", Seq: 1}}},
		{Type: shared.TypeError, Code: shared.CodeBadJSON, Content: "not valid JSON"},
		{Type: shared.TypePing},
		{Type: shared.TypePing, ID: "p-1"},
		{Type: shared.TypePing, ID: "<b>"},
		{Type: shared.TypePong, ID: "p-1"},
	}
	var out [][]byte
	for _, m := range msgs {
		b, err := shared.Encode(m)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(`{"type":"text","content":"hi"} {"type":"text"}`),
		[]byte(`{"type":"text","content":["x"]}`),
		[]byte(`{"type":"text","content":"\ud800"}`),
		[]byte(`{"type":"nope"}`),
		[]byte(`[[[[[[[[[[{"type":"text"}]]]]]]]]]]`),
		[]byte(`{"type":"text","content":"x","messages":[{"messages":[{"messages":[]}]}]}`),
		[]byte("\xff\xfe"),
		[]byte(``),
	)
}

// checkRefusal fails t unless err is a refusal a client can be sent: one
// of codes, with a short detail, that encodes.
func checkRefusal(t *testing.T, err *shared.Error, codes ...shared.ErrorCode) {
	t.Helper()
	ok := false
	for _, c := range codes {
		ok = ok || err.Code == c
	}
	if !ok {
		t.Fatalf("refused with code %q (%s), want one of %v", err.Code, err.Detail, codes)
	}
	if len(err.Detail) > maxDetail {
		t.Fatalf("error detail of %d bytes: %.80q…", len(err.Detail), err.Detail)
	}
	if _, err := shared.Encode(errorMessage("general", err)); err != nil {
		t.Fatalf("the error message does not encode: %v", err)
	}
}

// FuzzChatInput feeds arbitrary frames to what /ws/chat does with a text
// frame before the room sees it (decode and check). Every frame is either
// refused with an error a client can be sent, or accepted as a text or
// typing message within the limits, which the room's broadcast of it then
// carries unchanged, or as a ping, whose pong carries its id back.
func FuzzChatInput(f *testing.F) {
	for _, b := range chatSeeds() {
		f.Add(b)
	}
	s := &Service{cfg: Config{}.withDefaults()}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, perr := s.chatInput(data, "general")
		if perr != nil {
			checkRefusal(t, perr, shared.CodeBadJSON, shared.CodeUnknownType, shared.CodeBadRequest,
				shared.CodeTooLarge, shared.CodeForbidden)
			return
		}
		switch msg.Type {
		case shared.TypeTyping:
			return
		case shared.TypePing:
			if shared.CheckPingID(msg.ID) != nil {
				t.Fatalf("accepted ping id %q", msg.ID)
			}
			pong, err := shared.Decode(shared.EncodePong(msg.ID))
			if err != nil || pong.Type != shared.TypePong || pong.ID != msg.ID {
				t.Fatalf("the pong for id %q decodes as %+v, %v", msg.ID, pong, err)
			}
			return
		case shared.TypeText:
		default:
			t.Fatalf("accepted a %q message from a client", msg.Type)
		}
		if strings.TrimSpace(msg.Content) == "" || len(msg.Content) > s.cfg.MaxContent {
			t.Fatalf("accepted content of %d bytes: %.40q", len(msg.Content), msg.Content)
		}
		if msg.Room != "" && msg.Room != "general" {
			t.Fatalf("accepted a message for room %q", msg.Room)
		}
		if msg.ID != "" && shared.ValidateClientID(msg.ID) != nil {
			t.Fatalf("accepted id %q", msg.ID)
		}
		// What the room broadcasts (hub.handleText): the connection's
		// identity, the server's time, the client's content and id.
		out := shared.Message{Type: shared.TypeText, Room: "general", Username: "ada", Content: msg.Content, ID: msg.ID, Seq: 1, Timestamp: time.Now().UTC()}
		b, err := shared.Encode(out)
		if err != nil {
			t.Fatalf("the broadcast does not encode: %v", err)
		}
		back, err := shared.Decode(b)
		if err != nil {
			t.Fatalf("the broadcast does not decode: %v", err)
		}
		if back.Content != msg.Content || back.ID != msg.ID || back.Username != "ada" {
			t.Fatalf("the broadcast changed the message: %+v, sent %+v", back, msg)
		}
	})
}
