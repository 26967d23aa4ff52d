package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// BenchmarkNotifyPostToThreeTabs measures one notification end to end:
// POST /api/notifications, stored in SQLite, published, and read by each
// of the user's three open tabs. One op is one notification.
//
//	go test -run '^$' -bench NotifyPost -benchtime 2000x ./server
func BenchmarkNotifyPostToThreeTabs(b *testing.B) {
	hs := benchServer(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var tabs []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws/notifications?user_id=ada", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		readUntil(b, ctx, c, shared.NotifySynced)
		tabs = append(tabs, c)
	}
	for i := 0; b.Loop(); i++ {
		benchPost(b, hs, "ada", i)
		for _, c := range tabs {
			readUntil(b, ctx, c, shared.NotifyNotification)
		}
	}
}

// BenchmarkNotifyConnectWith500Unread measures a tab connecting to a
// user with a full backlog (the default retention): the handshake, the
// snapshot query, and 500 notifications then synced. One op is one
// connection.
//
//	go test -run '^$' -bench NotifyConnect -benchtime 200x ./server
func BenchmarkNotifyConnectWith500Unread(b *testing.B) {
	hs := benchServer(b)
	for i := range 500 {
		benchPost(b, hs, "ada", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/notifications?user_id=ada"
	for b.Loop() {
		c, _, err := websocket.Dial(ctx, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		readUntil(b, ctx, c, shared.NotifySynced)
		c.CloseNow()
	}
}

// benchServer serves a server with a known admin token until b ends.
func benchServer(b *testing.B) *testServer {
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	cfg.DataDir, cfg.Notify.AdminToken = b.TempDir(), testAdminToken
	return startServerWith(b, cfg, servertest.Options{Log: io.Discard})
}

func benchPost(b *testing.B, hs *testServer, user string, i int) {
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/notifications",
		bytes.NewReader(fmt.Appendf(nil, `{"user_id":%q,"title":"n%d"}`, user, i)))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func readUntil(b *testing.B, ctx context.Context, c *websocket.Conn, typ shared.NotifyType) {
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		m, err := shared.DecodeNotify(data)
		if err != nil {
			b.Fatal(err)
		}
		if m.Type == typ {
			return
		}
	}
}
