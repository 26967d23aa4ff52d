package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"wsplay/server/chat"
	"wsplay/server/gate"
	"wsplay/server/servertest"
	"wsplay/server/store"
	"wsplay/shared"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The findings of the attack run (FAULTS rows 26 on), each reproduced
// against a real server as the attacker sent it.

// request sends method path with body and the headers of set to ts, over
// a connection of its own, and returns the status and body.
func request(t *testing.T, ts *testServer, method, path, body string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if set != nil {
		set(req)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// FAULTS row 31: a page whose name the attacker rebound to 127.0.0.1
// sends its own name as Host and as Origin. No route answers it, under
// -require-auth or not: not the page, not the APIs, not the sockets. A
// name given with -allowed-hosts is answered.
func TestAttack06_DNSRebindingIsRefused(t *testing.T) {
	t.Parallel()
	for _, requireAuth := range []bool{false, true} {
		cfg := authConfig(t)
		cfg.Gate.RequireAuth = requireAuth
		cfg.Gate.GuestLogin = true
		cfg.Gate.AllowedHosts = []string{"play.example"}
		ts := startServer(t, cfg)
		port := ts.Addr[strings.LastIndex(ts.Addr, ":"):]
		rebound := func(name string) func(*http.Request) {
			return func(r *http.Request) {
				r.Host = name + port
				r.Header.Set("Origin", "http://"+name+port)
				r.Header.Set("Content-Type", "application/json")
			}
		}
		for _, tt := range []struct{ method, path, body string }{
			{http.MethodGet, "/", ""},
			{http.MethodGet, "/api/rooms", ""},
			{http.MethodPost, "/api/login", `{"username":"ada"}`},
			{http.MethodGet, "/healthz", ""},
			{http.MethodGet, "/metrics", ""},
		} {
			status, body := request(t, ts, tt.method, tt.path, tt.body, rebound("rebind.attacker.example"))
			assert.Equal(t, http.StatusMisdirectedRequest, status, "%s %s (auth %v): %s", tt.method, tt.path, requireAuth, body)
			status, _ = request(t, ts, tt.method, tt.path, tt.body, rebound("play.example"))
			assert.NotEqual(t, http.StatusMisdirectedRequest, status, "an allowed host: %s %s", tt.method, tt.path)
		}
		for _, path := range authEndpoints {
			resp, _ := ts.rawHandshake(t, path, rebound("rebind.attacker.example"))
			assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "upgrade %s", path)
		}
		assert.Zero(t, ts.Gate().Len())
	}
}

// FAULTS row 33: the own-origin check compares the scheme too: a page of
// https://HOST is not the origin of a server that HOST serves over plain
// HTTP.
func TestAttack08_OwnOriginNeedsTheSameScheme(t *testing.T) {
	t.Parallel()
	ts := startServer(t, testConfig(t))
	resp, _ := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Origin", "https://"+ts.Addr) })
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Origin", "http://"+ts.Addr) })
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

// signRaw signs a token whose header and claims are the given JSON, as
// HS256 with the test secret: a token only its form can make the server
// refuse.
func signRaw(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	unsigned := enc([]byte(header)) + "." + enc([]byte(claims))
	mac := hmac.New(sha256.New, []byte(testJWTSecret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc(mac.Sum(nil))
}

// FAULTS row 32: -require-auth alone turns guest login off, so a stranger
// cannot simply log in as someone; given both, a guest cannot take a name
// that is online or has notifications waiting; a login is JSON only (a
// plain HTML form of another site cannot send it) and limited per
// address.
func TestAttack07_RequireAuthMeansIt(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig([]string{"-require-auth"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.False(t, cfg.Gate.GuestLogin, "-require-auth alone: no guest login")
	cfg, err = parseConfig([]string{"-require-auth", "-guest-login"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.True(t, cfg.Gate.GuestLogin, "asked for explicitly")
	cfg, err = parseConfig([]string{"-require-auth"}, func(k string) string { return map[string]string{"WSPLAY_GUEST_LOGIN": "true"}[k] }, io.Discard)
	require.NoError(t, err)
	assert.True(t, cfg.Gate.GuestLogin, "asked for in the environment")

	off := authConfig(t)
	off.Gate.GuestLogin = false
	tsOff := startServer(t, off)
	resp, _ := tsOff.login(t, `{"username":"mallory"}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	ts := startServer(t, authConfig(t)) // require-auth and guest login, as with both flags
	ada := ts.openTabAt(t, "/ws/notifications", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + goodToken(t, "ada")}}})
	ada.synced()
	resp, body := ts.login(t, `{"username":"ada"}`)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "ada is online: %s", body)
	ts.sendNote(t, "cy", "waiting for cy")
	resp, _ = ts.login(t, `{"username":"cy"}`)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "cy has notifications")
	resp, _ = ts.login(t, `{"username":"newcomer"}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a free name")

	status, _ := request(t, ts, http.MethodPost, "/api/login", `{"username":"formuser"}`, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") })
	assert.Equal(t, http.StatusUnsupportedMediaType, status, "what an HTML form can send")

	limited := 0
	for i := range 50 {
		resp, _ := ts.login(t, fmt.Sprintf(`{"username":"guest%d"}`, i))
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	assert.Positive(t, limited, "50 logins in a moment from one address are limited")
}

// FAULTS row 33: tokens the JWT library would let through are refused:
// issued in the future, with a crit header naming an extension, with exp
// as a string.
func TestAttack08_TokensOfAStrictForm(t *testing.T) {
	t.Parallel()
	ts := startServer(t, authConfig(t))
	now := time.Now().Unix()
	claims := func(iat, exp string) string {
		return fmt.Sprintf(`{"iss":%q,"aud":[%q],"sub":"ada","iat":%s,"exp":%s}`, gate.TokenIssuer, gate.TokenAudience, iat, exp)
	}
	good := signRaw(`{"alg":"HS256","typ":"JWT"}`, claims(fmt.Sprint(now), fmt.Sprint(now+3600)))
	for name, token := range map[string]string{
		"issued in the future": signRaw(`{"alg":"HS256","typ":"JWT"}`, claims(fmt.Sprint(now+3600), fmt.Sprint(now+7200))),
		"crit":                 signRaw(`{"alg":"HS256","typ":"JWT","crit":["x-unknown"],"x-unknown":1}`, claims(fmt.Sprint(now), fmt.Sprint(now+3600))),
		"exp as a string":      signRaw(`{"alg":"HS256","typ":"JWT"}`, claims(fmt.Sprint(now), fmt.Sprintf(`"%d"`, now+3600))),
	} {
		resp, body := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) })
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: %s", name, body)
	}
	resp, _ := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+good) })
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "the same token in good form")
}

// FAULTS row 26: plain HTTP cannot open rooms, so it cannot fill
// -max-rooms or evict; and eviction, when real rooms do fill the store,
// never takes the history of a room with members. A room whose history is
// removed from under it (another process, an operator) starts over and
// tells its members with 1012, instead of answering every message with
// an internal error.
func TestAttack01_RoomsCannotBeEvictedFromOutside(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Chat.MaxRooms, cfg.Chat.RoomIdle = 3, 20*time.Millisecond
	ts := startServer(t, cfg)
	ada := ts.joinChat(t, "general", "ada")
	ada.joined()
	for i := range 3 {
		ada.say(fmt.Sprint("kept ", i))
		ada.expect(shared.TypeText)
	}
	// The attack: upgrades without a version, to many rooms.
	for i := range 200 {
		status := refusedHandshake(t, ts, fmt.Sprintf("/ws/chat?room=spam%d&username=x", i), false, http.Header{"Sec-Websocket-Version": nil})
		require.Equal(t, http.StatusUpgradeRequired, status)
	}
	assert.Equal(t, 1, countRows(t, ts, `SELECT count(*) FROM rooms`), "no room opened or stored")
	// Real rooms, one after the other, each left to go idle: the store
	// fills past -max-rooms and evicts, but not general, which has ada.
	for i := range 5 {
		room := fmt.Sprint("real", i)
		c := ts.joinChat(t, room, "bob")
		c.joined()
		c.say("hello")
		c.expect(shared.TypeText)
		c.conn.CloseNow()
		eventually(t, room+" to go idle", func() bool {
			return !slices.ContainsFunc(ts.Chat().Rooms(), func(r shared.RoomInfo) bool { return r.Name == room })
		})
	}
	cy := ts.joinChat(t, "general", "cy")
	h, _ := cy.joined()
	assert.Len(t, h.Messages, 3, "general kept its history")
	ada.say("still stored")
	assert.Equal(t, "still stored", ada.skipTo(shared.TypeText).Content, "and takes new messages")

	// The room's history removed from under it.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.DataDir(), store.FileName)+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM messages WHERE room = 'general'; DELETE FROM rooms WHERE name = 'general'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	ada.say("after the removal")
	assert.Equal(t, websocket.StatusServiceRestart, ada.closeStatus(), "told to reconnect, not answered internal")
	again := ts.joinChat(t, "general", "ada")
	fresh, _ := again.joined()
	assert.NotEqual(t, h.Epoch, fresh.Epoch, "a new life of the room")
	again.say("works again")
	assert.Equal(t, "works again", again.skipTo(shared.TypeText).Content)
}

// FAULTS row 27: anonymous users who connect and poke themselves cannot
// fill the notification store for good: only a notification from the
// back end or a token pins a user, so the back end can still reach a new
// user, and a user who is online is never forgotten.
func TestAttack02_AnonymousUsersCannotFillTheNotificationStore(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.MaxUsers = 10
	ts := startServer(t, cfg)
	victim := ts.openTab(t, "victim")
	victim.synced()
	for i := range 30 {
		name := fmt.Sprint("made-up-", i)
		tab := ts.openTab(t, name)
		tab.synced()
		tab.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: name})
		for tab.next().Type != shared.NotifyPoked { // its own poke comes first
		}
		tab.conn.CloseNow()
		eventually(t, "the made-up user to go offline", func() bool { return ts.Gate().Len() == 1 })
	}
	n, err := ts.postNote("newcomer", "welcome")
	require.NoError(t, err, "the back end reaches a new user: the made-up ones were not pinned")
	assert.Equal(t, uint64(1), n.Seq)
	poker := ts.openTab(t, "poker")
	poker.synced()
	poker.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "victim"})
	poker.expect(shared.NotifyPoked)
	assert.Equal(t, "poker", victim.notification().From, "the user who stayed online was never forgotten")
}

