package app

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
	"wsplay/shared/wire"
)

// socket keeps one client connected to one endpoint: it dials, runs the
// connection's only reader and only writer, and when the connection drops
// it waits a Backoff and dials again, until the close code says retrying
// cannot help or its owner stops it. What the messages mean is the
// owner's business. Chat, Notifications and Dashboard each embed a socket
// and implement [socketOwner]; so their State method and their fields
// DialTimeout, Heartbeat, Backoff and Tokens are the socket's.
//
// # Generations
//
// Every dial starts a generation. A connection's goroutines post what
// happens to the loop tagged with their generation, and the socket drops
// anything from an older one: the result of a dial that stop abandoned, a
// message read just before a redial, the end of a connection already
// replaced. So the owner hears only of the current connection, and its
// callbacks need no checks of their own.
//
// # Goroutines
//
// The socket's fields belong to the loop, and its methods and the owner's
// callbacks run there. Each attempt adds goroutines that touch none of
// them, and only post: the dial (bounded by DialTimeout), then the reader
// (it ends with the connection) and the writer (it ends when out is
// closed, or when a write fails: then it closes the connection, which
// ends the reader).
//
// # Heartbeat
//
// While connected the socket keeps the heartbeat of package shared: it
// pings after half of Heartbeat without a message from the server, and
// when the other half passes without one it abandons the connection and
// reconnects as after any loss (see beat). The pong is the socket's
// business: owners never see it. This is the same natively and in the
// browser, whose WebSocket API cannot send a WebSocket ping; the
// browser still answers the server's pings by itself.
type socket struct {
	// DialTimeout bounds one connection attempt. Default 10 s.
	DialTimeout time.Duration
	// Heartbeat is the longest the connection may stay silent: the
	// client pings after half of it, and drops the connection and
	// reconnects when the other half passes without a message. Default
	// DefaultHeartbeat, 30 s.
	Heartbeat time.Duration
	// Backoff spaces out reconnection attempts. The owner resets it once
	// a connection has proved itself (Chat on its history, Notifications
	// when synced, Dashboard on a snapshot), not when a dial succeeds, so
	// that a server that accepts and at once closes is not hammered.
	Backoff Backoff
	// Tokens, when set, logs the user in and sends a token with each
	// connection; the server then takes the identity from the token.
	Tokens *Tokens
	// Inspect, when set, shows the connection's frames.
	Inspect Inspector

	loop  *Loop
	owner socketOwner
	queue int // capacity of out
	// refusalIsFinal gives up when the server refuses the handshake with
	// an HTTP 4xx other than 429: the request itself is wrong, such as a
	// bad interval, and would be refused again. Chat and Notifications
	// leave it off, since their 401 can mean an outdated token and the
	// next attempt logs in afresh. (The browser hides the status, so
	// there every failed dial is retried.)
	refusalIsFinal bool
	// batch offers shared.SubprotocolBatch, for the endpoints that take
	// it (chat, notifications). Only those: a browser fails a handshake
	// whose offered subprotocols the server answers with none.
	batch bool

	state ConnState
	gen   int             // counts dials; what older ones post is dropped
	conn  *websocket.Conn // the open connection; nil unless Connected
	out   chan frame      // to conn's writer; nil unless Connected
	retry *time.Timer     // the pending reconnect, if any
	beat  beat            // the connection's heartbeat
	tick  *time.Timer     // the heartbeat's next check; nil unless Connected
}

// socketOwner is the protocol on top of a socket. The socket calls these
// methods on the loop, and only for its current connection.
type socketOwner interface {
	// url returns the address to dial. It is asked before every attempt,
	// so that a reconnect can resume after what has arrived.
	url() string
	// opened is called when a connection is up, before its first message;
	// it may send. It returns the detail to show with the state Connected.
	opened() (detail string)
	// message handles one text message.
	message(data []byte)
	// ended is called when an open connection has ended, after the new
	// state is shown. reconnect says whether the socket dials again;
	// shared.DescribeClose advises on each close code.
	ended(info CloseInfo, reconnect bool)
	// showState shows the connection state, on every change.
	showState(state ConnState, detail string)
}

