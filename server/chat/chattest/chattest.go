// Package chattest checks a chat endpoint, and a chat.Store, against the
// behaviour the wsplay protocol promises, in the way testing/fstest.TestFS
// checks an fs.FS:
//
//	func TestMyChat(t *testing.T) {
//		chattest.Run(t, func(t *testing.T) string {
//			srv := httptest.NewServer(myHandler(t))
//			t.Cleanup(srv.Close)
//			return srv.URL + "/ws/chat"
//		})
//	}
//
// Run takes the http:// URL of a chat endpoint that serves anonymous
// clients by the username in the query (no token required), mounted
// wherever the router puts it: the real chat.Service behind any router, or
// a learner's hub. Each check runs as a subtest with an endpoint of its
// own and real WebSocket clients (coder/websocket, the library of the
// playground's own client).
package chattest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/shared"
)

// wait bounds every wait of a check; only a failing check waits so long.
const wait = 10 * time.Second

// Run checks the chat endpoint at the URL newEndpoint returns (a fresh
// one per check) against the chat protocol of package shared.
func Run(t *testing.T, newEndpoint func(t *testing.T) string) {
	checks := []struct {
		name string
		f    func(*testing.T, string)
	}{
		{"JoinGetsHistoryThenUserList", joinGetsHistory},
		{"TextReachesEveryMemberInOrder", textInOrder},
		{"IdentityComesFromTheConnection", identityFromConnection},
		{"TypingIsRelayedNotStored", typingNotStored},
		{"BadInputGetsAnErrorAndTheConnectionStays", badInput},
		{"BinaryFrameCloses1003", binaryCloses},
		{"BadRoomIsRefusedBeforeTheUpgrade", badRoom},
		{"ResumeIsExact", resumeIsExact},
		{"ResendIsAcknowledgedOnce", resendOnce},
		{"PresenceCountsUsersNotConnections", presence},
		{"RoomsAreSeparate", roomsSeparate},
		{"PingGetsPongToTheSenderOnly", pingGetsPong},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.f(t, newEndpoint(t))
		})
	}
}

// Client is a chat client of a check: a real WebSocket connection and
// the messages it has received. It is exported for implementations' own
// tests.
type Client struct {
	t    *testing.T
	User string
	conn *websocket.Conn
	msgs chan shared.Message
	done chan struct{}
	err  error // why the reader stopped; read after done
}

// Join connects user to room at the endpoint, with extra query
// parameters as name, value pairs.
func Join(t *testing.T, endpoint, room, user string, extra ...string) *Client {
	t.Helper()
	c, resp, err := dial(endpoint, room, user, extra...)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("join %s as %s: %v (HTTP %d)", room, user, err, status)
	}
	cl := &Client{t: t, User: user, conn: c, msgs: make(chan shared.Message, 10000), done: make(chan struct{})}
	go cl.read()
	t.Cleanup(func() {
		c.CloseNow()
		<-cl.done
	})
	return cl
}

func dial(endpoint, room, user string, extra ...string) (*websocket.Conn, *http.Response, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	q := u.Query()
	q.Set("room", room)
	q.Set("username", user)
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, u.String(), nil)
	if c != nil {
		c.SetReadLimit(4 << 20)
	}
	return c, resp, err
}

func (c *Client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		if typ != websocket.MessageText {
			c.t.Errorf("%s: the server sent a binary frame", c.User)
			continue
		}
		m, err := shared.Decode(data)
		if err != nil {
			c.t.Errorf("%s: the server sent a message that does not decode: %v: %s", c.User, err, data)
			continue
		}
		c.msgs <- m
	}
}

// Send writes m as a JSON text frame.
func (c *Client) Send(m shared.Message) {
	c.t.Helper()
	b, err := shared.Encode(m)
	require.NoError(c.t, err)
	c.SendRaw(websocket.MessageText, b)
}

// SendRaw writes a frame as it is.
func (c *Client) SendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, typ, b))
}

// Say sends a text message.
func (c *Client) Say(content string) { c.Send(shared.Message{Type: shared.TypeText, Content: content}) }

// Next returns the next message received, failing the check after a
// while or when the connection ends first.
func (c *Client) Next() shared.Message {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatalf("%s: the connection ended while waiting for a message: %v", c.User, c.err)
	case <-time.After(wait):
		c.t.Fatalf("%s: no message within %v", c.User, wait)
	}
	return shared.Message{}
}

// Expect returns the next message that is not of a type in skip, and
// fails unless it is of type want.
func (c *Client) Expect(want shared.Type, skip ...shared.Type) shared.Message {
	c.t.Helper()
	for {
		m := c.Next()
		if m.Type == want {
			return m
		}
		skipped := false
		for _, s := range skip {
			skipped = skipped || m.Type == s
		}
		if !skipped {
			c.t.Fatalf("%s: got a %q message (%+v), want %q", c.User, m.Type, m, want)
		}
	}
}

