package main

import (
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testNode is a stand-in for a wsplay node: it names itself and the Host
// it was asked for, echoes a POST's body, and echoes WebSocket messages
// prefixed with its number.
func testNode(t *testing.T, n int) *httptest.Server {
	t.Helper()
	up := websocket.Upgrader{} // same origin only: the front must pass the Host on
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, "node "+strconv.Itoa(n)+" host "+r.Host+" "+string(body))
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(websocket.TextMessage, []byte(strconv.Itoa(n)+":"+string(msg))) != nil {
				return
			}
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// testFront starts a front before nodes, returning its base URL and a
// client that keeps cookies.
func testFront(t *testing.T, nodes ...*httptest.Server) (string, *http.Client) {
	t.Helper()
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, strings.TrimPrefix(n.URL, "http://"))
	}
	fs := httptest.NewServer(newFront(addrs, log.New(io.Discard, "", 0)))
	t.Cleanup(fs.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return fs.URL, &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// get returns the body of a request to url and the node that answered.
func get(t *testing.T, c *http.Client, method, url, body string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
	}
	return string(b), resp.Header.Get(NodeHeader)
}

func TestFrontFollowsTheCookieTheQuerySets(t *testing.T) {
	n1, n2 := testNode(t, 1), testNode(t, 2)
	base, c := testFront(t, n1, n2)
	host := strings.TrimPrefix(base, "http://")

	body, node := get(t, c, "GET", base+"/", "")
	if node != "1" || !strings.HasPrefix(body, "node 1 host "+host) {
		t.Fatalf("without a cookie: node %q, %q; want node 1, asked for the front's host %s", node, body, host)
	}
	if _, node = get(t, c, "GET", base+"/?node=2", ""); node != "2" {
		t.Fatalf("?node=2 served by node %q", node)
	}
	u, _ := url.Parse(base)
	if cs := c.Jar.Cookies(u); len(cs) != 1 || cs[0].Name != NodeCookie || cs[0].Value != "2" {
		t.Fatalf("cookies after ?node=2: %v", cs)
	}
	for _, path := range []string{"/", "/api/rooms", "/dist/main.wasm"} {
		if body, node = get(t, c, "GET", base+path, ""); node != "2" || !strings.HasPrefix(body, "node 2") {
			t.Fatalf("GET %s with the cookie: node %q, %q", path, node, body)
		}
	}
	if body, node = get(t, c, "POST", base+"/api/login", "hello"); node != "2" || body != "node 2 host "+host+" hello" {
		t.Fatalf("POST with the cookie: node %q, %q", node, body)
	}
	if _, node = get(t, c, "GET", base+"/?node=1", ""); node != "1" {
		t.Fatalf("?node=1 served by node %q", node)
	}
	if _, node = get(t, c, "GET", base+"/", ""); node != "1" {
		t.Fatalf("after ?node=1, served by node %q", node)
	}

	for _, bad := range []string{"0", "3", "x", ""} {
		resp, err := c.Get(base + "/?node=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?node=%s: %s, want 400", bad, resp.Status)
		}
	}
}

func TestFrontFailsOverWhenThePreferredNodeIsDown(t *testing.T) {
	n1, n2, n3 := testNode(t, 1), testNode(t, 2), testNode(t, 3)
	base, c := testFront(t, n1, n2, n3)
	if _, node := get(t, c, "GET", base+"/?node=2", ""); node != "2" {
		t.Fatalf("?node=2 served by node %q", node)
	}
	n2.Close()
	if body, node := get(t, c, "GET", base+"/", ""); node != "3" || !strings.HasPrefix(body, "node 3") {
		t.Fatalf("node 2 down: node %q, %q; want the next, 3", node, body)
	}
	if body, node := get(t, c, "POST", base+"/api/login", "hello"); node != "3" || !strings.HasSuffix(body, " hello") {
		t.Fatalf("node 2 down, a POST: node %q, %q; want its whole body on node 3", node, body)
	}
	n3.Close()
	if _, node := get(t, c, "GET", base+"/", ""); node != "1" {
		t.Fatalf("nodes 2 and 3 down: node %q, want 1 (wrapping round)", node)
	}
	n1.Close()
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("every node down: %s, want 502", resp.Status)
	}
}

func TestFrontCarriesWebSockets(t *testing.T) {
	n1, n2 := testNode(t, 1), testNode(t, 2)
	base, c := testFront(t, n1, n2)
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	dial := func(want string) {
		t.Helper()
		d := websocket.Dialer{Jar: c.Jar, HandshakeTimeout: 5 * time.Second}
		// A browser's Origin: the front's own, which the node must take
		// for its own.
		ws, resp, err := d.Dial(wsURL, http.Header{"Origin": {base}})
		if err != nil {
			t.Fatalf("dial through the front: %v", err)
		}
		defer ws.Close()
		if got := resp.Header.Get(NodeHeader); got != want {
			t.Fatalf("handshake answered by node %q, want %s", got, want)
		}
		for i := range 3 {
			msg := "m" + strconv.Itoa(i)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, got, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want+":"+msg {
				t.Fatalf("echo %q, want %q", got, want+":"+msg)
			}
		}
	}
	dial("1")
	get(t, c, "GET", base+"/?node=2", "")
	dial("2")
	n2.Close() // what the tab's reconnect finds after node 2 is killed
	dial("1")
}
