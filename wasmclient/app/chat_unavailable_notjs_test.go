//go:build !js

package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// A server that cannot store a message for a while (its shared store is
// away) answers it with "unavailable" on a connection that is fine: the
// card keeps the line pending and sends it again by itself, without a
// reconnect, until it is acknowledged.
func TestChatResendsWhatTheServerCouldNotStore(t *testing.T) {
	var refusals, dials atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dials.Add(1)
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{shared.SubprotocolBatch}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		send := func(m shared.Message) {
			b, _ := shared.Encode(m)
			c.Write(ctx, websocket.MessageText, b)
		}
		send(shared.Message{Type: shared.TypeHistory, Room: "lab", Epoch: "e1"})
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			m, err := shared.Decode(data)
			if err != nil || m.Type != shared.TypeText {
				continue
			}
			if refusals.Add(1) <= 2 { // away for the first two tries
				send(shared.Message{Type: shared.TypeError, Room: "lab", Code: shared.CodeUnavailable, Content: "the message store cannot be reached just now"})
				continue
			}
			send(shared.Message{Type: shared.TypeText, Room: "lab", Username: "ada", Content: m.Content, ID: m.ID, Seq: 1, Timestamp: time.Now()})
		}
	}))
	defer srv.Close()

	h := newChatHarness(t)
	c, rec := h.add("http"+strings.TrimPrefix(srv.URL, "http"), "lab", "ada")
	eventually(t, "connected", func() bool { return rec.getState() == Connected })
	h.onLoop(func() { require.NoError(t, c.Send("through the outage")) })
	eventually(t, "acknowledged after the store came back", func() bool {
		got, _ := rec.texts()
		return len(got) == 1 && got[0] == "through the outage"
	})
	h.onLoop(func() { assert.Zero(t, c.Pending()) })
	assert.EqualValues(t, 3, refusals.Load(), "sent three times: two refused, one stored")
	assert.EqualValues(t, 1, dials.Load(), "no reconnect was needed")
}