// newSocket returns a disconnected socket for owner, whose writer queues
// up to queue messages.
func newSocket(loop *Loop, owner socketOwner, queue int) socket {
	return socket{DialTimeout: dialTimeout, loop: loop, owner: owner, queue: queue}
}

var (
	errNotConnected = errors.New("not connected; try again once reconnected")
	errStuck        = errors.New("the connection is stuck; reconnecting")
)

// State returns the connection state.
func (s *socket) State() ConnState { return s.state }

// active reports whether the socket is connected or trying to be: it is
// not, after stop or an end that it does not retry.
func (s *socket) active() bool { return s.state != Disconnected || s.retry != nil }

// connect dials now, unless a connection is open or being opened. A
// pending reconnect is cancelled: this is it.
func (s *socket) connect() {
	if s.state != Disconnected {
		return
	}
	s.stopRetry()
	s.gen++
	gen, u, timeout, tokens := s.gen, s.owner.url(), s.DialTimeout, s.Tokens
	// wsplay-explain: a refusal comes as a close code and a sentence,
	// which a browser shows the page, where an HTTP status would not be.
	// wsplay is what an admitted connection confirms when not batch:
	// a browser fails one that confirms none of the offered.
	protocols := []string{shared.SubprotocolPlain, shared.SubprotocolExplain}
	if s.batch {
		protocols = append([]string{shared.SubprotocolBatch}, protocols...)
	}
	s.setState(Connecting, "")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, status, err := dial(ctx, tokens, u, protocols...)
		s.loop.Post(func() { s.dialed(gen, conn, status, err) })
	}()
}

func (s *socket) dialed(gen int, conn *websocket.Conn, status int, err error) {
	if gen != s.gen {
		if conn != nil {
			conn.CloseNow() // stopped or redialled meanwhile
		}
		return
	}
	if err != nil {
		s.Inspect.inspect(Event, "error", err.Error())
		if s.refusalIsFinal && status >= 400 && status < 500 && status != http.StatusTooManyRequests {
			s.setState(Disconnected, "refused with HTTP "+strconv.Itoa(status))
			return
		}
		s.reconnectLater("cannot connect: " + err.Error())
		return
	}
	if conn.Subprotocol() == shared.SubprotocolExplain {
		// Refused: the server upgraded only to say why, and is closing.
		go func() {
			info := readRefusal(conn)
			s.loop.Post(func() { s.refused(gen, info) })
		}()
		return
	}
	// Chat, notifications and the dashboard send no frame over
	// shared.MaxFrame: what grows with the server's data comes in pages.
	conn.SetReadLimit(shared.MaxFrame)
	// Room for the pings besides what the owner sends.
	s.conn, s.out, s.state = conn, make(chan frame, s.queue+pingQueue), Connected
	s.beat = newBeat(s.Heartbeat, time.Now())
	s.checkBeat(gen)
	go s.readLoop(gen, conn)
	go writeLoop(conn, s.out)
	s.Inspect.inspect(Event, "open", "connected")
	s.setState(Connected, s.owner.opened())
}

// readRefusal reads the close that explains a refused handshake (see
// shared.SubprotocolExplain), waiting at most dialTimeout.
func readRefusal(conn *websocket.Conn) CloseInfo {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	defer conn.CloseNow()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			return closeInfo(readCloseError(conn, err))
		}
	}
}

// refused shows why the server refused the handshake, in its words, and
// dials again later if the refusal may pass (a cap, a shutdown).
func (s *socket) refused(gen int, info CloseInfo) {
	if gen != s.gen {
		return
	}
	why := RefusalText(info)
	s.Inspect.inspect(Event, "close", why)
	if status, _ := shared.RefusalStatus(info.Code); status == http.StatusUnauthorized && s.Tokens != nil {
		// A server restarted with a new secret refuses every old token:
		// the next try logs in afresh (and says so if that fails).
		s.Tokens.Forget()
		s.reconnectLater(why)
		return
	}
	if info.Reconnect {
		s.reconnectLater(why)
		return
	}
	s.setState(Disconnected, why+"; not reconnecting")
}

