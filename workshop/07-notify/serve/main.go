// Command serve runs your notification service at /ws/workshop beside
// the playground: scripts/workshop serve 7, then open the lesson's page
// in two tabs and use the live panel. Its buttons post a notification,
// or twenty at once from twenty goroutines, as a busy server's HTTP
// handlers would: with the starter, writes to one tab overlap and
// gorilla/websocket panics (said in the terminal), and a user with no tab
// open loses what was posted.
package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	notify "wsplay/workshop/07-notify"
	"wsplay/workshop/internal/serve"
)

func main() {
	svc := notify.New()
	post := func(w http.ResponseWriter, r *http.Request) {
		user, text := r.URL.Query().Get("user"), strings.TrimSpace(r.URL.Query().Get("text"))
		if user == "" || text == "" || len(user) > 64 || len(text) > 1000 {
			http.Error(w, "give a user (up to 64 bytes) and a text (up to 1,000)", http.StatusBadRequest)
			return
		}
		var id int
		if !serve.Within(serve.CallLimit, func() { id = svc.Post(user, text) }) {
			http.Error(w, "Post has not returned after 2 s", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "posted notification %d for %s", id, user)
	}
	postMany := func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" || len(user) > 64 {
			http.Error(w, "give a user (up to 64 bytes)", http.StatusBadRequest)
			return
		}
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				serve.Within(serve.CallLimit, func() { svc.Post(user, fmt.Sprintf("one of %d at once (%d)", n, i+1)) })
			})
		}
		wg.Wait()
		fmt.Fprintf(w, "posted %d notifications for %s from %d goroutines at once", n, user, n)
	}
	serve.Main(serve.Exercise{
		N: 7, What: "your notifications at /ws/workshop?user=NAME",
		Routes: map[string]http.Handler{
			"/ws/workshop":                 svc.Handler(),
			"POST /api/workshop/post":      http.HandlerFunc(post),
			"POST /api/workshop/post-many": http.HandlerFunc(postMany),
		},
		Panel: serve.Panel{Socket: "/ws/workshop?user=ada", Actions: []serve.Action{
			{Label: "Post a notification", URL: "/api/workshop/post", Fields: []string{"user", "text"}},
			{Label: "Post 20 at once", URL: "/api/workshop/post-many", Fields: []string{"user"}},
		}},
	})
}
