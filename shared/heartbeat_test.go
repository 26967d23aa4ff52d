package shared_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// The heartbeat is the same few bytes on every endpoint, and each
// endpoint's own decoder reads it as its envelope.
func TestHeartbeatFramesOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `{"type":"ping","id":"7"}`, string(shared.EncodePing("7")))
	assert.Equal(t, `{"type":"ping"}`, string(shared.EncodePing("")))
	assert.Equal(t, `{"type":"pong","id":"a-b_9"}`, string(shared.EncodePong("a-b_9")))
	// An id that needs escaping is still valid JSON (the server never
	// echoes one, but the encoder is safe for any).
	odd := shared.EncodePong("é\"\x01")
	var h shared.Heartbeat
	require.NoError(t, json.Unmarshal(odd, &h), "%s", odd)
	assert.Equal(t, "é\"\x01", h.ID)

	m, err := shared.Decode(shared.EncodePing("7"))
	require.NoError(t, err)
	assert.Equal(t, shared.TypePing, m.Type)
	assert.Equal(t, "7", m.ID)
	n, err := shared.DecodeNotify(shared.EncodePong("8"))
	require.NoError(t, err)
	assert.Equal(t, shared.NotifyPong, n.Type)
	assert.Equal(t, "8", n.ID)
	assert.True(t, shared.NotifyPing.FromClient())
	assert.False(t, shared.NotifyPong.FromClient())
}

func TestParsePongAndPing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		id   string
		pong bool
	}{
		{`{"type":"pong","id":"3"}`, "3", true},
		{`{"type":"pong"}`, "", true},
		{`{ "id":"4", "type" : "pong" }`, "4", true},
		{`{"type":"text","content":"\"pong\""}`, "", false}, // the word, in a chat line
		{`{"type":"ping","id":"3"}`, "", false},
		{`{"timestamp":"2026-12-01T00:00:00Z","metrics":{}}`, "", false},
		{`"pong"`, "", false},
		{`not json "pong"`, "", false},
	} {
		id, ok := shared.ParsePong([]byte(tt.in))
		assert.Equal(t, tt.pong, ok, "%s", tt.in)
		assert.Equal(t, tt.id, id, "%s", tt.in)
	}
	id, ok := shared.ParsePing([]byte(`{"type":"ping","id":"x"}`))
	assert.True(t, ok)
	assert.Equal(t, "x", id)
	for _, in := range []string{`hello?`, `{"type":"pong"}`, `{"type":"text"}`, `["ping"]`, `ping`} {
		_, ok := shared.ParsePing([]byte(in))
		assert.False(t, ok, "%s", in)
	}
}

func TestCheckPingID(t *testing.T) {
	t.Parallel()
	assert.Nil(t, shared.CheckPingID(""))
	assert.Nil(t, shared.CheckPingID("abc-123_X"))
	for _, bad := range []string{strings.Repeat("a", shared.MaxClientIDLen+1), "a b", "<x>"} {
		e := shared.CheckPingID(bad)
		require.NotNil(t, e, "%q", bad)
		assert.Equal(t, shared.CodeBadRequest, e.Code)
		assert.Contains(t, e.Detail, "ping")
	}
	b := shared.EncodeHeartbeatError(shared.Errorf(shared.CodeRateLimited, "slow down"))
	assert.JSONEq(t, `{"type":"error","code":"rate_limited","message":"slow down"}`, string(b))
}