// RefusalText says in words why a handshake was refused: the server's
// sentence, or the close code's meaning when it sent none.
func RefusalText(info CloseInfo) string {
	status, ok := shared.RefusalStatus(info.Code)
	switch {
	case !ok:
		return "cannot connect: " + codeText(info)
	case info.Reason == "":
		return info.Meaning
	}
	return "refused (HTTP " + strconv.Itoa(status) + "): " + info.Reason
}

// pingQueue is the room for pings in a connection's queue: one goes out
// at most every half Heartbeat, and a connection whose writer cannot
// take two is stuck.
const pingQueue = 2

// checkBeat does what the heartbeat says now, and sets the timer for its
// next check.
func (s *socket) checkBeat(gen int) {
	if gen != s.gen || s.state != Connected {
		return
	}
	act, id, again := s.beat.check(time.Now())
	switch act {
	case beatPing:
		if s.send(wire.EncodePing(id)) != nil {
			return // stuck: the connection is being dropped
		}
	case beatDead:
		s.silent()
		return
	}
	s.tick = time.AfterFunc(time.Until(again), func() {
		s.loop.Post(func() { s.checkBeat(gen) })
	})
}

// RoundTrip returns the round trip of the connection's last answered
// ping, or 0 before the first.
func (s *socket) RoundTrip() time.Duration { return s.beat.rtt }

// silent abandons the current connection, from which nothing came for a
// whole Heartbeat, and reconnects after a Backoff wait. It does not wait
// for the connection to end: closing a dead connection in the browser
// waits for the server's answer, which never comes (until the browser
// gives up on it); so the socket moves on to a new generation at once,
// and the old connection closes off the loop, ignored.
func (s *socket) silent() {
	conn, limit := s.conn, s.beat.limit
	s.stopTick()
	close(s.out)
	s.conn, s.out = nil, nil
	s.gen++ // what the abandoned connection still posts is dropped
	go abandon(conn, "no answer to the heartbeat")
	s.Inspect.inspect(Event, "close", "no answer to the heartbeat: abandoned")
	s.reconnectLater("no answer from the server for " + limit.String())
	s.owner.ended(CloseInfo{Code: shared.CloseAbnormal, Reason: "no answer to the heartbeat",
		CloseAdvice: shared.DescribeClose(shared.CloseAbnormal)}, true)
}

func (s *socket) stopTick() {
	if s.tick != nil {
		s.tick.Stop()
		s.tick = nil
	}
}

// readLoop is the connection's only reader. It posts each text message
// (each line of a batched frame: see shared.SubprotocolBatch), then the
// error that ended the connection. Any frame is news for the heartbeat;
// pongs go no further.
func (s *socket) readLoop(gen int, conn *websocket.Conn) {
	batched := conn.Subprotocol() == shared.SubprotocolBatch
	for {
		typ, data, err := conn.Read(context.Background())
		if err != nil {
			err = readCloseError(conn, err)
			s.loop.Post(func() { s.end(gen, err) })
			return
		}
		at := time.Now()
		s.loop.Post(func() {
			if gen != s.gen {
				return
			}
			s.beat.heardAt(at)
			if typ != websocket.MessageText {
				return // every protocol here is JSON text
			}
			if !batched {
				s.message(data, at)
				return
			}
			for line := range shared.Lines(data) {
				if gen != s.gen {
					return // a message closed the socket
				}
				s.message(line, at)
			}
		})
	}
}

// faultAck begins the server's acknowledgement of a fault a learner asked
// for (shared.TypeFault), on every endpoint.
const faultAck = `{"type":"` + string(shared.TypeFault) + `"`

