//go:build !js

package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/server/store"
	"wsplay/shared"
)

// FAULTS row 35: with -nats, one of the processes sharing a room is
// killed (SIGKILL: no close frame, no key deleted) under its users.
//
//   - Ada, who reached node one through a balancer, reconnects through it
//     to node two and resumes exactly: every message once, in seq order,
//     the same seqs as Bob on node two. A line node one stored just
//     before the kill, whose acknowledgement died with it, is stored
//     once (node two takes her resend for it); what she typed while
//     down is stored once too.
//   - Bob never sees Ada leave: she was back on node two before node
//     one's keys ran out. Cyd, whose only connection died with node one,
//     leaves at Bob within the presence TTL (and the grace).
//   - A node started afterwards serves the room's whole history and its
//     users to its first client at once, and follows the room.
//
// The nodes are real server processes sharing a NATS server that runs in
// the test, all with a 3-second presence TTL.
func TestFault35_ANodeKilledItsClientsResumeElsewhereAndItsUsersLeave(t *testing.T) {
	const ttl = 3 * time.Second
	natsURL := servertest.StartNATS(t)
	startNode := func() *serverProcess {
		t.Helper()
		// Every client comes from 127.0.0.1: the limit per address would
		// count them as one sender.
		p, err := startProcess("-addr", "127.0.0.1:0", "-data", t.TempDir(), "-nats", natsURL,
			"-nats-presence-ttl", ttl.String(), "-address-rate", "1000", "-address-burst", "1000",
			"-jwt-secret", "fault35-jwt-secret-shared-by-every-node", "-admin-token", "fault35-admin-token-0123456789")
		require.NoError(t, err)
		t.Cleanup(func() {
			if p.cmd.ProcessState == nil { // not killed
				assert.NoError(t, p.stop(), "a node exits cleanly on SIGTERM")
			}
		})
		return p
	}
	one, two := startNode(), startNode()
	lb := startBalancer(t, one.Addr, two.Addr)

	h := newChatHarness(t)
	room := uniqueRoom(t)
	bob, bobRec := h.add(two.URL, room, "bob")
	eventually(t, "bob in the room", func() bool { return slices.Equal(bobRec.getUsers(), []string{"bob"}) })

	balanced, err := SocketURL(lb.URL, "/ws/chat")
	require.NoError(t, err)
	adaRec := &chatRecorder{}
	ada, err := NewChat(h.loop, adaRec, balanced, room, "ada")
	require.NoError(t, err)
	// A second between losing the node and trying again, every time: long
	// enough that what is sent meanwhile reaches her only by her resume,
	// short enough to be back well within the TTL.
	ada.Backoff = Backoff{Min: time.Second, Max: time.Second, rand: func() float64 { return 0.999 }}
	h.onLoop(ada.Start)
	t.Cleanup(func() { h.onLoop(ada.Stop) })
	eventually(t, "ada in the room on both nodes", func() bool {
		return slices.Equal(bobRec.getUsers(), []string{"ada", "bob"}) && slices.Equal(adaRec.getUsers(), []string{"ada", "bob"})
	})
	cydGone := joinRaw(t, one.URL, room, "cyd")
	eventually(t, "cyd in the room", func() bool { return slices.Equal(bobRec.getUsers(), []string{"ada", "bob", "cyd"}) })
	assert.Equal(t, map[string]int{one.Addr: 1}, lb.connections(), "ada went through the balancer to node one")
	kv := presenceBucket(t, natsURL)
	assert.Equal(t, map[string]int{"ada": 1, "bob": 1, "cyd": 1}, presenceKeys(t, kv, room), "a key per user and process")

	h.onLoop(func() { require.NoError(t, ada.Send("hello from ada")) })
	eventually(t, "bob has ada's line", func() bool { c, _ := bobRec.texts(); return slices.Equal(c, []string{"hello from ada"}) })
	h.onLoop(func() { require.NoError(t, bob.Send("hello from bob")) })
	eventually(t, "ada has bob's line", func() bool {
		c, _ := adaRec.texts()
		return slices.Equal(c, []string{"hello from ada", "hello from bob"})
	})

	// Sent just before the kill: node one stores it, and dies before its
	// acknowledgement reaches her (the balancer holds what node one
	// sends her from now on, and drops it with her connection). It stays
	// in her outbox.
	lb.holdReplies()
	h.onLoop(func() { require.NoError(t, ada.Send("last words on node one")) })
	eventually(t, "her last words stored", func() bool { c, _ := bobRec.texts(); return slices.Contains(c, "last words on node one") })
	killProcess(one)
	killed := time.Now()
	lb.cutHeld()
	eventually(t, "ada noticed", func() bool { return adaRec.getState() != Connected })
	h.onLoop(func() { assert.Equal(t, 1, ada.Pending(), "her last words unacknowledged") })
	select {
	case <-cydGone:
	case <-time.After(10 * time.Second):
		t.Fatal("cyd's connection outlived node one")
	}
	h.onLoop(func() {
		require.NotEqual(t, Connected, ada.State())
		require.NoError(t, ada.Send("typed while down"))
		require.NoError(t, bob.Send("while ada is away 1"))
		require.NoError(t, bob.Send("while ada is away 2"))
	})
	eventually(t, "bob's lines stored", func() bool {
		c, _ := bobRec.texts()
		return slices.Contains(c, "while ada is away 2")
	})
	adaDownWhenStored := adaRec.getState() != Connected

	eventually(t, "ada back, and her outbox acknowledged", func() bool {
		var pending int
		h.onLoop(func() { pending = ada.Pending() })
		return adaRec.getState() == Connected && pending == 0
	})
	back := time.Since(killed)
	// The premise of "no flicker": she is back elsewhere before node
	// one's key for her runs out.
	require.Less(t, back, ttl, "ada back on node two within the TTL")
	adaKeysWhenBack := presenceKeys(t, kv, room)["ada"]
	assert.Equal(t, 2, adaRec.connections(), "one reconnect")
	assert.Equal(t, map[string]int{one.Addr: 1, two.Addr: 1}, lb.connections(), "the balancer sent her reconnect to node two")
	h.onLoop(func() { require.NoError(t, ada.Send("back, on node two")) })

	wantSet := []string{"back, on node two", "hello from ada", "hello from bob", "last words on node one",
		"typed while down", "while ada is away 1", "while ada is away 2"}
	eventuallyExplain(t, "ada and bob have every line once, the same", func() bool {
		a, as := adaRec.texts()
		b, bs := bobRec.texts()
		return len(a) == len(wantSet) && slices.Equal(a, b) && slices.Equal(as, bs)
	}, func() string {
		a, as := adaRec.texts()
		b, bs := bobRec.texts()
		return fmt.Sprintf("ada %q %v; bob %q %v", a, as, b, bs)
	})
	texts, seqs := adaRec.texts()
	assert.ElementsMatch(t, wantSet, texts, "each line once")
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7}, seqs, "in seq order, no gap")
	assert.Equal(t, "last words on node one", texts[2], "stored once, by node one: node two took her resend for it")
	assert.Less(t, slices.Index(texts, "while ada is away 1"), slices.Index(texts, "while ada is away 2"))
	assert.Equal(t, "back, on node two", texts[len(texts)-1])

	// Node one's keys (Ada's and Cyd's) were last refreshed at most a
	// third of the TTL before the kill: they run out within the TTL of it
	// (slack for a busy machine), and Bob hears Cyd leave a grace later.
	grace := store.DefaultPresenceGrace
	eventuallyBefore(t, "node one's keys run out", killed.Add(ttl+2*time.Second), func() bool {
		return maps.Equal(presenceKeys(t, kv, room), map[string]int{"ada": 1, "bob": 1})
	})
	keysGone := time.Now()
	keysRanOut := keysGone.Sub(killed)
	eventuallyBefore(t, "cyd's leave at bob", killed.Add(ttl+grace+2*time.Second), func() bool {
		return slices.Contains(bobRec.presence(), "leave cyd")
	})
	cydLeft := time.Since(killed)
	assert.Equal(t, []string{"ada", "bob"}, bobRec.getUsers())
	// Ada's key on node one is gone too, while she is on node two: a
	// leave it made would come a grace after. Wait that out (slack for
	// node two seeing the key go after this test did), then send a line
	// past it.
	time.Sleep(time.Until(keysGone.Add(grace + time.Second)))
	h.onLoop(func() { require.NoError(t, bob.Send("still here, ada?")) })
	for _, rec := range []*chatRecorder{adaRec, bobRec} {
		eventually(t, "the line past the window", func() bool { c, _ := rec.texts(); return slices.Contains(c, "still here, ada?") })
	}
	assert.Equal(t, []string{"join bob", "join ada", "join cyd", "leave cyd"}, bobRec.presence(),
		"ada neither left nor joined again: no flicker")
	assert.Equal(t, []string{"ada", "bob"}, bobRec.getUsers())
	assert.Equal(t, []string{"ada", "bob"}, adaRec.getUsers())
	t.Logf("after the kill: ada back on node two in %v (down when bob's lines were stored: %v; her keys then %d), node one's keys ran out in %v, cyd's leave at bob in %v (TTL %v, grace %v)",
		back.Round(time.Millisecond), adaDownWhenStored, adaKeysWhenBack, keysRanOut.Round(time.Millisecond), cydLeft.Round(time.Millisecond), ttl, grace)

	// A node started now, with nothing of its own, serves the whole
	// history and the room's users in its first answer.
	three := startNode()
	started := time.Now()
	deeView := &firstListView{chatRecorder: &chatRecorder{}}
	deeURL, err := SocketURL(three.URL, "/ws/chat")
	require.NoError(t, err)
	dee, err := NewChat(h.loop, deeView, deeURL, room, "dee")
	require.NoError(t, err)
	h.onLoop(dee.Start)
	t.Cleanup(func() { h.onLoop(dee.Stop) })
	eventually(t, "dee's first user list", func() bool { _, ok := deeView.first(); return ok })
	first, _ := deeView.first()
	t.Logf("node three answered dee's join %v after dee dialled", time.Since(started).Round(time.Millisecond))
	assert.Equal(t, []string{"ada", "bob", "dee"}, first.users, "the room's users, at once")
	bobTexts, bobSeqs := bobRec.texts()
	assert.Equal(t, bobTexts, first.texts, "the whole history, at once")
	assert.Equal(t, bobSeqs, first.seqs)
	eventually(t, "bob hears dee join", func() bool { return slices.Contains(bobRec.presence(), "join dee") })

	h.onLoop(func() { require.NoError(t, dee.Send("hello from node three")) })
	for name, rec := range map[string]*chatRecorder{"ada": adaRec, "bob": bobRec, "dee": deeView.chatRecorder} {
		eventually(t, name+" has dee's line", func() bool {
			c, s := rec.texts()
			return len(c) == 9 && c[8] == "hello from node three" && s[8] == 9
		})
	}
	assert.Equal(t, []string{"ada", "bob", "dee"}, bobRec.getUsers())
}

