//go:build !js

package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/servertest"
	"wsplay/shared"
)

// FAULTS row 19, client side: the traffic of a chat and a notification
// client silently stops both ways. Their heartbeat notices the missing
// pong and they reconnect with backoff, resume, and send what was typed
// meanwhile; the server, with short ping settings, drops the dead
// connections on its side.
func TestFault19_ClientsNoticeAHalfOpenConnectionAndReconnect(t *testing.T) {
	// Short enough for a test, long enough that the healthy canary answers
	// in time on a busy machine.
	cfg := servertest.CommandDefaults(t.TempDir())
	cfg.Gate.Conn.PingInterval, cfg.Gate.Conn.PongWait = 500*time.Millisecond, 3*time.Second
	srv := startServerAt(t, cfg, "")
	proxy := servertest.StartStallProxy(t, srv.Addr)
	h := newChatHarness(t)
	room := uniqueRoom(t)
	canary, canaryRec := h.add(srv.URL, room, "canary")

	u, err := SocketURL(proxy.URL(), "/ws/chat")
	require.NoError(t, err)
	ghostRec := &chatRecorder{}
	ghost, err := NewChat(h.loop, ghostRec, u, room, "ghost")
	require.NoError(t, err)
	ghost.Heartbeat = time.Second
	ghost.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}
	h.onLoop(ghost.Start)
	t.Cleanup(func() { h.onLoop(ghost.Stop) })

	nu, err := SocketURL(proxy.URL(), "/ws/notifications")
	require.NoError(t, err)
	tabRec := &notifyRecorder{}
	tab, err := NewNotifications(h.loop, tabRec, nu, "ghost")
	require.NoError(t, err)
	tab.Heartbeat = time.Second
	tab.Backoff = Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}
	h.onLoop(tab.Start)
	t.Cleanup(func() { h.onLoop(tab.Stop) })

	eventually(t, "ghost in the room", func() bool { return slices.Equal(canaryRec.getUsers(), []string{"canary", "ghost"}) })
	eventually(t, "the tab loaded", tabRec.ready)
	h.onLoop(func() { require.NoError(t, ghost.Send("before")) })
	eventually(t, "the canary heard it", func() bool { c, _ := canaryRec.texts(); return slices.Equal(c, []string{"before"}) })
	// Counted from here: a pong that came late on a busy machine may have
	// made a client reconnect already.
	ghostConns, tabConns := ghostRec.connections(), tabRec.connections()

	stalled := time.Now()
	proxy.Stall()
	h.onLoop(func() { require.NoError(t, ghost.Send("into the void")) })
	eventually(t, "both clients on new connections", func() bool {
		return ghostRec.connections() > ghostConns && ghostRec.getState() == Connected &&
			tabRec.connections() > tabConns && tabRec.ready()
	})
	t.Logf("both clients reconnected %v after their traffic stopped (heartbeat %v)",
		time.Since(stalled).Round(time.Millisecond), ghost.Heartbeat)

	// Nothing lost, nothing twice: the message sent into the void went
	// again on the new connection, and the server stored it once.
	eventually(t, "the resend stored", func() bool {
		c, _ := canaryRec.texts()
		return slices.Equal(c, []string{"before", "into the void"})
	})
	h.onLoop(func() { require.NoError(t, canary.Send("after")) })
	want := []string{"before", "into the void", "after"}
	for name, rec := range map[string]*chatRecorder{"canary": canaryRec, "ghost": ghostRec} {
		eventuallyExplain(t, name+" has every message once", func() bool { c, _ := rec.texts(); return slices.Equal(c, want) },
			func() string {
				c, _ := rec.texts()
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return fmt.Sprintf("texts %q; lines %+v; state %v %q", c, rec.lines, rec.state, rec.detail)
			})
	}
	h.onLoop(func() { assert.Zero(t, ghost.Pending()) })
	eventually(t, "the ghost still listed once", func() bool {
		return slices.Equal(canaryRec.getUsers(), []string{"canary", "ghost"})
	})
}

// eventuallyExplain is eventually, saying what explain returns on a
// timeout.
func eventuallyExplain(t *testing.T, what string, cond func() bool, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, explain())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// timedChatView is a chatRecorder that also notes when each connection
// attempt starts and succeeds.
type timedChatView struct {
	*chatRecorder
	times *connTimes
}