// Joined reads the messages of joining (join, history, user_list, in
// that order) and returns the history and the user list.
func (c *Client) Joined() (history, users shared.Message) {
	c.t.Helper()
	history = c.Expect(shared.TypeHistory, shared.TypeJoin)
	// A long history comes in pages: gather them into one.
	for page := history; page.More; {
		page = c.Expect(shared.TypeHistory)
		history.Messages, history.More = append(history.Messages, page.Messages...), page.More
	}
	users = c.Expect(shared.TypeUserList, shared.TypeJoin)
	return history, users
}

// Quiet fails if a message of a type in types (any type, if none) arrives
// within d.
func (c *Client) Quiet(d time.Duration, types ...shared.Type) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if len(types) == 0 {
				c.t.Fatalf("%s: unexpected %q message: %+v", c.User, m.Type, m)
			}
			for _, typ := range types {
				if m.Type == typ {
					c.t.Fatalf("%s: unexpected %q message: %+v", c.User, m.Type, m)
				}
			}
		case <-deadline:
			return
		}
	}
}

// CloseStatus waits for the connection to end and returns its close code.
func (c *Client) CloseStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatalf("%s: the connection did not end", c.User)
	}
	return websocket.CloseStatus(c.err)
}

// Close closes the connection normally.
func (c *Client) Close() { c.conn.Close(websocket.StatusNormalClosure, "") }

func joinGetsHistory(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	j := ada.Next()
	require.Equal(t, shared.TypeJoin, j.Type, "a user's first connection is announced first")
	assert.Equal(t, "ada", j.Username)
	h := ada.Expect(shared.TypeHistory)
	assert.NotEmpty(t, h.Epoch, "the history names the room's epoch")
	assert.Zero(t, h.Seq, "a new room has no messages")
	assert.Empty(t, h.Messages)
	assert.Nil(t, h.Recovered, "recovered is set only for a client that asked to resume")
	users := ada.Expect(shared.TypeUserList)
	assert.Equal(t, []string{"ada"}, users.Users)
	assert.Equal(t, "general", users.Room)
}

func textInOrder(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := Join(t, endpoint, "general", "bob")
	bob.Joined()
	ada.Expect(shared.TypeJoin) // bob
	const n = 20
	for i := range n {
		ada.Send(shared.Message{Type: shared.TypeText, Content: fmt.Sprint("line ", i), ID: fmt.Sprint("ada-", i)})
	}
	for _, c := range []*Client{ada, bob} {
		var last uint64
		for i := range n {
			m := c.Expect(shared.TypeText)
			assert.Equal(t, fmt.Sprint("line ", i), m.Content, "%s: in order", c.User)
			assert.Equal(t, fmt.Sprint("ada-", i), m.ID, "the sender's id comes back")
			assert.Equal(t, "ada", m.Username)
			assert.Equal(t, "general", m.Room)
			assert.False(t, m.Timestamp.IsZero(), "the server stamps the time")
			if i > 0 {
				assert.Equal(t, last+1, m.Seq, "%s: seq grows by one", c.User)
			}
			last = m.Seq
		}
	}
}

func identityFromConnection(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	ada.Send(shared.Message{Type: shared.TypeText, Username: "admin", Content: "forged?"})
	m := ada.Expect(shared.TypeText)
	assert.Equal(t, "ada", m.Username, "the name inside a message is ignored")
}

func typingNotStored(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := Join(t, endpoint, "general", "bob")
	bob.Joined()
	ada.Expect(shared.TypeJoin)
	ada.Send(shared.Message{Type: shared.TypeTyping})
	typing := bob.Expect(shared.TypeTyping)
	assert.Equal(t, "ada", typing.Username)
	cy := Join(t, endpoint, "general", "cy")
	h, _ := cy.Joined()
	assert.Empty(t, h.Messages, "typing is not stored")
}

func badInput(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	for _, tt := range []struct {
		frame string
		code  shared.ErrorCode
	}{
		{`not json`, shared.CodeBadJSON},
		{`{"type":"shout","content":"hi"}`, shared.CodeUnknownType},
		{`{"type":"text","content":"   "}`, shared.CodeBadRequest},
		{`{"type":"text","content":["x"]}`, shared.CodeBadJSON},
		{`{"type":"text","content":"hi","room":"elsewhere"}`, shared.CodeForbidden},
	} {
		ada.SendRaw(websocket.MessageText, []byte(tt.frame))
		e := ada.Expect(shared.TypeError)
		assert.Equal(t, tt.code, e.Code, "for %s", tt.frame)
		assert.NotEmpty(t, e.Content, "an error says what was wrong")
	}
	ada.Say("still here")
	assert.Equal(t, "still here", ada.Expect(shared.TypeText).Content)
}