// eventuallyBefore is eventually with a deadline of its own.
func eventuallyBefore(t *testing.T, what string, deadline time.Time, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s by %v", what, deadline.Format(time.TimeOnly+".000"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// presenceBucket opens the nodes' presence bucket in the NATS server at
// natsURL.
func presenceBucket(t *testing.T, natsURL string) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, store.PresenceBucket)
	require.NoError(t, err)
	return kv
}

// presenceKeys counts each user's keys in room, one per process that
// has the user (store.KVPresence: room.user.process, each part in
// unpadded base64url), as the bucket holds them now.
func presenceKeys(t *testing.T, kv jetstream.KeyValue, room string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enc := base64.RawURLEncoding
	keys, err := kv.ListKeysFiltered(ctx, enc.EncodeToString([]byte(room))+".>")
	require.NoError(t, err)
	defer keys.Stop()
	n := map[string]int{}
	for k := range keys.Keys() {
		parts := strings.Split(k, ".")
		require.Len(t, parts, 3, k)
		user, err := enc.DecodeString(parts[1])
		require.NoError(t, err, k)
		n[string(user)]++
	}
	return n
}

// presence returns the joins and leaves shown, in order, as "join ada".
func (r *chatRecorder) presence() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		if l.Kind == shared.TypeJoin || l.Kind == shared.TypeLeave {
			out = append(out, string(l.Kind)+" "+l.Username)
		}
	}
	return out
}