// message hands one message to the owner, unless it is a pong or a
// fault's acknowledgement.
func (s *socket) message(data []byte, at time.Time) {
	s.Inspect.inspect(Received, "text", string(data))
	if id, ok := wire.ParsePong(data); ok {
		s.beat.pong(id, at)
		return
	}
	if len(data) > len(faultAck) && string(data[:len(faultAck)]) == faultAck {
		return // asked for from the inspector, which shows it: not the owner's business
	}
	s.owner.message(data)
}

// writeLoop is a connection's only writer. It returns when out is closed
// or a write fails (then the connection is closed, which ends the read
// loop).
func writeLoop(conn *websocket.Conn, out <-chan frame) {
	for f := range out {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err := conn.Write(ctx, f.typ, f.data)
		cancel()
		if err != nil {
			conn.CloseNow()
			return
		}
	}
}

// send queues data for the writer. When the queue is full the writer is
// stuck: the connection is dropped, and the socket reconnects as after any
// other loss.
func (s *socket) send(data []byte) error { return s.sendFrame(frame{websocket.MessageText, data}) }

// sendFrame is send for a frame of either type.
func (s *socket) sendFrame(f frame) error {
	if s.state != Connected {
		return errNotConnected
	}
	select {
	case s.out <- f:
		if f.typ == websocket.MessageBinary {
			s.Inspect.inspect(Sent, "binary", hex.EncodeToString(f.data))
		} else {
			s.Inspect.inspect(Sent, "text", string(f.data))
		}
		return nil
	default:
		s.conn.CloseNow()
		return errStuck
	}
}

// end handles the end of the read loop: the connection is gone.
func (s *socket) end(gen int, err error) {
	if gen != s.gen {
		return
	}
	s.stopTick()
	close(s.out)
	s.conn, s.out = nil, nil
	info := closeInfo(err)
	s.Inspect.inspect(Event, "close", LogEntry{Close: &info}.Row().Data)
	if info.Reconnect {
		s.reconnectLater("connection lost (" + codeText(info) + ")")
	} else {
		s.setState(Disconnected, "closed: "+codeText(info)+"; not reconnecting")
	}
	s.owner.ended(info, info.Reconnect)
}

// reconnectLater shows why the connection is down and schedules connect
// after the next Backoff wait.
func (s *socket) reconnectLater(why string) {
	wait := s.Backoff.Next()
	gen := s.gen
	s.retry = time.AfterFunc(wait, func() {
		s.loop.Post(func() {
			if gen == s.gen {
				s.connect()
			}
		})
	})
	next := "reconnecting in " + wait.Round(10*time.Millisecond).String() +
		" (attempt " + strconv.Itoa(s.Backoff.Attempts()) + ")"
	s.Inspect.inspect(Event, "retry", next)
	s.setState(Disconnected, why+"; "+next)
}

func (s *socket) stopRetry() {
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
}

// stop ends the connection with 1000, or the dial or the wait under way,
// and shows Disconnected with detail. It does not reconnect; connect
// starts again.
func (s *socket) stop(detail string) {
	s.drop(detail)
	s.setState(Disconnected, detail)
}

// redial drops the connection, if any, and dials again at once: for when
// what url returns has changed.
func (s *socket) redial() {
	s.drop("redial")
	s.connect()
}

// drop ends whatever is under way without showing it; what the old
// generation posts from now on is dropped.
func (s *socket) drop(reason string) {
	s.stopRetry()
	s.stopTick()
	s.gen++
	if conn := s.conn; conn != nil {
		s.Inspect.inspect(Event, "close", "1000 "+shared.DescribeClose(shared.CloseNormal).Meaning+" ("+reason+")")
		close(s.out)
		// Close waits for the server's answer, so it runs off the loop.
		go conn.Close(websocket.StatusNormalClosure, reason)
	}
	s.conn, s.out, s.state = nil, nil, Disconnected
}

func (s *socket) setState(state ConnState, detail string) {
	s.state = state
	s.owner.showState(state, detail)
}

// codeText is a close's code and meaning, such as "1001 going away".
func codeText(info CloseInfo) string { return strconv.Itoa(int(info.Code)) + " " + info.Meaning }
