package wire

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

// seeds are inputs for both fuzz tests: what the server sends, and the
// corners where a hand-written decoder could part from encoding/json.
var seeds = []string{
	`{"type":"text","username":"ada","content":"hi","timestamp":"2026-11-28T10:00:00.123456789+01:00","room":"general","id":"m-7","seq":7}`,
	`{"type":"history","room":"general","messages":[{"type":"text","content":"old","seq":1,"timestamp":"2026-11-28T10:00:00Z"}],"epoch":"e1","recovered":true,"more":true}`,
	`{"type":"user_list","users":["ada","bob"]}`,
	`{"type":"error","code":"bad_json","content":"not valid JSON"}`,
	`{"type":"notification","notification":{"id":"n1","user_id":"ada","type":"poke","title":"t","message":"m","data":{"a":[1,2,{"b":null}]},"timestamp":"2026-11-28T10:00:00Z","read":false,"seq":3,"from":"bob"},"unread":2}`,
	`{"type":"synced","unread":0,"seq":9}`,
	`{"type":"read","ids":["n1","n2"],"all":true}`,
	`{"type":"poked","to":"bob"}`,
	`{"timestamp":"2026-11-28T10:00:00Z","metrics":{"cpu_usage":12.5,"connections":3,"x":-1e-7},"node":"a","history":[{"timestamp":"2026-11-28T09:59:59Z","metrics":{"cpu_usage":1}}]}`,
	`{"token":"abc.def","username":"ada","expires_at":"2026-11-28T10:00:00Z"}`,
	`{"error":{"code":"unauthorized","message":"no"}}`,
	// Case folding, duplicates, nulls, escapes, and invalid UTF-8.
	`{"TYPE":"text","Content":"a","content":"b","ſeq":5}`,
	`{"type":"text","users":["a","b","c"],"users":["d"],"users":["e","f"]}`,
	`{"type":"history","messages":[{"content":"a"}],"messages":[{"type":"join"}]}`,
	`{"type":"text","content":null,"users":null,"messages":[],"recovered":null,"timestamp":null}`,
	`{"type":"text","content":"\u00e9\ud83d\ude00\ud800x\udc00\"\\\/\b\f\n\r\t<>&` + "\u2028\xff\xfe" + `"}`,
	`{"metrics":{"a":1},"metrics":{"b":2,"a":null}}`,
	`{"notification":{"id":"x"},"notification":{"title":"t"},"type":"notification"}`,
	` {"type" : "text" , "seq" : 0 } `,
	// Wrong types and bad syntax.
	`{"type":"text","seq":-1}`, `{"type":"text","seq":1.0}`, `{"type":"text","seq":1e2}`,
	`{"type":"notification","unread":-0}`, `{"metrics":{"a":1e400}}`, `{"type":"text","content":5}`,
	`{"type":"text","timestamp":"yesterday"}`, `{"type":"text","timestamp":5}`,
	`{"type":"text","more":"true"}`, `[1]`, `"text"`, `null`, ``, `   `, `{`, `{"type":"text",}`,
	`{"type":"text"} x`, `{"type":"text"}{}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":tru}`,
	`{"a":"\x01"}`, `{"a":"\u12"}`, `{"a":"\q"}`, `{"a":[1,]}`, `{"a" 1}`, `{1:2}`,
	`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
}

// decoders pairs each of this package's decoders with the type
// encoding/json decodes into, for FuzzDecodeIsEncodingJSON.
var decoders = []struct {
	name string
	wire func([]byte) (any, error)
	std  func([]byte) (any, error)
}{
	{"message", func(b []byte) (any, error) { return Decode(b) }, func(b []byte) (any, error) { return shared.Decode(b) }},
	{"notify", func(b []byte) (any, error) { return DecodeNotify(b) }, func(b []byte) (any, error) { return shared.DecodeNotify(b) }},
	{"dashboard", func(b []byte) (any, error) { return DecodeDashboard(b) }, unmarshal[shared.DashboardData]},
	{"login", func(b []byte) (any, error) { return DecodeLoginResponse(b) }, unmarshal[shared.LoginResponse]},
	{"api error", func(b []byte) (any, error) { return DecodeAPIError(b) }, unmarshal[shared.APIError]},
}

func unmarshal[T any](b []byte) (any, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// FuzzDecodeIsEncodingJSON: every decoder accepts exactly what
// encoding/json (through package shared, for the two the server uses too)
// accepts, with the same value, and the same error code when it refuses.
func FuzzDecodeIsEncodingJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range decoders {
			got, err := dec.wire(data)
			want, wantErr := dec.std(data)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("%s: %.200q: error %v, encoding/json says %v", dec.name, data, err, wantErr)
			}
			if err != nil {
				var perr, wantPerr *shared.Error
				if !errors.As(err, &perr) {
					t.Fatalf("%s: error %T, want *shared.Error", dec.name, err)
				}
				if errors.As(wantErr, &wantPerr) && perr.Code != wantPerr.Code {
					t.Fatalf("%s: %.200q: code %s (%v), package shared says %s (%v)", dec.name, data, perr.Code, err, wantPerr.Code, wantErr)
				}
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %.200q:\n got %#v\nwant %#v", dec.name, data, got, want)
			}
		}
	})
}

// FuzzEncodeIsEncodingJSON: what encoding/json decodes, this package
// encodes to json.Marshal's bytes.
func FuzzEncodeIsEncodingJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m shared.Message
		if json.Unmarshal(data, &m) == nil {
			same(t, "Encode", m, Encode, shared.Encode)
		}
		var n shared.NotifyMessage
		if json.Unmarshal(data, &n) == nil {
			same(t, "EncodeNotify", n, EncodeNotify, shared.EncodeNotify)
		}
		var l shared.LoginRequest
		if json.Unmarshal(data, &l) == nil {
			want, _ := json.Marshal(l)
			if got := EncodeLoginRequest(l); !bytes.Equal(got, want) {
				t.Fatalf("EncodeLoginRequest(%#v)\n got %s\nwant %s", l, got, want)
			}
		}
	})
}

func same[T any](t *testing.T, name string, v T, wire, std func(T) ([]byte, error)) {
	t.Helper()
	got, err := wire(v)
	want, wantErr := std(v)
	if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) && err == nil {
		t.Fatalf("%s(%#v)\n got %s (error %v)\nwant %s (error %v)", name, v, got, err, want, wantErr)
	}
}

// TestEncodeRefusesWhatJSONRefuses: a time JSON cannot hold, and data
// that is not JSON.
func TestEncodeRefusesWhatJSONRefuses(t *testing.T) {
	t.Parallel()
	if _, err := Encode(shared.Message{Type: shared.TypeText, Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("Encode of the year 10000: no error")
	}
	if _, err := EncodeNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &shared.Notification{Data: json.RawMessage(`{"a":`)}}); err == nil {
		t.Error("EncodeNotify of data that is not JSON: no error")
	}
	b, err := EncodeNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &shared.Notification{Data: json.RawMessage(" { \"a\" : \"<b> x\u2028\\\"\" } ")}})
	want, _ := shared.EncodeNotify(shared.NotifyMessage{Type: shared.NotifyNotification, Notification: &shared.Notification{Data: json.RawMessage(" { \"a\" : \"<b> x\u2028\\\"\" } ")}})
	if err != nil || !bytes.Equal(b, want) {
		t.Errorf("EncodeNotify with data: %s, %v; want %s", b, err, want)
	}
}
