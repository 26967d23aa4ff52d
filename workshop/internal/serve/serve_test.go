package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/playground"
	"wsplay/shared"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b.String()
}

// The playground runs with the piece given and the exercise's routes
// beside it, says which exercise it serves, and stops without leaving
// anything behind.
func TestStartServesThePiece(t *testing.T) {
	teapot := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
	}
	panel := Panel{Socket: "/ws/workshop", Actions: []Action{{Label: "Post", URL: "/api/workshop/post", Fields: []string{"user"}}}}
	s, err := Start("127.0.0.1:0", Exercise{
		N: 7, What: "a test", Panel: panel,
		Deps:   playground.Deps{Echo: teapot(http.StatusTeapot)},
		Routes: map[string]http.Handler{"/ws/workshop": teapot(http.StatusAccepted)},
	})
	require.NoError(t, err)
	defer func() { http.DefaultClient.CloseIdleConnections(); require.NoError(t, s.Stop()) }()
	code, _ := get(t, s.URL+"ws/echo")
	assert.Equal(t, http.StatusTeapot, code, "the echo given")
	code, _ = get(t, s.URL+"ws/workshop")
	assert.Equal(t, http.StatusAccepted, code, "the exercise's route")
	code, _ = get(t, s.URL+"healthz")
	assert.Equal(t, http.StatusOK, code, "the playground's own")
	code, body := get(t, s.URL+"api/workshop")
	require.Equal(t, http.StatusOK, code)
	var info Info
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	assert.Equal(t, Info{Exercise: 7, What: "a test", Panel: panel}, info)
	assert.True(t, strings.HasSuffix(s.LessonURL(), "/workshop/07-notify/"), s.LessonURL())
}

// A restart closes the playground's connections as a shutdown does,
// answers 503 while it is down, and comes back on the same data: the
// chat's history is still there.
func TestRestartKeepsTheData(t *testing.T) {
	s, err := Start("127.0.0.1:0", Exercise{N: 6})
	require.NoError(t, err)
	defer func() { http.DefaultClient.CloseIdleConnections(); require.NoError(t, s.Stop()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "ws/chat?room=general&username=ada"
	dial := func() (*websocket.Conn, shared.Message) {
		c, _, err := websocket.Dial(ctx, url, nil)
		require.NoError(t, err)
		for { // presence first, then the history
			_, data, err := c.Read(ctx)
			require.NoError(t, err)
			m, err := shared.Decode(data)
			require.NoError(t, err)
			if m.Type == shared.TypeHistory {
				return c, m
			}
		}
	}
	ada, _ := dial()
	defer ada.CloseNow()
	line, _ := shared.Encode(shared.Message{Type: shared.TypeText, Content: "before the restart", ID: "a-1"})
	require.NoError(t, ada.Write(ctx, websocket.MessageText, line))
	for {
		_, data, err := ada.Read(ctx)
		require.NoError(t, err)
		if m, _ := shared.Decode(data); m.Type == shared.TypeText {
			break
		}
	}

	restarted := make(chan error, 1)
	go func() {
		resp, err := http.Post(s.URL+"api/workshop/restart", "", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		restarted <- err
	}()
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = ada.Read(ctx)
	}
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(closeErr), "the chat says the server is going away: %v", closeErr)
	code, _ := get(t, s.URL+"healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "down while it restarts")
	require.NoError(t, <-restarted)
	code, _ = get(t, s.URL+"healthz")
	assert.Equal(t, http.StatusOK, code, "up again")
	again, history := dial()
	defer again.CloseNow()
	require.NotEmpty(t, history.Messages)
	assert.Equal(t, "before the restart", history.Messages[len(history.Messages)-1].Content, "the history is kept")
	again.Close(websocket.StatusNormalClosure, "")
}
