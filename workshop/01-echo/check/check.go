// Package check is the checker of exercise 1: it tests an echo handler
// through a real HTTP server on a loopback port and a real WebSocket
// client, one subtest per task of the lesson.
package check

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"wsplay/workshop/internal/tasks"
)

// MaxMessage is the read limit the lesson asks for: 64 KiB.
const MaxMessage = 64 << 10

// Tasks are the lesson's numbered tasks, each with the hint a learner
// sees when its check fails.
var Tasks = []struct {
	Title, Hint string
}{
	{"echo a text message", "read with conn.ReadMessage and write what you read with conn.WriteMessage, in a loop until ReadMessage fails"},
	{"keep the frame type", "ReadMessage returns the message type too: write the message back with that type, not always websocket.TextMessage"},
	{"a read limit: 1009 for a message over 64 KiB", "call conn.SetReadLimit(MaxMessage) before the loop; gorilla then closes with 1009 by itself"},
	{"valid UTF-8 only: 1007 for a text message that is not", "gorilla does not check text frames: use utf8.Valid, and close with websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ...) sent by conn.WriteControl"},
}

// Run checks h, the learner's echo handler, task by task.
func Run(t *testing.T, h http.Handler) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	task := func(n int, f func(t *testing.T, c *websocket.Conn, ctx context.Context)) {
		tasks.Run(t, n, Tasks[n-1].Title, Tasks[n-1].Hint, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				t.Fatalf("Task %d (%s): could not open a WebSocket: %v.\nThe handler must upgrade the request first (upgrader.Upgrade).", n, Tasks[n-1].Title, err)
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			f(t, c, ctx)
		})
	}

	task(1, func(t *testing.T, c *websocket.Conn, ctx context.Context) {
		for _, msg := range []string{"hello", "and again"} {
			if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				t.Fatalf("Task 1: could not send %q: %v", msg, err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("Task 1: sent the text %q and expected it back, but the read failed: %s", msg, describe(err))
			}
			if string(got) != msg || typ != websocket.MessageText {
				t.Fatalf("Task 1: sent the text %q and expected it back as text; got %s %q", msg, kind(typ), got)
			}
		}
	})
	task(2, func(t *testing.T, c *websocket.Conn, ctx context.Context) {
		data := []byte{0, 1, 2, 0xff, 0xfe}
		if err := c.Write(ctx, websocket.MessageBinary, data); err != nil {
			t.Fatalf("Task 2: could not send a binary message: %v", err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Task 2: sent a binary message of 5 bytes and expected it back, but the read failed: %s", describe(err))
		}
		if typ != websocket.MessageBinary || !bytes.Equal(got, data) {
			t.Fatalf("Task 2: sent binary % x and expected the same binary message back; got %s % x", data, kind(typ), got)
		}
	})
	task(3, func(t *testing.T, _ *websocket.Conn, ctx context.Context) {
		// The frame's header says 64 KiB + 1 and no payload follows: a
		// server that checks the length closes at once, with nothing of
		// the frame left unread (which would reset the connection and
		// could lose the close frame).
		d := gorilla.Dialer{HandshakeTimeout: 5 * time.Second}
		raw, _, err := d.DialContext(ctx, url, nil)
		if err != nil {
			t.Fatalf("Task 3: could not open a WebSocket: %v", err)
		}
		defer raw.Close()
		header := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4} // text, masked, 64-bit length, mask key
		binary.BigEndian.PutUint64(header[2:], MaxMessage+1)
		raw.UnderlyingConn().SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := raw.UnderlyingConn().Write(header); err != nil {
			t.Fatalf("Task 3: could not send: %v", err)
		}
		_, _, err = raw.ReadMessage()
		var ce *gorilla.CloseError
		switch {
		case errors.As(err, &ce) && ce.Code == gorilla.CloseMessageTooBig:
		case errors.As(err, &ce) && ce.Code == gorilla.CloseAbnormalClosure:
			t.Fatalf("Task 3: started a message of %d bytes (one over 64 KiB) and expected the server to close with 1009 (message too big); it hung up without a close frame", MaxMessage+1)
		case errors.As(err, &ce):
			t.Fatalf("Task 3: started a message of %d bytes (one over 64 KiB) and expected the server to close with 1009 (message too big); it closed with %d", MaxMessage+1, ce.Code)
		case err == nil:
			t.Fatalf("Task 3: started a message of %d bytes (one over 64 KiB) and expected the server to close with 1009 (message too big); it answered instead", MaxMessage+1)
		default:
			t.Fatalf("Task 3: started a message of %d bytes (one over 64 KiB) and expected the server to close with 1009 (message too big); it waited for the message or ended without a close frame (%v)", MaxMessage+1, err)
		}
	})
	task(4, func(t *testing.T, c *websocket.Conn, ctx context.Context) {
		if err := c.Write(ctx, websocket.MessageText, []byte{'h', 'i', 0xff}); err != nil {
			t.Fatalf("Task 4: could not send: %v", err)
		}
		want := websocket.StatusInvalidFramePayloadData
		if got := closeCode(ctx, c); got.code != want {
			t.Fatalf("Task 4: sent a text message that is not valid UTF-8 (the byte 0xff) and expected the server to close with %d (invalid payload); %s", want, got.describe())
		}
	})
}

func kind(typ websocket.MessageType) string {
	if typ == websocket.MessageBinary {
		return "binary"
	}
	return "text"
}

// outcome is how a connection ended, as the client saw it.
type outcome struct {
	code    websocket.StatusCode
	message string
}

func (o outcome) describe() string {
	if o.code > 0 {
		return "it closed with " + o.code.String()
	}
	return o.message
}

// closeCode reads what the server does next and says how the connection
// ended; a message that comes back instead counts as "answered".
func closeCode(ctx context.Context, c *websocket.Conn) outcome {
	_, data, err := c.Read(ctx)
	if err == nil {
		return outcome{-1, "it answered instead (" + shorten(data) + ") and stayed open"}
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return outcome{ce.Code, ""}
	}
	return outcome{-1, "it ended without a close frame: " + describe(err)}
}

func shorten(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

func describe(err error) string {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return "the server closed the connection with " + ce.Code.String()
	case errors.Is(err, context.DeadlineExceeded):
		return "nothing came back within 5 s"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "the server hung up without a close frame (did the handler return?)"
	default:
		return err.Error()
	}
}
