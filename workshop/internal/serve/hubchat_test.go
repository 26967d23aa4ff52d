package serve

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
	"wsplay/workshop/03-hub/solution"
)

// Behind HubChat, the reference hub relays the page's chat: a history
// first, a join notice for those already there, and every line numbered,
// with its sender and id, to everyone.
func TestHubChatRelaysThroughTheHub(t *testing.T) {
	h := solution.NewHub()
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); h.Run(ctx) }()
	srv := httptest.NewServer(HubChat(Hub[*solution.Client]{
		NewClient:  solution.NewClient,
		Queue:      func(c *solution.Client) <-chan []byte { return c.Send },
		Register:   h.Register,
		Unregister: h.Unregister,
		Broadcast:  h.Broadcast,
		Joined:     solution.Joined,
	}))
	defer func() { srv.Close(); stop(); <-ran }()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat?room=general&username="
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(user string) *websocket.Conn {
		c, _, err := websocket.Dial(rctx, url+user, &websocket.DialOptions{Subprotocols: []string{shared.SubprotocolBatch}})
		require.NoError(t, err)
		assert.Equal(t, shared.SubprotocolBatch, c.Subprotocol(), "the page's offer is answered")
		return c
	}
	next := func(c *websocket.Conn) shared.Message {
		_, data, err := c.Read(rctx)
		require.NoError(t, err)
		m, err := shared.Decode(data)
		require.NoError(t, err)
		return m
	}
	ada := dial("ada")
	defer ada.CloseNow()
	assert.Equal(t, shared.TypeHistory, next(ada).Type)
	say := func(c *websocket.Conn, content, id string) {
		msg, _ := shared.Encode(shared.Message{Type: shared.TypeText, Content: content, ID: id})
		require.NoError(t, c.Write(rctx, websocket.MessageText, msg))
	}
	say(ada, "first", "a-0")
	assert.Equal(t, "first", next(ada).Content, "ada is in the hub: her line came back")
	bob := dial("bob")
	defer bob.CloseNow()
	assert.Equal(t, shared.TypeHistory, next(bob).Type)
	assert.Equal(t, shared.TypeJoin, next(ada).Type, "ada hears of bob")

	say(ada, "hi", "a-1")
	for _, c := range []*websocket.Conn{ada, bob} {
		m := next(c)
		assert.Equal(t, shared.Message{Type: shared.TypeText, Username: "ada", Content: "hi", ID: "a-1", Seq: 2}, shared.Message{Type: m.Type, Username: m.Username, Content: m.Content, ID: m.ID, Seq: m.Seq})
	}
	ada.Close(websocket.StatusNormalClosure, "")
	bob.Close(websocket.StatusNormalClosure, "")
}
