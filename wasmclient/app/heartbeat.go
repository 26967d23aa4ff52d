package app

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// DefaultHeartbeat is how long a chat, notification or dashboard client
// lets its connection stay silent: after half of it without a message the
// client pings (see package shared, "Heartbeat"), and when the other half
// passes without one it drops the connection and reconnects. So a quiet
// connection carries a ping every 15 s, and a dead one is noticed within
// 30 s — well before the server's own limit (its PongWait, 60 s), and
// minutes before TCP would give up.
const DefaultHeartbeat = 30 * time.Second

// The bounds of a heartbeat set in the page's URL (HeartbeatOf).
const (
	MinHeartbeat = time.Second
	MaxHeartbeat = 10 * time.Minute
)

// HeartbeatParam is the query parameter of the page's URL that sets the
// heartbeat of every socket the page opens, as in /?heartbeat=2s: for
// tests, and for anyone who wants to see it work without waiting.
const HeartbeatParam = "heartbeat"

// HeartbeatOf returns the heartbeat that pageURL asks for with
// HeartbeatParam, a Go duration from MinHeartbeat to MaxHeartbeat, or
// DefaultHeartbeat when it asks for none.
func HeartbeatOf(pageURL string) (time.Duration, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return 0, fmt.Errorf("page URL: %w", err)
	}
	v := u.Query().Get(HeartbeatParam)
	if v == "" {
		return DefaultHeartbeat, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < MinHeartbeat || d > MaxHeartbeat {
		return 0, fmt.Errorf("%s=%.20q: want a duration from %v to %v, such as 30s", HeartbeatParam, v, MinHeartbeat, MaxHeartbeat)
	}
	return d, nil
}

// beat makes the heartbeat's decisions for one connection. It keeps no
// clock of its own: its owner says what time it is, so that tests can.
//
// A connection is pinged once it has been silent for half the limit,
// and dropped when that ping has had no answer (no message of any kind)
// for the other half. Counting the answer's wait from the ping, not
// from the last message, means that a timer that fires late, as in a
// background tab whose timers the browser slows down, sends a ping
// instead of dropping a healthy connection.
type beat struct {
	limit  time.Duration // the longest silence
	heard  time.Time     // when the server was last heard, or the connection opened
	pinged bool          // a ping went out since heard
	sentAt time.Time     // when the last ping went
	sentID string        // and its id
	count  uint64        // pings sent, for the ids
	rtt    time.Duration // the last round trip a pong measured; 0 before one
}

// beatAction is what the heartbeat says to do.
type beatAction int

const (
	beatWait beatAction = iota // nothing yet
	beatPing                   // send a ping with the id given
	beatDead                   // the connection is dead: drop it
)

func newBeat(limit time.Duration, now time.Time) beat {
	if limit <= 0 {
		limit = DefaultHeartbeat
	}
	return beat{limit: limit, heard: now}
}

// check says what to do at now, and when to check again (after a ping
// or a wait; nothing after beatDead). A ping's id is in id.
func (b *beat) check(now time.Time) (act beatAction, id string, again time.Time) {
	half := b.limit / 2
	if b.pinged {
		if now.Before(b.sentAt.Add(half)) {
			return beatWait, "", b.sentAt.Add(half)
		}
		return beatDead, "", time.Time{}
	}
	if now.Before(b.heard.Add(half)) {
		return beatWait, "", b.heard.Add(half)
	}
	b.count++
	b.pinged, b.sentAt, b.sentID = true, now, strconv.FormatUint(b.count, 10)
	return beatPing, b.sentID, now.Add(half)
}

// heardAt records that a message arrived at now: the connection is alive.
func (b *beat) heardAt(now time.Time) {
	b.heard, b.pinged = now, false
}

// pong records a pong, which arrived at now, and times the round trip if
// it answers the last ping.
func (b *beat) pong(id string, now time.Time) {
	b.heardAt(now)
	if id != "" && id == b.sentID {
		b.rtt = now.Sub(b.sentAt)
		b.sentID = ""
	}
}
