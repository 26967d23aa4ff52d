package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/internal/natstest"
	"wsplay/server/store"
	"wsplay/shared"
)

// node is one playground process of a test, sharing NATS with others.
type node struct {
	url   string // ws://…
	admin string // the notification API's token
}

func startNode(t *testing.T, natsURL string) node {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), NATS: natsURL}
	cfg.Chat.MessageRate, cfg.Chat.MessageBurst = 1000, 1000 // the burst below
	p, err := New(cfg, Deps{Site: siteFS})
	require.NoError(t, err)
	ts := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, p.Shutdown(context.Background()))
	})
	return node{url: "ws" + strings.TrimPrefix(ts.URL, "http"), admin: p.AdminToken()}
}

// chatClient is a chat connection that collects what it receives.
type chatClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan shared.Message
}

func (n node) join(t *testing.T, ctx context.Context, user string, query url.Values) *chatClient {
	t.Helper()
	q := url.Values{"room": {"lab"}, "username": {user}}
	for k, v := range query {
		q[k] = v
	}
	c, _, err := websocket.Dial(ctx, n.url+"/ws/chat?"+q.Encode(), nil)
	require.NoError(t, err)
	cl := &chatClient{t: t, c: c, msgs: make(chan shared.Message, 1024)}
	go func() {
		defer close(cl.msgs)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if m, err := shared.Decode(data); err == nil {
				cl.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return cl
}

// next returns the next message of one of types, skipping the others.
func (cl *chatClient) next(types ...shared.Type) shared.Message {
	cl.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-cl.msgs:
			require.True(cl.t, ok, "the connection ended while waiting for %v", types)
			if slices.Contains(types, m.Type) {
				return m
			}
		case <-timeout:
			cl.t.Fatalf("no %v message within 10 s", types)
		}
	}
}

func (cl *chatClient) say(ctx context.Context, content, id string) {
	cl.t.Helper()
	b, err := shared.Encode(shared.Message{Type: shared.TypeText, Content: content, ID: id})
	require.NoError(cl.t, err)
	require.NoError(cl.t, cl.c.Write(ctx, websocket.MessageText, b))
}

// Two processes sharing one NATS server share a room: a message sent on
// either reaches the members on both with the one seq NATS gave it;
// senders on both at once are seen by everyone in the same order, with
// no gap; a member resuming on the other process gets exactly what it
// missed; a join crosses too.
func TestNATSTwoNodesShareARoom(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	one, two := startNode(t, ns.ClientURL()), startNode(t, ns.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	ada := one.join(t, ctx, "ada", nil)
	history := ada.next(shared.TypeHistory)
	epoch := history.Epoch
	require.NotEmpty(t, epoch)
	bob := two.join(t, ctx, "bob", nil)
	assert.Equal(t, epoch, bob.next(shared.TypeHistory).Epoch, "one history, one epoch, on both")
	assert.Equal(t, []string{"ada", "bob"}, bob.next(shared.TypeUserList).Users, "the room's users on both processes, each once")
	joined := ada.next(shared.TypeJoin)
	if joined.Username == "ada" { // her own, first
		joined = ada.next(shared.TypeJoin)
	}
	assert.Equal(t, "bob", joined.Username, "ada hears of bob, who joined on the other process")
	// Bob in a second tab, on ada's process: still one bob, and no join.
	bob2 := one.join(t, ctx, "bob", nil)
	assert.Equal(t, []string{"ada", "bob"}, bob2.next(shared.TypeUserList).Users)

	ada.say(ctx, "hello from one", "a-1")
	for _, cl := range []*chatClient{ada, bob} {
		m := cl.next(shared.TypeText)
		assert.Equal(t, "hello from one", m.Content)
		assert.Equal(t, uint64(1), m.Seq)
		assert.Equal(t, "ada", m.Username)
	}
	bob.say(ctx, "hi from two", "b-1")
	for _, cl := range []*chatClient{ada, bob} {
		m := cl.next(shared.TypeText)
		assert.Equal(t, "hi from two", m.Content)
		assert.Equal(t, uint64(2), m.Seq)
	}

	// Both send at once.
	const each = 20
	var wg sync.WaitGroup
	for _, cl := range []*chatClient{ada, bob} {
		wg.Go(func() {
			for i := range each {
				cl.say(ctx, fmt.Sprintf("burst %d", i), fmt.Sprintf("burst-%p-%d", cl, i))
			}
		})
	}
	wg.Wait()
	seen := map[*chatClient][]string{}
	for _, cl := range []*chatClient{ada, bob} {
		for want := uint64(3); want <= 2+2*each; want++ {
			m := cl.next(shared.TypeText)
			require.Equal(t, want, m.Seq, "every member sees every seq, in order, once")
			seen[cl] = append(seen[cl], m.Username+": "+m.Content)
		}
	}
	assert.Equal(t, seen[ada], seen[bob], "one order for both processes")

	// Carol saw up to seq 2 (on process one, say) and comes back on two.
	carol := two.join(t, ctx, "carol", url.Values{"since": {"2"}, "epoch": {epoch}})
	resumed := carol.next(shared.TypeHistory)
	require.NotNil(t, resumed.Recovered)
	assert.True(t, *resumed.Recovered)
	require.Len(t, resumed.Messages, 2*each, "exactly what she missed")
	assert.Equal(t, uint64(3), resumed.Messages[0].Seq)
	assert.Equal(t, uint64(2+2*each), resumed.Messages[len(resumed.Messages)-1].Seq)

	join := ada.next(shared.TypeJoin)
	assert.Equal(t, "carol", join.Username, "a join on two is heard on one, and bob's second tab made none")

	// Carol goes: everyone hears it once; bob's second tab goes: bob is
	// still in the room (his first tab), so nobody hears a leave.
	carol.c.Close(websocket.StatusNormalClosure, "")
	left := ada.next(shared.TypeLeave)
	assert.Equal(t, "carol", left.Username)
	bob2.c.Close(websocket.StatusNormalClosure, "")
	// A leave would come within the grace after bob2's key went; wait
	// past it, then see what ada was sent meanwhile.
	time.Sleep(store.DefaultPresenceGrace + time.Second)
	ada.say(ctx, "still here, bob?", "a-2")
	for {
		m := ada.next(shared.TypeText, shared.TypeLeave)
		require.NotEqual(t, shared.TypeLeave, m.Type, "bob left with a tab still open: %+v", m)
		if m.Content == "still here, bob?" {
			break
		}
	}
}

// With NATS embedded, the process starts its own server and works alone
// the same way, through the same code.
func TestNATSEmbedded(t *testing.T) {
	t.Parallel()
	n := startNode(t, NATSEmbedded)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ada := n.join(t, ctx, "ada", nil)
	ada.next(shared.TypeHistory)
	ada.say(ctx, "through the embedded server", "a-1")
	m := ada.next(shared.TypeText)
	assert.Equal(t, "through the embedded server", m.Content)
	assert.Equal(t, uint64(1), m.Seq)
}

// A NATS setting that is not an address is refused before anything
// starts.
func TestNATSSettingIsChecked(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"localhost:4222", "http://127.0.0.1:4222", "nats://"} {
		err := Config{NATS: bad}.Check()
		assert.ErrorContains(t, err, "not a NATS server address", bad)
	}
	assert.NoError(t, Config{NATS: "nats://127.0.0.1:4222,nats://127.0.0.1:4223"}.Check())
	assert.NoError(t, Config{NATS: NATSEmbedded}.Check())
	assert.ErrorContains(t, Config{NATS: NATSEmbedded, NATSPresenceTTL: 500 * time.Millisecond}.Check(), "at least 1s",
		"NATS keeps no limit markers under a second")
	assert.NoError(t, Config{NATS: NATSEmbedded, NATSPresenceTTL: time.Second}.Check())
}

