package main

import (
	"bufio"
	"net"
	"net/http"
	"wsplay/server/metrics"
)

// byteCounter is the ResponseWriter that accept hands to the upgrader. When
// the upgrader hijacks the connection, byteCounter wraps it in a
// countingConn, so every byte gorilla/websocket reads or writes afterwards
// is counted, frame headers and control frames included.
//
// Counting on the connection rather than in the pumps is deliberate: a
// PreparedMessage does not expose its size, and what a connection costs is
// its bytes on the wire, not only its payloads.
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
// while the handshake's 101 response is written, so that is not counted;
// accept sets it after the upgrade, before the pumps start, so no lock is
// needed.
type countingConn struct {
	net.Conn
	stats *metrics.Endpoint
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.stats != nil && n > 0 {
		c.stats.AddBytesIn(n)
	}
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.stats != nil && n > 0 {
		c.stats.AddBytesOut(n)
	}
	return n, err
}
