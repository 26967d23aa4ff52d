// Command serve runs your board at /ws/workshop beside the playground:
// scripts/workshop serve 8, then open the lesson's page and use the live
// panel. Three samplers publish a numbered snapshot ten times a second
// each, at once, as the playground's do; /ws/workshop?every=1s is a
// viewer that takes a snapshot only once a second. With your fix it sees
// the newest every time (the numbers jump); with the starter, samplers
// and departing viewers change the map together, which the race detector
// sees and, on a busy day, ends the program with "concurrent map
// writes".
package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	dashboard "wsplay/workshop/08-dashboard"
	"wsplay/workshop/internal/serve"
)

func main() {
	board := dashboard.NewBoard()
	var n atomic.Int64
	for sampler := 1; sampler <= 3; sampler++ {
		go func() {
			for t := range time.Tick(100 * time.Millisecond) {
				snap := fmt.Appendf(nil, `{"snapshot":%d,"sampler":%d,"at":%q,"goroutines":%d}`,
					n.Add(1), sampler, t.Format("15:04:05.000"), runtime.NumGoroutine())
				serve.Within(serve.CallLimit, func() { board.Publish(snap) })
			}
		}()
	}
	upgrader := websocket.Upgrader{}
	viewer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		every, err := time.ParseDuration(r.URL.Query().Get("every"))
		if r.URL.Query().Get("every") != "" && (err != nil || every < 0 || every > time.Minute) {
			http.Error(w, "every is a duration up to 1m, as 500ms or 2s", http.StatusBadRequest)
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() { // the viewer leaving ends the loop below
			defer cancel()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		v := board.Subscribe()
		defer v.Unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(every): // a slow viewer
			}
			snap, err := v.Next(ctx)
			if err != nil {
				return
			}
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if ws.WriteMessage(websocket.TextMessage, snap) != nil {
				return
			}
		}
	})
	serve.Main(serve.Exercise{
		N: 8, What: "your board at /ws/workshop (?every=1s for a slow viewer)",
		Routes: map[string]http.Handler{"/ws/workshop": viewer},
		Panel:  serve.Panel{Socket: "/ws/workshop?every=1s"},
	})
}