// NATS restarts under two processes: a message sent while it is away is
// refused with "unavailable" (not stored, nothing half-sent), and once
// it is back both processes store and deliver again, with the seqs
// going on from where they were: nothing acknowledged is lost, nothing
// is shown twice.
func TestNATSRestartLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	one, two := startNode(t, ns.ClientURL()), startNode(t, ns.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ada := one.join(t, ctx, "ada", nil)
	ada.next(shared.TypeHistory)
	bob := two.join(t, ctx, "bob", nil)
	bob.next(shared.TypeHistory)
	ada.say(ctx, "before", "a-1")
	for _, cl := range []*chatClient{ada, bob} {
		assert.Equal(t, uint64(1), cl.next(shared.TypeText).Seq)
	}

	restarted := make(chan struct{})
	go func() { defer close(restarted); ns.Restart(t, 3*time.Second) }()
	time.Sleep(500 * time.Millisecond) // NATS is down
	ada.say(ctx, "during", "a-2")
	refused := ada.next(shared.TypeError)
	assert.Equal(t, shared.CodeUnavailable, refused.Code, "%+v", refused)
	<-restarted

	// The client sends it again until it is acknowledged, as the page's does.
	var back shared.Message
	for deadline := time.Now().Add(30 * time.Second); ; {
		require.True(t, time.Now().Before(deadline), "nothing stored within 30 s of NATS coming back")
		ada.say(ctx, "during", "a-2")
		m := ada.next(shared.TypeText, shared.TypeError)
		if m.Type == shared.TypeText {
			back = m
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	assert.Equal(t, "during", back.Content)
	assert.Equal(t, uint64(2), back.Seq, "the seqs go on where they were")
	m := bob.next(shared.TypeText)
	assert.Equal(t, "during", m.Content, "the other process follows the room again")
	assert.Equal(t, uint64(2), m.Seq)
}

// With NATS, the dashboard names its node and counts the whole
// cluster's connections: a viewer on one process sees the connection
// open on the other.
func TestNATSDashboardShowsTheCluster(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	one, two := startNode(t, ns.ClientURL()), startNode(t, ns.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	echo, _, err := websocket.Dial(ctx, two.url+"/ws/echo", nil)
	require.NoError(t, err)
	defer echo.CloseNow()
	viewer, _, err := websocket.Dial(ctx, one.url+"/ws/dashboard", nil)
	require.NoError(t, err)
	defer viewer.CloseNow()
	for {
		_, data, err := viewer.Read(ctx)
		require.NoError(t, err, "no snapshot with both processes in it within 30 s")
		var snap shared.DashboardData
		require.NoError(t, json.Unmarshal(data, &snap))
		assert.NotEmpty(t, snap.Node, "the snapshot names its process")
		if snap.Metrics[shared.MetricClusterNodes] == 2 {
			assert.GreaterOrEqual(t, snap.Metrics[shared.MetricClusterConnections], 2.0, "the viewer here and the echo there")
			assert.Equal(t, 1.0, snap.Metrics[shared.MetricConnections], "this process's own: the viewer")
			break
		}
	}
	viewer.Close(websocket.StatusNormalClosure, "")
	echo.Close(websocket.StatusNormalClosure, "")
}
