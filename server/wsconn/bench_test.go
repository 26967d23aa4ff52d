package wsconn_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"wsplay/server/wsconn"
)

// BenchmarkEcho is one round trip of 128 bytes over loopback, against
// the gorilla echo example's loop (ReadMessage, WriteMessage) and against
// a wsconn.Conn answering with ReplyMessage, side by side. The client's cost is
// in both; compare the two in one run.
func BenchmarkEcho(b *testing.B) {
	upgrader := &gorilla.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}
	servers := map[string]http.HandlerFunc{
		"reference": func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				typ, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				if c.WriteMessage(typ, data) != nil {
					return
				}
			}
		},
		"wsconn": func(w http.ResponseWriter, r *http.Request) {
			ws, err := wsconn.Upgrade(upgrader, w, r, false, nil)
			if err != nil {
				return
			}
			c := wsconn.New(ws, wsconn.Config{}, wsconn.Options{})
			c.Run(func(typ int, data []byte) error { return c.ReplyMessage(typ, data) })
		},
	}
	for _, name := range []string{"reference", "wsconn"} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(servers[name])
			defer srv.Close()
			c, _, err := gorilla.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := bytes.Repeat([]byte("e"), 128)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
