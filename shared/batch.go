package shared

import (
	"bytes"
	"encoding/json"
	"iter"
)

// SubprotocolBatch is the WebSocket subprotocol (Sec-WebSocket-Protocol)
// a client offers to say it can take several messages in one frame. A
// server that takes it confirms it in the handshake's answer; from then
// on a text frame from the server may hold one message or several, one
// per line (JSON Lines: each message is a JSON object, and JSON never
// holds a raw newline, so '\n' separates them). A client that did not
// offer it, or was not confirmed, gets one message per frame, as the
// plain-JavaScript tutorial client expects. A batched frame is bounded
// like any other, by [MaxFrame]: a longer backlog takes several.
//
// Batching is for /ws/chat and /ws/notifications, whose every message is
// one JSON object; echo and the dashboard never confirm it. It is what
// a busy server is cheapest with: a client that fell behind receives its
// backlog in a few frames instead of one per message. What a client
// sends is unchanged: one message per frame.
const SubprotocolBatch = "wsplay-batch"

// Lines returns the messages of one text frame from the server: the
// frame itself when it holds one, each line of it in order when the
// connection took [SubprotocolBatch]. It never returns an empty line.
func Lines(frame []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for line := range bytes.SplitSeq(frame, []byte{'\n'}) {
			if len(line) > 0 && !yield(line) {
				return
			}
		}
	}
}

// MaxFrame bounds the payload of every frame the server sends on
// /ws/chat, /ws/notifications and /ws/dashboard, in bytes: 32 KiB,
// coder/websocket's default read limit, and below what clients commonly
// cap a message at. Whatever can grow with the server's data (a room's
// history, a big room's user list, the unread ids of a notification
// backlog, the dashboard's history) goes out in several messages of at
// most MaxFrame bytes each; see the package doc, "Frames and batches".
// Echo is the one exception: it returns each frame the client sent as it
// was, so a client that sends more than MaxFrame gets as much back.
const MaxFrame = 32 << 10

// Pages splits items, in order, into the runs of a message sent in pages
// marked "more": each run's items, as a JSON array, take at most budget
// bytes (the frame's bound less what the rest of the message takes), and
// an item too large for any page gets one of its own. It returns at least
// one run, empty when items is.
func Pages[T any](items []T, budget int) [][]T {
	out := [][]T{}
	for {
		size, n := len("[]"), 0
		for n < len(items) {
			b, _ := json.Marshal(items[n])
			add := len(b)
			if n > 0 {
				add++ // the comma before it
			}
			if n > 0 && size+add > budget {
				break
			}
			size += add
			n++
		}
		out = append(out, items[:n:n])
		if items = items[n:]; len(items) == 0 {
			return out
		}
	}
}