// FAULTS row 29: pokes are limited per sending user and per recipient, so
// reconnecting does not refill them; and they have a budget of their own,
// so they never push a notification from the back end out.
func TestAttack04_PokesCannotFloodOrEraseNotifications(t *testing.T) {
	t.Parallel()
	cfg := notifyConfig(t)
	cfg.Notify.PokeInterval = time.Hour // no refill during the test
	ts := startServer(t, cfg)
	victim := ts.openTab(t, "victim")
	victim.synced()
	ts.sendNote(t, "victim", "Password reset code 1234")
	victim.notification()
	poked := 0
	for range 20 { // 20 short connections of one user
		tab := ts.openTab(t, "mallory")
		tab.synced()
		tab.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "victim"})
		if tab.next().Type == shared.NotifyPoked {
			poked++
		}
		tab.conn.CloseNow()
	}
	assert.Equal(t, cfg.Notify.PokeBurst, poked, "a burst, however many connections")

	budget := notifyConfig(t)
	budget.Notify.Retention, budget.Notify.PokeRetention = 5, 3
	budget.Notify.PokeBurst = 1000
	bs := startServer(t, budget)
	target := bs.openTab(t, "victim")
	target.synced()
	reset := bs.sendNote(t, "victim", "Password reset code 1234")
	for i := range 30 {
		sender := bs.openTab(t, fmt.Sprint("s", i))
		sender.synced()
		sender.send(shared.NotifyMessage{Type: shared.NotifyPoke, To: "victim"})
		sender.expect(shared.NotifyPoked)
		sender.conn.CloseNow()
	}
	kept := bs.list(t, "victim", true)
	assert.True(t, slices.ContainsFunc(kept, func(n shared.Notification) bool { return n.ID == reset.ID }), "the back end's notification survived 30 pokes")
	assert.Len(t, kept, 1+budget.Notify.PokeRetention, "and the pokes kept their own budget")
}

