package wsconn

import (
	"bufio"
	"net"
	"net/http"

	"github.com/gorilla/websocket"

	"wsplay/server/metrics"
)

// Upgrade upgrades r with u, like u.Upgrade, and counts every byte the
// connection reads or writes from then on into stats (which may be nil):
// frame headers and control frames included, the handshake's 101
// response not.
//
// Counting on the connection rather than in the pumps is deliberate: a
// PreparedMessage does not expose its size, and what a connection costs is
// its bytes on the wire, not only its payloads.
func Upgrade(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request, stats *metrics.Endpoint) (*websocket.Conn, error) {
	counter := &byteCounter{ResponseWriter: w}
	ws, err := u.Upgrade(counter, r, nil)
	if err != nil {
		return nil, err
	}
	if counter.conn != nil {
		counter.conn.stats = stats // before the pumps start: no lock needed
	}
	return ws, nil
}

// byteCounter is the ResponseWriter that Upgrade hands to the upgrader.
// When the upgrader hijacks the connection, byteCounter wraps it in a
// countingConn.
//
// gorilla/websocket v1.5.3 finds Hijack with a type assertion, so
// byteCounter implements it itself (Unwrap alone would not do).
type byteCounter struct {
	http.ResponseWriter
	conn *countingConn // set by Hijack
}

func (b *byteCounter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(b.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	b.conn = &countingConn{Conn: nc}
	return b.conn, brw, nil
}

func (b *byteCounter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// countingConn counts the bytes read and written into stats. stats is nil
// while the handshake's 101 response is written, so that is not counted.
type countingConn struct {
	net.Conn
	stats *metrics.Endpoint
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.stats.AddBytesIn(n)
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.stats.AddBytesOut(n)
	return n, err
}
