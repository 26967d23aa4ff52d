package shared_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"wsplay/shared"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		code  shared.ErrorCode
		want  string // a substring of the detail
	}{
		{"empty", ``, shared.CodeBadJSON, "empty"},
		{"not json", `hello`, shared.CodeBadJSON, "not valid JSON"},
		{"array", `[1,2]`, shared.CodeBadJSON, "must be a JSON object"},
		{"string", `"text"`, shared.CodeBadJSON, "must be a JSON object"},
		{"null", `null`, shared.CodeUnknownType, "no type"},
		{"no type", `{"content":"hi"}`, shared.CodeUnknownType, "no type"},
		{"unknown type", `{"type":"shout"}`, shared.CodeUnknownType, `"shout"`},
		{"long unknown type is cut", `{"type":"` + strings.Repeat("x", 5000) + `"}`, shared.CodeUnknownType, "unknown"},
		{"content wrong type", `{"type":"text","content":42}`, shared.CodeBadJSON, `"content"`},
		{"seq wrong type", `{"type":"text","seq":"7"}`, shared.CodeBadJSON, `"seq"`},
		{"users wrong type", `{"type":"user_list","users":"ada"}`, shared.CodeBadJSON, `"users"`},
		{"bad timestamp", `{"type":"text","timestamp":"yesterday"}`, shared.CodeBadJSON, "RFC 3339"},
		// Found by FuzzChatInput: the time parser's error quoted the value.
		{"long bad timestamp", `{"type":"text","timestamp":"00` + strings.Repeat("\xfe", 300) + `"}`, shared.CodeBadJSON, "RFC 3339"},
		{"long garbage", `{"type":"text","content":"hi"` + strings.Repeat("\x01", 500), shared.CodeBadJSON, "not valid JSON"},
		{"trailing data", `{"type":"text"} {"type":"text"}`, shared.CodeBadJSON, "trailing"},
		{"truncated", `{"type":"text","content":"hi`, shared.CodeBadJSON, "not valid JSON"},
		{"deep nesting", `{"type":"text","content":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, shared.CodeBadJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := shared.Decode([]byte(tt.input))
			var perr *shared.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Decode(%.60q) error = %v, want *shared.Error", tt.input, err)
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

func TestDecodeTutorialMessage(t *testing.T) {
	t.Parallel()
	// The shape a JavaScript client written against the gorilla chat
	// tutorial sends, with a field this protocol does not know.
	in := `{"type":"text","username":"ada","content":"hello","timestamp":"2026-11-28T10:00:00Z","color":"red"}`
	got, err := shared.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := shared.Message{Type: shared.TypeText, Username: "ada", Content: "hello",
		Timestamp: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestEncodeKeepsTutorialFields(t *testing.T) {
	t.Parallel()
	b, err := shared.Encode(shared.Message{Type: shared.TypeJoin})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"type":"join"`, `"username":""`, `"content":""`, `"timestamp":`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("%s lacks %s", b, field)
		}
	}
	for _, field := range []string{`"users"`, `"room"`, `"seq"`, `"code"`, `"messages"`} {
		if strings.Contains(string(b), field) {
			t.Errorf("%s has unused field %s", b, field)
		}
	}
}

func TestDescribeClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code      shared.CloseCode
		reconnect bool
	}{
		{shared.CloseNormal, false},
		{shared.CloseGoingAway, true},
		{shared.CloseProtocolError, false},
		{shared.CloseUnsupportedData, false},
		{shared.CloseAbnormal, true},
		{shared.CloseInvalidPayload, false},
		{shared.ClosePolicyViolation, true},
		{shared.CloseTooBig, false},
		{shared.CloseInternalError, true},
		{shared.CloseServiceRestart, true},
		{shared.CloseTryAgainLater, true},
		{4999, false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := shared.DescribeClose(tt.code)
		if got.Reconnect != tt.reconnect {
			t.Errorf("DescribeClose(%d).Reconnect = %v, want %v", tt.code, got.Reconnect, tt.reconnect)
		}
		if got.Meaning == "" || seen[got.Meaning] {
			t.Errorf("DescribeClose(%d).Meaning = %q: empty or repeated", tt.code, got.Meaning)
		}
		seen[got.Meaning] = true
	}
}

// FuzzDecode checks that Decode never panics, that every error it returns
// is a protocol error, and that whatever it accepts survives a round trip.
func FuzzDecode(f *testing.F) {
	ts := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	seeds := []shared.Message{
		{Type: shared.TypeText, Content: "hello", ID: "c-1"},
		{Type: shared.TypeText, Username: "ada", Content: "hi", Room: "general", Seq: 7, ID: "m-7", Timestamp: ts},
		{Type: shared.TypeJoin, Username: "ada", Room: "general", Timestamp: ts},
		{Type: shared.TypeLeave, Username: "ada", Room: "general", Timestamp: ts},
		{Type: shared.TypeTyping, Username: "ada", Room: "general"},
		{Type: shared.TypeUserList, Room: "general", Users: []string{"ada", "bob"}},
		{Type: shared.TypeHistory, Room: "general", Messages: []shared.Message{{Type: shared.TypeText, Content: "old", Seq: 1}}},
		{Type: shared.TypeError, Code: shared.CodeBadJSON, Content: "not valid JSON"},
	}
	for _, m := range seeds {
		b, err := shared.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"text","content":"\ud800"}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := shared.Decode(data)
		if err != nil {
			var perr *shared.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Decode returned %T, want *shared.Error", err)
			}
			return
		}
		b, err := shared.Encode(m)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", m, err)
		}
		again, err := shared.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(m)): %v", err)
		}
		if !reflect.DeepEqual(normalize(m), normalize(again)) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
	})
}

// normalize maps the values that JSON cannot tell apart (nil and empty
// slices, time zones) onto one form.
func normalize(m shared.Message) shared.Message {
	if len(m.Users) == 0 {
		m.Users = nil
	}
	if len(m.Messages) == 0 {
		m.Messages = nil
	}
	for i := range m.Messages {
		m.Messages[i] = normalize(m.Messages[i])
	}
	m.Timestamp = m.Timestamp.UTC()
	return m
}