func (v timedChatView) ChatState(s ConnState, d string) {
	v.chatRecorder.ChatState(s, d)
	v.times.note(s)
}

type timedNotifyView struct {
	*notifyRecorder
	times *connTimes
}

func (v timedNotifyView) NotifyState(s ConnState, d string) {
	v.notifyRecorder.NotifyState(s, d)
	v.times.note(s)
}

// connTimes records when a client connected.
type connTimes struct {
	mu        sync.Mutex
	attempts  []time.Time
	connected []time.Time
}

func (ct *connTimes) note(s ConnState) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	switch s {
	case Connecting:
		ct.attempts = append(ct.attempts, time.Now())
	case Connected:
		ct.connected = append(ct.connected, time.Now())
	}
}

// reconnectedAfter returns the first successful connection after t, and
// how many attempts it took since t.
func (ct *connTimes) reconnectedAfter(t time.Time) (time.Time, int) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	n := 0
	for _, a := range ct.attempts {
		if a.After(t) {
			n++
		}
	}
	for _, c := range ct.connected {
		if c.After(t) {
			return c, n
		}
	}
	return time.Time{}, n
}

// killProcess ends p with SIGKILL: no close frames, no shutdown.
func killProcess(p *serverProcess) {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.logw.Close()
	<-p.scanned
}

// postNote sends user a notification through the admin API of the server
// at baseURL and returns its id.
func postNote(t *testing.T, baseURL, token, user, title string) string {
	t.Helper()
	body, err := json.Marshal(map[string]string{"user_id": user, "title": title})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, baseURL+"/api/notifications", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
	var n shared.Notification
	require.NoError(t, json.Unmarshal(b, &n))
	return n.ID
}

