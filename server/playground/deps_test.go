package playground

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/chat"
)

// countingPresence is chat's own Presence, counting the joins it sees.
type countingPresence struct {
	*chat.MemoryPresence
	adds *atomic.Int64
}

func (p countingPresence) Add(user string) bool {
	p.adds.Add(1)
	return p.MemoryPresence.Add(user)
}

// Deps can replace the echo endpoint and the chat's store and presence,
// as a workshop exercise does with a learner's piece; the rest is the
// playground's own.
func TestDepsReplaceEchoAndTheChatsParts(t *testing.T) {
	t.Parallel()
	var adds atomic.Int64
	history := chat.NewMemoryStore()
	p, err := New(Config{DataDir: t.TempDir()}, Deps{
		Site:         siteFS,
		Echo:         http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }),
		ChatStore:    history,
		ChatPresence: func(string) chat.Presence { return countingPresence{chat.NewMemoryPresence(), &adds} },
	})
	require.NoError(t, err)
	ts := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, p.Shutdown(context.Background()))
	})

	resp, err := http.Get(ts.URL + "/ws/echo")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "the echo given")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws/chat?room=lab&username=ada", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"text","content":"in the given store"}`)))
	for {
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		if strings.Contains(string(data), "in the given store") {
			break
		}
	}
	msgs, err := history.LastMessages(ctx, "lab", 10)
	require.NoError(t, err)
	require.Len(t, msgs, 1, "the message went to the store given")
	assert.Equal(t, "in the given store", msgs[0].Content)
	assert.Equal(t, int64(1), adds.Load(), "the presence given saw ada join")
}

// The page built into the binary serves the workshop's lessons: the index
// and every lesson it links.
func TestWorkshopPagesAreServed(t *testing.T) {
	t.Parallel()
	p, err := New(Config{DataDir: t.TempDir()}, Deps{})
	require.NoError(t, err)
	ts := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, p.Shutdown(context.Background()))
	})
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return string(body)
	}
	index := get("/workshop/")
	links := regexp.MustCompile(`href="(\d\d-[a-z0-9-]+/)"`).FindAllStringSubmatch(index, -1)
	require.GreaterOrEqual(t, len(links), 9, "the index links the lessons")
	for _, l := range links {
		assert.Contains(t, get("/workshop/"+l[1]), "<h2>Tasks</h2>", l[1])
	}
	assert.Contains(t, get("/workshop/lesson.css"), "font")
}

// Deps.Chat replaces /ws/chat, and only it.
func TestDepsReplaceTheChatEndpoint(t *testing.T) {
	t.Parallel()
	p, err := New(Config{DataDir: t.TempDir()}, Deps{
		Site: siteFS,
		Chat: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }),
	})
	require.NoError(t, err)
	ts := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, p.Shutdown(context.Background()))
	})
	for path, want := range map[string]int{"/ws/chat": http.StatusTeapot, "/api/rooms": http.StatusOK} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}
}
