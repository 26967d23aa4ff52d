package app

import (
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode    Mode
		input   string
		typ     websocket.MessageType
		want    []byte
		wantErr string
	}{
		{ModeText, "hello", websocket.MessageText, []byte("hello"), ""},
		{ModeText, "", websocket.MessageText, []byte{}, ""},
		{ModeText, "\xff", 0, nil, "UTF-8"},
		{ModeHex, "deadbeef", websocket.MessageBinary, []byte{0xde, 0xad, 0xbe, 0xef}, ""},
		{ModeHex, "0xDE AD:be\tef\n", websocket.MessageBinary, []byte{0xde, 0xad, 0xbe, 0xef}, ""},
		{ModeHex, "", websocket.MessageBinary, []byte{}, ""},
		{ModeHex, "abc", 0, nil, "odd number"},
		{ModeHex, "zz", 0, nil, `'z' is not a hex digit`},
		{ModeBase64, "aGVsbG8=", websocket.MessageBinary, []byte("hello"), ""},
		{ModeBase64, "aGVsbG8", websocket.MessageBinary, []byte("hello"), ""},
		{ModeBase64, "_-8=", websocket.MessageBinary, []byte{0xff, 0xef}, ""},
		{ModeBase64, "a GV sb G8=", websocket.MessageBinary, []byte("hello"), ""},
		{ModeBase64, "!!!", 0, nil, "base64"},
		{"morse", "...", 0, nil, "unknown mode"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+" "+tt.input, func(t *testing.T) {
			typ, got, err := ParsePayload(tt.mode, tt.input)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.typ, typ)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPreview(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "hi", preview(websocket.MessageText, []byte("hi")))
	long := preview(websocket.MessageText, []byte(string(make([]rune, 500))))
	assert.Equal(t, 121, len([]rune(long)), "120 runes and an ellipsis")
	assert.Equal(t, "00 01 ff", preview(websocket.MessageBinary, []byte{0, 1, 255}))
	assert.Equal(t, 24*3-1+len(" …"), len(preview(websocket.MessageBinary, make([]byte, 100))))
}

func TestSocketURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ page, want, wantErr string }{
		{"http://127.0.0.1:8080/", "ws://127.0.0.1:8080/ws/echo", ""},
		{"https://play.example/some/page?x=1#top", "wss://play.example/ws/echo", ""},
		{"file:///index.html", "", "want http or https"},
		{"::", "", "page URL"},
		{"HTTP://[::1]:8080", "ws://[::1]:8080/ws/echo", ""},
		{"https://ada:pw@play.example:8443?x=1", "wss://play.example:8443/ws/echo", ""},
		{"http://", "", "no host"},
		{"http:/x", "", "no scheme"},
	}
	for _, tt := range tests {
		got, err := SocketURL(tt.page, "/ws/echo")
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.page)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}