// FAULTS row 28: the content limit is on the encoded size (a "<" is six
// bytes as \u003c), no history frame is over shared.MaxFrame, a
// join carries at most -history-bytes (a resume that missed more is told
// so and gets the newest), and a client that does not read is dropped
// after its queue's bytes, not after a count of messages however large.
func TestAttack03_FramesAndQueuesAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.Conn.SendQueue = 1 << 20 // only the bytes bound the queue
	ts, addr := startWireServer(t, cfg)
	ada := ts.joinChat(t, "general", "ada")
	h, _ := ada.joined()
	ada.say(strings.Repeat("<", 800)) // 800 bytes, 4,800 encoded
	e := ada.expect(shared.TypeError)
	assert.Equal(t, shared.CodeTooLarge, e.Code)
	for range 300 {
		ada.say(strings.Repeat("<", 680)) // 4,080 encoded: just under the limit
	}
	for range 300 {
		ada.expect(shared.TypeText)
	}

	// A resume that missed 1.2 MB of history, read frame by frame.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ts.wsURL(chatQuery("general", "bob", "since", "1", "epoch", h.Epoch)), nil)
	require.NoError(t, err)
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	var history []shared.Message
	total := 0
	for {
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		m, err := shared.Decode(data)
		require.NoError(t, err)
		if m.Type != shared.TypeHistory {
			continue
		}
		assert.LessOrEqual(t, len(data), shared.MaxFrame, "a history page")
		total += len(data)
		history = append(history, m.Messages...)
		if !m.More {
			require.NotNil(t, m.Recovered)
			assert.False(t, *m.Recovered, "more was missed than a join carries: said so")
			break
		}
	}
	assert.Len(t, history, cfg.Chat.HistoryOnJoin, "the newest instead")
	assert.LessOrEqual(t, total, chat.DefaultHistoryBytes)

	// A chat member that never reads, in a room where ada says 4 KB
	// messages: with the count out of the way, its queue's bytes drop it.
	mallory := handshake(t, addr, chatQuery("flood", "mallory"), nil)
	require.NoError(t, mallory.SetReadBuffer(4<<10))
	flood := ts.joinChat(t, "flood", "ada")
	flood.joined()
	dropped := func() bool { return ts.Metrics().Read().FindEndpoint("chat").Slow == 1 }
	said := 0
	for ; said < 3000 && !dropped(); said++ { // 12 MB at most
		flood.say(strings.Repeat("x", 4000))
	}
	eventually(t, "the member that does not read to be dropped", dropped)
	t.Logf("dropped after %d messages of 4 KB", said)
	assert.Less(t, said, 3000, "dropped after its queue's bytes and the socket buffers")
}