// FAULTS row 25: the server is killed (SIGKILL: no close frame, nothing
// flushed) and restarted on the same address and data. 30 chat clients
// and 10 notification clients reconnect by themselves with jittered
// exponential backoff, spread out rather than in one burst, and resume by
// sequence: every chat message and every notification once, in order,
// including what was sent before the kill, typed while the server was
// down, and sent after the restart.
func TestFault25_ClientsReconnectSpreadOutAndResumeAfterSIGKILL(t *testing.T) {
	const admin = "fault25-admin-token-0123456789"
	data := t.TempDir()
	srv, err := startProcess("-addr", "127.0.0.1:0", "-data", data, "-admin-token", admin)
	require.NoError(t, err)
	addr := srv.Addr
	t.Cleanup(func() {
		if srv != nil {
			srv.stop()
		}
	})
	h := newChatHarness(t)
	room := uniqueRoom(t)
	backoff := Backoff{Min: 250 * time.Millisecond, Max: 4 * time.Second}

	const chatters, readers = 30, 10
	chatURL, err := SocketURL(srv.URL, "/ws/chat")
	require.NoError(t, err)
	var chats []*Chat
	var chatRecs []*chatRecorder
	var times []*connTimes
	for i := range chatters {
		ct := &connTimes{}
		rec := &chatRecorder{}
		c, err := NewChat(h.loop, timedChatView{rec, ct}, chatURL, room, fmt.Sprintf("u%d", i))
		require.NoError(t, err)
		c.Backoff = backoff
		h.onLoop(c.Start)
		t.Cleanup(func() { h.onLoop(c.Stop) })
		chats, chatRecs, times = append(chats, c), append(chatRecs, rec), append(times, ct)
	}
	notifyURL, err := SocketURL(srv.URL, "/ws/notifications")
	require.NoError(t, err)
	var notes []*notifyRecorder
	var users []string
	for range readers {
		ct := &connTimes{}
		rec := &notifyRecorder{}
		user := uniqueUser("n")
		n, err := NewNotifications(h.loop, timedNotifyView{rec, ct}, notifyURL, user)
		require.NoError(t, err)
		n.Backoff = backoff
		h.onLoop(n.Start)
		t.Cleanup(func() { h.onLoop(n.Stop) })
		notes, users, times = append(notes, rec), append(users, user), append(times, ct)
	}
	eventually(t, "everyone in", func() bool {
		for _, r := range notes {
			if !r.ready() {
				return false
			}
		}
		return len(chatRecs[0].getUsers()) == chatters
	})

	var want []string
	for i := range 3 {
		msg := fmt.Sprint("before ", i)
		h.onLoop(func() { require.NoError(t, chats[i].Send(msg)) })
		want = append(want, msg)
		eventually(t, "the message stored", func() bool { c, _ := chatRecs[i].texts(); return slices.Contains(c, msg) })
	}
	wantNotes := map[string][]string{}
	for _, u := range users {
		wantNotes[u] = append(wantNotes[u], postNote(t, srv.URL, admin, u, "before"))
	}

	killProcess(srv)
	srv = nil
	killed := time.Now()
	release := servertest.HoldAddress(t, addr)
	eventually(t, "every client noticed", func() bool {
		for _, r := range chatRecs {
			if r.getState() == Connected {
				return false
			}
		}
		for _, r := range notes {
			if r.getState() == Connected {
				return false
			}
		}
		return true
	})
	h.onLoop(func() { require.NoError(t, chats[5].Send("while down")) })
	want = append(want, "while down")
	// The server stays down until every client has failed once and is on
	// its second, longer, wait.
	eventually(t, "a failed attempt each", func() bool {
		for _, ct := range times {
			if _, n := ct.reconnectedAfter(killed); n < 2 {
				return false
			}
		}
		return true
	})

	release()
	srv, err = startProcess("-addr", addr, "-data", data, "-admin-token", admin)
	require.NoError(t, err)
	restarted := time.Now()
	eventually(t, "everyone back", func() bool {
		for _, r := range chatRecs {
			if r.getState() != Connected {
				return false
			}
		}
		for _, r := range notes {
			if !r.ready() {
				return false
			}
		}
		return true
	})
	eventually(t, "the message typed while down stored", func() bool {
		c, _ := chatRecs[0].texts()
		return slices.Contains(c, "while down")
	})
	h.onLoop(func() { require.NoError(t, chats[7].Send("after")) })
	want = append(want, "after")
	for _, u := range users {
		wantNotes[u] = append(wantNotes[u], postNote(t, srv.URL, admin, u, "after"))
	}

	// Resumed by sequence: no gap, no duplicate.
	for i, rec := range chatRecs {
		eventually(t, fmt.Sprintf("u%d has every message once", i), func() bool { c, _ := rec.texts(); return slices.Equal(c, want) })
		_, seqs := rec.texts()
		assert.Equal(t, []uint64{1, 2, 3, 4, 5}, seqs, "u%d", i)
	}
	for i, rec := range notes {
		u := users[i]
		eventually(t, u+" has every notification", func() bool { return len(rec.shown()) >= len(wantNotes[u]) })
		var ids []string
		var seqs []uint64
		for _, s := range rec.shown() {
			ids, seqs = append(ids, s.n.ID), append(seqs, s.n.Seq)
		}
		assert.Equal(t, wantNotes[u], ids, "%s: each notification once, in order", u)
		assert.Equal(t, []uint64{1, 2}, seqs, u)
	}

	// Spread out, not one burst: each client's reconnection, after the
	// restart, falls where its own random wait ended.
	var back []time.Duration
	attempts := 0
	for _, ct := range times {
		at, n := ct.reconnectedAfter(killed)
		require.False(t, at.IsZero())
		back = append(back, at.Sub(restarted))
		attempts += n
	}
	sort.Slice(back, func(i, j int) bool { return back[i] < back[j] })
	spread := back[len(back)-1] - back[0]
	busiest := 0
	for i := range back {
		j := sort.Search(len(back), func(j int) bool { return back[j] >= back[i]+50*time.Millisecond })
		busiest = max(busiest, j-i)
	}
	t.Logf("%d clients reconnected between %v and %v after the restart (spread %v; at most %d in any 50 ms; %.1f attempts each; restart took %v)",
		len(back), back[0].Round(time.Millisecond), back[len(back)-1].Round(time.Millisecond), spread.Round(time.Millisecond),
		busiest, float64(attempts)/float64(len(back)), restarted.Sub(killed).Round(time.Millisecond))
	assert.Greater(t, spread, 100*time.Millisecond, "reconnections spread out")
	assert.Less(t, busiest, len(back)*3/4, "no burst of reconnections")
}

// connections returns how many times the client has connected.
func (r *chatRecorder) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connects
}

// connections returns how many times the client has connected.
func (r *notifyRecorder) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connects
}
