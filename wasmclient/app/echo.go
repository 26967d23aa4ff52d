package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"wsplay/shared"
)

// ConnState is where a connection is in its life.
type ConnState int

// The states of a connection, in the order it goes through them.
const (
	Disconnected ConnState = iota
	Connecting
	Connected
	Closing
)

// String returns the state as the page shows it and tests name it.
func (s ConnState) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Closing:
		return "closing"
	}
	return "ConnState(" + strconv.Itoa(int(s)) + ")"
}

// Direction says which way a log entry went.
type Direction string

// The directions of a frame log line.
const (
	Sent     Direction = "sent"
	Received Direction = "received"
	Event    Direction = "event" // opened, closed, failed
)

// LogEntry is one line of a frame log.
type LogEntry struct {
	Time time.Time
	Dir  Direction
	Kind string // "text", "binary", "open", "close" or "error"
	Size int    // payload bytes, for frames
	// RTT is the round trip of an echoed frame: from sending it to
	// receiving it back. Zero when unknown.
	RTT time.Duration
	// Text is the frame's content (hex for binary, shortened), or what
	// happened, for events.
	Text string
	// Close is set on "close" entries.
	Close *CloseInfo
}

// CloseInfo describes how a connection ended.
type CloseInfo struct {
	Code   shared.CloseCode
	Reason string
	shared.CloseAdvice
}

// ToggleLabel is the label of a button that connects and disconnects: it
// says what pressing it does.
func ToggleLabel(active bool) string {
	if active {
		return "Disconnect"
	}
	return "Connect"
}

// EchoControls is how the echo panel's buttons look in a state.
type EchoControls struct {
	// Toggle labels the connect button: Connect when disconnected, else
	// Disconnect.
	Toggle string
	// CanToggle is false during the closing handshake. Send stays on in
	// every state, so that Enter while disconnected says why nothing
	// went.
	CanToggle bool
}

// EchoControlsIn returns the echo panel's buttons in state s.
func EchoControlsIn(s ConnState) EchoControls {
	return EchoControls{Toggle: ToggleLabel(s != Disconnected), CanToggle: s != Closing}
}

// LogRow is a LogEntry as the frame log shows it: the row's data-dir and
// data-kind, which are also the text of their cells, and the text of the
// other cells.
type LogRow struct {
	Dir, Kind             string
	Time, Size, RTT, Data string
}

// Row returns the entry as the frame log shows it: sizes for frames only,
// the round trip to 10 µs, and for a close what its code means and
// whether to reconnect.
func (e LogEntry) Row() LogRow {
	r := LogRow{Dir: string(e.Dir), Kind: e.Kind, Time: e.Time.Format("15:04:05.000"), Data: e.Text}
	if e.Dir != Event {
		r.Size = strconv.Itoa(e.Size) + " B"
	}
	if e.RTT > 0 {
		r.RTT = e.RTT.Round(10 * time.Microsecond).String()
	}
	if c := e.Close; c != nil {
		r.Data = strconv.Itoa(int(c.Code)) + " " + c.Meaning
		if c.Reason != "" {
			r.Data += " (reason: " + strconv.Quote(c.Reason) + ")"
		}
		if c.Reconnect {
			r.Data += " · a client should reconnect with backoff"
		}
	}
	return r
}

// EchoView shows the echo panel. Its methods are called on the loop.
type EchoView interface {
	EchoState(state ConnState)
	EchoLog(entry LogEntry)
	// EchoError shows a problem with the user's input; "" clears it.
	EchoError(msg string)
	// EchoSent says the input was sent and may be cleared.
	EchoSent()
}

// Timeouts of the echo client.
const (
	dialTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
	// clientReadLimit is above the server's default read limit, so that
	// the largest message the server accepts also comes back.
	clientReadLimit = 1 << 20
	// sendQueue is how many frames may wait to be written. Writes are
	// sent in order by one goroutine, so echoes come back in the order
	// their send times were recorded.
	sendQueue = 64
	// EchoTooBig is one byte over the server's default read limit
	// (-read-limit, 64 KiB): the frame SendTooBig sends, which the server
	// answers with close 1009.
	EchoTooBig = 64<<10 + 1
)