// firstListView is a chatRecorder that keeps the first user list it is
// shown, and the history shown by then.
type firstListView struct {
	*chatRecorder
	mu   sync.Mutex
	list *shownAtFirstList // nil until the first list
}

type shownAtFirstList struct {
	users []string
	texts []string
	seqs  []uint64
}

func (v *firstListView) ChatUsers(u Presence) {
	v.chatRecorder.ChatUsers(u)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.list == nil {
		texts, seqs := v.chatRecorder.texts()
		v.list = &shownAtFirstList{users: slices.Clone(u), texts: texts, seqs: seqs}
	}
}

func (v *firstListView) first() (shownAtFirstList, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.list == nil {
		return shownAtFirstList{}, false
	}
	return *v.list, true
}

// joinRaw joins room as user on the server at baseURL with a bare
// connection that reads everything and never reconnects: it dies with
// the server. The channel is closed when it has.
func joinRaw(t *testing.T, baseURL, room, user string) <-chan struct{} {
	t.Helper()
	u, err := SocketURL(baseURL, "/ws/chat")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u+"?"+url.Values{"room": {room}, "username": {user}}.Encode(), nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return gone
}

// balancer stands in front of nodes as a load balancer that fails over:
// each request goes to the first node of its list that takes a TCP
// connection, WebSocket upgrades included (httputil.ReverseProxy carries
// them).
type balancer struct {
	URL   string
	nodes []string // addresses, in order of preference

	mu    sync.Mutex
	taken map[string]int // connections each node took
	open  map[*heldConn]bool
}

