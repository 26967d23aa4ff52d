package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"wsplay/server/wsconn"
	"wsplay/server/wsconn/wsconntest"
	"wsplay/shared"
)

// maxDetail bounds what an error tells a client: enough to fix the
// message, never the client's input echoed back at length.
const maxDetail = 300

// checkRefusal fails t unless err is a refusal a client can be sent: one
// of codes, with a short detail.
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
}

// FuzzNotifyHandle feeds arbitrary frames to the handler of
// /ws/notifications (decode, check, and act on the store) for ada's
// connection, without a network. Every frame is handled or refused with
// an error a client can be sent, never an internal one; the connection is
// never closed by it; and nothing ada sends touches bob's notifications.
func FuzzNotifyHandle(f *testing.F) {
	log := slog.New(slog.DiscardHandler)
	s, err := New(Config{PokeInterval: time.Microsecond, PokeBurst: 1000}, Deps{Log: log})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	ctx := context.Background()
	if _, err := s.add(ctx, false,
		shared.Notification{ID: "n-ada-1", UserID: "ada", Title: "yours"},
		shared.Notification{ID: "n-bob-1", UserID: "bob", Title: "not yours"},
	); err != nil {
		f.Fatal(err)
	}
	c := wsconntest.NewConn(wsconn.DefaultSendQueue)
	nc := &notifyConn{c: c, log: log, user: "ada", maxPending: wsconn.DefaultSendQueue}

	seeds := []shared.NotifyMessage{
		{Type: shared.NotifyMarkRead, ID: "n-ada-1"},
		{Type: shared.NotifyMarkRead, ID: "n-bob-1"},
		{Type: shared.NotifyMarkRead, ID: "no-such-id"},
		{Type: shared.NotifyMarkRead, All: true},
		{Type: shared.NotifyMarkRead, All: true, Seq: 1},
		{Type: shared.NotifyMarkRead, All: true, ID: "n-ada-1"},
		{Type: shared.NotifyMarkRead},
		{Type: shared.NotifyPoke, To: "bob", Title: "Lunch?", Message: "12:30"},
		{Type: shared.NotifyPoke, To: "bob"},
		{Type: shared.NotifyPoke, To: "zed"}, // nobody the store knows
		{Type: shared.NotifyPoke, To: "../x"},
		{Type: shared.NotifyPoke, To: "bob", Title: strings.Repeat("t", shared.MaxNotifyTitle+1)},
		{Type: shared.NotifyNotification, Notification: &shared.Notification{ID: "n-bob-1", UserID: "bob", Read: true}},
		{Type: shared.NotifySynced, Seq: 7, IDs: []string{"n-bob-1"}},
		{Type: shared.NotifyRead, IDs: []string{"n-bob-1"}},
		{Type: shared.NotifyPoked, To: "bob", ID: "n9"},
		{Type: shared.NotifyError, Code: shared.CodeForbidden, Message: "x"},
	}
	for _, m := range seeds {
		b, err := shared.EncodeNotify(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"mark_read","id":["n-bob-1"]}`))
	f.Add([]byte(`{"type":"mark_read","all":"yes"}`))
	f.Add([]byte(`{"type":"poke","to":"bob","data":{"a":[1,{"b":null}]}}`))
	f.Add([]byte(`{"type":"poke"} trailing`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"type":"fault","content":"close=4001"}`)) // faults are off: forbidden
	f.Add([]byte(`{"type":"fault","content":7}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		err := s.handle(nc, data)
		for len(c.Queue) > 0 {
			<-c.Queue
		}
		select {
		case <-c.Done():
			t.Fatalf("handling %q closed the connection", data)
		default:
		}
		if err != nil {
			perr, ok := err.(*shared.Error)
			if !ok {
				t.Fatalf("handle returned %T %v, want *shared.Error", err, err)
			}
			checkRefusal(t, perr, shared.CodeBadJSON, shared.CodeUnknownType, shared.CodeBadRequest,
				shared.CodeTooLarge, shared.CodeForbidden, shared.CodeRateLimited, shared.CodeNotFound)
			if _, err := shared.EncodeNotify(perr.NotifyMessage()); err != nil {
				t.Fatalf("the error message does not encode: %v", err)
			}
		}
		bobs, err := s.store.ListNotifications(ctx, "bob", false)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range bobs {
			if n.Read {
				t.Fatalf("after %q, bob's notification %s is read", data, n.ID)
			}
			if n.Type == shared.PokeType && n.From != "ada" {
				b, _ := json.Marshal(n)
				t.Fatalf("a poke from ada's connection is from %q: %s", n.From, b)
			}
		}
	})
}
