// Package serve runs the whole playground with a workshop exercise's
// piece plugged in, for scripts/workshop serve: the learner opens the
// page, or the lesson's page with its live panel, and watches their code
// at work.
//
// Besides the playground, a served exercise answers:
//
//	GET  /api/workshop          which exercise this is and what its lesson's live panel shows (Info)
//	POST /api/workshop/restart  the playground stops and starts again, its data kept (the piece too)
//
// and the exercise's own Routes (the learner's handlers, outside the
// playground's admission gate: checking the origin is exercise 9's
// lesson, not the gate's).
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wsplay/server/playground"
	"wsplay/workshop"
)

// Exercise is what an exercise's serve command serves.
type Exercise struct {
	// N is the exercise's number; What says in a few words what of the
	// learner's runs where ("your hub relaying the chat").
	N    int
	What string
	// Deps plug the learner's piece into the playground.
	Deps playground.Deps
	// Routes are served beside the playground, by path ("/ws/workshop"),
	// as given: no admission gate in front of them.
	Routes map[string]http.Handler
	// Panel is what the lesson's live panel shows.
	Panel Panel
}

// Panel is what a lesson page's live panel shows when the page is served
// by its exercise's serve command. Every field may be empty.
type Panel struct {
	// Page is a part of the playground's page to show, as "/#chat".
	Page string `json:"page,omitempty"`
	// Socket is a path for a WebSocket console: connect, send, and every
	// frame and close code shown.
	Socket string `json:"socket,omitempty"`
	// Frame is another page to show: exercise 10's client.
	Frame string `json:"frame,omitempty"`
	// Actions are buttons that POST to the exercise's routes.
	Actions []Action `json:"actions,omitempty"`
}

// Action is a button of the live panel: it POSTs to URL with its fields'
// values as the query, and shows the answer's text. With Token, the
// answer is a token the console's address takes as ?token=.
type Action struct {
	Label  string   `json:"label"`
	URL    string   `json:"url"`
	Fields []string `json:"fields,omitempty"`
	Token  bool     `json:"token,omitempty"`
}

// Info is the answer of GET /api/workshop.
type Info struct {
	Exercise int    `json:"exercise"`
	What     string `json:"what"`
	Panel    Panel  `json:"panel"`
}

// RestartPause is how long a restart keeps the playground down: long
// enough for the page's clients to notice and try again.
const RestartPause = time.Second

// Server is a playground being served.
type Server struct {
	URL string
	ex  Exercise
	cfg playground.Config
	srv *http.Server
	dir string
	end chan error

	mu   sync.Mutex // held across a restart
	cur  *playground.Playground
	down bool // between the two halves of a restart, or after Stop
}

// Start serves the exercise on addr, the playground's data in a
// temporary directory.
func Start(addr string, ex Exercise) (*Server, error) {
	dir, err := os.MkdirTemp("", "wsplay-workshop-")
	if err != nil {
		return nil, err
	}
	s := &Server{ex: ex, cfg: playground.Config{DataDir: dir}, dir: dir, end: make(chan error, 1)}
	if s.cur, err = playground.New(s.cfg, ex.Deps); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.cur.Shutdown(context.Background())
		os.RemoveAll(dir)
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/workshop", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(Info{Exercise: ex.N, What: ex.What, Panel: ex.Panel})
	})
	mux.HandleFunc("POST /api/workshop/restart", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Restart(r.Context()); err != nil {
			http.Error(w, "restart: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "the playground stopped and started again")
	})
	for path, h := range ex.Routes {
		mux.Handle(path, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		p, down := s.cur, s.down
		s.mu.Unlock()
		if down {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "the playground is restarting", http.StatusServiceUnavailable)
			return
		}
		p.Handler().ServeHTTP(w, r)
	})
	s.URL = "http://" + ln.Addr().String() + "/"
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.end <- s.srv.Serve(ln) }()
	return s, nil
}

// Restart stops the playground, as Ctrl-C would (its clients are told
// the server is going away), keeps it down for RestartPause, and starts
// it again on the same data and the same piece: the learner's code
// stays as it was, the page's clients reconnect.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return errors.New("the playground is already restarting or stopped")
	}
	s.down = true
	old := s.cur
	s.mu.Unlock()
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := old.Shutdown(stopCtx)
	cancel()
	time.Sleep(RestartPause)
	p, newErr := playground.New(s.cfg, s.ex.Deps)
	if newErr != nil {
		return errors.Join(err, newErr) // stays down: Stop still ends cleanly
	}
	s.mu.Lock()
	s.cur, s.down = p, false
	s.mu.Unlock()
	return err
}

// Stop ends the server and removes its data.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.mu.Lock()
	p, down := s.cur, s.down
	s.down = true
	s.mu.Unlock()
	var err error
	if !down {
		err = p.Shutdown(ctx)
	}
	// A browser opens connections it may never send a request on, which
	// Shutdown waits five seconds for: what is left after a moment is
	// closed.
	httpCtx, cancelHTTP := context.WithTimeout(ctx, time.Second)
	defer cancelHTTP()
	if s.srv.Shutdown(httpCtx) != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serveErr := <-s.end; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Main is an exercise's serve command: flags, then the server until
// Ctrl-C.
func Main(ex Exercise) {
	addr := flag.String("addr", "127.0.0.1:8080", "the `address` to listen on")
	flag.Parse()
	if ex.Deps.Log == nil {
		ex.Deps.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := Start(*addr, ex)
	if err != nil {
		fmt.Fprintln(os.Stderr, "workshop serve:", err)
		os.Exit(1)
	}
	fmt.Printf("exercise %d: the playground with %s, at %s\n", ex.N, ex.What, s.URL)
	fmt.Printf("the lesson, with its live panel: %s\n(Ctrl-C stops it)\n", s.LessonURL())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "workshop serve:", err)
		os.Exit(1)
	}
}

// LessonURL is the address of the exercise's lesson page on this server.
func (s *Server) LessonURL() string {
	dirs, _ := fs.Glob(workshop.Lessons, fmt.Sprintf("%02d-*", s.ex.N))
	if len(dirs) == 0 {
		return s.URL + "workshop/"
	}
	return s.URL + "workshop/" + dirs[0] + "/"
}

// Recover, deferred in a goroutine that calls the learner's code, turns
// a panic into a line that says where it happened, and lets the server
// go on: gorilla/websocket panics on two concurrent writes, and a
// learner should read that in words, not lose the server.
func Recover(where string) {
	if r := recover(); r != nil {
		fmt.Fprintf(os.Stderr, "workshop serve: %s panicked: %v\n", where, r)
		if s, ok := r.(string); ok && strings.Contains(s, "concurrent write") {
			fmt.Fprintln(os.Stderr, "  two goroutines wrote to one connection at once: only its write pump may write")
		}
	}
}

// Within runs f, which calls the learner's code, and reports whether it
// returned within d. If it did not, it is left running: a learner's code
// that blocks for good is what the exercise shows, and this tool only
// ever serves loopback.
func Within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer Recover("the exercise's code")
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// CallLimit is how long a serve command waits for one call into the
// learner's code before it says the code is stuck.
const CallLimit = 2 * time.Second

// Tokens answers POST ?user=NAME with a token for NAME, as exercise 9's
// endpoint takes them: an HS256 JWT signed with secret, its subject the
// name, valid for an hour.
func Tokens(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			http.Error(w, "give a user", http.StatusBadRequest)
			return
		}
		t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
			Subject: user, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
		}).SignedString(secret)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, t)
	})
}
