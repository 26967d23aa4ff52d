package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/notify"
	"wsplay/shared"
)

// FAULTS row 20: 50 concurrent POSTs to one user with three tabs open,
// while chat traffic flows. No concurrent write, and each tab gets each
// notification exactly once, in sequence order.
func TestFault20_ConcurrentPostsToThreeTabsDuringChat(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	var tabs []*notifyTab
	for range 3 {
		tab := ts.openTab(t, "ada")
		tab.synced()
		tabs = append(tabs, tab)
	}

	// Chat traffic in the same process, with ada in the room too.
	chatter := ts.joinChat(t, "general", "ada")
	chatter.joined()
	listener := ts.joinChat(t, "general", "bob")
	listener.joined()
	stopChat := make(chan struct{})
	var chatDone sync.WaitGroup
	chatDone.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := 0; ; i++ {
			select {
			case <-stopChat:
				return
			default:
			}
			if err := chatter.conn.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"text","content":"chat %d"}`, i)); err != nil {
				t.Errorf("chat write: %v", err)
				return
			}
			time.Sleep(time.Millisecond) // steady traffic, not a flood that trips the slow-reader rule
		}
	})

	const posts = 50
	ids := make(chan string, posts)
	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() {
			body := fmt.Appendf(nil, `{"user_id":"ada","type":"order","title":"order %d"}`, i)
			status, resp := ts.api(t, http.MethodPost, "/api/notifications", testAdminToken, body)
			if status != http.StatusCreated {
				t.Errorf("POST %d: %d %s", i, status, resp)
				return
			}
			var n shared.Notification
			if err := json.Unmarshal(resp, &n); err != nil {
				t.Error(err)
				return
			}
			ids <- n.ID
		})
	}
	wg.Wait()
	close(ids)
	close(stopChat)
	chatDone.Wait()
	var want []string
	for id := range ids {
		want = append(want, id)
	}
	require.Len(t, want, posts)

	for i, tab := range tabs {
		var got []string
		for seq := uint64(1); seq <= posts; seq++ {
			n := tab.notification()
			require.Equal(t, seq, n.Seq, "tab %d: in sequence order, none missing, none twice", i)
			got = append(got, n.ID)
		}
		assert.ElementsMatch(t, want, got, "tab %d got exactly the stored notifications", i)
		tab.quiet(50 * time.Millisecond)
	}
	// The chat went on, and is still healthy.
	chatter.say("marker")
	for {
		if m := listener.next(); m.Type == shared.TypeText && m.Content == "marker" {
			break
		}
	}
}

// FAULTS row 21: a notification racing the user's only tab closing. Each
// round, a tab that has seen everything up to some seq closes while a
// notification is posted; the next tab resumes with since= that seq. Over
// all rounds, the user sees every notification exactly once.
func TestFault21_NotificationRacingTheOnlyTabClosing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	const rounds = 30
	var lastSeen uint64
	var seen []uint64
	record := func(n shared.Notification) {
		require.Greater(t, n.Seq, lastSeen, "a duplicate or out of order")
		seen = append(seen, n.Seq)
		lastSeen = n.Seq
	}
	for r := range rounds {
		tab := ts.openTab(t, "ada", "since", fmt.Sprint(lastSeen))
		backlog, _ := tab.synced()
		for _, n := range backlog {
			record(n)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := ts.postNote("ada", fmt.Sprint("round ", r)); err != nil {
				t.Error(err)
			}
		})
		// Close while the notification is on its way: politely or not.
		if r%2 == 0 {
			tab.conn.Close(websocket.StatusNormalClosure, "")
		} else {
			tab.conn.CloseNow()
		}
		wg.Wait()
		// Whatever arrived before the close counts as seen.
		<-tab.done
		for len(tab.msgs) > 0 {
			if m := <-tab.msgs; m.Type == shared.NotifyNotification {
				record(*m.Notification)
			}
		}
	}
	tab := ts.openTab(t, "ada", "since", fmt.Sprint(lastSeen))
	backlog, synced := tab.synced()
	for _, n := range backlog {
		record(n)
	}
	assert.Equal(t, seqRange(1, rounds), seen)
	assert.Equal(t, uint64(rounds), synced.Seq)
	eventually(t, "every subscription to go", func() bool {
		return ts.memoryBroker().Subscribers(notify.Key("ada")) == 1
	})
}

// FAULTS row 21: tabs connecting while notifications are being posted
// each get every notification exactly once, in order, whichever side of
// the snapshot each one fell.
func TestFault21_ConnectingWhilePostsFlow(t *testing.T) {
	t.Parallel()
	ts := startServer(t, notifyConfig(t))
	const posts, tabs = 60, 8
	var posted atomic.Int64
	postsDone := make(chan struct{})
	go func() {
		defer close(postsDone)
		for i := range posts {
			if _, err := ts.postNote("ada", fmt.Sprint(i)); err != nil {
				t.Error(err)
				return
			}
			posted.Add(1)
		}
	}()
	var opened []*notifyTab
	for range tabs {
		eventually(t, "more posts", func() bool { return posted.Load() >= int64(len(opened)*posts/tabs) })
		opened = append(opened, ts.openTab(t, "ada"))
	}
	<-postsDone
	for i, tab := range opened {
		var got []uint64
		backlog, _ := tab.synced()
		got = append(got, seqsOf(backlog)...)
		for len(got) == 0 || got[len(got)-1] < posts {
			got = append(got, tab.notification().Seq)
		}
		require.Equal(t, seqRange(1, posts), got, "tab %d", i)
	}
}

// FAULTS row 24, for notifications: POSTs in flight while the server shuts
// down are each either refused, or stored and answered 201, and every one
// answered 201 is there after the restart.
func TestNotifyShutdownKeepsEveryAcceptedPost(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	first := startServer(t, cfg)
	tab := first.openTab(t, "ada")
	tab.synced()

	const posters = 8
	var mu sync.Mutex
	var accepted []string
	refused := 0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range posters {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Appendf(nil, `{"user_id":"ada","title":"p%d-%d"}`, p, i)
				req, _ := http.NewRequest(http.MethodPost, first.URL+"/api/notifications", strings.NewReader(string(body)))
				req.Header.Set("Authorization", "Bearer "+testAdminToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil { // the listener is gone: refused
					mu.Lock()
					refused++
					mu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				var n shared.Notification
				decErr := json.NewDecoder(resp.Body).Decode(&n)
				resp.Body.Close()
				mu.Lock()
				switch resp.StatusCode {
				case http.StatusCreated:
					if decErr != nil {
						t.Errorf("a 201 without a notification: %v", decErr)
					}
					accepted = append(accepted, n.ID)
				case http.StatusServiceUnavailable:
					refused++
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
				mu.Unlock()
			}
		})
	}
	eventually(t, "some accepted posts", func() bool { mu.Lock(); defer mu.Unlock(); return len(accepted) >= 20 })
	require.NoError(t, first.Close())
	eventually(t, "refusals after shutdown", func() bool { mu.Lock(); defer mu.Unlock(); return refused > 0 })
	close(stop)
	wg.Wait()
	assert.Equal(t, websocket.StatusGoingAway, tab.closeStatus())

	second := startServer(t, cfg)
	stored := second.list(t, "ada", false)
	var ids []string
	for i, n := range stored {
		require.Equal(t, uint64(i+1), n.Seq, "no gap in the sequence")
		ids = append(ids, n.ID)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range accepted {
		assert.True(t, slices.Contains(ids, id), "accepted %s, then lost it", id)
	}
	t.Logf("%d accepted, %d refused, %d stored", len(accepted), refused, len(stored))
}

// FAULTS row 14 on /ws/notifications: marking read is a write to the store
// and a message to every tab, so a tab that floods marks is limited like a
// chat connection: its burst is handled, the excess gets a rate_limited
// error, and a tab that keeps on is closed with 1008. The user's other tab
// keeps its own limit and keeps receiving.
func TestFault14_MarkReadFloodIsRateLimitedThenClosed(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.setMessageRate(1, 20) // a slow refill, so the counts below hold on a busy machine
	ts := startServer(t, cfg)
	notes := make([]shared.Notification, 30)
	for i := range notes {
		notes[i] = ts.sendNote(t, "ada", fmt.Sprint("note ", i))
	}
	flood, other := ts.openTab(t, "ada"), ts.openTab(t, "ada")
	flood.synced()
	other.synced()

	// Mark each note read, in order, then go on marking the first again
	// (already read: no change) far faster than the limit.
	for _, n := range notes {
		flood.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: n.ID})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	again, err := json.Marshal(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: notes[0].ID})
	require.NoError(t, err)
	for range 300 {
		if flood.conn.Write(ctx, websocket.MessageText, again) != nil {
			break // closed by the server
		}
	}

	var reads, limited int
	for m := flood.nextOrEnd(); m != nil; m = flood.nextOrEnd() {
		switch m.Type {
		case shared.NotifyRead:
			require.Equal(t, []string{notes[reads].ID}, m.IDs, "marks are handled in order")
			reads++
		case shared.NotifyError:
			require.Equal(t, shared.CodeRateLimited, m.Code)
			assert.Contains(t, m.Message, "retry in")
			limited++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	assert.Equal(t, websocket.StatusPolicyViolation, flood.closeStatus())
	assert.GreaterOrEqual(t, reads, 20, "the burst is handled")
	assert.Less(t, reads, 30, "the excess is not")
	assert.GreaterOrEqual(t, limited, 1)

	// The other tab saw exactly the marks that were handled, and goes on.
	for i := range reads {
		assert.Equal(t, []string{notes[i].ID}, other.expect(shared.NotifyRead).IDs)
	}
	n := ts.sendNote(t, "ada", "after the flood")
	assert.Equal(t, n.ID, other.notification().ID)
	other.send(shared.NotifyMessage{Type: shared.NotifyMarkRead, ID: n.ID})
	r := other.expect(shared.NotifyRead)
	assert.Equal(t, []string{n.ID}, r.IDs)
	assert.Equal(t, 30-reads, r.Unread)
}