// Echo is the client of /ws/echo. Its methods must be called on the loop.
type Echo struct {
	loop *Loop
	view EchoView
	url  string
	now  func() time.Time
	// DialTimeout bounds a connection attempt. Default 10 s.
	DialTimeout time.Duration
	// Backoff spaces out the reconnection attempts after the server
	// dropped the connection with a close code that advises them, such
	// as 1001 when it restarts.
	Backoff Backoff
	// Inspect, when set, shows what the log shows, whole.
	Inspect Inspector

	state  ConnState
	gen    int // counts connections; events of an older one are ignored
	conn   *websocket.Conn
	out    chan frame  // to the writer goroutine of conn
	sentAt []time.Time // send times of frames not yet echoed, oldest first
	// auto is set while the client reconnects by itself: from a loss
	// the close code advises retrying until a dial succeeds, or the user
	// disconnects.
	auto  bool
	retry *time.Timer // the pending reconnect, if any

	firstDial     chan struct{} // closed when the first dial has ended
	firstDialDone bool
}

type frame struct {
	typ  websocket.MessageType
	data []byte
}

// NewEcho returns a disconnected echo client for the socket at url.
func NewEcho(loop *Loop, view EchoView, url string) *Echo {
	return &Echo{loop: loop, view: view, url: url, now: time.Now, DialTimeout: dialTimeout, firstDial: make(chan struct{})}
}

// FirstDial returns a channel that is closed once the first connection
// attempt has ended, connected or not. The page starts its other work
// then, so that echo's first connection does not wait behind it.
func (e *Echo) FirstDial() <-chan struct{} { return e.firstDial }

// State returns the connection state.
func (e *Echo) State() ConnState { return e.state }

// Toggle connects when disconnected and disconnects otherwise.
func (e *Echo) Toggle() {
	if e.state == Disconnected {
		e.Connect()
	} else {
		e.Disconnect()
	}
}

// Start connects as the page opens: unlike Connect, a failed dial is
// tried again after a Backoff wait, as after a loss, until a connection
// opens or Disconnect is called; the server may be restarting as the
// page loads.
func (e *Echo) Start() {
	e.auto = true
	e.Connect()
}

// Connect opens a connection, unless one is open or opening.
func (e *Echo) Connect() {
	if e.state != Disconnected {
		return
	}
	if e.retry != nil {
		e.retry.Stop() // this is the reconnect
		e.retry = nil
	}
	e.gen++
	gen, timeout := e.gen, e.DialTimeout
	e.setState(Connecting)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, e.url, nil)
		e.loop.Post(func() { e.dialed(gen, conn, err) })
	}()
}

func (e *Echo) dialed(gen int, conn *websocket.Conn, err error) {
	if !e.firstDialDone {
		e.firstDialDone = true
		defer close(e.firstDial) // once the state shows it
	}
	if gen != e.gen || e.state != Connecting {
		// Disconnect was pressed while dialing.
		if conn != nil {
			conn.CloseNow()
		}
		return
	}
	if err != nil {
		e.log(LogEntry{Dir: Event, Kind: "error", Text: "connect failed: " + err.Error()})
		e.setState(Disconnected)
		if e.auto {
			e.reconnectLater()
		}
		return
	}
	e.auto = false
	e.Backoff.Reset()
	conn.SetReadLimit(clientReadLimit)
	e.conn = conn
	e.out = make(chan frame, sendQueue)
	e.sentAt = nil
	e.log(LogEntry{Dir: Event, Kind: "open", Text: "connected to " + e.url})
	e.setState(Connected)
	go e.readLoop(gen, conn)
	go e.writeLoop(gen, conn, e.out)
}

// readLoop is the connection's only reader. It posts each frame, stamped
// with its arrival time, and then how the connection ended.
func (e *Echo) readLoop(gen int, conn *websocket.Conn) {
	for {
		typ, data, err := conn.Read(context.Background())
		at := e.now()
		if err != nil {
			err = readCloseError(conn, err)
			e.loop.Post(func() { e.ended(gen, err) })
			return
		}
		e.loop.Post(func() { e.received(gen, typ, data, at) })
	}
}

// writeLoop is the connection's only writer, so frames leave in the order
// they were queued. It returns when out is closed or a write fails.
func (e *Echo) writeLoop(gen int, conn *websocket.Conn, out <-chan frame) {
	for f := range out {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err := conn.Write(ctx, f.typ, f.data)
		cancel()
		if err != nil {
			e.loop.Post(func() {
				if gen == e.gen {
					e.log(LogEntry{Dir: Event, Kind: "error", Text: "send failed: " + err.Error()})
				}
			})
			conn.CloseNow()
			return
		}
	}
}

