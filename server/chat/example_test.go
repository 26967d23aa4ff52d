package chat_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"wsplay/server/chat"
	"wsplay/server/store"
	"wsplay/shared"
)

// Mounting the chat endpoint in a Gin router, with its history in
// SQLite: the chat of the well-known "WebSocket with Gin" tutorial, with
// rooms, presence and history that survives a restart. A client joins and
// is told who is there.
func Example_gin() {
	dir, cleanup := tempDir()
	defer cleanup()
	st, err := store.Open(dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	svc, err := chat.New(chat.Config{}, chat.Deps{Store: st})
	if err != nil {
		panic(err)
	}
	defer svc.Shutdown(context.Background())

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/ws/chat", gin.WrapH(svc))
	r.GET("/api/rooms", gin.WrapH(svc.RoomsHandler()))
	srv := httptest.NewServer(r) // a real program: r.Run("127.0.0.1:8080")
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/chat?room=general&username=ada"
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	for range 3 {
		_, data, err := c.Read(ctx)
		if err != nil {
			panic(err)
		}
		m, _ := shared.Decode(data)
		fmt.Println(m.Type, m.Users)
	}
	// Output:
	// join [ada]
	// history []
	// user_list [ada]
}
