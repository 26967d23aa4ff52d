package shared_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"wsplay/shared"
)

func TestDecodeNotifyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		code  shared.ErrorCode
		want  string // a substring of the detail
	}{
		{"empty", ``, shared.CodeBadJSON, "empty"},
		{"not json", `mark it read`, shared.CodeBadJSON, "not valid JSON"},
		{"array", `[{"type":"poke"}]`, shared.CodeBadJSON, "must be a JSON object"},
		{"no type", `{"id":"x"}`, shared.CodeUnknownType, "no type"},
		{"a chat type", `{"type":"text","content":"hi"}`, shared.CodeUnknownType, `"text"`},
		{"all wrong type", `{"type":"mark_read","all":"yes"}`, shared.CodeBadJSON, `"all"`},
		{"seq negative", `{"type":"mark_read","all":true,"seq":-1}`, shared.CodeBadJSON, `"seq"`},
		{"ids wrong type", `{"type":"read","ids":"a,b"}`, shared.CodeBadJSON, `"ids"`},
		{"notification wrong type", `{"type":"notification","notification":[]}`, shared.CodeBadJSON, `notification`},
		{"trailing data", `{"type":"poke"}{}`, shared.CodeBadJSON, "trailing"},
		{"deep nesting", `{"type":"poke","title":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, shared.CodeBadJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := shared.DecodeNotify([]byte(tt.input))
			var perr *shared.Error
			if !errors.As(err, &perr) {
				t.Fatalf("DecodeNotify(%.60q) error = %v, want *shared.Error", tt.input, err)
			}
			if perr.Code != tt.code {
				t.Errorf("code = %q, want %q (detail %q)", perr.Code, tt.code, perr.Detail)
			}
			if !strings.Contains(perr.Detail, tt.want) {
				t.Errorf("detail = %q, want it to contain %q", perr.Detail, tt.want)
			}
			if len(perr.Detail) > 200 {
				t.Errorf("detail is %d bytes; it should not echo the input back", len(perr.Detail))
			}
		})
	}
}

func TestNotifyTypeDirections(t *testing.T) {
	t.Parallel()
	for _, typ := range []shared.NotifyType{shared.NotifyMarkRead, shared.NotifyPoke, shared.NotifyPing} {
		if !typ.Known() || !typ.FromClient() {
			t.Errorf("%s: Known %v, FromClient %v; want both", typ, typ.Known(), typ.FromClient())
		}
	}
	for _, typ := range []shared.NotifyType{shared.NotifyNotification, shared.NotifySynced, shared.NotifyRead, shared.NotifyPoked, shared.NotifyError, shared.NotifyPong} {
		if !typ.Known() || typ.FromClient() {
			t.Errorf("%s: Known %v, FromClient %v; want known, server only", typ, typ.Known(), typ.FromClient())
		}
	}
	if shared.NotifyType("text").Known() {
		t.Error("a chat type is not a notification type")
	}
}

func TestEncodeNotifyLeavesOutUnusedFields(t *testing.T) {
	t.Parallel()
	b, err := shared.EncodeNotify(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"type":"mark_read","id":"n1"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// A notification keeps the fields a tutorial client reads, read:false
	// included.
	b, err = shared.EncodeNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &shared.Notification{ID: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"id":"n1"`, `"user_id":""`, `"type":""`, `"title":""`, `"message":""`, `"read":false`, `"timestamp":`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("%s lacks %s", b, field)
		}
	}
	for _, field := range []string{`"from"`, `"data"`, `"unread"`} {
		if strings.Contains(string(b), field) {
			t.Errorf("%s has unused field %s", b, field)
		}
	}
}

// FuzzDecodeNotify checks that DecodeNotify never panics, that every error
// it returns is a protocol error, and that whatever it accepts survives a
// round trip.
func FuzzDecodeNotify(f *testing.F) {
	ts := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	n := &shared.Notification{ID: "n1", UserID: "ada", Type: "order", Title: "Order confirmed", Message: "#42",
		Data: json.RawMessage(`{"order":42}`), Timestamp: ts, Seq: 7}
	seeds := []shared.NotifyMessage{
		{Type: shared.NotifyNotification, Notification: n, Unread: 3},
		{Type: shared.NotifySynced, Seq: 7, Unread: 2, IDs: []string{"n1", "n2"}},
		{Type: shared.NotifyRead, IDs: []string{"n1"}, Unread: 1},
		{Type: shared.NotifyRead, All: true, Seq: 7},
		{Type: shared.NotifyPoked, To: "bob", ID: "n9"},
		{Type: shared.NotifyError, Code: shared.CodeForbidden, Message: "not one of your notifications"},
		{Type: shared.NotifyMarkRead, ID: "n1"},
		{Type: shared.NotifyMarkRead, All: true, Seq: 7},
		{Type: shared.NotifyPoke, To: "bob", Title: "Lunch?", Message: "12:30"},
	}
	for _, m := range seeds {
		b, err := shared.EncodeNotify(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"notification","notification":{"data":null}}`))
	f.Add([]byte(`{"type":"notification","notification":{"data": [1, {"a" : "\u00e9"}] }}`))
	f.Add([]byte(`{"type":"poke","to":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := shared.DecodeNotify(data)
		if err != nil {
			var perr *shared.Error
			if !errors.As(err, &perr) {
				t.Fatalf("DecodeNotify returned %T, want *shared.Error", err)
			}
			return
		}
		b, err := shared.EncodeNotify(m)
		if err != nil {
			t.Fatalf("EncodeNotify(%+v): %v", m, err)
		}
		again, err := shared.DecodeNotify(b)
		if err != nil {
			t.Fatalf("DecodeNotify(EncodeNotify(m)): %v", err)
		}
		if !reflect.DeepEqual(normalizeNotify(m), normalizeNotify(again)) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
	})
}

// normalizeNotify maps the values that JSON cannot tell apart (nil and
// empty slices, time zones, spacing inside raw data, and the escapes
// encoding/json writes for <, > and & in raw data) onto one form.
func normalizeNotify(m shared.NotifyMessage) shared.NotifyMessage {
	if len(m.IDs) == 0 {
		m.IDs = nil
	}
	if m.Notification != nil {
		n := *m.Notification
		n.Timestamp = n.Timestamp.UTC()
		if len(n.Data) > 0 {
			var compact, escaped bytes.Buffer
			if json.Compact(&compact, n.Data) == nil {
				json.HTMLEscape(&escaped, compact.Bytes())
				n.Data = escaped.Bytes()
			}
		} else {
			n.Data = nil
		}
		m.Notification = &n
	}
	return m
}
