// Package check is the checker of exercise 6. It runs the project's real
// chat server on the learner's chat.Store, behind an HTTP server on a
// loopback port, with real WebSocket clients that send, resend, leave,
// and come back asking for what they missed.
package check

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"wsplay/server/chat"
	"wsplay/server/chat/chattest"
	"wsplay/shared"

	"wsplay/workshop/internal/tasks"
)

// Tasks are the lesson's numbered tasks, with the hint shown when one
// fails.
var Tasks = []struct{ Title, Hint string }{
	{"each room numbers its messages from 1", "keep the counter in the room (r.last++), not in the Store: a client compares seqs within a room, and a gap reads as a lost message"},
	{"exact resume by seq and epoch", "make the epoch once, when the room is made, and keep it; MessagesAfter returns only messages with a seq above after (up to limit), and complete is false when the oldest kept message is newer than after+1"},
	{"a resend is acknowledged with the original", "keep a map of user + \"/\" + ID to seq in the room; when fromClient and the key is there, return the stored message with dup = true and store nothing"},
}

const roomIdle = 200 * time.Millisecond

// Run checks the store newStore makes, task by task.
func Run(t *testing.T, newStore func() chat.Store) {
	task := func(n int, f func(t *testing.T, endpoint string)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			svc, err := chat.New(chat.Config{RoomIdle: roomIdle}, chat.Deps{Store: newStore()})
			if err != nil {
				t.Fatalf("the chat server did not start: %v", err)
			}
			srv := httptest.NewServer(svc)
			t.Cleanup(func() {
				srv.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				svc.Shutdown(ctx)
			})
			f(t, srv.URL+"/ws/chat")
		})
	}
	task(1, numbers)
	task(2, resume)
	task(3, resend)
}

func say(c *chattest.Client, contents ...string) []uint64 {
	var seqs []uint64
	for _, s := range contents {
		c.Say(s)
		seqs = append(seqs, c.Expect(shared.TypeText).Seq) // its own message comes back, stored
	}
	return seqs
}

func numbers(t *testing.T, endpoint string) {
	ada := chattest.Join(t, endpoint, "alpha", "ada")
	ada.Joined()
	alpha := say(ada, "a1", "a2", "a3")
	bob := chattest.Join(t, endpoint, "beta", "bob")
	bob.Joined()
	beta := say(bob, "b1", "b2")
	if !slices.Equal(alpha, []uint64{1, 2, 3}) || !slices.Equal(beta, []uint64{1, 2}) {
		t.Fatalf("Task 1: three messages in room alpha, then two in room beta, were numbered %v and %v; expected [1 2 3] and [1 2]", alpha, beta)
	}
}

func resume(t *testing.T, endpoint string) {
	ada := chattest.Join(t, endpoint, "general", "ada")
	h, _ := ada.Joined()
	seqs := say(ada, "m1", "m2", "m3", "m4", "m5")
	ada.Close()
	time.Sleep(3 * roomIdle) // the room, empty, closes; it opens again for bob

	bob := chattest.Join(t, endpoint, "general", "bob", "since", fmt.Sprint(seqs[1]), "epoch", h.Epoch)
	got, _ := bob.Joined()
	var after []string
	for _, m := range got.Messages {
		after = append(after, m.Content)
	}
	switch {
	case got.Recovered == nil || !*got.Recovered:
		t.Fatalf("Task 2: a client that had seen up to seq %d in epoch %q came back (since=%d&epoch=%s) after the room had closed and opened again; the resume was refused (recovered: false), the room's epoch now being %q. The epoch must live as long as the room's history", seqs[1], h.Epoch, seqs[1], h.Epoch, got.Epoch)
	case !slices.Equal(after, []string{"m3", "m4", "m5"}):
		t.Fatalf("Task 2: a client that had seen m1 and m2 resumed with since=%d; it was sent %q, expected exactly [m3 m4 m5]: nothing twice, nothing missing", seqs[1], after)
	}
}

func resend(t *testing.T, endpoint string) {
	ada := chattest.Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := chattest.Join(t, endpoint, "general", "bob")
	bob.Joined()
	ada.Expect(shared.TypeJoin)
	ada.Send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	first := ada.Expect(shared.TypeText)
	bob.Expect(shared.TypeText)
	// The connection dropped before ada saw the acknowledgement, say: she
	// sends it again, with the same id.
	ada.Send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	ack := ada.Expect(shared.TypeText)
	if ack.Seq != first.Seq {
		t.Fatalf("Task 3: ada sent a message with id ada-1 (stored as seq %d), then sent it again; she was answered with seq %d, expected %d: a resend is the same message", first.Seq, ack.Seq, first.Seq)
	}
	carol := chattest.Join(t, endpoint, "general", "carol")
	h, _ := carol.Joined()
	var contents []string
	for _, m := range h.Messages {
		contents = append(contents, m.Content)
	}
	if !slices.Equal(contents, []string{"once"}) {
		t.Fatalf("Task 3: after ada's message and its resend, the room's history holds %q, expected one \"once\"", contents)
	}
}