// heldConn is a connection to a node whose replies the balancer can
// hold: what the node sends once held is never passed on, and the
// connection ends when the hold is cut.
type heldConn struct {
	net.Conn
	b    *balancer
	held chan struct{} // nil unless held; closed by the cut
}

var errCut = errors.New("balancer: connection cut")

func (c *heldConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.b.mu.Lock()
	held := c.held
	c.b.mu.Unlock()
	if held != nil {
		<-held
		return 0, errCut
	}
	return n, err
}

func (c *heldConn) Close() error {
	c.b.mu.Lock()
	delete(c.b.open, c)
	c.b.mu.Unlock()
	return c.Conn.Close()
}

// holdReplies holds what the nodes send on every connection open now,
// as a node that dies with its answers unsent would; later connections
// are not held.
func (b *balancer) holdReplies() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.open {
		c.held = make(chan struct{})
	}
}

// cutHeld ends the held connections, dropping what they held.
func (b *balancer) cutHeld() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.open {
		if c.held != nil {
			close(c.held)
		}
	}
}

func startBalancer(t *testing.T, nodes ...string) *balancer {
	b := &balancer{nodes: nodes, taken: map[string]int{}, open: map[*heldConn]bool{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "nodes" // the dial picks the node
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{DialContext: b.dial, DisableKeepAlives: true},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

func (b *balancer) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	var errs []error
	for _, addr := range b.nodes {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			held := &heldConn{Conn: c, b: b}
			b.mu.Lock()
			b.taken[addr]++
			b.open[held] = true
			b.mu.Unlock()
			return held, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// connections returns how many connections each node took.
func (b *balancer) connections() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.taken)
}
