// Package solution is the reference solution of exercise 7: notifications
// for a user on every one of their tabs, stored until read.
package solution

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message is what a tab and the server say to each other, as JSON: the
// server sends {"type":"note","id":1,"text":"..."} and
// {"type":"read","id":1}; a tab sends {"type":"read","id":1}.
type Message struct {
	Type string `json:"type"`
	ID   int    `json:"id"`
	Text string `json:"text,omitempty"`
}

// Service keeps each user's unread notifications and their open tabs.
type Service struct {
	mu     sync.Mutex
	next   int
	unread map[string][]Message     // user → unread notes, oldest first
	tabs   map[string]map[*tab]bool // user → open tabs
}

type tab struct {
	ws   *websocket.Conn
	send chan []byte // to the tab's write pump, its only writer
}

// New returns a service with no notifications.
func New() *Service {
	return &Service{unread: map[string][]Message{}, tabs: map[string]map[*tab]bool{}}
}

// Post stores a notification for user and sends it to every tab they
// have open, and returns its id.
func (s *Service) Post(user, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	n := Message{Type: "note", ID: s.next, Text: text}
	s.unread[user] = append(s.unread[user], n)
	s.toTabs(user, n)
	return n.ID
}

// toTabs queues m for every tab of user; the lock is held.
func (s *Service) toTabs(user string, m Message) {
	data, _ := json.Marshal(m)
	for t := range s.tabs[user] {
		select {
		case t.send <- data:
		default: // a tab that far behind gets everything on reconnect
		}
	}
}

// Handler serves one tab per WebSocket: ?user= names the user.
func (s *Service) Handler() http.Handler {
	upgrader := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		t := &tab{ws: ws, send: make(chan []byte, 256)}
		s.mu.Lock()
		// What is unread, before anything posted from now on: both under
		// the lock, so nothing is missed or sent twice.
		for _, n := range s.unread[user] {
			data, _ := json.Marshal(n)
			t.send <- data
		}
		if s.tabs[user] == nil {
			s.tabs[user] = map[*tab]bool{}
		}
		s.tabs[user][t] = true
		s.mu.Unlock()
		go t.writePump()
		defer func() {
			s.mu.Lock()
			delete(s.tabs[user], t)
			s.mu.Unlock()
			close(t.send)
		}()
		for {
			var m Message
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "read" {
				s.markRead(user, m.ID)
			}
		}
	})
}

// markRead forgets note id and tells every tab of the user.
func (s *Service) markRead(user string, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.unread[user], func(n Message) bool { return n.ID == id })
	if i < 0 {
		return // not this user's, or read already
	}
	s.unread[user] = slices.Delete(s.unread[user], i, i+1)
	s.toTabs(user, Message{Type: "read", ID: id})
}

func (t *tab) writePump() {
	defer t.ws.Close()
	for data := range t.send {
		t.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := t.ws.WriteMessage(websocket.TextMessage, data); err != nil {
			return
		}
	}
}
