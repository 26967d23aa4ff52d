package wsconn_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/wsconn"
)

// ReplyMessage answers from the handler's buffer: written at once while
// the connection is idle, copied when something is queued before it, so
// that the reader reusing its buffer never changes an answer, and the
// answer keeps its place after what was queued. A message type other
// than text or binary is refused.
func TestReplyMessageCopiesWhatItQueues(t *testing.T) {
	refused := make(chan error, 1)
	u := &gorilla.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := wsconn.Upgrade(u, w, r, false, nil)
		if err != nil {
			return
		}
		c := wsconn.New(ws, wsconn.Config{}, wsconn.Options{})
		c.Start(func(typ int, data []byte) error {
			if string(data) == "queue first" {
				big, _ := wsconn.NewFrame(gorilla.BinaryMessage, bytes.Repeat([]byte{'b'}, 256<<10))
				c.Enqueue(big) // the writer is busy: the answer waits behind it
			}
			err := c.ReplyMessage(typ, data)
			copy(data, bytes.Repeat([]byte{'X'}, len(data))) // as the reader's next message would
			select {
			case refused <- c.ReplyMessage(gorilla.PingMessage, nil):
			default:
			}
			return err
		}, nil)
	}))
	defer srv.Close()
	client, _, err := gorilla.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer client.Close()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))

	require.NoError(t, client.WriteMessage(gorilla.TextMessage, []byte("idle")))
	typ, got, err := client.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, gorilla.TextMessage, typ)
	assert.Equal(t, "idle", string(got), "written at once, before the buffer changed")
	assert.ErrorContains(t, <-refused, "text or binary")

	require.NoError(t, client.WriteMessage(gorilla.TextMessage, []byte("queue first")))
	typ, got, err = client.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, gorilla.BinaryMessage, typ)
	assert.Len(t, got, 256<<10, "what was queued first comes first")
	typ, got, err = client.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, gorilla.TextMessage, typ)
	assert.Equal(t, "queue first", string(got), "the queued answer is a copy of the handler's buffer")
}