// Send sends the user's input, read according to mode.
func (e *Echo) Send(mode Mode, input string) {
	typ, data, err := ParsePayload(mode, input)
	if err != nil {
		e.view.EchoError(err.Error())
		return
	}
	if e.state != Connected {
		msg := "not connected: press Connect first"
		if e.auto || e.state == Connecting {
			msg = "not connected yet: wait for the connection, or press Connect to dial now"
		}
		e.view.EchoError(msg)
		return
	}
	// Stamp before queuing: once queued, the echo can arrive, and be
	// stamped by readLoop, before this goroutine runs again.
	now := e.now()
	select {
	case e.out <- frame{typ, data}:
	default:
		e.view.EchoError("too many frames waiting to be sent; try again in a moment")
		return
	}
	e.view.EchoError("")
	e.view.EchoSent()
	e.sentAt = append(e.sentAt, now)
	e.log(LogEntry{Time: now, Dir: Sent, Kind: kindOf(typ), Size: len(data), Text: preview(typ, data)})
}

// SendTooBig sends a text frame of EchoTooBig bytes, one over the
// server's read limit, to show close 1009.
func (e *Echo) SendTooBig() {
	if e.state == Connected {
		e.log(LogEntry{Dir: Event, Kind: "note", Text: "sending 65537 bytes, one over the server's 64 KiB read limit: it closes with 1009"})
	}
	e.Send(ModeText, strings.Repeat("x", EchoTooBig))
}

func (e *Echo) received(gen int, typ websocket.MessageType, data []byte, at time.Time) {
	if gen != e.gen {
		return
	}
	entry := LogEntry{Time: at, Dir: Received, Kind: kindOf(typ), Size: len(data), Text: preview(typ, data)}
	if len(e.sentAt) > 0 {
		entry.RTT = at.Sub(e.sentAt[0])
		e.sentAt = e.sentAt[1:]
	}
	e.log(entry)
}

// Disconnect closes the connection with 1000, or abandons a dial.
func (e *Echo) Disconnect() {
	e.auto = false
	switch e.state {
	case Connecting:
		e.gen++ // the dial's result is now stale and will be dropped
		e.setState(Disconnected)
	case Connected:
		e.setState(Closing)
		conn, gen := e.conn, e.gen
		close(e.out)
		// Close performs the closing handshake and waits for the server's
		// answer, so it runs off the loop; its result ends the connection.
		go func() {
			err := conn.Close(websocket.StatusNormalClosure, "closed by the user")
			e.loop.Post(func() { e.closed(gen, err) })
		}()
	}
}

// ended handles the end of the read loop.
func (e *Echo) ended(gen int, err error) {
	if gen != e.gen || e.state != Connected {
		return // Disconnect's closing handshake reports the end
	}
	close(e.out)
	info := closeInfo(err)
	e.finish(info)
	if info.Reconnect {
		e.auto = true
		e.reconnectLater()
	}
}

// reconnectLater dials again after the next Backoff wait, and logs when.
func (e *Echo) reconnectLater() {
	wait, gen := e.Backoff.Next(), e.gen
	e.retry = time.AfterFunc(wait, func() {
		e.loop.Post(func() {
			if gen == e.gen && e.auto {
				e.Connect()
			}
		})
	})
	e.log(LogEntry{Dir: Event, Kind: "retry", Text: "reconnecting in " + wait.Round(10*time.Millisecond).String() +
		" (attempt " + strconv.Itoa(e.Backoff.Attempts()) + "); Connect dials now"})
}

// closed handles the end of the closing handshake that Disconnect began.
func (e *Echo) closed(gen int, err error) {
	if gen != e.gen {
		return
	}
	info := CloseInfo{Code: shared.CloseNormal, Reason: "closed by the user", CloseAdvice: shared.DescribeClose(shared.CloseNormal)}
	if err != nil {
		info = closeInfo(err)
	}
	e.finish(info)
}

func (e *Echo) finish(info CloseInfo) {
	e.log(LogEntry{Dir: Event, Kind: "close", Close: &info,
		Text: strconv.Itoa(int(info.Code)) + " " + info.Meaning})
	e.conn, e.out, e.sentAt = nil, nil, nil
	e.setState(Disconnected)
}

// closeInfo describes the error that ended a connection.
func closeInfo(err error) CloseInfo {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		code := shared.CloseCode(ce.Code)
		return CloseInfo{Code: code, Reason: ce.Reason, CloseAdvice: shared.DescribeClose(code)}
	}
	return CloseInfo{Code: shared.CloseAbnormal, Reason: err.Error(), CloseAdvice: shared.DescribeClose(shared.CloseAbnormal)}
}

func (e *Echo) setState(s ConnState) {
	e.state = s
	e.view.EchoState(s)
}

func (e *Echo) log(entry LogEntry) {
	if entry.Time.IsZero() {
		entry.Time = e.now()
	}
	e.view.EchoLog(entry)
	e.Inspect.inspect(entry.Dir, entry.Kind, entry.Row().Data)
}

func kindOf(typ websocket.MessageType) string {
	if typ == websocket.MessageBinary {
		return "binary"
	}
	return "text"
}