// endsWithin reports whether the server ends c (EOF, reset, or its answer
// and then EOF) within d, reading and counting what it sends meanwhile.
func endsWithin(c net.Conn, d time.Duration) (bool, int64) {
	c.SetReadDeadline(time.Now().Add(d))
	n, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout()), n
}

// FAULTS row 30: slow HTTP is cut off. A request body dribbled a byte at
// a time is dropped after -body-timeout, an answer never read after
// -response-timeout, plain connections beyond -max-http-conns are closed
// at once, and a shutdown with a request stuck in its body ends within
// -shutdown-timeout and exits cleanly.
func TestAttack05_SlowHTTPIsCutOff(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BodyTimeout, cfg.ResponseTimeout = 300*time.Millisecond, 300*time.Millisecond
	cfg.MaxHTTPConns, cfg.ReadHeaderTimeout = 20, time.Second
	big := bytes.Repeat([]byte("w"), 8<<20)
	ts := startServerWith(t, cfg, servertest.Options{Site: fstest.MapFS{
		"index.html": {Data: []byte("page")}, "big.bin": {Data: big},
	}})

	dribbler := dialTCP(t, ts.Addr)
	fmt.Fprintf(dribbler, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", ts.Addr)
	ended, _ := endsWithin(dribbler, 5*time.Second)
	assert.True(t, ended, "a dribbled body is dropped after -body-timeout")

	// A client that asks for 8 MB and never reads holds the server's
	// connection only until -response-timeout: then the server lets it go
	// (what the kernel still buffers for it is the kernel's).
	reader := dialTCP(t, ts.Addr)
	require.NoError(t, reader.SetReadBuffer(4<<10))
	fmt.Fprintf(reader, "GET /big.bin HTTP/1.1\r\nHost: %s\r\n\r\n", ts.Addr)
	eventually(t, "the request to be served", func() bool { return ts.HTTPConns() == 1 })
	eventually(t, "the server to let the unread answer go", func() bool { return ts.HTTPConns() == 0 })

	var idle []net.Conn
	for range cfg.MaxHTTPConns {
		idle = append(idle, dialTCP(t, ts.Addr))
	}
	eventually(t, "the idle connections to be counted", func() bool {
		over := dialTCP(t, ts.Addr)
		ended, _ := endsWithin(over, 200*time.Millisecond)
		over.Close()
		return ended
	})
	for _, c := range idle {
		c.Close()
	}
	eventually(t, "room for a request again", func() bool {
		resp, err := http.Get(ts.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// The command: a POST stuck in its body does not hold up a shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	runErr := make(chan error, 1)
	go func() {
		runErr <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-format", "json", "-data", t.TempDir(),
			"-shutdown-timeout", "1s", "-body-timeout", "1m", "-admin-token", testAdminToken}, env(nil), &logs)
	}()
	addr := listeningAddr(t, logs.String)
	stuck := dialTCP(t, addr)
	fmt.Fprintf(stuck, "POST /api/notifications HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{", addr, testAdminToken)
	time.Sleep(200 * time.Millisecond) // in the handler, reading the body
	start := time.Now()
	cancel()
	select {
	case err := <-runErr:
		require.NoError(t, err, "exit 0")
		assert.Less(t, time.Since(start), 3*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its shutdown timeout")
	}
}

// FAULTS row 33, the smaller findings: a name only claimed is not capped
// (idle sockets under ada's name do not lock her out); stored messages
// are limited per address across connections; a long Origin is logged
// cut short; -site-dir serves no hidden file; two servers cannot share
// one -data; content of zero-width characters is empty.
func TestAttack08_TheSmallerFindings(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Gate.MaxConnsPerUser = 4
	cfg.Chat.AddressRate, cfg.Chat.AddressBurst = 30, 60
	siteDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(siteDir, "index.html"), []byte("page"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(siteDir, ".env"), []byte("SECRET=1"), 0o644))
	var logs syncBuffer
	ts := startServerWith(t, cfg, servertest.Options{Site: os.DirFS(siteDir), Log: &logs})

	for range 10 {
		ts.joinChat(t, "lobby", "ada").joined() // idle sockets in ada's name
	}
	ada := ts.joinChat(t, "lobby", "ada")
	ada.joined()

	// One address, many sockets, bursts: about the address's burst gets
	// stored, not everything.
	var flooders []*chatConn
	for i := range 20 {
		f := ts.joinChat(t, "lobby", fmt.Sprint("f", i))
		f.joined()
		flooders = append(flooders, f)
	}
	for _, f := range flooders {
		for range 20 {
			f.say("flood")
		}
	}
	limited := 0
	for i, f := range flooders {
		for range 20 { // each of its messages: stored (it comes back) or refused
			for {
				m := f.next()
				if m.Type == shared.TypeError && m.Code == shared.CodeRateLimited {
					limited++
					break
				}
				if m.Type == shared.TypeText && m.Username == fmt.Sprint("f", i) {
					break
				}
			}
		}
	}
	assert.Greater(t, limited, 400-cfg.Chat.AddressBurst-100, "most of 400 messages from one address were refused")

	ada.say("\u200b\u200d\u2060 \u200e")
	assert.Equal(t, shared.CodeBadRequest, ada.skipTo(shared.TypeError).Code, "only zero-width characters: empty")

	resp, _ := ts.rawHandshake(t, "/ws/echo", func(r *http.Request) { r.Header.Set("Origin", "https://"+strings.Repeat("x", 15<<10)+".example") })
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotContains(t, logs.String(), strings.Repeat("x", 200), "the Origin is logged cut short")

	status, body := request(t, ts, http.MethodGet, "/.env", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotContains(t, body, "SECRET")

	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", ts.DataDir()}, env(nil), io.Discard)
	require.Error(t, err, "a second server on the same -data")
	assert.Contains(t, err.Error(), "another server uses this data directory")
}