func pingGetsPong(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := Join(t, endpoint, "general", "bob")
	bob.Joined()
	ada.Expect(shared.TypeJoin)
	ada.SendRaw(websocket.MessageText, shared.EncodePing("p1"))
	assert.Equal(t, "p1", ada.Expect(shared.TypePong).ID)
	ada.SendRaw(websocket.MessageText, []byte(`{"type":"ping","id":"no spaces"}`))
	assert.Equal(t, shared.CodeBadRequest, ada.Expect(shared.TypeError).Code)
	ada.Say("after the pings")
	assert.Equal(t, "after the pings", bob.Expect(shared.TypeText).Content, "bob got no pong")
	cy := Join(t, endpoint, "general", "cy")
	h, _ := cy.Joined()
	require.Len(t, h.Messages, 1, "pings are not stored")
}

func binaryCloses(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	ada.SendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	assert.Equal(t, websocket.StatusUnsupportedData, ada.CloseStatus())
}

func badRoom(t *testing.T, endpoint string) {
	for _, room := range []string{"../../x", "<img onerror=alert(1)>", strings.Repeat("r", 1000)} {
		c, resp, err := dial(endpoint, room, "ada")
		if c != nil {
			c.CloseNow()
		}
		require.Error(t, err, "room %.20q", room)
		require.NotNil(t, resp)
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "room %.20q: %s", room, body)
	}
}

func resumeIsExact(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	h, _ := ada.Joined()
	for i := range 5 {
		ada.Say(fmt.Sprint("m", i+1))
	}
	var seqs []uint64
	for range 5 {
		seqs = append(seqs, ada.Expect(shared.TypeText).Seq)
	}
	bob := Join(t, endpoint, "general", "bob", "since", fmt.Sprint(seqs[1]), "epoch", h.Epoch)
	got, _ := bob.Joined()
	require.NotNil(t, got.Recovered)
	assert.True(t, *got.Recovered)
	var after []string
	for _, m := range got.Messages {
		after = append(after, m.Content)
	}
	assert.Equal(t, []string{"m3", "m4", "m5"}, after, "exactly what came after since")
	assert.Equal(t, seqs[4], got.Seq, "the history names the newest seq")

	cy := Join(t, endpoint, "general", "cy", "since", fmt.Sprint(seqs[1]), "epoch", "another-life")
	stale, _ := cy.Joined()
	require.NotNil(t, stale.Recovered)
	assert.False(t, *stale.Recovered, "another epoch cannot be resumed: said so, never a silent gap")
	assert.Len(t, stale.Messages, 5, "the newest messages instead")
}

func resendOnce(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := Join(t, endpoint, "general", "bob")
	bob.Joined()
	ada.Expect(shared.TypeJoin)
	ada.Send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	first := ada.Expect(shared.TypeText)
	assert.Equal(t, "once", bob.Expect(shared.TypeText).Content)
	ada.Send(shared.Message{Type: shared.TypeText, ID: "ada-1", Content: "once"})
	ack := ada.Expect(shared.TypeText)
	assert.Equal(t, first.Seq, ack.Seq, "a resend is acknowledged with the stored message")
	bob.Quiet(300*time.Millisecond, shared.TypeText)
}

func presence(t *testing.T, endpoint string) {
	ada := Join(t, endpoint, "general", "ada")
	ada.Joined()
	bob := Join(t, endpoint, "general", "bob")
	bob.Joined()
	assert.Equal(t, "bob", ada.Expect(shared.TypeJoin).Username)
	bob2 := Join(t, endpoint, "general", "bob") // a second tab
	_, users := bob2.Joined()
	assert.Equal(t, []string{"ada", "bob"}, users.Users, "each user listed once")
	ada.Quiet(300*time.Millisecond, shared.TypeJoin)
	bob2.Close()
	ada.Quiet(300*time.Millisecond, shared.TypeLeave)
	bob.Close()
	leave := ada.Expect(shared.TypeLeave)
	assert.Equal(t, "bob", leave.Username, "leave when the user's last connection is gone")
}

func roomsSeparate(t *testing.T, endpoint string) {
	a := Join(t, endpoint, "room-a", "ada")
	a.Joined()
	b := Join(t, endpoint, "room-b", "bob")
	b.Joined()
	a.Say("only in a")
	assert.Equal(t, "only in a", a.Expect(shared.TypeText).Content)
	b.Quiet(300*time.Millisecond, shared.TypeText)
	b.Say("only in b")
	m := b.Expect(shared.TypeText)
	assert.Equal(t, "room-b", m.Room)
	a.Quiet(300*time.Millisecond, shared.TypeText)
}
